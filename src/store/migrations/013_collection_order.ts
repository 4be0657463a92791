import type { Kysely, Migration } from 'kysely';

/**
 * The admin API pages collections by keyset in their default order, creation time then id (store/collection-sql.ts):
 * with an index in that order a page is an index range scan, O(page) however deep, instead of a sort of the tenant's
 * rows. App registrations are the collection that grows with the fleet.
 */
export const collectionOrder: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('app_registrations_page').on('app_registrations').columns(['tenant_id', 'created_at', 'id']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('app_registrations_page').execute();
  },
};
