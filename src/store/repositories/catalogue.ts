import { CamelCasePlugin } from 'kysely';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { ManagedAppCatalogueRecord, ServicePrincipalRecord } from '../app-protection-records.ts';
import type { CatalogueStore } from '../app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import type { AccessPoliciesTable, Database, ManagedAppsTable, ServicePrincipalsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { bumpTenantVersion, createVersioned, deleteVersioned, graphExtrasFromColumn, stringsFromColumn, updateVersioned, withoutColumns } from './app-protection-shared.ts';

/** `service_principal_names` -> `servicePrincipalNames`, as Kysely's CamelCasePlugin names a column by default. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type CamelCased<Table> = { [Column in keyof Table as Column extends string ? CamelCase<Column> : never]: Table[Column] };

/** The tables this repository reads, as CamelCasePlugin shows them: the query stays type-checked against schema.ts. */
type CatalogueDatabase = {
  managedApps: CamelCased<ManagedAppsTable>;
  servicePrincipals: CamelCased<ServicePrincipalsTable>;
  accessPolicies: CamelCased<AccessPoliciesTable>;
};
/** The store's database with those added: withTables() only widens the type, it changes no query. */
type CamelDatabase = Database & CatalogueDatabase;

type ManagedAppRow = Selectable<CatalogueDatabase['managedApps']>;
type ServicePrincipalRow = Selectable<CatalogueDatabase['servicePrincipals']>;

/** One plugin for every query: it keeps no state between queries (a WeakMap by query id). */
const CAMEL_CASE = new CamelCasePlugin();

/** `db` (or a write transaction) speaking camelCase: identifiers to snake_case in the SQL, result keys back. */
function camel(db: Transaction<Database>): Transaction<CamelDatabase>;
function camel(db: Kysely<Database>): Kysely<CamelDatabase>;
function camel(db: Kysely<Database>): Kysely<CamelDatabase> {
  return db.withPlugin(CAMEL_CASE).withTables<CatalogueDatabase>();
}

/**
 * The tenant's managed app catalogue and service principals (admin-only: no hot path), over KyselyStore's database
 * and write path. Its queries go through Kysely's CamelCasePlugin, so a row is its record but for the JSON columns.
 */
export class KyselyCatalogueRepository implements CatalogueStore {
  readonly #context: StoreContext;
  readonly #db: Kysely<CamelDatabase>;

  constructor(context: StoreContext) {
    this.#context = context;
    this.#db = camel(context.db);
  }

  /** A plain insert after the tenant bump; the windowsAppId and client ids are checked against the tenant's entries under its lock. */
  createManagedApp(app: ManagedAppCatalogueRecord): Promise<void> {
    return createVersioned(this.#context, `managed app ${app.id}`, async (trx) => {
      await bumpTenantVersion(trx, app.tenantId);
      const db = camel(trx);
      await refuseCatalogueClash(db, app);
      await db.insertInto('managedApps').values(managedAppToRow(app)).execute();
    });
  }

  updateManagedApp(app: ManagedAppCatalogueRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'managed_apps', app, async (trx, version) => {
      const db = camel(trx);
      await refuseCatalogueClash(db, app);
      const changes = withoutColumns(managedAppToRow(app), ['tenantId', 'id', 'createdAt']);
      return db.updateTable('managedApps').set({ ...changes, version }).where('tenantId', '=', app.tenantId).where('id', '=', app.id).where('version', '=', app.version).executeTakeFirst();
    });
  }

  getManagedApp(tenantId: string, id: string): Promise<ManagedAppCatalogueRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('managedApps').selectAll().where('tenantId', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : managedAppFromRow(row);
    });
  }

  listManagedApps(tenantId: string): Promise<ManagedAppCatalogueRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db.selectFrom('managedApps').selectAll().where('tenantId', '=', tenantId).orderBy('createdAt', 'asc').orderBy('id', 'asc').execute();
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
      const db = camel(trx);
      await refuseAudienceClash(db, principal);
      await db.insertInto('servicePrincipals').values(servicePrincipalToRow(principal)).execute();
    });
  }

  /** The appId is never changed (it is how policies name the resource). */
  updateServicePrincipal(principal: ServicePrincipalRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'service_principals', principal, async (trx, version) => {
      const db = camel(trx);
      await refuseAudienceClash(db, principal);
      const { displayName, servicePrincipalNames, graphExtras, updatedAt } = servicePrincipalToRow(principal);
      return db
        .updateTable('servicePrincipals')
        .set({ displayName, servicePrincipalNames, graphExtras, updatedAt, version })
        .where('tenantId', '=', principal.tenantId)
        .where('id', '=', principal.id)
        .where('version', '=', principal.version)
        .executeTakeFirst();
    });
  }

  getServicePrincipal(tenantId: string, id: string): Promise<ServicePrincipalRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('servicePrincipals').selectAll().where('tenantId', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : servicePrincipalFromRow(row);
    });
  }

  /** collection-sql.ts answers the table's own (snake_case) rows: they need a mapper of their own. */
  async queryServicePrincipals(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ServicePrincipalRecord>> {
    const page = await this.#context.queryCollection<Selectable<ServicePrincipalsTable>>(collections.SERVICE_PRINCIPALS, tenantId, query);
    return { ...page, rows: page.rows.map(servicePrincipalFromSnakeRow) };
  }

  listServicePrincipals(tenantId: string): Promise<ServicePrincipalRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db.selectFrom('servicePrincipals').selectAll().where('tenantId', '=', tenantId).orderBy('createdAt', 'asc').orderBy('id', 'asc').execute();
      return rows.map(servicePrincipalFromRow);
    });
  }

  /**
   * Refused with `conflict` while an access policy names the resource: checked after the tenant row is taken, and
   * access policies are written under the same lock, so no policy can come to name it before the delete commits.
   */
  deleteServicePrincipal(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'service_principals', tenantId, id, expectedVersion, async (trx) => {
      const db = camel(trx);
      const principal = await db.selectFrom('servicePrincipals').select(['appId', 'displayName']).where('tenantId', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (principal === undefined) return; // the delete misses and says why
      const policies = await db.selectFrom('accessPolicies').select(['id', 'displayName', 'resources']).where('tenantId', '=', tenantId).orderBy('createdAt', 'asc').orderBy('id', 'asc').execute();
      const naming = policies.find((policy) => stringsFromColumn(policy.resources).some((resource) => resource.toLowerCase() === principal.appId));
      if (naming !== undefined) {
        throw new OpenMamError(
          'conflict',
          `service principal ${principal.displayName} (appId ${principal.appId}) is a resource of conditional access policy "${naming.displayName}" (${naming.id}): remove it from the policy's includeApplications first`,
        );
      }
    });
  }
}

