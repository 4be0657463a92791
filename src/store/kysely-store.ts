import { Migrator, sql } from 'kysely';
import type { CompiledQuery, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { jsonArrayFrom } from 'kysely/helpers/sqlite';
import { OpenMamError } from '../errors.ts';
import type { AppProtectionStore, SignInStore } from './app-protection-roles.ts';
import { kyselyAppProtectionStore } from './app-protection-store.ts';
import { KyselySignInStore } from './sign-in-store.ts';
import { KyselyActivityStore } from './activity-store.ts';
import { KyselyComplianceStore, requestRun as requestComplianceRun } from './compliance-store.ts';
import type { ComplianceStore } from './compliance-records.ts';
import { KyselyAssignmentFilterStore, requireAssignmentFilters } from './assignment-filter-store.ts';
import { applyDeviceActionResultsWithin, cancelPendingDeviceActionsWithin, KyselyDeviceActionStore } from './device-actions-store.ts';
import type { HealthAttestationStore } from './health-attestation-records.ts';
import { KyselyHealthAttestationStore, writeHealthAttestationChange } from './health-attestation-store.ts';
import { KyselyDevicePictureStore } from './device-picture-store.ts';
import { GroupCommit } from './group-commit.ts';
import { QueryTiming } from './query-timing.ts';
import type { AuditStore } from './audit-records.ts';
import { KyselyAuditStore } from './audit-store.ts';
import type { CollectionPage, CollectionQuery, CollectionSource } from './collection-query.ts';
import { queryCollection } from './collection-sql.ts';
import type { StoreContext } from './store-context.ts';
import * as collections from './collections.ts';
import { batches as batchesOf, booleanFromColumn, booleanToColumn, compareKeys, lastByKey } from './row-helpers.ts';
import { migrations } from './migrations/index.ts';
import type { SchemaDialect } from './migrations/index.ts';
import type {
  ConfigurationSetRecord,
  ConfigurationTarget,
  DesiredSetting,
  DeviceFacts,
  DeviceManagementState,
  DeviceRecord,
  EnrollmentRecord,
  EnrollmentState,
  GroupRecord,
  InventoryValue,
  ManagementSessionRecord,
  ManagementState,
  MessageLogRecord,
  NodeStateRecord,
  PolicyAssignment,
  PolicyKind,
  PolicyRecord,
  TenantRecord,
  TenantSettings,
  UserRecord,
  UserSighting,
  WipLogRequestRecord,
} from './records.ts';
import type { ActivityStore, AssignmentFilterStore, DeviceActionStore, DevicePictureStore, EnrollmentInput, EnrollOutcome, ManagedDevice, QueryObserver, SecretStore, Store, SyncOutcome, VersionedDelete, VersionedWrite } from './roles.ts';
import { MAX_LIVE_SESSIONS_PER_DEVICE, MAX_WIP_LOG_REQUESTS_PER_DEVICE } from './roles.ts';
import { recordUsersWithin } from './user-sightings.ts';
import { Undo, undoable, undoMissedDelete, policyToRow, writePolicyBody } from './versioned-write.ts';
import type { AppPolicyRecord, ManagedAppRef } from './app-protection-records.ts';
import type {
  ConfigurationSetsTable,
  Database,
  DeviceFactColumns,
  DevicesTable,
  EnrollmentsTable,
  GroupsTable,
  InventoryTable,
  ManagementSessionsTable,
  ManagementStateTable,
  MessageLogTable,
  NodeStatesTable,
  ManagedAppPoliciesView,
  PoliciesTable,
  WipLogRequestsTable,
  TenantsTable,
  UsersTable,
} from './schema.ts';

/**
 * Everything that differs between the databases, in one place. The queries below are the same for both; only these
 * answers change (see sqlite.ts and postgres.ts).
 */
export interface DialectAdapter extends SchemaDialect {
  readonly backend: Store['backend'];
  /** True when `err` is the database refusing a row for a UNIQUE or PRIMARY KEY constraint. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * True when `err` says the database cannot be reached right now (a lost or refused connection, a server shutting
   * down or starting, a lock held past its timeout), as opposed to a statement it refused: callers are told to try
   * later (OpenMamError `upstream_unavailable`), never given a 500.
   */
  isUnavailable(err: unknown): boolean;
  /** One writer (SQLite): concurrent write transactions share commits (group-commit.ts). */
  readonly groupCommit: boolean;
  /** The rows of a subquery as one JSON array column (Kysely's helper of the dialect; the two share a signature). */
  readonly jsonArrayFrom: typeof jsonArrayFrom;
  /**
   * PostgreSQL: the schema that holds the tables, when not the default. Kysely's migrator looks for its own tables
   * in every schema unless told which one, so a second installation in the same database would confuse it.
   */
  readonly schema?: string;
}

/**
 * How many times `enroll` starts over after losing a race (a concurrent enroll of the same device committed first,
 * or the active enrollment it was replacing got unenrolled meanwhile). Each retry reads what the winner wrote, so
 * one retry is enough in practice; the bound only guards against a livelock.
 */
const MAX_ENROLL_ATTEMPTS = 5;

/** Thrown inside the enroll transaction when the device's active enrollment is someone else's. Never leaves this module. */
class DeviceTaken extends Error {}

/** Thrown inside the enrollment transaction to roll it back: the user is at the bound of active enrollments. */
class UserLimit extends Error {
  constructor(readonly active: number) {
    super('the user is at the bound of active enrollments');
  }
}

type TenantRow = Selectable<TenantsTable>;
type EnrollmentRow = Selectable<EnrollmentsTable>;
type DeviceRow = Selectable<DevicesTable>;
type ConfigurationSetRow = Selectable<ConfigurationSetsTable>;
type ManagementStateRow = Selectable<ManagementStateTable>;
type NodeStateRow = Selectable<NodeStatesTable>;
type InventoryRow = Selectable<InventoryTable>;
type SessionRow = Selectable<ManagementSessionsTable>;
type MessageLogRow = Omit<Selectable<MessageLogTable>, 'id'>;
type GroupRow = Selectable<GroupsTable>;
type UserRow = Selectable<UsersTable>;
type PolicyRow = Selectable<PoliciesTable>;
/** target_groups, parsed. */
type GroupTargetColumn = Omit<Extract<ConfigurationTarget, { kind: 'groups' }>, 'kind'>;
/** Management state columns to write; the key is never among them. */
type ManagementStateChanges = Partial<Omit<ManagementStateRow, 'enrollment_id'>>;
/** An enrollment row with its tenant's configuration version and its management state (null columns: no row yet). */
type ManagedDeviceRow = EnrollmentRow & { config_version: number } & { [K in keyof ManagementStateChanges]-?: ManagementStateRow[K] | null };

/**
 * Runs the hot paths' single-statement reads (a check-in's first query) outside Kysely's connection queue. SQLite:
 * a second, read-only connection to the same file, which in WAL mode sees exactly what has been committed and never
 * waits for the writer; Kysely would queue the read behind its one connection's mutex (and inside an open group
 * commit, where it could see writes that are then rolled back). Absent (PostgreSQL, an in-memory SQLite database):
 * reads go through Kysely.
 */
export interface CommittedReader {
  all<Row>(query: CompiledQuery<Row>, parameters: readonly unknown[]): Row[];
  close(): void;
}

/** The one Store implementation, over SQLite or PostgreSQL. */
export class KyselyStore implements Store, SecretStore {
  readonly backend: Store['backend'];
  /** Same database, same write path (group commit) and same lifecycle (close() waits for its work too). */
  readonly appProtection: AppProtectionStore;
  /** The sign-in log; same database, write path and lifecycle. */
  readonly signIns: SignInStore;
  /** Per-tenant hourly activity; same database, write path and lifecycle. */
  readonly activity: ActivityStore;
  /** Device compliance (migration 021); same database, write path and lifecycle. */
  readonly compliance: ComplianceStore;
  /** Assignment filters; same database, write path and lifecycle. */
  readonly assignmentFilters: AssignmentFilterStore;
  /** Retire, wipe and syncDevice; same database, write path and lifecycle. */
  readonly deviceActions: DeviceActionStore;
  /** Health attestation per enrollment (migration 022); same database, write path and lifecycle. */
  readonly healthAttestation: HealthAttestationStore;
  /** The reads of the admin API's device picture, a page at a time; same database and lifecycle. */
  readonly devicePicture: DevicePictureStore;
  /** The audit trail (migration 026); its events ride on the changes' own transactions (see #write). */
  readonly audit: AuditStore;
  readonly #audit: KyselyAuditStore;
  readonly #db: Kysely<Database>;
  readonly #dialect: DialectAdapter;
  /** Tracked work still running; close() waits for it to reach 0 (a count: a Set of promises churned memory per read). */
  #running = 0;
  #whenIdle: (() => void) | undefined;
  readonly #groupCommit: GroupCommit | undefined;
  readonly #reader: CommittedReader | undefined;
  /** The `log` of `db` (query-timing.ts): each query's kind and duration, for whoever observes. */
  readonly #timing: QueryTiming;
  #managedDeviceQuery: CompiledQuery<ManagedDeviceRow> | undefined;
  #closing: Promise<void> | undefined;

  constructor(db: Kysely<Database>, dialect: DialectAdapter, reader?: CommittedReader, timing: QueryTiming = new QueryTiming()) {
    this.#db = db;
    this.#dialect = dialect;
    this.#reader = reader;
    this.#timing = timing;
    this.backend = dialect.backend;
    this.#groupCommit = dialect.groupCommit ? new GroupCommit(db) : undefined;
    this.#audit = new KyselyAuditStore({
      db,
      write: (work) => this.#transaction(work),
      track: (work) => this.#track(work),
      queryCollection: (source, tenantId, query) => this.queryCollection(source, tenantId, query),
    });
    this.audit = this.#audit;
    const context: StoreContext = {
      db,
      jsonArrayFrom: dialect.jsonArrayFrom,
      isUniqueViolation: (err) => dialect.isUniqueViolation(err),
      write: (work) => this.#write(work),
      undoable: (work) => this.#undoable(work),
      track: (work) => this.#track(work),
      read: (query, parameters) => this.#read(query, parameters),
      queryCollection: (source, tenantId, query) => this.queryCollection(source, tenantId, query),
    };
    this.appProtection = kyselyAppProtectionStore(context);
    this.signIns = new KyselySignInStore(db, context);
    this.devicePicture = new KyselyDevicePictureStore(db, context);
    this.activity = new KyselyActivityStore(context);
    this.compliance = new KyselyComplianceStore(context);
    this.assignmentFilters = new KyselyAssignmentFilterStore(db, context);
    this.deviceActions = new KyselyDeviceActionStore(db, context);
    this.healthAttestation = new KyselyHealthAttestationStore(context);
  }

  /** A compiled single-statement read of committed data: see CommittedReader. */
  async #read<Row>(query: CompiledQuery<Row>, parameters: readonly unknown[]): Promise<Row[]> {
    const reader = this.#reader;
    if (reader) {
      // Timed here, not through a callback: this is every steady check-in's one read on SQLite.
      if (!this.#timing.observed) return reader.all(query, parameters);
      const startedAt = performance.now();
      let rows: Row[];
      try {
        rows = reader.all(query, parameters);
      } catch (error) {
        this.#timing.record(query, startedAt, true);
        throw error;
      }
      this.#timing.record(query, startedAt, false);
      return rows;
    }
    return (await this.#db.executeQuery<Row>({ ...query, parameters })).rows;
  }

  /**
   * The single write path of every sub-store: a write transaction, carrying the audit event attached by
   * `audit.attach` when there is one (inserted after `work` succeeded, in the same transaction: audit-store.ts).
   */
  #write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#audit.carry(work);
  }

  /** A write transaction: batched with concurrent ones where the database has a single writer. */
  #transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#groupCommit ? this.#groupCommit.run(work) : this.#db.transaction().execute(work);
  }

  /**
   * A write transaction that `work` may undo by throwing `Undo(outcome)` (versioned-write.ts): only this unit is
   * rolled back, under group commit too, and the outcome is answered (a failed compare-and-set, a row not there).
   */
  #undoable<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return undoable<T>((unit) => this.#write(unit), work);
  }

  // ---- TenantStore

  getTenant(id: string): Promise<TenantRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : tenantFromRow(row);
    });
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('tenants').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(tenantFromRow);
    });
  }

  createTenant(tenant: TenantRecord): Promise<void> {
    return this.#track(async () => {
      try {
        await this.#db.insertInto('tenants').values(tenantToRow(tenant)).execute();
      } catch (err) {
        if (this.#dialect.isUniqueViolation(err)) {
          throw new OpenMamError('conflict', `tenant ${tenant.id} already exists`, { cause: err });
        }
        throw err;
      }
    });
  }

  updateTenant(tenant: TenantRecord, set?: ConfigurationSetRecord, options: { complianceRun?: boolean } = {}): Promise<VersionedWrite> {
    return this.#track(async () => {
      if (set !== undefined && set.tenantId !== tenant.id) throw new OpenMamError('internal', `tenant ${tenant.id} must be saved with a set of its own, got ${set.tenantId}'s`);
      return this.#write(async (trx): Promise<VersionedWrite> => {
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

  // ---- EnrollmentStore

  enroll(input: EnrollmentInput, now: number, displayName: string | null = null, maxActivePerUser?: number): Promise<EnrollOutcome> {
    return this.#track(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#write((trx) => enrollWithin(trx, input, now, displayName, maxActivePerUser));
        } catch (err) {
          if (err instanceof UserLimit) return { kind: 'user_limit', active: err.active };
          if (err instanceof DeviceTaken) {
            // Nothing was written. Answer from the enrollment that holds the device, unless it went away meanwhile.
            const holder = await activeEnrollmentRow(this.#db, input.devId);
            if (holder !== undefined && (holder.tenant_id !== input.tenantId || holder.user_oid !== input.userOid)) {
              return { kind: 'device_taken', existing: enrollmentFromRow(holder) };
            }
          } else if (!this.#dialect.isUniqueViolation(err)) {
            throw err;
          }
          if (attempt >= MAX_ENROLL_ATTEMPTS) {
            throw new OpenMamError('internal', `could not record the enrollment of device ${input.devId} after ${attempt} attempts`, { cause: err });
          }
          // The device changed hands between our statements: the next attempt sees the new state.
        }
      }
    });
  }

  getEnrollment(id: string): Promise<EnrollmentRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : enrollmentFromRow(row);
    });
  }

  getActiveEnrollmentByDevId(devId: string): Promise<EnrollmentRecord | undefined> {
    return this.#track(async () => {
      const row = await activeEnrollmentRow(this.#db, devId);
      return row === undefined ? undefined : enrollmentFromRow(row);
    });
  }

  listEnrollments(tenantId: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]> {
    return this.#track(async () => {
      const limit = Math.max(0, Math.floor(options.limit));
      let query = this.#db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId);
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      const rows = await query.orderBy('enrolled_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(enrollmentFromRow);
    });
  }

  async queryManagedDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>> {
    const page = await this.queryCollection<EnrollmentRow>(collections.MANAGED_DEVICES, tenantId, query);
    return { ...page, rows: page.rows.map(enrollmentFromRow) };
  }

  async queryRetiredDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>> {
    const page = await this.queryCollection<EnrollmentRow>(collections.RETIRED_DEVICES, tenantId, query);
    return { ...page, rows: page.rows.map(enrollmentFromRow) };
  }

  listEnrollmentsOfUser(tenantId: string, userOid: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]> {
    return this.#track(async () => {
      let query = this.#db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId).where('user_oid', '=', userOid);
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      const rows = await query.orderBy('enrolled_at', 'desc').orderBy('id', 'desc').limit(Math.max(0, Math.floor(options.limit))).execute();
      return rows.map(enrollmentFromRow);
    });
  }

  markUnenrolled(id: string, now: number): Promise<boolean> {
    return this.#track(async () => {
      const result = await this.#db
        .updateTable('enrollments')
        .set({ state: 'unenrolled', unenrolled_at: now, updated_at: now, unenroll_reason: 'user' })
        .where('id', '=', id)
        .where('state', '=', ACTIVE)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  // ---- DeviceStore

  getDevice(devId: string): Promise<DeviceRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('devices').selectAll().where('dev_id', '=', devId).executeTakeFirst();
      return row === undefined ? undefined : deviceFromRow(row);
    });
  }

  // ---- ConfigurationStore

  putConfigurationSet(set: ConfigurationSetRecord): Promise<number> {
    return this.#track(() =>
      this.#write(async (trx) => {
        // The tenant row first, in every writer of configuration sets: concurrent changes queue on it, never deadlock.
        const version = await bumpConfigVersion(trx, set.tenantId);
        if (version === undefined) throw new OpenMamError('not_found', `tenant ${set.tenantId} does not exist`);
        await upsertConfigurationSet(trx, set);
        return version;
      }),
    );
  }

  /** The store keeps no tombstone, so it has no use for the interface's `now`. */
  deleteConfigurationSet(tenantId: string, id: string): Promise<boolean> {
    return this.#track(() =>
      this.#undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        const deleted = await trx.deleteFrom('configuration_sets').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  getConfigurationSet(tenantId: string, id: string): Promise<ConfigurationSetRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('configuration_sets').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : configurationSetFromRow(row);
    });
  }

  /** Every group-targeted set of the tenant comes back: which apply depends on the user's groups (the caller's job). */
  configurationSetsFor(tenantId: string, devId: string): Promise<ConfigurationSetRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('configuration_sets')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where((eb) =>
          eb.or([
            eb('target_kind', '=', ALL_DEVICES),
            eb('target_kind', '=', GROUPS),
            eb.and([eb('target_kind', '=', ONE_DEVICE), eb('target_dev_id', '=', devId)]),
          ]),
        )
        .orderBy('id', 'asc')
        .execute();
      return rows.map(configurationSetFromRow);
    });
  }

  getConfigurationVersion(tenantId: string): Promise<number> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('tenants').select('config_version').where('id', '=', tenantId).executeTakeFirst();
      return row?.config_version ?? 0;
    });
  }

  // ---- ManagementStore

  /** The hot path of every check-in: see managedDeviceQuery. */
  getManagedDevice(devId: string): Promise<ManagedDevice | undefined> {
    return this.#track(async () => {
      this.#managedDeviceQuery ??= managedDeviceQuery(this.#db);
      const [row] = await this.#read(this.#managedDeviceQuery, [devId]);
      return row === undefined ? undefined : managedDeviceFromRow(row);
    });
  }

  getNodeStates(enrollmentId: string): Promise<NodeStateRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('node_states').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('loc_uri', 'asc').execute();
      return rows.map(nodeStateFromRow);
    });
  }

  getNodeStatesOf(enrollmentIds: readonly string[]): Promise<Map<string, NodeStateRecord[]>> {
    return this.#track(async () => {
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
    return this.#track(async () => {
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
    return this.#track(async () => {
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
    return this.#track(() =>
      this.#undoable<boolean>(async (trx) => {
        await applySyncOutcomeWithin(trx, outcome);
        return true;
      }),
    );
  }

  recordCheckins(checkins: ReadonlyMap<string, number>): Promise<void> {
    return this.#track(async () => {
      if (checkins.size === 0) return;
      // Ordered by key: concurrent bulk writers lock rows in the same order (PostgreSQL), so they queue, not deadlock.
      const rows = [...checkins].sort(([a], [b]) => compareKeys(a, b)).map(([id, at]) => ({ ...managementStateDefaults(id), last_checkin_at: at }));
      await this.#write(async (trx) => {
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
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('inventory').selectAll().where('enrollment_id', '=', enrollmentId).orderBy('loc_uri', 'asc').execute();
      return rows.map(inventoryFromRow);
    });
  }

  setMessageLogUntil(enrollmentId: string, until: number | null): Promise<void> {
    // Through the write path, so that an audit event attached to it rides on this write.
    return this.#track(() => this.#write((trx) => upsertManagementState(trx, enrollmentId, { message_log_until: until })));
  }

  appendMessageLog(records: readonly MessageLogRecord[], keep: number, olderThan: number): Promise<void> {
    return this.#track(async () => {
      if (records.length === 0) return;
      const newest = Math.max(0, Math.floor(keep));
      const touched = [...new Set(records.map((r) => r.enrollmentId))].sort(compareKeys);
      await this.#write(async (trx) => {
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
    return this.#track(async () => {
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

  // ---- GroupStore
  // Every writer of memberships takes the tenant row first (the version bump), like the configuration set writers:
  // concurrent changes of one tenant queue on it, never deadlock. A write that turns out to change nothing is undone.

  /** Creating a group changes no device's targeting: no bump. `not_found` when the tenant does not exist. */
  createGroup(group: GroupRecord): Promise<void> {
    return this.#track(async () => {
      try {
        // Through the write path, so that an audit event attached to it rides on this insert.
        await this.#write((trx) => trx.insertInto('groups').values(groupToRow(group)).execute());
      } catch (err) {
        if (this.#dialect.isUniqueViolation(err)) {
          throw new OpenMamError('conflict', `group ${group.id} already exists`, { cause: err });
        }
        if ((await this.getTenant(group.tenantId)) === undefined) {
          throw new OpenMamError('not_found', `tenant ${group.tenantId} does not exist`, { cause: err });
        }
        throw err;
      }
    });
  }

  getGroup(tenantId: string, id: string): Promise<GroupRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : groupFromRow(row);
    });
  }

  /** One page of a collection of the admin API: see collection-sql.ts. */
  queryCollection<Row>(source: CollectionSource, tenantId: string, query: CollectionQuery): Promise<CollectionPage<Row>> {
    return this.#track(() => queryCollection<Row>(this.#db as Kysely<unknown>, this.backend, source, tenantId, query));
  }

  async queryGroups(tenantId: string, query: CollectionQuery): Promise<CollectionPage<GroupRecord>> {
    const page = await this.queryCollection<GroupRow>(collections.GROUPS, tenantId, query);
    return { ...page, rows: page.rows.map(groupFromRow) };
  }

  listGroups(tenantId: string): Promise<GroupRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('groups')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('display_name', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(groupFromRow);
    });
  }

  updateGroup(tenantId: string, id: string, change: Partial<Pick<GroupRecord, 'displayName' | 'description' | 'mailNickname'>>): Promise<GroupRecord | undefined> {
    return this.#track(async () => {
      const set = {
        ...(change.displayName === undefined ? {} : { display_name: change.displayName }),
        ...(change.description === undefined ? {} : { description: change.description }),
        ...(change.mailNickname === undefined ? {} : { mail_nickname: change.mailNickname }),
      };
      if (Object.keys(set).length > 0) {
        const found = await this.#undoable<boolean>(async (trx) => {
          const updated = await trx.updateTable('groups').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
          // No such group: undone, so that nothing (an attached audit event) is written for it.
          if (updated.numUpdatedRows === 0n) throw new Undo(false);
          return true;
        });
        if (!found) return undefined;
      }
      return this.getGroup(tenantId, id);
    });
  }

  deleteGroup(tenantId: string, id: string): Promise<boolean> {
    return this.#track(() =>
      this.#undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        await trx.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('group_id', '=', id).execute();
        const deleted = await trx.deleteFrom('groups').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  addGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    return this.#track(() =>
      this.#undoable<boolean>(async (trx) => {
        const unknownGroup = (): OpenMamError => new OpenMamError('not_found', `group ${groupId} does not exist`);
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) throw unknownGroup();
        const group = await trx.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', groupId).executeTakeFirst();
        if (group === undefined) throw unknownGroup(); // undoes the bump
        const added = await trx
          .insertInto('group_members')
          .values({ tenant_id: tenantId, group_id: groupId, member_id: memberId })
          .onConflict((oc) => oc.columns(['tenant_id', 'group_id', 'member_id']).doNothing())
          .returning('member_id')
          .executeTakeFirst();
        if (added === undefined) throw new Undo(false); // already a member: undoes the bump
        // A reference proves the id only (no claims, no time).
        await recordUsersWithin(trx, [{ tenantId, id: memberId, userPrincipalName: null, displayName: null, at: null }]);
        return true;
      }),
    );
  }

  removeGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    return this.#track(() =>
      this.#undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        const removed = await trx
          .deleteFrom('group_members')
          .where('tenant_id', '=', tenantId)
          .where('group_id', '=', groupId)
          .where('member_id', '=', memberId)
          .executeTakeFirst();
        if (removed.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  listGroupMembers(tenantId: string, groupId: string): Promise<string[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .select('member_id')
        .where('tenant_id', '=', tenantId)
        .where('group_id', '=', groupId)
        .orderBy('member_id', 'asc')
        .execute();
      return rows.map((r) => r.member_id);
    });
  }

  groupsOfMember(tenantId: string, memberId: string): Promise<string[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .select('group_id')
        .where('tenant_id', '=', tenantId)
        .where('member_id', '=', memberId)
        .orderBy('group_id', 'asc')
        .execute();
      return rows.map((r) => r.group_id);
    });
  }

  listGroupsOfMember(tenantId: string, memberId: string): Promise<GroupRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .innerJoin('groups', (join) => join.onRef('groups.tenant_id', '=', 'group_members.tenant_id').onRef('groups.id', '=', 'group_members.group_id'))
        .selectAll('groups')
        .where('group_members.tenant_id', '=', tenantId)
        .where('group_members.member_id', '=', memberId)
        .orderBy('groups.display_name', 'asc')
        .orderBy('groups.id', 'asc')
        .execute();
      return rows.map(groupFromRow);
    });
  }

  // ---- UserStore

  async queryUsers(tenantId: string, query: CollectionQuery): Promise<CollectionPage<UserRecord>> {
    const page = await this.queryCollection<UserRow>(collections.USERS, tenantId, query);
    return { ...page, rows: page.rows.map(userFromRow) };
  }

  getUser(tenantId: string, id: string): Promise<UserRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : userFromRow(row);
    });
  }

  getUserByPrincipalName(tenantId: string, userPrincipalName: string): Promise<UserRecord | undefined> {
    return this.#track(async () => {
      // lower() on both sides, as the index users_principal_name is built.
      const row = await this.#db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where((eb) => eb(eb.fn('lower', ['user_principal_name']), '=', eb.fn('lower', [eb.val(userPrincipalName)])))
        .orderBy(sql`coalesce(last_seen_at, 0)`, 'desc')
        .orderBy('id', 'asc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : userFromRow(row);
    });
  }

  recordUsers(sightings: readonly UserSighting[]): Promise<void> {
    return this.#track(async () => {
      if (sightings.length > 0) await this.#write((trx) => recordUsersWithin(trx, sightings));
    });
  }

  groupsOfMembers(tenantId: string, memberIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.#track(async () => {
      const members = [...new Set(memberIds)].sort(compareKeys);
      const byMember = new Map(members.map((id) => [id, [] as string[]]));
      for (const chunk of batches(members, MAX_READ_BATCH)) {
        const rows = await this.#db
          .selectFrom('group_members')
          .select(['member_id', 'group_id'])
          .where('tenant_id', '=', tenantId)
          .where('member_id', 'in', chunk)
          .orderBy('member_id', 'asc')
          .orderBy('group_id', 'asc')
          .execute();
        for (const row of rows) byMember.get(row.member_id)!.push(row.group_id);
      }
      return byMember;
    });
  }

  // ---- PolicyStore
  // Admin writes are compare-and-sets on the policy's version (versioned-write.ts): a lost update is impossible, and
  // a policy deleted meanwhile is never re-created with its configuration set. The tenant row first (the bump), then
  // the policy, then its set, in every writer.

  /** A plain insert: `conflict` when the id exists, `not_found` when the tenant does not; nothing written then. */
  createPolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<number> {
    return this.#track(async () => {
      requireOwnSet(policy, set);
      try {
        return await this.#write(async (trx) => {
          const version = await bumpConfigVersion(trx, policy.tenantId);
          if (version === undefined) throw new OpenMamError('not_found', `tenant ${policy.tenantId} does not exist`);
          await trx.insertInto('policies').values(policyToRow(policy)).execute();
          await upsertConfigurationSet(trx, set);
          return version;
        });
      } catch (err) {
        if (this.#dialect.isUniqueViolation(err)) throw new OpenMamError('conflict', `policy ${policy.id} already exists`, { cause: err });
        throw err;
      }
    });
  }

  updatePolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<VersionedWrite> {
    return this.#track(async () => {
      requireOwnSet(policy, set);
      return this.#undoable<VersionedWrite>(async (trx) => {
        if ((await bumpConfigVersion(trx, policy.tenantId)) === undefined) return { kind: 'not_found' };
        await requireAssignmentFilters(trx, policy.tenantId, policy.assignments);
        const version = await writePolicyBody(trx, 'policies', policyToRow(policy), policy.version);
        await upsertConfigurationSet(trx, set);
        return { kind: 'saved', version };
      });
    });
  }

  getPolicy(tenantId: string, id: string): Promise<PolicyRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : policyFromRow(row);
    });
  }

  async queryPolicies(tenantId: string, kinds: readonly PolicyKind[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord>> {
    const page = await this.queryCollection<PolicyRow>(collections.ofKinds(collections.POLICIES, kinds), tenantId, query);
    return { ...page, rows: page.rows.map(policyFromRow) };
  }

  async queryManagedAppPolicies(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord | AppPolicyRecord>> {
    const page = await this.queryCollection<Selectable<ManagedAppPoliciesView>>(collections.ofKinds(collections.MANAGED_APP_POLICIES, kinds), tenantId, query);
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
    return this.#track(async () => {
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
    return this.#track(() =>
      this.#undoable<VersionedDelete>(async (trx) => {
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

  // ---- SecretStore

  getOrCreateSecret(name: string, candidate: Uint8Array): Promise<Uint8Array> {
    return this.#track(async () => {
      // Whoever inserts first wins; everyone (the winner included) then reads what was stored.
      await this.#db
        .insertInto('secrets')
        .values({ name, value: Buffer.from(candidate).toString('base64'), created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await this.#db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return new Uint8Array(Buffer.from(row.value, 'base64'));
    });
  }

  deleteSecretsOlderThan(prefix: string, ageMs: number, limit: number): Promise<number> {
    return this.#track(async () => {
      // LIKE, not a name range: PostgreSQL's collation may order punctuation unlike the bytes. Our prefixes are ours.
      if (/[%_\\]/.test(prefix)) throw new OpenMamError('internal', `a secret prefix may not hold LIKE wildcards: ${prefix}`);
      const names = this.#db.selectFrom('secrets').select('name').where('name', 'like', `${prefix}%`).where('created_at', '<', Date.now() - ageMs).limit(limit);
      const result = await this.#write((trx) => trx.deleteFrom('secrets').where('name', 'in', names).executeTakeFirst());
      return Number(result.numDeletedRows);
    });
  }

  // ---- lifecycle

  migrate(): Promise<void> {
    return this.#track(async () => {
      const migrator = new Migrator({
        db: this.#db,
        provider: { getMigrations: () => Promise.resolve({ ...migrations(this.#dialect) }) },
        ...(this.#dialect.schema === undefined ? {} : { migrationTableSchema: this.#dialect.schema }),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error !== undefined) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        const what = failed === undefined ? 'database migration' : `database migration ${failed}`;
        throw new OpenMamError('internal', `${what} failed`, { cause: error });
      }
    });
  }

  // ---- WipLogStore

  requestWipLogs(request: WipLogRequestRecord): Promise<void> {
    return this.#track(() =>
      this.#write(async (trx) => {
        const enrollment = await trx.selectFrom('enrollments').select('id').where('id', '=', request.enrollmentId).where('tenant_id', '=', request.tenantId).executeTakeFirst();
        if (enrollment === undefined) throw new OpenMamError('not_found', `enrollment ${request.enrollmentId} does not exist`);
        await trx.insertInto('wip_log_requests').values(wipLogRequestToRow(request)).execute();
        // The newest MAX_WIP_LOG_REQUESTS_PER_DEVICE stay; older ones go, a bounded number per write.
        const older = await trx
          .selectFrom('wip_log_requests')
          .select('id')
          .where('enrollment_id', '=', request.enrollmentId)
          .orderBy('requested_at', 'desc')
          .orderBy('id', 'desc')
          .offset(MAX_WIP_LOG_REQUESTS_PER_DEVICE)
          .limit(1024)
          .execute();
        if (older.length > 0) await trx.deleteFrom('wip_log_requests').where('id', 'in', older.map((r) => r.id)).execute();
        // Unsettled: the device's next check-in plans the retrieval instead of answering "nothing to do".
        await upsertManagementState(trx, request.enrollmentId, { settled_version: -1 });
      }),
    );
  }

  pendingWipLogRequests(enrollmentId: string): Promise<WipLogRequestRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('wip_log_requests')
        .selectAll()
        .where('enrollment_id', '=', enrollmentId)
        .where('status', '=', sql.lit<WipLogRequestRecord['status']>('pending'))
        .orderBy('requested_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(wipLogRequestFromRow);
    });
  }

  listWipLogRequests(tenantId: string, enrollmentId: string, limit: number): Promise<WipLogRequestRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('wip_log_requests')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('enrollment_id', '=', enrollmentId)
        .orderBy('requested_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(0, Math.floor(limit)))
        .execute();
      return rows.map(wipLogRequestFromRow);
    });
  }

  ping(): Promise<void> {
    return this.#track(async () => {
      await sql`select 1`.execute(this.#db);
    });
  }

  observeQueries(observer: QueryObserver | undefined): void {
    this.#timing.observe(observer);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#running > 0) await new Promise<void>((resolve) => (this.#whenIdle = resolve));
      this.#reader?.close();
      await this.#db.destroy();
    })();
    return this.#closing;
  }

  /** Runs `work` unless the store is closing, and counts it until it settles so `close()` can wait for it. */
  #track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new OpenMamError('internal', 'the store is closed'));
    const running = work().catch(this.#unavailable);
    this.#running++;
    running.then(this.#settled, this.#settled);
    return running;
  }

  /** Every store call's failure passes here: an unreachable database becomes `upstream_unavailable` (see DialectAdapter). */
  readonly #unavailable = (error: unknown): never => {
    if (this.#dialect.isUnavailable(error)) throw new OpenMamError('upstream_unavailable', 'the database is unavailable', { cause: error });
    throw error;
  };

  readonly #settled = (): void => {
    if (--this.#running === 0) this.#whenIdle?.();
  };
}

