import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import { requireAssignmentFilters } from './assignment-filter-store.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import { COMPLIANCE_POLICIES, ofKinds } from '../collections.ts';
import type { StoreContext } from '../store-context.ts';
import type {
  CompliancePolicyDeviceState,
  CompliancePolicyKindName,
  CompliancePolicyRecord,
  ComplianceRunLease,
  ComplianceSettingResult,
  ComplianceStateCounts,
  ComplianceStateRecord,
  ComplianceStatus,
  ComplianceStore,
  ComplianceSubject,
  DeviceComplianceResult,
  DueComplianceRetire,
  ComplianceCheckin,
  SaveComplianceOptions,
} from '../compliance-records.ts';
import type { DeviceComplianceState, EnrollmentState, PolicyAssignment } from '../records.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import type { CompliancePoliciesTable, ComplianceStatesTable, Database } from '../schema.ts';
import { undoable, undoMissedDelete, Undo, policyToRow, writePolicyBody } from '../versioned-write.ts';

type PolicyRow = Selectable<CompliancePoliciesTable>;
type ComplianceStoreContext = Pick<StoreContext, 'db' | 'write' | 'track' | 'queryCollection' | 'isUniqueViolation'>;
type StateRow = Selectable<ComplianceStatesTable>;

/** Rows of one multi-row insert: 256 x 7 parameters, far below both databases' limits; a power of two (row-helpers `batches`). */
const MAX_INSERT_BATCH = 256;
/** Ids in one `IN (...)` list. */
const MAX_IDS = 1024;
/** Enrollments whose DeviceStatus inventory (eight values each) one statement reads. */
const INVENTORY_IDS = 256;
const ENROLLED = sql.lit<EnrollmentState>('enrolled');
const IN_GRACE = sql.lit('inGracePeriod');
const DEVICE_STATUS_PREFIX = './Vendor/MSFT/DeviceStatus/';

/**
 * Device compliance's storage over KyselyStore's database, write path (group commit on SQLite) and lifecycle. Policy
 * writes are compare-and-sets like every admin write (versioned-write.ts): the tenant row is taken first (a write that
 * changes nothing: compliance policies are no part of what devices or apps download, so no version moves), and the
 * tenant's `compliance_runs.requested` is bumped in the same transaction, so a re-evaluation is owed exactly when a
 * policy changed, whichever node serves it.
 */
export class KyselyComplianceStore implements ComplianceStore {
  readonly #context: ComplianceStoreContext;

  constructor(context: ComplianceStoreContext) {
    this.#context = context;
  }

