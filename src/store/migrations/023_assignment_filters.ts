import type { Kysely, Migration } from 'kysely';

/**
 * Assignment filters (Graph beta deviceManagement/assignmentFilters, deviceAndAppManagementAssignmentFilter;
 * store/repositories/assignment-filter-store.ts). One row per filter, versioned like every admin object (the compare-and-set of
 * admin writes); the rule is kept as the admin wrote it and parsed where it is judged. Assignments name a filter by
 * id inside the policies' JSON `assignments`: a delete checks them under the tenant row's lock.
 * `assignment_filters_created` serves the collection's default order (createdDateTime, id) as a keyset seek.
 */
export const assignmentFilters: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('assignment_filters')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('management_type', 'text', (c) => c.notNull())
      .addColumn('role_scope_tags', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('assignment_filters_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('assignment_filters_created').on('assignment_filters').columns(['tenant_id', 'created_at', 'id']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('assignment_filters').execute();
  },
};
