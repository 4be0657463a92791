import type { Kysely, Migration } from 'kysely';

/**
 * Indexes for the console's Home summary (AppProtectionStore.summarizeRegistrations, the `openMamSummary` report):
 * each aggregate is answered from an index alone (a covering index scan of the tenant's range), not by reading the
 * tenant's registrations (bench:console: 100,000 registrations). `app_registrations_compliance` counts active
 * registrations by compliance state; `app_registrations_applied_policy` counts the distinct users holding each applied
 * policy; `app_operations_tenant_status` counts a tenant's pending wipes (app_operations had no tenant index). They
 * cost a write when a registration is created or its compliance or applied policy changes, never on a steady check-in
 * (which writes nothing).
 */
export const consoleSummaryIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('app_registrations_compliance').on('app_registrations').columns(['tenant_id', 'state', 'compliance_state']).execute();
    await db.schema.createIndex('app_registrations_applied_policy').on('app_registrations').columns(['tenant_id', 'state', 'applied_policy_id', 'user_id']).execute();
    await db.schema.createIndex('app_operations_tenant_status').on('app_operations').columns(['tenant_id', 'status', 'kind']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('app_operations_tenant_status').execute();
    await db.schema.dropIndex('app_registrations_applied_policy').execute();
    await db.schema.dropIndex('app_registrations_compliance').execute();
  },
};
