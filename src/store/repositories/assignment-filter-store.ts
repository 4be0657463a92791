import type { Kysely, Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { StoreContext } from '../store-context.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import { ASSIGNMENT_FILTERS } from '../collections.ts';
import type { AssignmentFilterRecord } from '../records.ts';
import type { AssignmentFilterStore, VersionedDelete, VersionedWrite } from '../roles.ts';
import type { AssignmentFiltersTable, Database } from '../schema.ts';
import { undoable, undoMissedDelete, undoMissedWrite } from '../versioned-write.ts';

type FilterRow = Selectable<AssignmentFiltersTable>;

/**
 * Assignment filters (AssignmentFilterStore in roles.ts, migration 023), over KyselyStore's database, write path and
 * lifecycle, which exposes it as `assignmentFilters`. Every write takes the tenant row first, as every admin writer
 * does: a rule change bumps the version its devices or apps are planned against; other writes hold the row without
 * changing it (an update of the row to itself), so a delete's "no assignment names it" stays true until it commits.
 */
export class KyselyAssignmentFilterStore implements AssignmentFilterStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'write' | 'track' | 'queryCollection' | 'isUniqueViolation'>;

  constructor(db: Kysely<Database>, context: Pick<StoreContext, 'write' | 'track' | 'queryCollection' | 'isUniqueViolation'>) {
    this.#db = db;
    this.#context = context;
  }

  createAssignmentFilter(filter: AssignmentFilterRecord): Promise<void> {
    return this.#context.track(async () => {
      try {
        await this.#context.write(async (trx) => {
          if (!(await lockTenant(trx, filter.tenantId, 'none'))) throw new OpenMamError('not_found', `tenant ${filter.tenantId} does not exist`);
          await trx.insertInto('assignment_filters').values(toRow(filter)).execute();
        });
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) throw new OpenMamError('conflict', `assignment filter ${filter.id} already exists`, { cause: err });
        throw err;
      }
    });
  }

  updateAssignmentFilter(filter: AssignmentFilterRecord, replan: boolean): Promise<VersionedWrite> {
    return this.#context.track(() =>
      undoable<VersionedWrite>(
        (work) => this.#context.write(work),
        async (trx) => {
          const bump = !replan ? 'none' : filter.managementType === 'apps' ? 'apps' : 'devices';
          if (!(await lockTenant(trx, filter.tenantId, bump))) return { kind: 'not_found' };
          const version = filter.version + 1;
          const row = toRow(filter);
          const updated = await trx
            .updateTable('assignment_filters')
            .set({ display_name: row.display_name, description: row.description, rule: row.rule, role_scope_tags: row.role_scope_tags, updated_at: row.updated_at, version })
            .where('tenant_id', '=', filter.tenantId)
            .where('id', '=', filter.id)
            .where('version', '=', filter.version)
            .executeTakeFirst();
          if (updated.numUpdatedRows === 0n) return undoMissedWrite(trx, 'assignment_filters', filter.tenantId, filter.id);
          return { kind: 'saved', version };
        },
      ),
    );
  }

  getAssignmentFilter(tenantId: string, id: string): Promise<AssignmentFilterRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('assignment_filters').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : fromRow(row);
    });
  }

  getAssignmentFilters(tenantId: string, ids: readonly string[]): Promise<AssignmentFilterRecord[]> {
    return this.#context.track(async () => {
      if (ids.length === 0) return [];
      const rows = await this.#db.selectFrom('assignment_filters').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
      return rows.map(fromRow);
    });
  }

  async queryAssignmentFilters(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AssignmentFilterRecord>> {
    const page = await this.#context.queryCollection<FilterRow>(ASSIGNMENT_FILTERS, tenantId, query);
    return { ...page, rows: page.rows.map(fromRow) };
  }

  deleteAssignmentFilter(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#context.track(() =>
      undoable<VersionedDelete>(
        (work) => this.#context.write(work),
        async (trx) => {
          if (!(await lockTenant(trx, tenantId, 'none'))) return { kind: 'not_found' };
          const user = await policyNaming(trx, tenantId, id);
          if (user !== undefined) {
            throw new OpenMamError('conflict', `assignment filter ${id} is used by an assignment of policy "${user.name}" (${user.id}): remove it from the assignment first`);
          }
          let query = trx.deleteFrom('assignment_filters').where('tenant_id', '=', tenantId).where('id', '=', id);
          if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
          const removed = await query.executeTakeFirst();
          if (removed.numDeletedRows === 0n) return undoMissedDelete(trx, 'assignment_filters', tenantId, id);
          return { kind: 'deleted' };
        },
      ),
    );
  }
}