/**
 * One attempt of `enroll`, inside its transaction, in two statements: upsert the device, then insert the enrollment
 * or, when the device already has an active one of the same tenant and user, update that one in place (an upsert on
 * the partial unique index enrollments_active_dev_id). No row back means the active enrollment belongs to someone
 * else: `DeviceTaken` rolls the device upsert back. A unique violation means a concurrent writer won: start over.
 */
async function enrollWithin(trx: Transaction<Database>, input: EnrollmentInput, now: number, displayName: string | null, maxActivePerUser?: number): Promise<EnrollOutcome> {
  if (maxActivePerUser !== undefined) {
    // The user's row first (its upsert holds the row's lock until commit on PostgreSQL; SQLite has one writer): two
    // enrollments of one user count one after the other. Then the user's active enrollments on other devices.
    await recordUsersWithin(trx, [{ tenantId: input.tenantId, id: input.userOid, userPrincipalName: input.upn, displayName, at: now }]);
    const { n } = await trx
      .selectFrom('enrollments')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('tenant_id', '=', input.tenantId)
      .where('user_oid', '=', input.userOid)
      .where('state', '=', ACTIVE)
      .where('dev_id', '<>', input.devId)
      .executeTakeFirstOrThrow();
    if (Number(n) >= maxActivePerUser) throw new UserLimit(Number(n));
  }
  await upsertDevice(trx, input, now);
  const row = await trx
    .insertInto('enrollments')
    .values({ id: input.id, ...enrollmentInputColumns(input), state: 'enrolled', enroll_count: 1, created_at: now, enrolled_at: now, updated_at: now, unenrolled_at: null })
    .onConflict((oc) =>
      oc
        .column('dev_id')
        .where('state', '=', ACTIVE)
        .doUpdateSet((eb) => ({
          ...enrollmentInputColumns(input),
          enroll_count: eb(eb.ref('enrollments.enroll_count'), '+', 1),
          enrolled_at: now,
          updated_at: now,
          // Management starts over (forgetManagement): a retire or wipe not yet told is canceled, compliance unknown
          // until the device reports again.
          management_state: sql<DeviceManagementState>`case ${sql.ref('enrollments.management_state')} when 'retirePending' then 'retireCanceled' when 'wipePending' then 'wipeCanceled' else 'managed' end`,
          compliance_state: 'unknown',
          compliance_grace_until: null,
          compliance_lapsed: 0,
        }))
        .where('enrollments.tenant_id', '=', input.tenantId)
        .where('enrollments.user_oid', '=', input.userOid),
    )
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new DeviceTaken();
  // A device enrolled again starts its noncompliance anew: no retire action (migration 025) carried over.
  if (Number(row.enroll_count) > 1) await trx.updateTable('compliance_states').set({ noncompliant_since: null, retire_at: null }).where('enrollment_id', '=', row.id).where('noncompliant_since', 'is not', null).execute();
  // The enrolling token proved its user (recorded above already when the bound was checked).
  if (maxActivePerUser === undefined) await recordUsersWithin(trx, [{ tenantId: input.tenantId, id: input.userOid, userPrincipalName: input.upn, displayName, at: now }]);
  // An update keeps the existing id; an insert used ours.
  const replaced = row.id !== input.id;
  if (replaced) {
    await forgetManagement(trx, row.id);
    await cancelPendingDeviceActionsWithin(trx, row.id, now);
  }
  return { kind: 'enrolled', enrollment: enrollmentFromRow(row), replaced };
}

