import type { CompiledQuery, Kysely, Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { InventoryValue, ManagementSessionRecord, ManagementState, MessageLogRecord, NodeStateRecord } from '../records.ts';
import { booleanFromColumn, booleanToColumn, compareKeys, lastByKey } from '../row-helpers.ts';
import type { ManagedDevice, ManagementStore, SyncOutcome } from '../roles.ts';
import { MAX_LIVE_SESSIONS_PER_DEVICE } from '../roles.ts';
import type { Database, InventoryTable, ManagementSessionsTable, MessageLogTable, NodeStatesTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { Undo } from '../versioned-write.ts';
import { applyDeviceActionResultsWithin } from './device-actions-store.ts';
import { writeHealthAttestationChange } from './health-attestation-store.ts';
import { ACTIVE, batches, enrollmentFromRow, managementStateDefaults, MAX_READ_BATCH, upsertManagementState } from './shared.ts';
import type { EnrollmentRow, ManagementStateChanges, ManagementStateRow } from './shared.ts';

type NodeStateRow = Selectable<NodeStatesTable>;
type InventoryRow = Selectable<InventoryTable>;
type SessionRow = Selectable<ManagementSessionsTable>;
type MessageLogRow = Omit<Selectable<MessageLogTable>, 'id'>;
/** An enrollment row with its tenant's configuration version and its management state (null columns: no row yet). */
type ManagedDeviceRow = EnrollmentRow & { config_version: number } & { [K in keyof ManagementStateChanges]-?: ManagementStateRow[K] | null };

/**
 * OMA-DM management of enrolled devices (ManagementStore): the check-in's first read, sessions, node states,
 * inventory, buffered check-in times and the message log. The hot path of every check-in is here: getManagedDevice
 * (one compiled statement through the committed reader), getSession and applySyncOutcome (one write transaction).
 */
export class KyselyManagementRepository implements ManagementStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'read'>;
  #managedDeviceQuery: CompiledQuery<ManagedDeviceRow> | undefined;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'read'>) {
    this.#db = context.db;
    this.#context = context;
  }

  /** The hot path of every check-in: see managedDeviceQuery. */
  getManagedDevice(devId: string): Promise<ManagedDevice | undefined> {
    return this.#context.track(async () => {
      this.#managedDeviceQuery ??= managedDeviceQuery(this.#db);
      const [row] = await this.#context.read(this.#managedDeviceQuery, [devId]);
      return row === undefined ? undefined : managedDeviceFromRow(row);
    });
  }

  getNodeStates(enrollmentId: string): Promise<NodeStateRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db.selectFrom('node_states').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('loc_uri', 'asc').execute();
      return rows.map(nodeStateFromRow);
    });
  }

  getNodeStatesOf(enrollmentIds: readonly string[]): Promise<Map<string, NodeStateRecord[]>> {
    return this.#context.track(async () => {
      const byEnrollment = new Map<string, NodeStateRecord[]>();
      const ids = [...new Set(enrollmentIds)].sort(compareKeys);
      for (const id of ids) byEnrollment.set(id, []);
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        const rows = await this.#db
          .selectFrom('node_states')
          .selectAll()
          .where('enrollment_id', 'in', chunk)
          .orderBy('enrollment_id', 'asc')
          .orderBy('loc_uri', 'asc')
          .execute();
        for (const row of rows) byEnrollment.get(row.enrollment_id)!.push(nodeStateFromRow(row));
      }
      return byEnrollment;
    });
  }

  getManagementStatesOf(enrollmentIds: readonly string[]): Promise<Map<string, ManagementState>> {
    return this.#context.track(async () => {
      const ids = [...new Set(enrollmentIds)].sort(compareKeys);
      const byEnrollment = new Map(ids.map((id) => [id, managementStateFromRow(managementStateDefaults(id))]));
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        const rows = await this.#db.selectFrom('management_state').selectAll().where('enrollment_id', 'in', chunk).execute();
        for (const row of rows) byEnrollment.set(row.enrollment_id, managementStateFromRow(row));
      }
      return byEnrollment;
    });
  }

  getSession(enrollmentId: string, sessionId: string, now: number): Promise<ManagementSessionRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db
        .selectFrom('management_sessions')
        .selectAll()
        .where('enrollment_id', '=', enrollmentId)
        .where('session_id', '=', sessionId)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row === undefined ? undefined : sessionFromRow(row);
    });
  }

  applySyncOutcome(outcome: SyncOutcome): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        await applySyncOutcomeWithin(trx, outcome);
        return true;
      }),
    );
  }

  recordCheckins(checkins: ReadonlyMap<string, number>): Promise<void> {
    return this.#context.track(async () => {
      if (checkins.size === 0) return;
      // Ordered by key: concurrent bulk writers lock rows in the same order (PostgreSQL), so they queue, not deadlock.
      const rows = [...checkins].sort(([a], [b]) => compareKeys(a, b)).map(([id, at]) => ({ ...managementStateDefaults(id), last_checkin_at: at }));
      await this.#context.write(async (trx) => {
        for (const batch of batches(rows)) {
          await trx
            .insertInto('management_state')
            .values(batch)
            .onConflict((oc) =>
              oc
                .column('enrollment_id')
                .doUpdateSet((eb) => ({ last_checkin_at: eb.ref('excluded.last_checkin_at') }))
                // Buffered check-ins may arrive late: an older time never replaces a newer one.
                .where((eb) =>
                  eb.or([
                    eb('management_state.last_checkin_at', 'is', null),
                    eb('management_state.last_checkin_at', '<', eb.ref('excluded.last_checkin_at')),
                  ]),
                ),
            )
            .execute();
        }
      });
    });
  }

  listInventory(enrollmentId: string): Promise<InventoryValue[]> {
    return this.#context.track(async () => {
      const rows = await this.#db.selectFrom('inventory').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('loc_uri', 'asc').execute();
      return rows.map(inventoryFromRow);
    });
  }

  setMessageLogUntil(enrollmentId: string, until: number | null): Promise<void> {
    // Through the write path, so that an audit event attached to it rides on this write.
    return this.#context.track(() => this.#context.write((trx) => upsertManagementState(trx, enrollmentId, { message_log_until: until })));
  }

  appendMessageLog(records: readonly MessageLogRecord[], keep: number, olderThan: number): Promise<void> {
    return this.#context.track(async () => {
      if (records.length === 0) return;
      const newest = Math.max(0, Math.floor(keep));
      const touched = [...new Set(records.map((r) => r.enrollmentId))].sort(compareKeys);
      await this.#context.write(async (trx) => {
        // In the given order: the database numbers them ascending, which orders records of the same `at`.
        for (const batch of batches(records)) await trx.insertInto('message_log').values(batch.map(messageLogToRow)).execute();
        for (const enrollmentId of touched) {
          await trx
            .deleteFrom('message_log')
            .where('enrollment_id', '=', enrollmentId)
            .where((eb) =>
              eb.or([
                eb('at', '<', olderThan),
                eb(
                  'id',
                  'not in',
                  eb
                    .selectFrom('message_log as kept')
                    .select('kept.id')
                    .where('kept.enrollment_id', '=', enrollmentId)
                    .orderBy('kept.at', 'desc')
                    .orderBy('kept.id', 'desc')
                    .limit(newest),
                ),
              ]),
            )
            .execute();
        }
      });
    });
  }

  listMessageLog(enrollmentId: string, limit: number): Promise<MessageLogRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('message_log')
        .select(['enrollment_id', 'at', 'direction', 'body'])
        .where('enrollment_id', '=', enrollmentId)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(0, Math.floor(limit)))
        .execute();
      return rows.map(messageLogFromRow);
    });
  }
}

