import type { Kysely, Migration } from 'kysely';

/**
 * The sign-in log (store/app-protection-roles.ts): one row per access decision, append-only, dropped after the retention
 * period. Portable like 006: times are bigint epoch ms, booleans integer 0/1, lists JSON text.
 *
 * Indexes are few on purpose: every decision inserts a row, and an index whose insertions land all over its pages
 * costs a page write per row (SQLite measured on the development VM at 400k rows: 9.8 µs per row with the two below
 * and time-ordered ids, 58 µs with random UUIDv4 ids, 92 µs with a third index per user as well). So: the primary key
 * (a get by id; ids are UUIDv7, time-ordered, from sign-in-log.ts's `newSignInId`, so inserts append), and
 * newest-first pages of a tenant (`sign_ins_page`, in the exact order of the query: a page is an index range scan,
 * the keyset predicate a seek, and the retention purge walks it per tenant). Filters are checked on that index's rows.
 */
export const signInLog: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('sign_ins')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('user_principal_name', 'text')
      .addColumn('app_id', 'text')
      .addColumn('app_display_name', 'text')
      .addColumn('windows_app_id', 'text')
      .addColumn('resource_id', 'text')
      .addColumn('resource_display_name', 'text')
      .addColumn('device_id', 'text')
      .addColumn('device_id_verified', 'integer', (c) => c.notNull())
      .addColumn('registration_id', 'text')
      .addColumn('ip_address', 'text')
      .addColumn('correlation_id', 'text', (c) => c.notNull())
      .addColumn('decision', 'text', (c) => c.notNull())
      .addColumn('reasons', 'text', (c) => c.notNull())
      .addColumn('conditional_access_status', 'text', (c) => c.notNull())
      .addColumn('applied_policies', 'text', (c) => c.notNull())
      // No foreign key to tenants: a row per decision must not cost a lookup of the tenant row.
      .addPrimaryKeyConstraint('sign_ins_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('sign_ins_page').on('sign_ins').columns(['tenant_id', 'created_at desc', 'id desc']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('sign_ins').execute();
  },
};