  createCompliancePolicy(policy: CompliancePolicyRecord): Promise<void> {
    return this.#context.track(async () => {
      try {
        await this.#context.write(async (trx) => {
          if (!(await holdTenant(trx, policy.tenantId))) throw new OpenMamError('not_found', `tenant ${policy.tenantId} does not exist`);
          // Under the tenant row, as a filter's delete: a filter deleted since the assignment was read is refused here.
          await requireAssignmentFilters(trx, policy.tenantId, policy.assignments);
          await trx.insertInto('compliance_policies').values(policyToRow(policy)).execute();
          await requestRun(trx, policy.tenantId);
        });
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) throw new OpenMamError('conflict', `compliance policy ${policy.id} already exists`, { cause: err });
        throw err;
      }
    });
  }

  updateCompliancePolicy(policy: CompliancePolicyRecord): Promise<VersionedWrite> {
    return this.#context.track(() =>
      undoable<VersionedWrite>(
        (work) => this.#context.write(work),
        async (trx) => {
          if (!(await holdTenant(trx, policy.tenantId))) return { kind: 'not_found' };
          await requireAssignmentFilters(trx, policy.tenantId, policy.assignments);
          const version = await writePolicyBody(trx, 'compliance_policies', policyToRow(policy), policy.version);
          await requestRun(trx, policy.tenantId);
          return { kind: 'saved', version };
        },
      ),
    );
  }

  getCompliancePolicy(tenantId: string, id: string): Promise<CompliancePolicyRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('compliance_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : policyFromRow(row);
    });
  }

  async queryCompliancePolicies(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<CompliancePolicyRecord>> {
    const page = await this.#context.queryCollection<PolicyRow>(ofKinds(COMPLIANCE_POLICIES, kinds), tenantId, query);
    return { ...page, rows: page.rows.map(policyFromRow) };
  }

  listCompliancePolicies(tenantId: string): Promise<CompliancePolicyRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('compliance_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(policyFromRow);
    });
  }

  /** The policy's device states go with the tenant's next run (thousands of rows are no request's work). */
  deleteCompliancePolicy(tenantId: string, id: string, expectedVersion: number | undefined): Promise<VersionedDelete> {
    return this.#context.track(() =>
      undoable<VersionedDelete>(
        (work) => this.#context.write(work),
        async (trx) => {
          if (!(await holdTenant(trx, tenantId))) return { kind: 'not_found' };
          let query = trx.deleteFrom('compliance_policies').where('tenant_id', '=', tenantId).where('id', '=', id);
          if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
          const removed = await query.executeTakeFirst();
          if (removed.numDeletedRows === 0n) return undoMissedDelete(trx, 'compliance_policies', tenantId, id);
          await requestRun(trx, tenantId);
          return { kind: 'deleted' };
        },
      ),
    );
  }

  complianceSubjects(tenantId: string, afterId: string | null, limit: number): Promise<ComplianceSubject[]> {
    return this.#context.track(async () => {
      let query = subjectQuery(this.#context.db).where('enrollments.tenant_id', '=', tenantId).where('enrollments.state', '=', ENROLLED);
      if (afterId !== null) query = query.where('enrollments.id', '>', afterId);
      const rows = await query.orderBy('enrollments.id', 'asc').limit(Math.max(1, Math.floor(limit))).execute();
      return this.#withInventory(rows);
    });
  }

  complianceSubjectsByIds(enrollmentIds: readonly string[]): Promise<ComplianceSubject[]> {
    return this.#context.track(async () => {
      const ids = [...new Set(enrollmentIds)].sort(compareKeys);
      const rows: SubjectRow[] = [];
      for (const chunk of batches(ids, MAX_IDS)) {
        rows.push(...(await subjectQuery(this.#context.db).where('enrollments.id', 'in', chunk).where('enrollments.state', '=', ENROLLED).execute()));
      }
      return this.#withInventory(rows);
    });
  }

  async #withInventory(rows: readonly SubjectRow[]): Promise<ComplianceSubject[]> {
    const inventory = new Map<string, Map<string, { value: string; updatedAt: number }>>(rows.map((row) => [row.id, new Map()]));
    for (const chunk of batches(rows.map((row) => row.id), INVENTORY_IDS)) {
      // A turn for requests between statements: SQLite runs them on this thread (see compliance-service.ts).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const values = await this.#context.db
        .selectFrom('inventory')
        .select(['enrollment_id', 'loc_uri', 'value', 'updated_at'])
        .where('enrollment_id', 'in', chunk)
        .where('loc_uri', '>=', DEVICE_STATUS_PREFIX)
        .where('loc_uri', '<', `${DEVICE_STATUS_PREFIX.slice(0, -1)}0`)
        .execute();
      for (const value of values) inventory.get(value.enrollment_id)?.set(value.loc_uri, { value: value.value, updatedAt: Number(value.updated_at) });
    }
    // Since when each policy has been nonCompliant on each device (migration 025): kept by the next evaluation.
    const since = new Map<string, Map<string, number>>();
    for (const chunk of batches(rows.map((row) => row.id), MAX_IDS)) {
      const states = await this.#context.db
        .selectFrom('compliance_states')
        .select(['enrollment_id', 'policy_id', 'noncompliant_since'])
        .where('enrollment_id', 'in', chunk)
        .where('noncompliant_since', 'is not', null)
        .execute();
      for (const state of states) {
        const map = since.get(state.enrollment_id) ?? new Map<string, number>();
        map.set(state.policy_id, Number(state.noncompliant_since));
        since.set(state.enrollment_id, map);
      }
    }
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      devId: row.dev_id,
      userOid: row.user_oid,
      upn: row.upn,
      deviceName: row.device_name,
      osVersion: row.os_version,
      osEdition: row.os_edition,
      manufacturer: row.manufacturer,
      model: row.model,
      complianceState: row.compliance_state,
      complianceGraceUntil: row.compliance_grace_until === null ? null : Number(row.compliance_grace_until),
      tokenGroups: row.token_groups === null ? [] : (JSON.parse(row.token_groups) as string[]),
      inventory: inventory.get(row.id)!,
      nonCompliantSince: since.get(row.id) ?? new Map<string, number>(),
      lastSeenAt: Number(row.last_checkin_at ?? row.enrolled_at),
    }));
  }

  saveComplianceResults(results: readonly DeviceComplianceResult[], options: SaveComplianceOptions = {}): Promise<boolean> {
    const { lease, replaceRange } = options;
    return this.#context.track(() =>
      undoable<boolean>(
        (work) => this.#context.write(work),
        async (trx) => {
          if (lease !== undefined) {
            const renewed = await trx
              .updateTable('compliance_runs')
              .set({ cursor: lease.cursor, lease_until: lease.leaseUntil })
              .where('tenant_id', '=', lease.lease.tenantId)
              .where('lease_owner', '=', lease.owner)
              .where('target', '=', lease.lease.target)
              .executeTakeFirst();
            if (renewed.numUpdatedRows === 0n) throw new Undo(false);
          }
          if (replaceRange !== undefined) {
            let range = trx.deleteFrom('compliance_states').where('tenant_id', '=', replaceRange.tenantId);
            if (replaceRange.after !== null) range = range.where('enrollment_id', '>', replaceRange.after);
            if (replaceRange.through !== null) range = range.where('enrollment_id', '<=', replaceRange.through);
            await range.execute();
          } else {
            const ids = results.map((r) => r.enrollmentId).sort(compareKeys);
            for (const chunk of batches(ids, MAX_IDS)) await trx.deleteFrom('compliance_states').where('enrollment_id', 'in', chunk).execute();
          }
          const rows = results.flatMap((result) => result.policies.map(stateToRow));
          for (const batch of batches(rows, MAX_INSERT_BATCH)) await trx.insertInto('compliance_states').values(batch).execute();
          // One UPDATE per distinct (state, grace end): a batch has a handful.
          const byOutcome = new Map<string, { state: DeviceComplianceState; graceUntil: number | null; lapsed: number; ids: string[] }>();
          for (const result of results) {
            const lapsed = result.lapsed === true ? 1 : 0;
            const key = `${result.state} ${result.graceUntil ?? ''} ${lapsed}`;
            const group = byOutcome.get(key) ?? { state: result.state, graceUntil: result.graceUntil, lapsed, ids: [] };
            group.ids.push(result.enrollmentId);
            byOutcome.set(key, group);
          }
          for (const group of [...byOutcome.values()].sort((a, b) => compareKeys(`${a.state}${a.graceUntil ?? ''}${a.lapsed}`, `${b.state}${b.graceUntil ?? ''}${b.lapsed}`))) {
            for (const chunk of batches(group.ids.sort(compareKeys), MAX_IDS)) {
              await trx
                .updateTable('enrollments')
                .set({ compliance_state: group.state, compliance_grace_until: group.graceUntil, compliance_lapsed: group.lapsed })
                .where('id', 'in', chunk)
                .where('state', '=', ENROLLED)
                .execute();
            }
          }
          return true;
        },
      ),
    );
  }

  requestComplianceRun(tenantId: string): Promise<void> {
    return this.#context.track(() => this.#context.write((trx) => requestRun(trx, tenantId)));
  }

  claimComplianceRun(owner: string, now: number, leaseUntil: number): Promise<ComplianceRunLease | undefined> {
    return this.#context.track(async () => {
      const candidates = await this.#context.db
        .selectFrom('compliance_runs')
        .select(['tenant_id'])
        .whereRef('requested', '>', 'done')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('lease_owner', '=', owner)]))
        .orderBy('tenant_id')
        .limit(8)
        .execute();
      for (const { tenant_id: tenantId } of candidates) {
        const lease = await this.#context.write(async (trx) => {
          const row = await trx.selectFrom('compliance_runs').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
          if (row === undefined || Number(row.requested) <= Number(row.done)) return undefined;
          if (row.lease_until !== null && Number(row.lease_until) >= now && row.lease_owner !== owner) return undefined;
          // A run of an older generation restarts from the first device: its policies are not the current ones.
          const resume = Number(row.target) === Number(row.requested) ? row.cursor : null;
          const taken = await trx
            .updateTable('compliance_runs')
            .set({ lease_owner: owner, lease_until: leaseUntil, target: row.requested, cursor: resume })
            .where('tenant_id', '=', tenantId)
            .where('requested', '=', row.requested)
            .where((eb) => (row.lease_owner === null ? eb('lease_owner', 'is', null) : eb('lease_owner', '=', row.lease_owner)))
            .executeTakeFirst();
          return taken.numUpdatedRows === 0n ? undefined : { tenantId, target: Number(row.requested), cursor: resume };
        });
        if (lease !== undefined) return lease;
      }
      return undefined;
    });
  }

  finishComplianceRun(owner: string, lease: ComplianceRunLease): Promise<void> {
    return this.#context.track(async () => {
      await this.#context.write((trx) =>
        trx
          .updateTable('compliance_runs')
          .set({ done: lease.target, cursor: null, lease_owner: null, lease_until: null })
          .where('tenant_id', '=', lease.tenantId)
          .where('lease_owner', '=', owner)
          .where('target', '=', lease.target)
          .execute(),
      );
    });
  }

  dueComplianceRetires(now: number, limit: number): Promise<DueComplianceRetire[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db
        .selectFrom('compliance_states')
        .leftJoin('enrollments', 'enrollments.id', 'compliance_states.enrollment_id')
        .select(['compliance_states.tenant_id', 'compliance_states.enrollment_id', 'compliance_states.policy_id', 'enrollments.state', 'enrollments.management_state'])
        .where('compliance_states.retire_at', 'is not', null)
        .where('compliance_states.retire_at', '<=', now)
        .orderBy('compliance_states.retire_at')
        .limit(Math.max(1, Math.floor(limit)))
        .execute();
      return rows.map((row) => ({ tenantId: row.tenant_id, enrollmentId: row.enrollment_id, policyId: row.policy_id, managed: row.state === 'enrolled' && row.management_state === 'managed' }));
    });
  }

  clearComplianceRetires(keys: readonly Pick<DueComplianceRetire, 'enrollmentId' | 'policyId'>[]): Promise<void> {
    return this.#context.track(async () => {
      if (keys.length === 0) return;
      const byPolicy = new Map<string, string[]>();
      for (const key of keys) byPolicy.set(key.policyId, [...(byPolicy.get(key.policyId) ?? []), key.enrollmentId]);
      await this.#context.write(async (trx) => {
        for (const policyId of [...byPolicy.keys()].sort(compareKeys)) {
          for (const chunk of batches(byPolicy.get(policyId)!.sort(compareKeys), MAX_IDS)) {
            await trx.updateTable('compliance_states').set({ retire_at: null }).where('policy_id', '=', policyId).where('enrollment_id', 'in', chunk).execute();
          }
        }
      });
    });
  }

  complianceCheckins(tenantId: string, afterId: string | null, limit: number): Promise<ComplianceCheckin[]> {
    return this.#context.track(async () => {
      let query = this.#context.db
        .selectFrom('enrollments')
        .leftJoin('management_state', 'management_state.enrollment_id', 'enrollments.id')
        .select(['enrollments.id', 'enrollments.enrolled_at', 'enrollments.compliance_lapsed', 'management_state.last_checkin_at'])
        .where('enrollments.tenant_id', '=', tenantId)
        .where('enrollments.state', '=', ENROLLED);
      if (afterId !== null) query = query.where('enrollments.id', '>', afterId);
      const rows = await query.orderBy('enrollments.id', 'asc').limit(Math.max(1, Math.floor(limit))).execute();
      return rows.map((row) => ({ id: row.id, lastSeenAt: Number(row.last_checkin_at ?? row.enrolled_at), lapsed: Number(row.compliance_lapsed) === 1 }));
    });
  }

  expireComplianceGrace(now: number, limit: number): Promise<number> {
    return this.#context.track(async () => {
      const result = await this.#context.write((trx) =>
        sql`update enrollments set compliance_state = 'noncompliant' where id in (select id from enrollments where compliance_state = ${IN_GRACE} and compliance_grace_until <= ${now} and state = ${ENROLLED} order by compliance_grace_until limit ${limit})`.execute(trx),
      );
      return Number(result.numAffectedRows ?? 0);
    });
  }

  compliancePolicyStatesOf(enrollmentId: string): Promise<ComplianceStateRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('compliance_states').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('policy_id').execute();
      return rows.map(stateFromRow);
    });
  }

  compliancePolicyDeviceStates(tenantId: string, policyId: string, afterEnrollmentId: string | null, limit: number): Promise<CompliancePolicyDeviceState[]> {
    return this.#context.track(async () => {
      let query = this.#context.db
        .selectFrom('compliance_states')
        .innerJoin('enrollments', 'enrollments.id', 'compliance_states.enrollment_id')
        .selectAll('compliance_states')
        .select(['enrollments.device_name', 'enrollments.model', 'enrollments.upn', 'enrollments.compliance_state', 'enrollments.compliance_grace_until'])
        .where('compliance_states.tenant_id', '=', tenantId)
        .where('compliance_states.policy_id', '=', policyId)
        .where('enrollments.state', '=', ENROLLED);
      if (afterEnrollmentId !== null) query = query.where('compliance_states.enrollment_id', '>', afterEnrollmentId);
      const rows = await query.orderBy('compliance_states.enrollment_id').limit(Math.max(1, Math.floor(limit))).execute();
      return rows.map((row) => ({
        ...stateFromRow(row),
        deviceName: row.device_name,
        model: row.model,
        userPrincipalName: row.upn,
        deviceState: row.compliance_state,
        graceUntil: row.compliance_grace_until === null ? null : Number(row.compliance_grace_until),
      }));
    });
  }

  compliancePolicyStateCounts(tenantId: string, policyId: string): Promise<{ counts: ComplianceStateCounts; lastEvaluatedAt: number | null }> {
    return this.#context.track(async () => {
      const rows = await this.#context.db
        .selectFrom('compliance_states')
        // Active devices only: a device that left keeps its rows until its tenant's next run.
        .innerJoin('enrollments', 'enrollments.id', 'compliance_states.enrollment_id')
        .select(['compliance_states.state', (eb) => eb.fn.countAll<number | string | bigint>().as('count'), (eb) => eb.fn.max('compliance_states.evaluated_at').as('last')])
        .where('compliance_states.tenant_id', '=', tenantId)
        .where('compliance_states.policy_id', '=', policyId)
        .where('enrollments.state', '=', ENROLLED)
        .groupBy('compliance_states.state')
        .execute();
      const counts: ComplianceStateCounts = {};
      let last: number | null = null;
      for (const row of rows) {
        counts[row.state as ComplianceStatus] = Number(row.count);
        if (row.last !== null && (last === null || Number(row.last) > last)) last = Number(row.last);
      }
      return { counts, lastEvaluatedAt: last };
    });
  }

  activeDeviceCompliance(tenantId: string, entraDeviceId: string): Promise<{ state: DeviceComplianceState; graceUntil: number | null } | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db
        .selectFrom('enrollments')
        .select(['compliance_state', 'compliance_grace_until'])
        .where('tenant_id', '=', tenantId)
        .where('entra_device_id', '=', entraDeviceId)
        .where('state', '=', ENROLLED)
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : { state: row.compliance_state, graceUntil: row.compliance_grace_until === null ? null : Number(row.compliance_grace_until) };
    });
  }
}

