import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Compliance actions and check-in validity (issue 15, store/repositories/compliance-store.ts):
 * - `compliance_states.noncompliant_since`: since when the policy has been nonCompliant on the device (kept while it
 *   stays so, null otherwise); `retire_at`: when the policy's `retire` action is due (noncompliant_since + its
 *   gracePeriodHours; null when the policy has none or the device is not nonCompliant). Both are written with the
 *   states (the rows are replaced at each evaluation anyway): no write on a steady path.
 *   (learn.microsoft.com/mem/intune/protect/actions-for-noncompliance, "Retire the noncompliant device".)
 * - `compliance_states_retire` holds only the rows with a retire due some day, in due order, for the minute sweep; the
 *   sweep clears `retire_at` of the rows it handled, so the index holds only work to do.
 * - `enrollments.compliance_lapsed`: 1 when the device is noncompliant because it has not checked in within the
 *   tenant's `deviceComplianceCheckinThresholdDays` (Graph deviceManagementSettings), so that the sweep that walks a
 *   tenant's devices knows which to judge again when they check in again. No index on `management_state.
 *   last_checkin_at`: every check-in writes it, and an index there would cost each check-in; the sweep walks the
 *   tenant's active enrollments through `enrollments_tenant_active_id` (migration 021) instead.
 */
export const complianceActions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('compliance_states').addColumn('noncompliant_since', 'bigint').execute();
    await db.schema.alterTable('compliance_states').addColumn('retire_at', 'bigint').execute();
    await db.schema.alterTable('enrollments').addColumn('compliance_lapsed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('compliance_states_retire').on('compliance_states').column('retire_at').where(sql.ref('retire_at'), 'is not', null).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('compliance_states_retire').execute();
    await db.schema.alterTable('enrollments').dropColumn('compliance_lapsed').execute();
    await db.schema.alterTable('compliance_states').dropColumn('retire_at').execute();
    await db.schema.alterTable('compliance_states').dropColumn('noncompliant_since').execute();
  },
};
