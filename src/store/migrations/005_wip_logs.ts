import type { Kysely, Migration } from 'kysely';

/** WIP log requests (Reporting CSP): what an admin asked for, and what the device answered. */
export const wipLogs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('wip_log_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('start_time', 'text')
      .addColumn('stop_time', 'text')
      .addColumn('log_count', 'integer')
      .addColumn('log_type', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_code', 'text')
      .addColumn('requested_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addColumn('logs', 'text')
      .addColumn('entries', 'text')
      .execute();
    await db.schema.createIndex('wip_log_requests_enrollment').on('wip_log_requests').columns(['enrollment_id', 'status', 'requested_at']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('wip_log_requests').execute();
  },
};
