import type { Kysely, Migration } from 'kysely';
import type { SchemaDialect } from './schema-dialect.ts';

/**
 * OMA-DM management: configuration sets and the tenant's configuration version, the management state of each
 * enrollment (created lazily: a missing row means "never settled"), node states, inventory, sessions between
 * messages, and the raw message log. Portable like 001, except the message log's numbered key and bytes, whose
 * types come from `dialect`.
 */
export function management(dialect: SchemaDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tenants').addColumn('config_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

      await db.schema
        .createTable('configuration_sets')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_dev_id', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('configuration_sets_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createIndex('configuration_sets_target')
        .on('configuration_sets')
        .columns(['tenant_id', 'target_kind', 'target_dev_id'])
        .execute();

      await db.schema
        .createTable('management_state')
        .addColumn('enrollment_id', 'text', (c) => c.primaryKey().references('enrollments.id'))
        .addColumn('settled_version', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('waiting_for_user', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('inventory_at', 'bigint')
        .addColumn('last_checkin_at', 'bigint')
        .addColumn('message_log_until', 'bigint')
        .execute();

      await db.schema
        .createTable('node_states')
        .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
        .addColumn('loc_uri', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_code', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('node_states_pk', ['enrollment_id', 'loc_uri'])
        .execute();

      await db.schema
        .createTable('inventory')
        .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
        .addColumn('loc_uri', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_pk', ['enrollment_id', 'loc_uri'])
        .execute();

      await db.schema
        .createTable('management_sessions')
        .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('last_device_msg_id', 'integer', (c) => c.notNull())
        .addColumn('last_server_msg_id', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('management_sessions_pk', ['enrollment_id', 'session_id'])
        .execute();

      await db.schema
        .createTable('message_log')
        .addColumn('id', dialect.serialType, (c) => c.primaryKey())
        .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('body', dialect.binaryType, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('message_log_enrollment_at').on('message_log').columns(['enrollment_id', 'at']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['message_log', 'management_sessions', 'inventory', 'node_states', 'management_state', 'configuration_sets']) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.alterTable('tenants').dropColumn('config_version').execute();
    },
  };
}