/**
 * A re-enrollment replaces the enrollment: what the server knew of the device's configuration may no longer hold
 * (the work account was added again), so management starts over and the device gets its desired state again.
 */
async function forgetManagement(trx: Transaction<Database>, enrollmentId: string): Promise<void> {
  await trx.deleteFrom('node_states').where('enrollment_id', '=', enrollmentId).execute();
  await trx.deleteFrom('management_sessions').where('enrollment_id', '=', enrollmentId).execute();
  await trx.deleteFrom('management_state').where('enrollment_id', '=', enrollmentId).execute();
}

/**
 * `state = 'enrolled'` is written as a literal, not a bound parameter: only then can SQLite (and PostgreSQL's
 * generic plans) prove the query matches the partial index enrollments_active_dev_id instead of scanning the table.
 */
const ACTIVE = sql.lit<EnrollmentState>('enrolled');

function activeEnrollmentRow(db: Kysely<Database>, devId: string): Promise<EnrollmentRow | undefined> {
  return db.selectFrom('enrollments').selectAll().where('dev_id', '=', devId).where('state', '=', ACTIVE).executeTakeFirst();
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

const ALL_DEVICES = sql.lit<ConfigurationTarget['kind']>('all_devices');
const ONE_DEVICE = sql.lit<ConfigurationTarget['kind']>('device');
const GROUPS = sql.lit<ConfigurationTarget['kind']>('groups');

/** A policy is always written with its own configuration set (same tenant and id): `internal` otherwise, nothing written. */
function requireOwnSet(policy: PolicyRecord, set: ConfigurationSetRecord): void {
  if (set.tenantId !== policy.tenantId || set.id !== policy.id) {
    throw new OpenMamError('internal', `policy ${policy.id} must be saved with its own configuration set, got ${set.id}`);
  }
}

/** Creates or replaces a configuration set by (tenant, id); a replacement keeps the stored createdAt. */
async function upsertConfigurationSet(trx: Transaction<Database>, set: ConfigurationSetRecord): Promise<void> {
  const row = configurationSetToRow(set);
  await trx
    .insertInto('configuration_sets')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'id']).doUpdateSet({
        name: row.name,
        target_kind: row.target_kind,
        target_dev_id: row.target_dev_id,
        target_groups: row.target_groups,
        settings: row.settings,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/** Bumps the tenant's configuration version; the new version, or undefined when there is no such tenant. */
async function bumpConfigVersion(trx: Transaction<Database>, tenantId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('tenants')
    .set((eb) => ({ config_version: eb(eb.ref('config_version'), '+', 1) }))
    .where('id', '=', tenantId)
    .returning('config_version')
    .executeTakeFirst();
  return row?.config_version;
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

/** Writes `changes` to the enrollment's management state, creating the row (with defaults elsewhere) if missing. */
async function upsertManagementState(db: Kysely<Database>, enrollmentId: string, changes: ManagementStateChanges): Promise<void> {
  await db
    .insertInto('management_state')
    .values({ ...managementStateDefaults(enrollmentId), ...changes })
    .onConflict((oc) => oc.column('enrollment_id').doUpdateSet(changes))
    .execute();
}

/** Most rows one multi-row statement carries (7 columns at most: far below either database's parameter limit). */
const MAX_BATCH = 256;

/**
 * Most keys one `IN (...)` read carries: one parameter each, far below SQLite's limit (32766 since 3.32; the bundled
 * SQLite is newer) and PostgreSQL's (65535), so a report over 10,000 devices is ten queries per table.
 */
const MAX_READ_BATCH = 1024;

/** The device row takes the latest facts (and tenant) of the enrollment being written; createdAt is kept. */
async function upsertDevice(trx: Transaction<Database>, input: EnrollmentInput, now: number): Promise<void> {
  const latest = { tenant_id: input.tenantId, entra_device_id: input.entraDeviceId, ...deviceFactsToColumns(input), updated_at: now };
  await trx
    .insertInto('devices')
    .values({ dev_id: input.devId, ...latest, created_at: now })
    .onConflict((oc) => oc.column('dev_id').doUpdateSet(latest))
    .execute();
}

// ---- rows <-> records

function batches<T>(rows: readonly T[], max = MAX_BATCH): Generator<T[]> {
  return batchesOf(rows, max);
}

function userFromRow(row: UserRow): UserRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    userPrincipalName: row.user_principal_name,
    displayName: row.display_name,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
  };
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

function deviceFactsToColumns(facts: DeviceFacts): DeviceFactColumns {
  return {
    hw_dev_id: facts.hwDevId,
    device_name: facts.deviceName,
    device_type: facts.deviceType,
    os_edition: facts.osEdition,
    os_version: facts.osVersion,
    locale: facts.locale,
  };
}

function deviceFactsFromColumns(row: DeviceFactColumns): DeviceFacts {
  return {
    hwDevId: row.hw_dev_id,
    deviceName: row.device_name,
    deviceType: row.device_type,
    osEdition: row.os_edition,
    osVersion: row.os_version,
    locale: row.locale,
  };
}

/** The columns an enrollment takes from the request (all but id, state, count and times). */
function enrollmentInputColumns(
  input: EnrollmentInput,
): Omit<EnrollmentRow, 'id' | 'state' | 'enroll_count' | 'created_at' | 'enrolled_at' | 'updated_at' | 'unenrolled_at' | 'unenroll_reason' | 'management_state' | 'compliance_state' | 'compliance_grace_until' | 'compliance_lapsed' | 'manufacturer' | 'model'> {
  return {
    tenant_id: input.tenantId,
    dev_id: input.devId,
    user_oid: input.userOid,
    upn: input.upn,
    entra_device_id: input.entraDeviceId,
    enrollment_type: input.enrollmentType,
    application_version: input.applicationVersion,
    request_version: input.requestVersion,
    terms_accepted_at: input.termsAcceptedAt,
    ...deviceFactsToColumns(input),
  };
}

function enrollmentFromRow(row: EnrollmentRow): EnrollmentRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    devId: row.dev_id,
    userOid: row.user_oid,
    upn: row.upn,
    entraDeviceId: row.entra_device_id,
    enrollmentType: row.enrollment_type,
    state: row.state,
    applicationVersion: row.application_version,
    requestVersion: row.request_version,
    termsAcceptedAt: row.terms_accepted_at,
    enrollCount: row.enroll_count,
    ...deviceFactsFromColumns(row),
    createdAt: row.created_at,
    enrolledAt: row.enrolled_at,
    updatedAt: row.updated_at,
    unenrolledAt: row.unenrolled_at,
    unenrollReason: row.unenroll_reason,
    managementState: row.management_state,
    complianceState: row.compliance_state,
    complianceGraceUntil: row.compliance_grace_until,
    manufacturer: row.manufacturer,
    model: row.model,
  };
}

