import type { Kysely, Migration } from 'kysely';

/**
 * Groups and policies of the admin API. Configuration sets may target groups (`target_groups`: JSON
 * {include, exclude, allUsers} when target_kind is `groups`); the management state keeps the `groups` claim of the
 * user's latest token (`token_groups`: JSON string array). A policy's body and assignments are JSON text; the
 * configuration set it compiles into has the same id (written together, see PolicyStore). Portable like 001.
 */
export const groupsPolicies: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('configuration_sets').addColumn('target_groups', 'text').execute();
    await db.schema.alterTable('management_state').addColumn('token_groups', 'text').execute();

    await db.schema
      .createTable('groups')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('group_members')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'member_id'])
      .addForeignKeyConstraint('group_members_group_fk', ['tenant_id', 'group_id'], 'groups', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('group_members_member').on('group_members').columns(['tenant_id', 'member_id']).execute();

    await db.schema
      .createTable('policies')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('assignments', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('policies_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('policies_kind').on('policies').columns(['tenant_id', 'kind']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['policies', 'group_members', 'groups']) await db.schema.dropTable(table).execute();
    await db.schema.alterTable('management_state').dropColumn('token_groups').execute();
    await db.schema.alterTable('configuration_sets').dropColumn('target_groups').execute();
  },
};
