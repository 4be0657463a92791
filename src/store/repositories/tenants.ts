import type { Insertable, Kysely, Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { ConfigurationSetRecord, TenantRecord, TenantSettings } from '../records.ts';
import { booleanFromColumn, booleanToColumn } from '../row-helpers.ts';
import type { TenantStore, VersionedWrite } from '../roles.ts';
import type { Database, TenantsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { requestRun as requestComplianceRun } from './compliance-store.ts';
import { bumpConfigVersion, upsertConfigurationSet } from './shared.ts';

type TenantRow = Selectable<TenantsTable>;

/** Onboarded tenants (TenantStore): the row every admin writer of a tenant takes first. */
export class KyselyTenantRepository implements TenantStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'isUniqueViolation'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'isUniqueViolation'>) {
    this.#db = context.db;
    this.#context = context;
  }

  getTenant(id: string): Promise<TenantRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : tenantFromRow(row);
    });
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db.selectFrom('tenants').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(tenantFromRow);
    });
  }

  createTenant(tenant: TenantRecord): Promise<void> {
    return this.#context.track(async () => {
      try {
        await this.#db.insertInto('tenants').values(tenantToRow(tenant)).execute();
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) {
          throw new OpenMamError('conflict', `tenant ${tenant.id} already exists`, { cause: err });
        }
        throw err;
      }
    });
  }

  updateTenant(tenant: TenantRecord, set?: ConfigurationSetRecord, options: { complianceRun?: boolean } = {}): Promise<VersionedWrite> {
    return this.#context.track(async () => {
      if (set !== undefined && set.tenantId !== tenant.id) throw new OpenMamError('internal', `tenant ${tenant.id} must be saved with a set of its own, got ${set.tenantId}'s`);
      return this.#context.write(async (trx): Promise<VersionedWrite> => {
        const row = tenantToRow(tenant);
        const version = tenant.version + 1;
        // The tenant row is the one every writer of the tenant's configuration takes first: no deadlock with them.
        const updated = await trx
          .updateTable('tenants')
          .set({ name: row.name, enrollment_allowed: row.enrollment_allowed, settings: row.settings, updated_at: row.updated_at, version })
          .where('id', '=', tenant.id)
          .where('version', '=', tenant.version)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) {
          // Nothing written: say why (the row is not ours to hold, so the version read may be newer still; stale all the same).
          const current = await trx.selectFrom('tenants').select('version').where('id', '=', tenant.id).executeTakeFirst();
          return current === undefined ? { kind: 'not_found' } : { kind: 'stale', current: current.version };
        }
        if (set !== undefined) {
          await bumpConfigVersion(trx, tenant.id);
          await upsertConfigurationSet(trx, set);
        }
        if (options.complianceRun === true) await requestComplianceRun(trx, tenant.id);
        return { kind: 'saved', version };
      });
    });
  }
}

function tenantToRow(tenant: TenantRecord): Insertable<TenantsTable> {
  return {
    id: tenant.id,
    name: tenant.name,
    identity_provider: tenant.identityProvider,
    enrollment_allowed: booleanToColumn(tenant.enrollmentAllowed),
    settings: JSON.stringify(tenant.settings),
    version: tenant.version,
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
  };
}

function tenantFromRow(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    identityProvider: row.identity_provider,
    enrollmentAllowed: booleanFromColumn(row.enrollment_allowed),
    settings: JSON.parse(row.settings) as TenantSettings,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