/**
 * getManagedDevice's one statement: three primary-key lookups, the active enrollment through the partial index
 * enrollments_active_dev_id (hence ACTIVE), its tenant, and its management state if it has one yet. Compiled once
 * and run with the devId as its only parameter: building and compiling this query costs more than running it.
 */
function managedDeviceQuery(db: Kysely<Database>): CompiledQuery<ManagedDeviceRow> {
  const compiled = db
    .selectFrom('enrollments')
    .innerJoin('tenants', 'tenants.id', 'enrollments.tenant_id')
    .leftJoin('management_state', 'management_state.enrollment_id', 'enrollments.id')
    .selectAll('enrollments')
    .select([
      'tenants.config_version',
      'management_state.settled_version',
      'management_state.waiting_for_user',
      'management_state.inventory_at',
      'management_state.last_checkin_at',
      'management_state.message_log_until',
      'management_state.token_groups',
    ])
    .where('enrollments.dev_id', '=', '')
    .where('enrollments.state', '=', ACTIVE)
    .compile();
  if (compiled.parameters.length !== 1) throw new OpenMamError('internal', 'the managed device query must take the devId as its only parameter');
  return compiled;
}

/**
 * `applySyncOutcome` inside its transaction. The session goes first (after the enrollment row's lock, only when the
 * inventory bound is to be checked): when its compare-and-set fails, `Undo(false)` undoes the transaction before
 * anything else is written. Node states are upserted before forgotten ones are
 * deleted, so a node in both lists ends up forgotten.
 */
