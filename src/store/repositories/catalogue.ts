import type { Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { ManagedAppCatalogueRecord, ServicePrincipalRecord } from '../app-protection-records.ts';
import type { CatalogueStore } from '../app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import type { Database, ManagedAppsTable, ServicePrincipalsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { bumpTenantVersion, createVersioned, deleteVersioned, graphExtrasFromColumn, stringsFromColumn, updateVersioned, withoutColumns } from './app-protection-shared.ts';

type ManagedAppRow = Selectable<ManagedAppsTable>;
type ServicePrincipalRow = Selectable<ServicePrincipalsTable>;

/** The tenant's managed app catalogue and service principals (admin-only), over KyselyStore's database and write path. */
export class KyselyCatalogueRepository implements CatalogueStore {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** A plain insert after the tenant bump; the windowsAppId and client ids are checked against the tenant's entries under its lock. */
  createManagedApp(app: ManagedAppCatalogueRecord): Promise<void> {
    return createVersioned(this.#context, `managed app ${app.id}`, async (trx) => {
      await bumpTenantVersion(trx, app.tenantId);
      await refuseCatalogueClash(trx, app);
      await trx.insertInto('managed_apps').values(managedAppToRow(app)).execute();
    });
  }

  updateManagedApp(app: ManagedAppCatalogueRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'managed_apps', app, async (trx, version) => {
      await refuseCatalogueClash(trx, app);
      const row = managedAppToRow(app);
      return trx
        .updateTable('managed_apps')
        .set({ ...withoutColumns(row, ['tenant_id', 'id', 'created_at']), version })
        .where('tenant_id', '=', app.tenantId)
        .where('id', '=', app.id)
        .where('version', '=', app.version)
        .executeTakeFirst();
    });
  }

  getManagedApp(tenantId: string, id: string): Promise<ManagedAppCatalogueRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('managed_apps').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : managedAppFromRow(row);
    });
  }

  listManagedApps(tenantId: string): Promise<ManagedAppCatalogueRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('managed_apps').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(managedAppFromRow);
    });
  }

  deleteManagedApp(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'managed_apps', tenantId, id, expectedVersion);
  }

  /** A plain insert after the tenant bump; its names are checked against the tenant's other service principals under its lock. */
  createServicePrincipal(principal: ServicePrincipalRecord): Promise<void> {
    return createVersioned(this.#context, `service principal ${principal.id} (appId ${principal.appId})`, async (trx) => {
      await bumpTenantVersion(trx, principal.tenantId);
      await refuseAudienceClash(trx, principal);
      await trx.insertInto('service_principals').values(servicePrincipalToRow(principal)).execute();
    });
  }

  /** The appId is never changed (it is how policies name the resource). */
  updateServicePrincipal(principal: ServicePrincipalRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'service_principals', principal, async (trx, version) => {
      await refuseAudienceClash(trx, principal);
      const row = servicePrincipalToRow(principal);
      return trx
        .updateTable('service_principals')
        .set({ display_name: row.display_name, service_principal_names: row.service_principal_names, graph_extras: row.graph_extras, updated_at: row.updated_at, version })
        .where('tenant_id', '=', principal.tenantId)
        .where('id', '=', principal.id)
        .where('version', '=', principal.version)
        .executeTakeFirst();
    });
  }

  getServicePrincipal(tenantId: string, id: string): Promise<ServicePrincipalRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : servicePrincipalFromRow(row);
    });
  }

  async queryServicePrincipals(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ServicePrincipalRecord>> {
    const page = await this.#context.queryCollection<ServicePrincipalRow>(collections.SERVICE_PRINCIPALS, tenantId, query);
    return { ...page, rows: page.rows.map(servicePrincipalFromRow) };
  }

  listServicePrincipals(tenantId: string): Promise<ServicePrincipalRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(servicePrincipalFromRow);
    });
  }

  /**
   * Refused with `conflict` while an access policy names the resource: checked after the tenant row is taken, and
   * access policies are written under the same lock, so no policy can come to name it before the delete commits.
   */
  deleteServicePrincipal(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'service_principals', tenantId, id, expectedVersion, async (trx) => {
      const principal = await trx.selectFrom('service_principals').select(['app_id', 'display_name']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (principal === undefined) return; // the delete misses and says why
      const policies = await trx.selectFrom('access_policies').select(['id', 'display_name', 'resources']).where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      const naming = policies.find((policy) => stringsFromColumn(policy.resources).some((resource) => resource.toLowerCase() === principal.app_id));
      if (naming !== undefined) {
        throw new OpenMamError(
          'conflict',
          `service principal ${principal.display_name} (appId ${principal.app_id}) is a resource of conditional access policy "${naming.display_name}" (${naming.id}): remove it from the policy's includeApplications first`,
        );
      }
    });
  }
}

