import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Graph's `deviceAppManagement/managedAppPolicies` is one collection of every managed app policy type
 * (learn.microsoft.com/graph/api/intune-mam-managedapppolicy-list): WIP policies live in `policies` (delivered over
 * OMA-DM), app protection and configuration policies in `app_policies` (read at check-in). This view is both, so
 * that one keyset-paged statement (collection-sql.ts) reads a page of them; which kinds it serves is the registry's
 * to say (a `kind IN (...)` scope), and `origin` tells the row mapper which table a row came from. A later migration
 * that changes a column the view names drops and re-creates it (PostgreSQL refuses to alter a column a view uses).
 */
export const managedAppPolicies: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create view managed_app_policies as
        select tenant_id, id, kind, body, '[]' as apps, assignments, version, created_at, updated_at, 'policies' as origin from policies
        union all
        select tenant_id, id, kind, body, apps, assignments, version, created_at, updated_at, 'app_policies' as origin from app_policies
    `.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop view managed_app_policies`.execute(db);
  },
};