type SubjectRow = Awaited<ReturnType<ReturnType<typeof subjectQuery>['execute']>>[number];

function subjectQuery(db: Kysely<Database>) {
  return db
    .selectFrom('enrollments')
    .leftJoin('management_state', 'management_state.enrollment_id', 'enrollments.id')
    .select([
      'enrollments.id',
      'enrollments.tenant_id',
      'enrollments.dev_id',
      'enrollments.user_oid',
      'enrollments.upn',
      'enrollments.device_name',
      'enrollments.os_version',
      'enrollments.os_edition',
      'enrollments.manufacturer',
      'enrollments.model',
      'enrollments.compliance_state',
      'enrollments.compliance_grace_until',
      'management_state.token_groups',
      'management_state.last_checkin_at',
      'enrollments.enrolled_at',
    ]);
}

/** The tenant row, held to the end of the transaction (the one lock order of admin writers); false when no tenant. */
async function holdTenant(trx: Transaction<Database>, tenantId: string): Promise<boolean> {
  const held = await trx
    .updateTable('tenants')
    .set((eb) => ({ version: eb.ref('version') }))
    .where('id', '=', tenantId)
    .executeTakeFirst();
  return held.numUpdatedRows > 0n;
}

/** The tenant owes a re-evaluation of its devices (compliance_runs). */
export async function requestRun(trx: Transaction<Database>, tenantId: string): Promise<void> {
  await trx
    .insertInto('compliance_runs')
    .values({ tenant_id: tenantId, requested: 1, done: 0, target: 0, cursor: null, lease_owner: null, lease_until: null })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ requested: sql<number>`compliance_runs.requested + 1` }))
    .execute();
}