// ---- rows <-> records

/**
 * The catalogue's rules, checked again inside the write (core checked them before, built-in entries included): no
 * other entry of the tenant has the same windowsAppId (also a unique constraint) or shares a client id.
 */
async function refuseCatalogueClash(trx: Transaction<Database>, app: ManagedAppCatalogueRecord): Promise<void> {
  const others = await trx.selectFrom('managed_apps').selectAll().where('tenant_id', '=', app.tenantId).where('id', '<>', app.id).execute();
  const wanted = new Set(app.clientIds);
  for (const other of others) {
    if (other.windows_app_id === app.windowsAppId) {
      throw new OpenMamError('conflict', `windowsAppId ${app.windowsAppId} is already the managed app ${other.display_name} (${other.id})`);
    }
    const shared = stringsFromColumn(other.client_ids).find((clientId) => wanted.has(clientId));
    if (shared !== undefined) throw new OpenMamError('conflict', `client id ${shared} already speaks for the managed app ${other.display_name} (${other.id})`);
  }
}

/** No other service principal of the tenant has the same appId or one of the same names (audiences), ignoring case. */
async function refuseAudienceClash(trx: Transaction<Database>, principal: ServicePrincipalRecord): Promise<void> {
  const others = await trx.selectFrom('service_principals').selectAll().where('tenant_id', '=', principal.tenantId).where('id', '<>', principal.id).execute();
  const wanted = new Set([principal.appId, ...principal.servicePrincipalNames].map((name) => name.toLowerCase()));
  for (const other of others) {
    if (other.app_id === principal.appId) throw new OpenMamError('conflict', `appId ${principal.appId} is already the service principal ${other.display_name} (${other.id})`);
    const shared = [other.app_id, ...stringsFromColumn(other.service_principal_names)].find((name) => wanted.has(name.toLowerCase()));
    if (shared !== undefined) throw new OpenMamError('conflict', `servicePrincipalName ${shared} is already an audience of the service principal ${other.display_name} (${other.id})`);
  }
}

function managedAppToRow(app: ManagedAppCatalogueRecord): ManagedAppRow {
  return {
    tenant_id: app.tenantId,
    id: app.id,
    display_name: app.displayName,
    windows_app_id: app.windowsAppId,
    client_ids: JSON.stringify(app.clientIds),
    version: app.version,
    created_at: app.createdAt,
    updated_at: app.updatedAt,
  };
}

function managedAppFromRow(row: ManagedAppRow): ManagedAppCatalogueRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    displayName: row.display_name,
    windowsAppId: row.windows_app_id,
    clientIds: stringsFromColumn(row.client_ids),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function servicePrincipalToRow(principal: ServicePrincipalRecord): ServicePrincipalRow {
  return {
    tenant_id: principal.tenantId,
    id: principal.id,
    app_id: principal.appId,
    display_name: principal.displayName,
    service_principal_names: JSON.stringify(principal.servicePrincipalNames),
    graph_extras: JSON.stringify(principal.graphExtras),
    version: principal.version,
    created_at: principal.createdAt,
    updated_at: principal.updatedAt,
  };
}

function servicePrincipalFromRow(row: ServicePrincipalRow): ServicePrincipalRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    appId: row.app_id,
    displayName: row.display_name,
    servicePrincipalNames: stringsFromColumn(row.service_principal_names),
    graphExtras: graphExtrasFromColumn(row.graph_extras),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