function deviceFromRow(row: DeviceRow): DeviceRecord {
  return {
    devId: row.dev_id,
    tenantId: row.tenant_id,
    entraDeviceId: row.entra_device_id,
    ...deviceFactsFromColumns(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function configurationSetToRow(set: ConfigurationSetRecord): ConfigurationSetRow {
  return {
    tenant_id: set.tenantId,
    id: set.id,
    name: set.name,
    target_kind: set.target.kind,
    target_dev_id: set.target.kind === 'device' ? set.target.devId : null,
    target_groups: set.target.kind === 'groups' ? groupTargetToColumn(set.target) : null,
    settings: JSON.stringify(set.settings),
    created_at: set.createdAt,
    updated_at: set.updatedAt,
  };
}

function configurationSetFromRow(row: ConfigurationSetRow): ConfigurationSetRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    target: targetFromColumns(row),
    settings: JSON.parse(row.settings) as DesiredSetting[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function targetFromColumns(row: Pick<ConfigurationSetRow, 'target_kind' | 'target_dev_id' | 'target_groups' | 'id'>): ConfigurationTarget {
  switch (row.target_kind) {
    case 'all_devices':
      return { kind: 'all_devices' };
    case 'device':
      if (row.target_dev_id === null) throw new OpenMamError('internal', `configuration set ${row.id} targets a device but names none`);
      return { kind: 'device', devId: row.target_dev_id };
    case 'groups':
      if (row.target_groups === null) throw new OpenMamError('internal', `configuration set ${row.id} targets groups but names none`);
      return { kind: 'groups', ...groupTargetFromColumn(row.target_groups) };
  }
}

/** Only the known fields, in a fixed order (not `kind`, nor anything else the caller's object carries); filters only when set. */
function groupTargetToColumn(target: GroupTargetColumn): string {
  const column: GroupTargetColumn = { include: target.include, exclude: target.exclude, allUsers: target.allUsers, ...(target.filters === undefined ? {} : { filters: target.filters }) };
  return JSON.stringify(column);
}

function groupTargetFromColumn(column: string): GroupTargetColumn {
  const { include, exclude, allUsers, filters } = JSON.parse(column) as GroupTargetColumn;
  return { include, exclude, allUsers, ...(filters === undefined ? {} : { filters }) };
}

function tokenGroupsToColumn(groups: string[] | null): string | null {
  return groups === null ? null : JSON.stringify(groups);
}

function tokenGroupsFromColumn(column: string | null): string[] | null {
  return column === null ? null : (JSON.parse(column) as string[]);
}

/** What a missing management_state row stands for. */
function managementStateDefaults(enrollmentId: string): ManagementStateRow {
  return {
    enrollment_id: enrollmentId,
    settled_version: 0,
    waiting_for_user: 0,
    inventory_at: null,
    last_checkin_at: null,
    message_log_until: null,
    token_groups: null,
  };
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

function groupToRow(group: GroupRecord): GroupRow {
  return { tenant_id: group.tenantId, id: group.id, display_name: group.displayName, description: group.description, mail_nickname: group.mailNickname, created_at: group.createdAt };
}

function groupFromRow(row: GroupRow): GroupRecord {
  return { tenantId: row.tenant_id, id: row.id, displayName: row.display_name, description: row.description, mailNickname: row.mail_nickname, createdAt: row.created_at };
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

function wipLogRequestToRow(request: WipLogRequestRecord): Selectable<WipLogRequestsTable> {
  return {
    id: request.id,
    tenant_id: request.tenantId,
    enrollment_id: request.enrollmentId,
    mode: request.mode,
    start_time: request.startTime,
    stop_time: request.stopTime,
    log_count: request.logCount,
    log_type: request.logType,
    status: request.status,
    status_code: request.statusCode,
    requested_at: request.requestedAt,
    completed_at: request.completedAt,
    logs: request.logs,
    entries: request.entries === null ? null : JSON.stringify(request.entries),
  };
}

function wipLogRequestFromRow(row: Selectable<WipLogRequestsTable>): WipLogRequestRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    enrollmentId: row.enrollment_id,
    mode: row.mode,
    startTime: row.start_time,
    stopTime: row.stop_time,
    logCount: row.log_count,
    logType: row.log_type === 1 ? 1 : 0,
    status: row.status,
    statusCode: row.status_code,
    requestedAt: row.requested_at,
    completedAt: row.completed_at,
    logs: row.logs,
    entries: row.entries === null ? null : (JSON.parse(row.entries) as Record<string, string>[]),
  };
}