function policyFromRow(row: PolicyRow): CompliancePolicyRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    kind: row.kind as CompliancePolicyKindName,
    body: JSON.parse(row.body) as Record<string, unknown>,
    assignments: JSON.parse(row.assignments) as PolicyAssignment[],
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function stateToRow(state: ComplianceStateRecord): StateRow {
  return {
    enrollment_id: state.enrollmentId,
    policy_id: state.policyId,
    tenant_id: state.tenantId,
    state: state.state,
    settings: JSON.stringify(state.settings),
    policy_version: state.policyVersion,
    evaluated_at: state.evaluatedAt,
    noncompliant_since: state.nonCompliantSince ?? null,
    retire_at: state.retireAt ?? null,
  };
}

function stateFromRow(row: StateRow): ComplianceStateRecord {
  return {
    enrollmentId: row.enrollment_id,
    policyId: row.policy_id,
    tenantId: row.tenant_id,
    state: row.state as ComplianceStatus,
    settings: JSON.parse(row.settings) as ComplianceSettingResult[],
    policyVersion: Number(row.policy_version),
    evaluatedAt: Number(row.evaluated_at),
    nonCompliantSince: row.noncompliant_since === null ? null : Number(row.noncompliant_since),
    retireAt: row.retire_at === null ? null : Number(row.retire_at),
  };
}
