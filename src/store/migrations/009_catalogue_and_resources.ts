import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';

/**
 * The managed app catalogue (which Entra client ids speak for which Windows app) and service principals (protected
 * resources, Graph `servicePrincipal` reduced), both admin-writable with a version like 007's tables. Portable like 006:
 * times bigint epoch ms, lists JSON text.
 *
 * Data: conditional access policies named resources by free text (`exchange`) or by GUID; from now on
 * `conditions.applications.includeApplications` holds application ids or `All`, as in Entra
 * (learn.microsoft.com/graph/api/resources/conditionalaccessapplications). Each distinct resource of a tenant's
 * policies becomes a service principal (a GUID keeps itself as appId; a name gets a new appId and keeps the name as its
 * servicePrincipalName, so a gateway started with `--resource exchange` still finds it by audience), and the policies
 * are rewritten to the appIds. Names that differ only in case were one resource before (decisions compared them
 * lower-cased) and stay one.
 */

/** The columns this migration reads and writes, as they are at 008 plus its own tables. */
interface MigrationDatabase {
  tenants: { id: string; app_config_version: number };
  access_policies: { tenant_id: string; id: string; resources: string; version: number; updated_at: number };
  service_principals: {
    tenant_id: string;
    id: string;
    app_id: string;
    display_name: string;
    service_principal_names: string;
    version: number;
    created_at: number;
    updated_at: number;
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALL = 'All';

export const catalogueAndResources: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('managed_apps')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('windows_app_id', 'text', (c) => c.notNull())
      .addColumn('client_ids', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('managed_apps_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('managed_apps_windows_app_id', ['tenant_id', 'windows_app_id'])
      .execute();

    await db.schema
      .createTable('service_principals')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('service_principal_names', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('service_principals_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('service_principals_app_id', ['tenant_id', 'app_id'])
      .execute();

    await resourcesToServicePrincipals(db as unknown as Kysely<MigrationDatabase>, Date.now());
  },

  async down(db: Kysely<unknown>): Promise<void> {
    // The rewritten policies keep their appIds: the names they had are in the dropped service principals only.
    await db.schema.dropTable('service_principals').execute();
    await db.schema.dropTable('managed_apps').execute();
  },
};

async function resourcesToServicePrincipals(db: Kysely<MigrationDatabase>, now: number): Promise<void> {
  const policies = await db.selectFrom('access_policies').select(['tenant_id', 'id', 'resources', 'version']).orderBy('tenant_id').orderBy('id').execute();
  const byTenant = new Map<string, typeof policies>();
  for (const policy of policies) byTenant.set(policy.tenant_id, [...(byTenant.get(policy.tenant_id) ?? []), policy]);

  for (const [tenantId, tenantPolicies] of byTenant) {
    // Lower-cased resource name -> the appId that replaces it.
    const appIds = new Map<string, string>();
    for (const policy of tenantPolicies) {
      for (const resource of JSON.parse(policy.resources) as string[]) {
        const key = resource.toLowerCase();
        if (resource === ALL || appIds.has(key)) continue;
        const isGuid = GUID.test(resource);
        const appId = isGuid ? key : randomUUID();
        appIds.set(key, appId);
        await db
          .insertInto('service_principals')
          .values({
            tenant_id: tenantId,
            id: randomUUID(),
            app_id: appId,
            display_name: isGuid ? key : resource,
            // Entra lists the appId among a service principal's names; a name is also kept as the audience gateways send.
            service_principal_names: JSON.stringify(isGuid ? [appId] : [appId, resource]),
            version: 1,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
    }
    let changed = false;
    for (const policy of tenantPolicies) {
      const before = JSON.parse(policy.resources) as string[];
      const after = [...new Set(before.map((resource) => (resource === ALL ? ALL : appIds.get(resource.toLowerCase())!)))];
      if (JSON.stringify(after) === JSON.stringify(before)) continue;
      changed = true;
      await db
        .updateTable('access_policies')
        .set({ resources: JSON.stringify(after), version: Number(policy.version) + 1, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', policy.id)
        .execute();
    }
    // Nodes cache a tenant's policies by this version (core/app-protection/tenant-snapshot.ts).
    if (changed || appIds.size > 0) {
      await db
        .updateTable('tenants')
        .set((eb) => ({ app_config_version: eb(eb.ref('app_config_version'), '+', 1) }))
        .where('id', '=', tenantId)
        .execute();
    }
  }
}
