import type { Kysely, Migration } from 'kysely';

/**
 * The MAM device's life on its enrollment row (issue 15): Graph's `managementState` (retire and wipe progress) and
 * `complianceState` of the device with the end of its grace period, the manufacturer and model the device reports in
 * DevInfo (Man, Mod) at each session's start, and why an enrollment ended (`user`: the device asked, alert 1226;
 * `admin`: retire or wipe; `stale`: no check-in for the tenant's limit; `compliance`: an action for noncompliance).
 * They are columns of `enrollments` so that `managedDevices` filters and orders them in one statement like every other
 * property (store/collections.ts MANAGED_DEVICES). The indexes serve the lists an admin asks for most: the devices
 * in a compliance state, and those whose retire or wipe is pending or failed.
 */
export const deviceLife: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('enrollments')
      .addColumn('management_state', 'text', (c) => c.notNull().defaultTo('managed'))
      .execute();
    await db.schema
      .alterTable('enrollments')
      .addColumn('compliance_state', 'text', (c) => c.notNull().defaultTo('unknown'))
      .execute();
    await db.schema.alterTable('enrollments').addColumn('compliance_grace_until', 'bigint').execute();
    await db.schema.alterTable('enrollments').addColumn('manufacturer', 'text').execute();
    await db.schema.alterTable('enrollments').addColumn('model', 'text').execute();
    await db.schema.alterTable('enrollments').addColumn('unenroll_reason', 'text').execute();
    await db.schema.createIndex('enrollments_compliance').on('enrollments').columns(['tenant_id', 'state', 'compliance_state']).execute();
    await db.schema.createIndex('enrollments_management_state').on('enrollments').columns(['tenant_id', 'management_state']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('enrollments_management_state').execute();
    await db.schema.dropIndex('enrollments_compliance').execute();
    for (const column of ['unenroll_reason', 'model', 'manufacturer', 'compliance_grace_until', 'compliance_state', 'management_state']) {
      await db.schema.alterTable('enrollments').dropColumn(column).execute();
    }
  },
};
