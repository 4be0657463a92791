import type { Kysely, Migration } from 'kysely';

/**
 * A version on the tenant's own fields (name, enrollment switch, settings), for the compare-and-set of tenant
 * settings writes like every other admin write (store/versioned-write.ts). Existing rows start at 1.
 */
export const tenantVersions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('tenants').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('tenants').dropColumn('version').execute();
  },
};
