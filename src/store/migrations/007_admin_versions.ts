import type { Kysely, Migration } from 'kysely';

/**
 * A version on every admin-writable object, for the compare-and-set of admin writes (store/versioned-write.ts):
 * `policies` and `app_policies` had one already; threat defense connectors and conditional access policies get
 * theirs here. Existing rows start at 1, like a freshly created object.
 */
export const adminVersions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('mtd_connectors').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable('access_policies').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('access_policies').dropColumn('version').execute();
    await db.schema.alterTable('mtd_connectors').dropColumn('version').execute();
  },
};