/**
 * Takes the tenant row (the one lock order of admin writers): bumps the configuration version (`devices`), the app
 * configuration version (`apps`), or writes the row to itself (`none`). False when there is no such tenant.
 */
async function lockTenant(trx: Transaction<Database>, tenantId: string, bump: 'devices' | 'apps' | 'none'): Promise<boolean> {
  const query = trx.updateTable('tenants').where('id', '=', tenantId);
  const result =
    bump === 'devices'
      ? await query.set((eb) => ({ config_version: eb(eb.ref('config_version'), '+', 1) })).executeTakeFirst()
      : bump === 'apps'
        ? await query.set((eb) => ({ app_config_version: eb(eb.ref('app_config_version'), '+', 1) })).executeTakeFirst()
        : await query.set((eb) => ({ app_config_version: eb.ref('app_config_version') })).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * A policy of any policy table (OMA-DM, app protection, compliance) with an assignment naming the filter: a LIKE narrows (a wildcard in an id only widens it),
 * the JSON decides.
 */
async function policyNaming(trx: Transaction<Database>, tenantId: string, filterId: string): Promise<{ id: string; name: string } | undefined> {
  const pattern = `%${filterId}%`;
  for (const table of ['policies', 'app_policies', 'compliance_policies'] as const) {
    const rows = await trx
      .selectFrom(table)
      .select(['id', 'body', 'assignments'])
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb('assignments', 'like', pattern))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    for (const row of rows) {
      const assignments = JSON.parse(row.assignments) as { target?: { deviceAndAppManagementAssignmentFilterId?: string } }[];
      if (assignments.some((a) => a.target?.deviceAndAppManagementAssignmentFilterId === filterId)) {
        const body = JSON.parse(row.body) as { displayName?: unknown };
        return { id: row.id, name: typeof body.displayName === 'string' ? body.displayName : row.id };
      }
    }
  }
  return undefined;
}

/**
 * Inside a policy write, after the tenant row: every filter the assignments name must exist (a filter deleted since
 * the assignment was read would otherwise be named by a stored assignment). Throws `malformed_request`.
 */
export async function requireAssignmentFilters(trx: Transaction<Database>, tenantId: string, assignments: readonly { target: object }[]): Promise<void> {
  const ids = assignments.flatMap(({ target }) => {
    const id = (target as { deviceAndAppManagementAssignmentFilterId?: unknown }).deviceAndAppManagementAssignmentFilterId;
    return typeof id === 'string' ? [id] : [];
  });
  if (ids.length === 0) return;
  const found = await trx.selectFrom('assignment_filters').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
  const known = new Set(found.map((r) => r.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing !== undefined) throw new OpenMamError('malformed_request', `assignments: the assignment filter ${missing} does not exist`);
}

function toRow(filter: AssignmentFilterRecord): FilterRow {
  return {
    tenant_id: filter.tenantId,
    id: filter.id,
    display_name: filter.displayName,
    description: filter.description,
    platform: filter.platform,
    rule: filter.rule,
    management_type: filter.managementType,
    role_scope_tags: JSON.stringify(filter.roleScopeTags),
    version: filter.version,
    created_at: filter.createdAt,
    updated_at: filter.updatedAt,
  };
}

function fromRow(row: FilterRow): AssignmentFilterRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    displayName: row.display_name,
    description: row.description,
    platform: row.platform,
    rule: row.rule,
    managementType: row.management_type,
    roleScopeTags: JSON.parse(row.role_scope_tags) as string[],
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
