import type { Selectable } from 'kysely';
import type { AppPolicyKind, AppPolicyRecord, ManagedAppRef } from '../app-protection-records.ts';
import type { AppPolicyStore } from '../app-protection-roles.ts';
import { requireAssignmentFilters } from './assignment-filter-store.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { PolicyAssignment } from '../records.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import type { AppPoliciesTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { bumpTenantVersion, CompiledRead, createVersioned, deleteVersioned, updateVersioned } from './app-protection-shared.ts';

type PolicyRow = Selectable<AppPoliciesTable>;

/**
 * App protection and app configuration policies, over KyselyStore's database and write path. getAppConfigVersion is
 * a check-in's hot read: one indexed query, compiled once.
 */
export class KyselyAppPolicyRepository implements AppPolicyStore {
  readonly #context: StoreContext;
  readonly #appConfigVersion = new CompiledRead<{ app_config_version: number }>(
    (db) => db.selectFrom('tenants').select('app_config_version').where('id', '=', '').compile(),
    1,
  );

  constructor(context: StoreContext) {
    this.#context = context;
  }

  getAppConfigVersion(tenantId: string): Promise<number> {
    return this.#context.track(async () => {
      const [row] = await this.#appConfigVersion.run(this.#context, [tenantId]);
      return row?.app_config_version ?? 0;
    });
  }

  /** A plain insert, never an upsert (versioned-write.ts). */
  createAppPolicy(policy: AppPolicyRecord): Promise<number> {
    return createVersioned(this.#context, `app policy ${policy.id}`, async (trx) => {
      const version = await bumpTenantVersion(trx, policy.tenantId);
      await trx.insertInto('app_policies').values(appPolicyToRow(policy)).execute();
      return version;
    });
  }

  updateAppPolicy(policy: AppPolicyRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'app_policies', policy, async (trx, version) => {
      await requireAssignmentFilters(trx, policy.tenantId, policy.assignments);
      const row = appPolicyToRow(policy);
      return trx
        .updateTable('app_policies')
        .set({ body: row.body, apps: row.apps, assignments: row.assignments, version, updated_at: row.updated_at })
        .where('tenant_id', '=', policy.tenantId)
        .where('id', '=', policy.id)
        .where('version', '=', policy.version)
        .executeTakeFirst();
    });
  }

  getAppPolicy(tenantId: string, id: string): Promise<AppPolicyRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('app_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : appPolicyFromRow(row);
    });
  }

  async queryAppPolicies(tenantId: string, kind: AppPolicyKind, query: CollectionQuery): Promise<CollectionPage<AppPolicyRecord>> {
    const page = await this.#context.queryCollection<PolicyRow>(collections.ofKinds(collections.APP_POLICIES, [kind]), tenantId, query);
    return { ...page, rows: page.rows.map(appPolicyFromRow) };
  }

  listAppPolicies(tenantId: string, kind?: AppPolicyKind): Promise<AppPolicyRecord[]> {
    return this.#context.track(async () => {
      let query = this.#context.db.selectFrom('app_policies').selectAll().where('tenant_id', '=', tenantId);
      if (kind !== undefined) query = query.where('kind', '=', kind);
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(appPolicyFromRow);
    });
  }

  deleteAppPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'app_policies', tenantId, id, expectedVersion);
  }
}

// ---- rows <-> records

function appPolicyToRow(policy: AppPolicyRecord): PolicyRow {
  return {
    tenant_id: policy.tenantId,
    id: policy.id,
    kind: policy.kind,
    body: JSON.stringify(policy.body),
    apps: JSON.stringify(policy.apps),
    assignments: JSON.stringify(policy.assignments),
    version: policy.version,
    created_at: policy.createdAt,
    updated_at: policy.updatedAt,
  };
}

function appPolicyFromRow(row: PolicyRow): AppPolicyRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    kind: row.kind,
    body: JSON.parse(row.body) as Record<string, unknown>,
    apps: JSON.parse(row.apps) as ManagedAppRef[],
    assignments: JSON.parse(row.assignments) as PolicyAssignment[],
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