// ---- rows <-> records: the columns are the record's fields; only the JSON columns (and PostgreSQL's bigint) differ

/**
 * The catalogue's rules, checked again inside the write (core checked them before, built-in entries included): no
 * other entry of the tenant has the same windowsAppId (also a unique constraint) or shares a client id.
 */
async function refuseCatalogueClash(db: Kysely<CamelDatabase>, app: ManagedAppCatalogueRecord): Promise<void> {
  const others = await db.selectFrom('managedApps').selectAll().where('tenantId', '=', app.tenantId).where('id', '<>', app.id).execute();
  const wanted = new Set(app.clientIds);
  for (const other of others) {
    if (other.windowsAppId === app.windowsAppId) {
      throw new OpenMamError('conflict', `windowsAppId ${app.windowsAppId} is already the managed app ${other.displayName} (${other.id})`);
    }
    const shared = stringsFromColumn(other.clientIds).find((clientId) => wanted.has(clientId));
    if (shared !== undefined) throw new OpenMamError('conflict', `client id ${shared} already speaks for the managed app ${other.displayName} (${other.id})`);
  }
}

/** No other service principal of the tenant has the same appId or one of the same names (audiences), ignoring case. */
async function refuseAudienceClash(db: Kysely<CamelDatabase>, principal: ServicePrincipalRecord): Promise<void> {
  const others = await db.selectFrom('servicePrincipals').selectAll().where('tenantId', '=', principal.tenantId).where('id', '<>', principal.id).execute();
  const wanted = new Set([principal.appId, ...principal.servicePrincipalNames].map((name) => name.toLowerCase()));
  for (const other of others) {
    if (other.appId === principal.appId) throw new OpenMamError('conflict', `appId ${principal.appId} is already the service principal ${other.displayName} (${other.id})`);
    const shared = [other.appId, ...stringsFromColumn(other.servicePrincipalNames)].find((name) => wanted.has(name.toLowerCase()));
    if (shared !== undefined) throw new OpenMamError('conflict', `servicePrincipalName ${shared} is already an audience of the service principal ${other.displayName} (${other.id})`);
  }
}

function managedAppToRow(app: ManagedAppCatalogueRecord): ManagedAppRow {
  const { tenantId, id, displayName, windowsAppId, clientIds, version, createdAt, updatedAt } = app;
  return { tenantId, id, displayName, windowsAppId, clientIds: JSON.stringify(clientIds), version, createdAt, updatedAt };
}

function managedAppFromRow(row: ManagedAppRow): ManagedAppCatalogueRecord {
  return { ...row, clientIds: stringsFromColumn(row.clientIds), version: Number(row.version) };
}

function servicePrincipalToRow(principal: ServicePrincipalRecord): ServicePrincipalRow {
  const { tenantId, id, appId, displayName, servicePrincipalNames, graphExtras, version, createdAt, updatedAt } = principal;
  return { tenantId, id, appId, displayName, servicePrincipalNames: JSON.stringify(servicePrincipalNames), graphExtras: JSON.stringify(graphExtras), version, createdAt, updatedAt };
}

function servicePrincipalFromRow(row: ServicePrincipalRow): ServicePrincipalRecord {
  return { ...row, servicePrincipalNames: stringsFromColumn(row.servicePrincipalNames), graphExtras: graphExtrasFromColumn(row.graphExtras), version: Number(row.version) };
}

/** A row of collection-sql.ts, which speaks the tables' own names. */
function servicePrincipalFromSnakeRow(row: Selectable<ServicePrincipalsTable>): ServicePrincipalRecord {
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
