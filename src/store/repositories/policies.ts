import type { Kysely, Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { AppPolicyRecord, ManagedAppRef } from '../app-protection-records.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { ConfigurationSetRecord, PolicyAssignment, PolicyKind, PolicyRecord } from '../records.ts';
import type { PolicyStore, VersionedDelete, VersionedWrite } from '../roles.ts';
import type { Database, ManagedAppPoliciesView, PoliciesTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { policyToRow, undoMissedDelete, writePolicyBody } from '../versioned-write.ts';
import { requireAssignmentFilters } from './assignment-filter-store.ts';
import { bumpConfigVersion, upsertConfigurationSet } from './shared.ts';

type PolicyRow = Selectable<PoliciesTable>;

/**
 * OMA-DM policies of the admin API, each written with its compiled configuration set (PolicyStore). Admin writes are
 * compare-and-sets on the policy's version (versioned-write.ts): a lost update is impossible, and a policy deleted
 * meanwhile is never re-created with its configuration set. The tenant row first (the bump), then the policy, then
 * its set, in every writer.
 */
export class KyselyPolicyRepository implements PolicyStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'queryCollection' | 'isUniqueViolation'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'queryCollection' | 'isUniqueViolation'>) {
    this.#db = context.db;
    this.#context = context;
  }

  /** A plain insert: `conflict` when the id exists, `not_found` when the tenant does not; nothing written then. */
  createPolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<number> {
    return this.#context.track(async () => {
      requireOwnSet(policy, set);
      try {
        return await this.#context.write(async (trx) => {
          const version = await bumpConfigVersion(trx, policy.tenantId);
          if (version === undefined) throw new OpenMamError('not_found', `tenant ${policy.tenantId} does not exist`);
          await trx.insertInto('policies').values(policyToRow(policy)).execute();
          await upsertConfigurationSet(trx, set);
          return version;
        });
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) throw new OpenMamError('conflict', `policy ${policy.id} already exists`, { cause: err });
        throw err;
      }
    });
  }

  updatePolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<VersionedWrite> {
    return this.#context.track(async () => {
      requireOwnSet(policy, set);
      return this.#context.undoable<VersionedWrite>(async (trx) => {
        if ((await bumpConfigVersion(trx, policy.tenantId)) === undefined) return { kind: 'not_found' };
        await requireAssignmentFilters(trx, policy.tenantId, policy.assignments);
        const version = await writePolicyBody(trx, 'policies', policyToRow(policy), policy.version);
        await upsertConfigurationSet(trx, set);
        return { kind: 'saved', version };
      });
    });
  }

  getPolicy(tenantId: string, id: string): Promise<PolicyRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : policyFromRow(row);
    });
  }

  async queryPolicies(tenantId: string, kinds: readonly PolicyKind[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord>> {
    const page = await this.#context.queryCollection<PolicyRow>(collections.ofKinds(collections.POLICIES, kinds), tenantId, query);
    return { ...page, rows: page.rows.map(policyFromRow) };
  }

  async queryManagedAppPolicies(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord | AppPolicyRecord>> {
    const page = await this.#context.queryCollection<Selectable<ManagedAppPoliciesView>>(collections.ofKinds(collections.MANAGED_APP_POLICIES, kinds), tenantId, query);
    return {
      ...page,
      rows: page.rows.map((row) => {
        const { apps, origin, ...rest } = row;
        if (origin === 'policies') return policyFromRow(rest as PolicyRow);
        return { ...policyFromRow(rest as PolicyRow), kind: row.kind as AppPolicyRecord['kind'], apps: JSON.parse(apps) as ManagedAppRef[] };
      }),
    };
  }

  listPolicies(tenantId: string, kind: PolicyKind): Promise<PolicyRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('policies')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(policyFromRow);
    });
  }

  deletePolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#context.track(() =>
      this.#context.undoable<VersionedDelete>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return { kind: 'not_found' };
        let query = trx.deleteFrom('policies').where('tenant_id', '=', tenantId).where('id', '=', id);
        if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
        const deleted = await query.executeTakeFirst();
        if (deleted.numDeletedRows === 0n) return undoMissedDelete(trx, 'policies', tenantId, id); // undoes the bump
        await trx.deleteFrom('configuration_sets').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
        return { kind: 'deleted' };
      }),
    );
  }
}

/** A policy is always written with its own configuration set (same tenant and id): `internal` otherwise, nothing written. */
function requireOwnSet(policy: PolicyRecord, set: ConfigurationSetRecord): void {
  if (set.tenantId !== policy.tenantId || set.id !== policy.id) {
    throw new OpenMamError('internal', `policy ${policy.id} must be saved with its own configuration set, got ${set.id}`);
  }
}

function policyFromRow(row: PolicyRow): PolicyRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    kind: row.kind,
    body: JSON.parse(row.body) as Record<string, unknown>,
    assignments: JSON.parse(row.assignments) as PolicyAssignment[],
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