async function applySyncOutcomeWithin(trx: Transaction<Database>, outcome: SyncOutcome): Promise<void> {
  const { enrollmentId } = outcome;
  const limit = outcome.inventory.length > 0 ? outcome.inventoryLimit : undefined;
  if (limit !== undefined) {
    // A write that changes nothing but holds the enrollment row's lock until commit (PostgreSQL; SQLite has one
    // writer): two sessions of one device adding nodes count one after the other. Taken first, as an enrollment
    // takes its row before the management rows, so the two never wait for each other in opposite orders.
    await trx.updateTable('enrollments').set((eb) => ({ id: eb.ref('id') })).where('id', '=', enrollmentId).execute();
  }
  await saveSession(trx, outcome);

  for (const batch of batches(lastByKey(outcome.nodeStates, (n) => n.locUri))) {
    await trx
      .insertInto('node_states')
      .values(batch.map((n) => nodeStateToRow(enrollmentId, n)))
      .onConflict((oc) =>
        oc.columns(['enrollment_id', 'loc_uri']).doUpdateSet((eb) => ({
          format: eb.ref('excluded.format'),
          value: eb.ref('excluded.value'),
          status: eb.ref('excluded.status'),
          status_code: eb.ref('excluded.status_code'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  for (const batch of batches([...new Set(outcome.forgetNodes)].sort(compareKeys))) {
    await trx.deleteFrom('node_states').where('enrollment_id', '=', enrollmentId).where('loc_uri', 'in', batch).execute();
  }

  for (const batch of batches(lastByKey(outcome.inventory, (v) => v.locUri))) {
    await trx
      .insertInto('inventory')
      .values(batch.map((v) => inventoryToRow(enrollmentId, v)))
      .onConflict((oc) =>
        oc.columns(['enrollment_id', 'loc_uri']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }
  if (limit !== undefined) {
    const { count } = await trx.selectFrom('inventory').select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).where('enrollment_id', '=', enrollmentId).executeTakeFirstOrThrow();
    if (Number(count) > limit) throw new Undo(false);
  }

  const report = outcome.deviceReport;
  if (report !== undefined && Object.keys(report).length > 0) {
    await trx.updateTable('enrollments').set(report).where('id', '=', enrollmentId).execute();
  }

  // Linked once: only an enrollment without an Entra device id takes one (never re-linked, even by a racing message).
  if (outcome.entraDeviceLink !== undefined) {
    await trx.updateTable('enrollments').set({ entra_device_id: outcome.entraDeviceLink }).where('id', '=', enrollmentId).where('entra_device_id', 'is', null).execute();
  }

  const changes = managementStateChanges(outcome.management ?? {});
  if (Object.keys(changes).length > 0) await upsertManagementState(trx, enrollmentId, changes);

  if (outcome.healthAttestation !== undefined) await writeHealthAttestationChange(trx, enrollmentId, outcome.healthAttestation);

  for (const result of outcome.wipLogResults ?? []) {
    await trx
      .updateTable('wip_log_requests')
      .set({
        status: result.status,
        status_code: result.statusCode,
        logs: result.logs,
        entries: result.entries === null ? null : JSON.stringify(result.entries),
        completed_at: result.completedAt,
      })
      .where('id', '=', result.id)
      .where('enrollment_id', '=', enrollmentId)
      .execute();
  }

  if (outcome.deviceActions !== undefined || outcome.unenrolledAt !== undefined) await applyDeviceActionResultsWithin(trx, outcome);

  if (outcome.unenrolledAt !== undefined) {
    await trx
      .updateTable('enrollments')
      .set({ state: 'unenrolled', unenrolled_at: outcome.unenrolledAt, updated_at: outcome.unenrolledAt, unenroll_reason: outcome.unenrollReason ?? 'user' })
      .where('id', '=', enrollmentId)
      .where('state', '=', ACTIVE)
      .execute();
  }
}

/**
 * The session part of a SyncOutcome. A new session (expected null) is inserted, replacing only an expired row of
 * the same id; a continued one is a compare-and-set on last_device_msg_id. `Undo(false)` when neither wrote a row.
 */
async function saveSession(trx: Transaction<Database>, outcome: SyncOutcome): Promise<void> {
  const { session } = outcome;
  if (session.kind === 'none') return;
  if (session.kind === 'end') {
    // Compare-and-set like a continued session: of two nodes handed the same last message, one ends the session.
    const ended = await trx
      .deleteFrom('management_sessions')
      .where('enrollment_id', '=', outcome.enrollmentId)
      .where('session_id', '=', session.sessionId)
      .where('last_device_msg_id', '=', session.expectedLastDeviceMsgId)
      .executeTakeFirst();
    if (ended.numDeletedRows === 0n) throw new Undo(false);
    return;
  }
  const row = sessionToRow(session.record);
  const changes = {
    last_device_msg_id: row.last_device_msg_id,
    last_server_msg_id: row.last_server_msg_id,
    state: row.state,
    expires_at: row.expires_at,
  };
  if (session.expectedLastDeviceMsgId === null) {
    // Sessions a device abandoned mid-way are dropped when it starts a new one: at most the live ones are kept.
    await trx.deleteFrom('management_sessions').where('enrollment_id', '=', outcome.enrollmentId).where('expires_at', '<=', outcome.now).execute();
  }
  const saved =
    session.expectedLastDeviceMsgId === null
      ? await trx
          .insertInto('management_sessions')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['enrollment_id', 'session_id']).doUpdateSet(changes).where('management_sessions.expires_at', '<=', outcome.now),
          )
          .returning('session_id')
          .executeTakeFirst()
      : await trx
          .updateTable('management_sessions')
          .set(changes)
          .where('enrollment_id', '=', row.enrollment_id)
          .where('session_id', '=', row.session_id)
          .where('last_device_msg_id', '=', session.expectedLastDeviceMsgId)
          .returning('session_id')
          .executeTakeFirst();
  if (saved === undefined) throw new Undo(false);
  if (session.expectedLastDeviceMsgId === null) await evictOldSessions(trx, outcome.enrollmentId, row.session_id);
}

/**
 * A device keeps at most MAX_LIVE_SESSIONS_PER_DEVICE live sessions: a new one drops the oldest beyond (their next
 * message is answered 400 and the device starts over). Windows runs one session at a time; without the bound a
 * device opening sessions without end would keep a row for each until it expires. Read on the primary key's prefix.
 */
async function evictOldSessions(trx: Transaction<Database>, enrollmentId: string, kept: string): Promise<void> {
  const others = await trx
    .selectFrom('management_sessions')
    .select('session_id')
    .where('enrollment_id', '=', enrollmentId)
    .where('session_id', '<>', kept)
    .orderBy('expires_at', 'desc')
    .orderBy('session_id', 'desc')
    .execute();
  const evicted = others.slice(MAX_LIVE_SESSIONS_PER_DEVICE - 1).map((r) => r.session_id);
  if (evicted.length > 0) await trx.deleteFrom('management_sessions').where('enrollment_id', '=', enrollmentId).where('session_id', 'in', evicted).execute();
}

function tokenGroupsToColumn(groups: string[] | null): string | null {
  return groups === null ? null : JSON.stringify(groups);
}

function tokenGroupsFromColumn(column: string | null): string[] | null {
  return column === null ? null : (JSON.parse(column) as string[]);
}

function managementStateChanges(change: NonNullable<SyncOutcome['management']>): ManagementStateChanges {
  const columns: ManagementStateChanges = {};
  if (change.settledVersion !== undefined) columns.settled_version = change.settledVersion;
  if (change.waitingForUser !== undefined) columns.waiting_for_user = booleanToColumn(change.waitingForUser);
  if (change.inventoryAt !== undefined) columns.inventory_at = change.inventoryAt;
  if (change.lastCheckinAt !== undefined) columns.last_checkin_at = change.lastCheckinAt;
  if (change.tokenGroups !== undefined) columns.token_groups = tokenGroupsToColumn(change.tokenGroups);
  return columns;
}

function managementStateFromRow(row: ManagementStateRow): ManagementState {
  return {
    enrollmentId: row.enrollment_id,
    settledVersion: row.settled_version,
    waitingForUser: booleanFromColumn(row.waiting_for_user),
    inventoryAt: row.inventory_at,
    lastCheckinAt: row.last_checkin_at,
    messageLogUntil: row.message_log_until,
    tokenGroups: tokenGroupsFromColumn(row.token_groups),
  };
}

function managedDeviceFromRow(row: ManagedDeviceRow): ManagedDevice {
  const defaults = managementStateDefaults(row.id);
  const management: ManagementState = {
    enrollmentId: row.id,
    settledVersion: row.settled_version ?? defaults.settled_version,
    waitingForUser: booleanFromColumn(row.waiting_for_user ?? defaults.waiting_for_user),
    inventoryAt: row.inventory_at,
    lastCheckinAt: row.last_checkin_at,
    messageLogUntil: row.message_log_until,
    tokenGroups: tokenGroupsFromColumn(row.token_groups),
  };
  return { enrollment: enrollmentFromRow(row), management, configVersion: row.config_version };
}

function nodeStateToRow(enrollmentId: string, node: NodeStateRecord): NodeStateRow {
  return {
    enrollment_id: enrollmentId,
    loc_uri: node.locUri,
    format: node.format,
    value: node.value,
    status: node.status,
    status_code: node.statusCode,
    updated_at: node.updatedAt,
  };
}

function nodeStateFromRow(row: NodeStateRow): NodeStateRecord {
  return { locUri: row.loc_uri, format: row.format, value: row.value, status: row.status, statusCode: row.status_code, updatedAt: row.updated_at };
}

function inventoryToRow(enrollmentId: string, value: InventoryValue): InventoryRow {
  return { enrollment_id: enrollmentId, loc_uri: value.locUri, value: value.value, updated_at: value.updatedAt };
}

function inventoryFromRow(row: InventoryRow): InventoryValue {
  return { locUri: row.loc_uri, value: row.value, updatedAt: row.updated_at };
}

function sessionToRow(session: ManagementSessionRecord): SessionRow {
  return {
    enrollment_id: session.enrollmentId,
    session_id: session.sessionId,
    last_device_msg_id: session.lastDeviceMsgId,
    last_server_msg_id: session.lastServerMsgId,
    state: session.state,
    expires_at: session.expiresAt,
  };
}

function sessionFromRow(row: SessionRow): ManagementSessionRecord {
  return {
    enrollmentId: row.enrollment_id,
    sessionId: row.session_id,
    lastDeviceMsgId: row.last_device_msg_id,
    lastServerMsgId: row.last_server_msg_id,
    state: row.state,
    expiresAt: row.expires_at,
  };
}

/** Both drivers take a Buffer for a blob/bytea parameter; a view over the caller's bytes, not a copy. */
function messageLogToRow(record: MessageLogRecord): MessageLogRow {
  const { body } = record;
  return { enrollment_id: record.enrollmentId, at: record.at, direction: record.direction, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
}

/** Both drivers answer a Buffer; callers get a plain Uint8Array of their own. */
function messageLogFromRow(row: MessageLogRow): MessageLogRecord {
  return { enrollmentId: row.enrollment_id, at: row.at, direction: row.direction, body: new Uint8Array(row.body) };
}
