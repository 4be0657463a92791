import type { Kysely, Migration } from 'kysely';

/**
 * Per-tenant hourly activity (the console's plots: store/repositories/activity-store.ts): one row per tenant and hour that saw
 * anything, its counters added to by every node's buffered flush (an upsert that adds, never a read-modify-write), kept
 * 90 days. The primary key (tenant_id, hour_start) serves every read: a range of a tenant's hours is one index range
 * scan whatever the fleet size (at most 24 x 90 rows a tenant). `activity_hours_hour` lets the bounded purge find the
 * oldest hours of every tenant without a scan; it is written once per row (a new tenant-hour), never by the counter
 * updates, which change no indexed column.
 * Portable like 006: hour_start is bigint epoch ms (a multiple of 3,600,000), counters bigint.
 */
export const activityHours: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('activity_hours')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('hour_start', 'bigint', (c) => c.notNull())
      .addColumn('app_check_ins', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('oma_dm_sessions', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('access_allowed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('access_denied', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('compliant_check_ins', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('noncompliant_check_ins', 'bigint', (c) => c.notNull().defaultTo(0))
      // No foreign key to tenants, as sign_ins: a flush must not cost a lookup of each tenant row.
      .addPrimaryKeyConstraint('activity_hours_pk', ['tenant_id', 'hour_start'])
      .execute();
    await db.schema.createIndex('activity_hours_hour').on('activity_hours').column('hour_start').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('activity_hours').execute();
  },
};
