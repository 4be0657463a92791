import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { StoreContext } from '../store-context.ts';
import type { DeviceActionRecord, DeviceActionResult, DeviceManagementState, EnrollmentState } from '../records.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { DeviceActionRequest, DeviceActionStore, SyncOutcome } from '../roles.ts';
import type { Database, DeviceActionsTable } from '../schema.ts';
import { upsertManagementState } from './shared.ts';

type DeviceActionRow = Selectable<DeviceActionsTable>;

/** `state = 'enrolled'` as a literal, as KyselyStore writes it: the partial index enrollments_active_dev_id matches. */
const ACTIVE = sql.lit<EnrollmentState>('enrolled');
const PENDING = sql.lit<DeviceActionRecord['state']>('pending');
/** Ids per `in (...)` list: far below either database's parameter limit; a power of two (row-helpers `batches`). */
const MAX_READ_BATCH = 512;

/** What a retire or wipe moves the enrollment's managementState to, and back from. */
const PENDING_STATE = { retire: 'retirePending', wipe: 'wipePending' } as const satisfies Record<'retire' | 'wipe', DeviceManagementState>;
const ISSUED_STATE = { retire: 'retireIssued', wipe: 'wipeIssued' } as const satisfies Record<'retire' | 'wipe', DeviceManagementState>;
const FAILED_STATE = { retire: 'retireFailed', wipe: 'wipeFailed' } as const satisfies Record<'retire' | 'wipe', DeviceManagementState>;
/** A retire or wipe already asked and not yet answered: a second one is a conflict. */
const PENDING_STATES: readonly DeviceManagementState[] = ['retirePending', 'wipePending'];

/**
 * Retire, wipe and syncDevice of MAM-enrolled devices (DeviceActionStore in roles.ts; migration 020), over
 * KyselyStore's database, write path (group commit on SQLite) and lifecycle, which exposes it as `deviceActions`.
 * A retire or wipe is one transaction: the enrollment's managementState moves to ...Pending by a compare-and-set (so
 * two admins racing get one action and one 409), the action row is inserted (a partial unique index refuses a
 * second pending one), and the device's management is marked unsettled (settled version -1), so its next check-in
 * plans instead of answering "nothing to do" — the steady check-in itself reads nothing more than before.
 */
export class KyselyDeviceActionStore implements DeviceActionStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'write' | 'track'>;

  constructor(db: Kysely<Database>, context: Pick<StoreContext, 'write' | 'track'>) {
    this.#db = db;
    this.#context = context;
  }

  requestDeviceAction(action: DeviceActionRecord): Promise<DeviceActionRequest> {
    return this.#context.track(() =>
      this.#context.write(async (trx): Promise<DeviceActionRequest> => {
        const enrollment = await trx
          .selectFrom('enrollments')
          .select(['id', 'state', 'management_state'])
          .where('id', '=', action.enrollmentId)
          .where('tenant_id', '=', action.tenantId)
          .executeTakeFirst();
        if (enrollment === undefined) return { kind: 'not_found' };
        if (enrollment.state !== 'enrolled') return { kind: 'not_enrolled', managementState: enrollment.management_state };
        if (action.action === 'syncDevice') {
          // One pending sync is enough: asking again before the device came is the same request.
          const waiting = await trx.selectFrom('device_actions').selectAll().where('enrollment_id', '=', action.enrollmentId).where('state', '=', PENDING).where('action', '=', 'syncDevice').executeTakeFirst();
          if (waiting !== undefined) return { kind: 'requested', action: deviceActionFromRow(waiting) };
          await trx.insertInto('device_actions').values(deviceActionToRow(action)).execute();
          // Re-plan everything and read the inventory again at the next check-in.
          await upsertManagementState(trx, action.enrollmentId, { settled_version: -1, inventory_at: null });
          return { kind: 'requested', action };
        }
        if (PENDING_STATES.includes(enrollment.management_state)) return { kind: 'already_pending', managementState: enrollment.management_state };
        const moved = await trx
          .updateTable('enrollments')
          .set({ management_state: PENDING_STATE[action.action], updated_at: action.requestedAt })
          .where('id', '=', action.enrollmentId)
          .where('state', '=', ACTIVE)
          .where('management_state', '=', enrollment.management_state)
          .executeTakeFirst();
        // Another request moved it between our read and this write (PostgreSQL read committed): it won.
        if (moved.numUpdatedRows === 0n) return { kind: 'already_pending', managementState: enrollment.management_state };
        await trx.insertInto('device_actions').values(deviceActionToRow(action)).execute();
        await upsertManagementState(trx, action.enrollmentId, { settled_version: -1 });
        return { kind: 'requested', action };
      }),
    );
  }

  pendingDeviceActions(enrollmentId: string): Promise<DeviceActionRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('device_actions')
        .selectAll()
        .where('enrollment_id', '=', enrollmentId)
        .where('state', '=', PENDING)
        .orderBy('requested_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(deviceActionFromRow);
    });
  }

  deviceActionsOf(tenantId: string, enrollmentIds: readonly string[]): Promise<Map<string, DeviceActionRecord[]>> {
    return this.#context.track(async () => {
      const ids = [...new Set(enrollmentIds)].sort(compareKeys);
      const byEnrollment = new Map<string, DeviceActionRecord[]>(ids.map((id) => [id, []]));
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        const rows = await this.#db
          .selectFrom('device_actions')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('enrollment_id', 'in', chunk)
          .orderBy('enrollment_id', 'asc')
          .orderBy('requested_at', 'desc')
          .orderBy('id', 'desc')
          .execute();
        for (const row of rows) byEnrollment.get(row.enrollment_id)!.push(deviceActionFromRow(row));
      }
      return byEnrollment;
    });
  }

  retireStaleEnrollments(tenantId: string, silentSince: number, now: number, limit: number, newId: () => string): Promise<string[]> {
    return this.#context.track(() =>
      this.#context.write(async (trx) => {
        // The device's last check-in, or its enrollment when it never checked in. A scan of the tenant's active
        // enrollments that stops at `limit` finds: hourly, off every request path (see the sweep, core/management/device-actions.ts).
        const rows = await trx
          .selectFrom('enrollments')
          .leftJoin('management_state', 'management_state.enrollment_id', 'enrollments.id')
          .select('enrollments.id')
          .where('enrollments.tenant_id', '=', tenantId)
          .where('enrollments.state', '=', ACTIVE)
          .where((eb) => eb(eb.fn.coalesce('management_state.last_checkin_at', 'enrollments.enrolled_at'), '<', silentSince))
          .orderBy('enrollments.id', 'asc')
          .limit(Math.max(0, Math.floor(limit)))
          .execute();
        const ids = rows.map((r) => r.id);
        if (ids.length === 0) return [];
        // Ended at once (the device may never come back to be told): the work account is free, its DevId has no
        // active enrollment any more (a later session is refused with SyncHdr 401). The retire stays pending.
        const ended = await trx
          .updateTable('enrollments')
          .set({ state: 'unenrolled', unenrolled_at: now, updated_at: now, unenroll_reason: 'stale', management_state: 'retirePending' })
          .where('id', 'in', ids)
          .where('state', '=', ACTIVE)
          .returning('id')
          .execute();
        const retired = ended.map((r) => r.id).sort(compareKeys);
        if (retired.length === 0) return [];
        // A pending retire or wipe an admin asked before is superseded by this one.
        await trx.updateTable('device_actions').set({ state: 'canceled', updated_at: now }).where('enrollment_id', 'in', retired).where('state', '=', PENDING).execute();
        for (const batch of batches(retired, 128)) {
          await trx
            .insertInto('device_actions')
            .values(batch.map((enrollmentId) => deviceActionToRow({ tenantId, id: newId(), enrollmentId, action: 'retire', state: 'pending', statusCode: null, reason: 'stale', requestedAt: now, updatedAt: now })))
            .execute();
        }
        return retired;
      }),
    );
  }
}

