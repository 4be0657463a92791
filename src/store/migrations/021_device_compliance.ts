import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Device compliance (issue 15, H2; store/repositories/compliance-store.ts):
 * - `compliance_policies`: Graph `deviceCompliancePolicy` bodies and assignments as JSON, versioned like `policies`
 *   (the compare-and-set of admin writes). Not in `policies`: a compliance policy compiles to no configuration set and
 *   must not move the tenant's configuration version (that would make every device re-plan at its next check-in).
 * - `compliance_states`: one row per (enrollment, policy) that targets it, with the policy's state there (Graph
 *   `complianceStatus`), each setting's result (JSON) and the policy version evaluated. The device's own state and
 *   grace end are `enrollments.compliance_state` / `compliance_grace_until` (migration 019), written in the same
 *   transaction. `compliance_states_policy` pages a policy's `deviceStatuses` and counts its overview.
 * - `compliance_runs`: the re-evaluation of a tenant's devices after a policy change, as a row any node may take:
 *   `requested` is bumped in the policy write's transaction, a node leases the row (`lease_owner`, `lease_until`),
 *   works through the tenant's enrollments in keyset batches recording `cursor` (resumable after a crash), and sets
 *   `done` to the generation it ran (`target`). Several nodes never run one tenant at once; a lost lease stops a run.
 * - `enrollments_tenant_active_id` orders a tenant's active enrollments for the runs' batches; `enrollments_grace`
 *   holds only the devices in their grace period, for the sweep that ends it.
 * The access decision's read of the active enrollment of an Entra device id (core/app-protection/access.ts) uses
 * migration 024's `(tenant_id, entra_device_id, state)` index.
 */
export const deviceCompliance: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('compliance_policies')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('assignments', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('compliance_policies_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema
      .createTable('compliance_states')
      .addColumn('enrollment_id', 'text', (c) => c.notNull())
      .addColumn('policy_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('policy_version', 'integer', (c) => c.notNull())
      .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('compliance_states_pk', ['enrollment_id', 'policy_id'])
      .execute();
    await db.schema.createIndex('compliance_states_policy').on('compliance_states').columns(['tenant_id', 'policy_id', 'enrollment_id']).execute();
    await db.schema
      .createTable('compliance_runs')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey())
      .addColumn('requested', 'bigint', (c) => c.notNull())
      .addColumn('done', 'bigint', (c) => c.notNull())
      .addColumn('target', 'bigint', (c) => c.notNull())
      .addColumn('cursor', 'text')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .execute();
    // A run's keyset batches: a tenant's active enrollments in id order, an index range scan however many tenants.
    await db.schema.createIndex('enrollments_tenant_active_id').on('enrollments').columns(['tenant_id', 'id']).where(sql.ref('state'), '=', 'enrolled').execute();
    // The grace sweep: only devices in their grace period are in it.
    await db.schema.createIndex('enrollments_grace').on('enrollments').column('compliance_grace_until').where(sql.ref('compliance_state'), '=', 'inGracePeriod').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const index of ['enrollments_grace', 'enrollments_tenant_active_id']) await db.schema.dropIndex(index).execute();
    for (const table of ['compliance_runs', 'compliance_states', 'compliance_policies']) await db.schema.dropTable(table).execute();
  },
};
