import type { Kysely, Migration } from 'kysely';

/**
 * The audit trail (store/repositories/audit-store.ts; Graph beta deviceManagement/auditEvents). Append-only: one row per admin
 * change, inserted in the change's own transaction, or per refused admin write; dropped only by the retention purge.
 * Portable like 011: times are bigint epoch ms, the actor and resources JSON text (read whole, never queried inside).
 *
 * The columns a `$filter` names are plain columns. Indexes: the primary key (a get by id; ids are UUIDv7, so inserts
 * append), the collection's page order (`audit_events_page`, newest first, which the purge also walks per tenant),
 * and the selective filters an admin asks ("what did this request do", "what did this admin do", "what changed in
 * this area", "every Create DeviceConfiguration"), each ending in the page order so a filtered page is a range scan.
 * Low-cardinality filters (result, operation type, component) are checked on the page index's rows. Admin changes are
 * rare next to check-ins: six indexes cost nothing measurable here, unlike on sign_ins.
 */
export const auditEvents: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('audit_events')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('activity_date_time', 'bigint', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('activity', 'text', (c) => c.notNull())
      .addColumn('activity_type', 'text', (c) => c.notNull())
      .addColumn('activity_operation_type', 'text', (c) => c.notNull())
      .addColumn('activity_result', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('component_name', 'text', (c) => c.notNull())
      .addColumn('correlation_id', 'text', (c) => c.notNull())
      .addColumn('actor_upn', 'text')
      .addColumn('actor_user_id', 'text')
      .addColumn('actor_app_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('resources', 'text', (c) => c.notNull())
      // No foreign key to tenants: like sign_ins, an event outlives nothing it names and must not block a tenant's removal.
      .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('audit_events_page').on('audit_events').columns(['tenant_id', 'activity_date_time desc', 'id desc']).execute();
    await db.schema.createIndex('audit_events_correlation').on('audit_events').columns(['tenant_id', 'correlation_id']).execute();
    await db.schema.createIndex('audit_events_activity_type').on('audit_events').columns(['tenant_id', 'activity_type', 'activity_date_time desc', 'id desc']).execute();
    await db.schema.createIndex('audit_events_category').on('audit_events').columns(['tenant_id', 'category', 'activity_date_time desc', 'id desc']).execute();
    await db.schema.createIndex('audit_events_actor_upn').on('audit_events').columns(['tenant_id', 'actor_upn', 'activity_date_time desc', 'id desc']).execute();
    await db.schema.createIndex('audit_events_actor_user').on('audit_events').columns(['tenant_id', 'actor_user_id', 'activity_date_time desc', 'id desc']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('audit_events').execute();
  },
};
