import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/**
 * Tenants, enrollments and devices. Written with Kysely's schema builder only, so the one migration runs on SQLite
 * and PostgreSQL alike: times are bigint epoch ms, booleans integer 0/1, tenant settings JSON text.
 */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('identity_provider', 'text', (c) => c.notNull())
      .addColumn('enrollment_allowed', 'integer', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('dev_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('entra_device_id', 'text')
      .addColumn('hw_dev_id', 'text')
      .addColumn('device_name', 'text')
      .addColumn('device_type', 'text')
      .addColumn('os_edition', 'text')
      .addColumn('os_version', 'text')
      .addColumn('locale', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('enrollments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('dev_id', 'text', (c) => c.notNull().references('devices.dev_id'))
      .addColumn('user_oid', 'text', (c) => c.notNull())
      .addColumn('upn', 'text')
      .addColumn('entra_device_id', 'text')
      .addColumn('enrollment_type', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('application_version', 'text')
      .addColumn('request_version', 'text')
      .addColumn('terms_accepted_at', 'bigint')
      .addColumn('enroll_count', 'integer', (c) => c.notNull())
      .addColumn('hw_dev_id', 'text')
      .addColumn('device_name', 'text')
      .addColumn('device_type', 'text')
      .addColumn('os_edition', 'text')
      .addColumn('os_version', 'text')
      .addColumn('locale', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('unenrolled_at', 'bigint')
      .execute();

    // One active enrollment per device: the database itself refuses a second one, whatever races above it.
    await db.schema
      .createIndex('enrollments_active_dev_id')
      .on('enrollments')
      .column('dev_id')
      .unique()
      .where(sql.ref('state'), '=', 'enrolled')
      .execute();

    await db.schema.createIndex('enrollments_tenant_enrolled_at').on('enrollments').columns(['tenant_id', 'enrolled_at']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('enrollments').execute();
    await db.schema.dropTable('devices').execute();
    await db.schema.dropTable('tenants').execute();
  },
};
