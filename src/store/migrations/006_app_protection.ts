import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/**
 * The app protection service (store/app-protection-roles.ts): app policies, managed app registrations and their
 * operations (selective wipes), wiped-and-blocked users, threat defense connectors and their reports, conditional
 * access policies and device compliance, plus the tenant's app configuration version. Portable like 001: times are
 * bigint epoch ms, booleans integer 0/1, lists and objects JSON text.
 *
 * Two partial unique indexes let the database itself keep the rules, whatever races above it (like
 * enrollments_active_dev_id in 001): one active registration per user + app + device tag, and one pending operation
 * of a kind per registration. Queries that must use them write the predicate's value as a literal.
 */
export const appProtection: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('tenants').addColumn('app_config_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

    await db.schema
      .createTable('app_policies')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('apps', 'text', (c) => c.notNull())
      .addColumn('assignments', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('app_policies_pk', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('app_registrations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('upn', 'text')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('app_version', 'text', (c) => c.notNull())
      .addColumn('sdk_version', 'text', (c) => c.notNull())
      .addColumn('os_version', 'text', (c) => c.notNull())
      .addColumn('device_name', 'text')
      .addColumn('device_model', 'text')
      .addColumn('device_manufacturer', 'text')
      .addColumn('device_tag', 'text', (c) => c.notNull())
      .addColumn('azure_ad_device_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_check_in_at', 'bigint', (c) => c.notNull())
      .addColumn('applied_policy_id', 'text')
      .addColumn('applied_policy_version', 'integer')
      .addColumn('reported_failures', 'text', (c) => c.notNull())
      .addColumn('compliance_state', 'text', (c) => c.notNull())
      .addColumn('compliance_reasons', 'text', (c) => c.notNull())
      .addColumn('compliance_changed_at', 'bigint', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .execute();
    // One active registration of an app per user and device: upsertRegistration is an upsert on this index.
    await db.schema
      .createIndex('app_registrations_active_key')
      .on('app_registrations')
      .columns(['tenant_id', 'user_id', 'app_id', 'device_tag'])
      .unique()
      .where(sql.ref('state'), '=', 'active')
      .execute();
    await db.schema.createIndex('app_registrations_user').on('app_registrations').columns(['tenant_id', 'user_id']).execute();
    await db.schema.createIndex('app_registrations_device_tag').on('app_registrations').columns(['tenant_id', 'device_tag']).execute();
    await db.schema.createIndex('app_registrations_azure_ad_device').on('app_registrations').columns(['tenant_id', 'azure_ad_device_id']).execute();
    await db.schema.createIndex('app_registrations_last_check_in').on('app_registrations').column('last_check_in_at').execute();

    await db.schema
      .createTable('app_operations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('registration_id', 'text', (c) => c.notNull().references('app_registrations.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    // One pending operation of a kind per registration: addOperations inserts with "on conflict do nothing" on it.
    await db.schema
      .createIndex('app_operations_pending_key')
      .on('app_operations')
      .columns(['registration_id', 'kind'])
      .unique()
      .where(sql.ref('status'), '=', 'pending')
      .execute();
    await db.schema.createIndex('app_operations_registration').on('app_operations').columns(['registration_id', 'status', 'created_at']).execute();
    await db.schema.createIndex('app_operations_expires_at').on('app_operations').column('expires_at').execute();

    await db.schema
      .createTable('app_blocked_users')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('blocked_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('app_blocked_users_pk', ['tenant_id', 'user_id'])
      .execute();

    await db.schema
      .createTable('mtd_connectors')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('partner_state', 'text', (c) => c.notNull())
      .addColumn('last_heartbeat_at', 'bigint')
      .addColumn('windows_mobile_application_management_enabled', 'integer', (c) => c.notNull())
      .addColumn('windows_device_blocked_on_missing_partner_data', 'integer', (c) => c.notNull())
      .addColumn('partner_unsupported_os_version_blocked', 'integer', (c) => c.notNull())
      .addColumn('partner_unresponsiveness_threshold_in_days', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mtd_connectors_pk', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('mtd_threat_reports')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('azure_ad_device_id', 'text', (c) => c.notNull())
      .addColumn('health_state', 'text', (c) => c.notNull())
      .addColumn('reported_at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mtd_threat_reports_pk', ['tenant_id', 'connector_id', 'user_id', 'app_id', 'azure_ad_device_id'])
      .addForeignKeyConstraint('mtd_threat_reports_connector_fk', ['tenant_id', 'connector_id'], 'mtd_connectors', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('mtd_threat_reports_device').on('mtd_threat_reports').columns(['tenant_id', 'user_id', 'azure_ad_device_id']).execute();

    await db.schema
      .createTable('access_policies')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('resources', 'text', (c) => c.notNull())
      .addColumn('include_groups', 'text', (c) => c.notNull())
      .addColumn('exclude_groups', 'text', (c) => c.notNull())
      .addColumn('include_all_users', 'integer', (c) => c.notNull())
      .addColumn('approved_apps', 'text', (c) => c.notNull())
      .addColumn('grant_controls', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('access_policies_pk', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('device_compliance')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('azure_ad_device_id', 'text', (c) => c.notNull())
      .addColumn('compliant', 'integer', (c) => c.notNull())
      .addColumn('reported_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('device_compliance_pk', ['tenant_id', 'azure_ad_device_id'])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'device_compliance',
      'access_policies',
      'mtd_threat_reports',
      'mtd_connectors',
      'app_blocked_users',
      'app_operations',
      'app_registrations',
      'app_policies',
    ]) {
      await db.schema.dropTable(table).execute();
    }
    await db.schema.alterTable('tenants').dropColumn('app_config_version').execute();
  },
};