/**
 * The device-action part of `applySyncOutcome`, inside its transaction (called by KyselyStore): each answered action
 * is recorded (done or failed, with the device's code) and a retire or wipe moves the enrollment's managementState
 * from ...Pending to ...Issued or ...Failed. When the enrollment ends in this outcome whatever the reason (the device
 * acknowledged Unenroll, or the user removed the work account meanwhile: alert 1226), a retire or wipe still pending
 * is done too: the device is no longer managed.
 */
export async function applyDeviceActionResultsWithin(trx: Transaction<Database>, outcome: Pick<SyncOutcome, 'enrollmentId' | 'now' | 'deviceActions' | 'unenrolledAt'>): Promise<void> {
  const { enrollmentId, now } = outcome;
  for (const result of outcome.deviceActions ?? []) {
    const updated = await trx
      .updateTable('device_actions')
      .set({ state: result.state, status_code: result.statusCode, updated_at: now })
      .where('id', '=', result.id)
      .where('enrollment_id', '=', enrollmentId)
      .where('state', '=', PENDING)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n || result.action === 'syncDevice') continue;
    await moveManagementState(trx, enrollmentId, result, now);
  }
  if (outcome.unenrolledAt === undefined) return;
  const pending = await trx
    .updateTable('device_actions')
    .set({ state: 'done', updated_at: now })
    .where('enrollment_id', '=', enrollmentId)
    .where('state', '=', PENDING)
    .returning(['id', 'action'])
    .execute();
  for (const action of pending) {
    if (action.action !== 'syncDevice') await moveManagementState(trx, enrollmentId, { id: action.id, action: action.action, state: 'done', statusCode: null }, now);
  }
}

async function moveManagementState(trx: Transaction<Database>, enrollmentId: string, result: DeviceActionResult, now: number): Promise<void> {
  if (result.action === 'syncDevice') return;
  const next = result.state === 'done' ? ISSUED_STATE[result.action] : FAILED_STATE[result.action];
  await trx.updateTable('enrollments').set({ management_state: next, updated_at: now }).where('id', '=', enrollmentId).where('management_state', '=', PENDING_STATE[result.action]).execute();
}

/** A re-enrollment in place starts management over: what was pending is canceled (its managementState too, in enrollWithin). */
export async function cancelPendingDeviceActionsWithin(trx: Transaction<Database>, enrollmentId: string, now: number): Promise<void> {
  await trx.updateTable('device_actions').set({ state: 'canceled', updated_at: now }).where('enrollment_id', '=', enrollmentId).where('state', '=', PENDING).execute();
}

function deviceActionToRow(action: DeviceActionRecord): DeviceActionRow {
  return {
    tenant_id: action.tenantId,
    id: action.id,
    enrollment_id: action.enrollmentId,
    action: action.action,
    state: action.state,
    status_code: action.statusCode,
    reason: action.reason,
    requested_at: action.requestedAt,
    updated_at: action.updatedAt,
  };
}

function deviceActionFromRow(row: DeviceActionRow): DeviceActionRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    enrollmentId: row.enrollment_id,
    action: row.action,
    state: row.state,
    statusCode: row.status_code,
    reason: row.reason,
    requestedAt: Number(row.requested_at),
    updatedAt: Number(row.updated_at),
  };
}
