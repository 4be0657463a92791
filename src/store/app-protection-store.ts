import { requireAssignmentFilters } from './repositories/assignment-filter-store.ts';
import type { CollectionPage, CollectionQuery } from './collection-query.ts';
import * as collections from './collections.ts';
import { batches, booleanFromColumn, booleanToColumn, compareKeys, lastByKey } from './row-helpers.ts';
import { sql } from 'kysely';
import type { CompiledQuery, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { OpenMamError } from '../errors.ts';
import type {
  AccessPolicyRecord,
  AppComplianceState,
  AppOperationRecord,
  AppOperationStatus,
  AppPolicyKind,
  AppPolicyRecord,
  AppRegistrationRecord,
  BlockedUserRecord,
  DeviceComplianceRecord,
  ManagedAppCatalogueRecord,
  ManagedAppRef,
  MtdConnectorRecord,
  RegistrationSummary,
  ServicePrincipalRecord,
  ThreatLevel,
  ThreatReportRecord,
} from './app-protection-records.ts';
import type { AppProtectionStore, CheckInState, DeviceRegistration } from './app-protection-roles.ts';
import type { VersionedDelete, VersionedWrite } from './roles.ts';
import { Undo, undoable, undoMissedDelete, undoMissedWrite, type VersionedTable } from './versioned-write.ts';
import type { PolicyAssignment } from './records.ts';
import type { StoreContext } from './store-context.ts';
import { recordUsersWithin } from './user-sightings.ts';
import type {
  AccessPoliciesTable,
  AppOperationsTable,
  AppPoliciesTable,
  AppRegistrationsTable,
  Database,
  DeviceComplianceTable,
  ManagedAppsTable,
  MtdConnectorsTable,
  MtdThreatReportsTable,
  ServicePrincipalsTable,
} from './schema.ts';


type PolicyRow = Selectable<AppPoliciesTable>;
type RegistrationRow = Selectable<AppRegistrationsTable>;
type CheckInStateRow = RegistrationRow & {
  app_config_version: number;
  config_version: number;
  user_blocked: number | boolean;
  has_pending: number | boolean;
  /** The device's threat reports as a JSON array: text on SQLite, parsed by the driver on PostgreSQL. */
  threat_reports: string | ThreatReportRow[];
};
type OperationRow = Selectable<AppOperationsTable>;
type ConnectorRow = Selectable<MtdConnectorsTable>;
type ThreatReportRow = Selectable<MtdThreatReportsTable>;
type AccessPolicyRow = Selectable<AccessPoliciesTable>;
type DeviceComplianceRow = Selectable<DeviceComplianceTable>;
type ManagedAppRow = Selectable<ManagedAppsTable>;
type ServicePrincipalRow = Selectable<ServicePrincipalsTable>;
type RegistrationChange = Parameters<AppProtectionStore['updateRegistration']>[1];

/**
 * The predicates of the partial unique indexes (migrations/006_app_protection.ts) as literals, not bound parameters:
 * only then can SQLite (and PostgreSQL's generic plans, and ON CONFLICT's index inference) prove that a statement
 * matches the index.
 */
/** Every threat level, in Graph's order of severity (the summary answers each, 0 when none). */
const THREAT_LEVELS: readonly ThreatLevel[] = ['secured', 'low', 'medium', 'high'];

const ACTIVE = sql.lit<AppRegistrationRecord['state']>('active');
const PENDING = sql.lit<AppOperationStatus>('pending');

/** Most rows of one multi-row insert (11 columns at most: far below either database's parameter limit). */
const MAX_INSERT_BATCH = 64;
/** Most rows of one bulk check-in update (2 parameters each). */
const MAX_CHECKIN_BATCH = 256;
/** Most rows one purge transaction drops: the single SQLite writer is never held long. */
const PURGE_BATCH = 512;

/**
 * The app protection service's storage, over the same database (and the same write path) as KyselyStore, which
 * exposes it as `appProtection`. The hot reads of a check-in (getRegistration, pendingOperations, isUserBlocked,
 * threatReportsFor, getAppConfigVersion) are one indexed query each, compiled once. Writers that bump the tenant's
 * app configuration version take the tenant row first, like KyselyStore's configuration writers: concurrent changes of
 * one tenant queue on it, never deadlock. A replaced policy, connector or access policy keeps its stored createdAt.
 */
export class KyselyAppProtectionStore implements AppProtectionStore {
  readonly #db: Kysely<Database>;
  readonly #context: StoreContext;

  readonly #registrationById = new CompiledRead<RegistrationRow>(
    (db) => db.selectFrom('app_registrations').selectAll().where('id', '=', '').compile(),
    1,
  );
  readonly #pendingOperations = new CompiledRead<OperationRow>(
    (db) =>
      db
        .selectFrom('app_operations')
        .selectAll()
        .where('registration_id', '=', '')
        .where('status', '=', PENDING)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .compile(),
    1,
  );
  readonly #blockedUser = new CompiledRead<{ blocked_at: number }>(
    (db) => db.selectFrom('app_blocked_users').select('blocked_at').where('tenant_id', '=', '').where('user_id', '=', '').compile(),
    2,
  );
  readonly #threatReports = new CompiledRead<ThreatReportRow>(
    (db) =>
      db
        .selectFrom('mtd_threat_reports')
        .selectAll()
        .where('tenant_id', '=', '')
        .where('user_id', '=', '')
        .where('azure_ad_device_id', '=', '')
        .orderBy('reported_at', 'desc')
        .orderBy('connector_id', 'asc')
        .orderBy('app_id', 'asc')
        .compile(),
    3,
  );
  /**
   * A check-in's or an access decision's only query: the registration with its tenant's versions, whether the user is
   * blocked or has pending operations, and the device's threat reports (an indexed lookup each).
   */
  readonly #checkInState = new CompiledRead<CheckInStateRow>(
    (db) =>
      db
        .selectFrom('app_registrations as r')
        .innerJoin('tenants as t', 't.id', 'r.tenant_id')
        .selectAll('r')
        .select(['t.app_config_version', 't.config_version'])
        .select((eb) => [
          eb
            .exists(eb.selectFrom('app_blocked_users as b').select('b.blocked_at').whereRef('b.tenant_id', '=', 'r.tenant_id').whereRef('b.user_id', '=', 'r.user_id'))
            .as('user_blocked'),
          eb.exists(eb.selectFrom('app_operations as o').select('o.id').whereRef('o.registration_id', '=', 'r.id').where('o.status', '=', PENDING)).as('has_pending'),
          this.#context.jsonArrayFrom(
            eb
              .selectFrom('mtd_threat_reports as m')
              .select(['m.tenant_id', 'm.connector_id', 'm.user_id', 'm.app_id', 'm.azure_ad_device_id', 'm.health_state', 'm.reported_at', 'm.received_at'])
              .whereRef('m.tenant_id', '=', 'r.tenant_id')
              .whereRef('m.user_id', '=', 'r.user_id')
              .whereRef('m.azure_ad_device_id', '=', 'r.azure_ad_device_id'),
          ).as('threat_reports'),
        ])
        .where('r.id', '=', '')
        .compile() as CompiledQuery<CheckInStateRow>,
    1,
  );
  readonly #appConfigVersion = new CompiledRead<{ app_config_version: number }>(
    (db) => db.selectFrom('tenants').select('app_config_version').where('id', '=', '').compile(),
    1,
  );

  constructor(db: Kysely<Database>, context: StoreContext) {
    this.#db = db;
    this.#context = context;
  }

  getAppConfigVersion(tenantId: string): Promise<number> {
    return this.#track(async () => {
      const [row] = await this.#run(this.#appConfigVersion, [tenantId]);
      return row?.app_config_version ?? 0;
    });
  }

  // ---- policies

  /** A plain insert, never an upsert (versioned-write.ts). */
  createAppPolicy(policy: AppPolicyRecord): Promise<number> {
    return this.#create(`app policy ${policy.id}`, async (trx) => {
      const version = await bumpTenantVersion(trx, policy.tenantId);
      await trx.insertInto('app_policies').values(appPolicyToRow(policy)).execute();
      return version;
    });
  }

  updateAppPolicy(policy: AppPolicyRecord): Promise<VersionedWrite> {
    return this.#update('app_policies', policy, async (trx, version) => {
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
    return this.#track(async () => {
      const row = await this.#db.selectFrom('app_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : appPolicyFromRow(row);
    });
  }

  async queryAppPolicies(tenantId: string, kind: AppPolicyKind, query: CollectionQuery): Promise<CollectionPage<AppPolicyRecord>> {
    const page = await this.#context.queryCollection<PolicyRow>(collections.ofKinds(collections.APP_POLICIES, [kind]), tenantId, query);
    return { ...page, rows: page.rows.map(appPolicyFromRow) };
  }

  async queryRegistrations(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AppRegistrationRecord>> {
    const page = await this.#context.queryCollection<RegistrationRow>(collections.APP_REGISTRATIONS, tenantId, query);
    return { ...page, rows: page.rows.map(registrationFromRow) };
  }

  async queryAccessPolicies(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AccessPolicyRecord>> {
    const page = await this.#context.queryCollection<AccessPolicyRow>(collections.ACCESS_POLICIES, tenantId, query);
    return { ...page, rows: page.rows.map(accessPolicyFromRow) };
  }

  async queryConnectors(tenantId: string, query: CollectionQuery): Promise<CollectionPage<MtdConnectorRecord>> {
    const page = await this.#context.queryCollection<ConnectorRow>(collections.CONNECTORS, tenantId, query);
    return { ...page, rows: page.rows.map(connectorFromRow) };
  }

  listAppPolicies(tenantId: string, kind?: AppPolicyKind): Promise<AppPolicyRecord[]> {
    return this.#track(async () => {
      let query = this.#db.selectFrom('app_policies').selectAll().where('tenant_id', '=', tenantId);
      if (kind !== undefined) query = query.where('kind', '=', kind);
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(appPolicyFromRow);
    });
  }

  deleteAppPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#deleteWithBump('app_policies', tenantId, id, expectedVersion, async () => undefined);
  }

  // ---- registrations

  /** An upsert on the partial unique index app_registrations_active_key: concurrent calls never make two active ones. */
  upsertRegistration(registration: AppRegistrationRecord, displayName: string | null = null): Promise<AppRegistrationRecord> {
    return this.#track(() => this.#context.write((trx) => upsertRegistrationWithin(trx, registration, displayName)));
  }

  registerOnDevice(registration: AppRegistrationRecord, displayName: string | null = null, maxActivePerUser?: number): Promise<DeviceRegistration> {
    return this.#track(() =>
      this.#context.write(async (trx): Promise<DeviceRegistration> => {
        // Registrations of a tenant queue on its row (a write that changes nothing, but holds the row's lock until
        // commit on PostgreSQL; SQLite has one writer anyway), so "no other user on this device" stays true until
        // this one is written: two users registering at once on two nodes cannot both pass the check.
        await trx
          .updateTable('tenants')
          .set((eb) => ({ app_config_version: eb.ref('app_config_version') }))
          .where('id', '=', registration.tenantId)
          .execute();
        const holders = await otherUsersQuery(trx, registration.tenantId, registration.userId, registration).execute();
        if (holders.length > 0) return { kind: 'device_taken', holders: holders.map(registrationFromRow) };
        if (maxActivePerUser !== undefined) {
          const active = await activeRegistrationsOfUser(trx, registration, maxActivePerUser);
          if (active !== undefined) return { kind: 'user_limit', active };
        }
        return { kind: 'saved', registration: await upsertRegistrationWithin(trx, registration, displayName) };
      }),
    );
  }

  getRegistration(id: string): Promise<AppRegistrationRecord | undefined> {
    return this.#track(async () => {
      const [row] = await this.#run(this.#registrationById, [id]);
      return row === undefined ? undefined : registrationFromRow(row);
    });
  }

  getCheckInState(registrationId: string): Promise<CheckInState | undefined> {
    return this.#track(async () => {
      const [row] = await this.#run(this.#checkInState, [registrationId]);
      if (row === undefined) return undefined;
      // The row is the registration's columns and a few more: registrationFromRow reads only its own (no copy).
      const reports = typeof row.threat_reports === 'string' ? (JSON.parse(row.threat_reports) as ThreatReportRow[]) : row.threat_reports;
      return {
        registration: registrationFromRow(row),
        appConfigVersion: row.app_config_version,
        configVersion: row.config_version,
        // EXISTS is a boolean on PostgreSQL and 0/1 on SQLite.
        userBlocked: Boolean(row.user_blocked),
        hasPendingOperations: Boolean(row.has_pending),
        threatReports: reports.map(threatReportFromRow),
      };
    });
  }

  updateRegistration(id: string, change: RegistrationChange): Promise<boolean> {
    return this.#track(async () => {
      const set = registrationChanges(change);
      if (Object.keys(set).length === 0) {
        return (await this.#run(this.#registrationById, [id])).length > 0;
      }
      const result = await this.#context.write((trx) => trx.updateTable('app_registrations').set(set).where('id', '=', id).executeTakeFirst());
      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * One statement per chunk: an UPDATE ... FROM a VALUES list (SQLite 3.33+, PostgreSQL). Buffered check-ins may
   * arrive late: an older time never replaces a newer one. Unknown ids are ignored.
   */
  recordAppCheckins(checkins: ReadonlyMap<string, number>): Promise<void> {
    return this.#track(async () => {
      if (checkins.size === 0) return;
      // Ordered by key: concurrent bulk writers lock rows in the same order (PostgreSQL), so they queue, not deadlock.
      const rows = [...checkins].sort(([a], [b]) => compareKeys(a, b));
      await this.#context.write(async (trx) => {
        for (const batch of batches(rows, MAX_CHECKIN_BATCH)) {
          // The cast types the parameter for PostgreSQL, which would otherwise read a VALUES parameter as text.
          const values = sql.join(batch.map(([id, at]) => sql`(${id}, cast(${at} as bigint))`));
          await sql`with checkins (id, at) as (values ${values})
            update app_registrations set last_check_in_at = checkins.at
            from checkins
            where app_registrations.id = checkins.id and app_registrations.last_check_in_at < checkins.at`.execute(trx);
        }
      });
    });
  }

  listRegistrations(
    tenantId: string,
    filter: { userId?: string; appId?: string; deviceTag?: string; azureAdDeviceId?: string; includeWiped?: boolean },
    limit: number,
  ): Promise<AppRegistrationRecord[]> {
    return this.#track(async () => {
      let query = this.#db.selectFrom('app_registrations').selectAll().where('tenant_id', '=', tenantId);
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.appId !== undefined) query = query.where('app_id', '=', filter.appId);
      if (filter.deviceTag !== undefined) query = query.where('device_tag', '=', filter.deviceTag);
      if (filter.azureAdDeviceId !== undefined) query = query.where('azure_ad_device_id', '=', filter.azureAdDeviceId);
      if (filter.includeWiped !== true) query = query.where('state', '=', ACTIVE);
      const rows = await query
        .orderBy('last_check_in_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.max(0, Math.floor(limit)))
        .execute();
      return rows.map(registrationFromRow);
    });
  }

  summarizeRegistrations(tenantId: string): Promise<RegistrationSummary> {
    return this.#track(async () => {
      const active = this.#db.selectFrom('app_registrations').where('tenant_id', '=', tenantId).where('state', '=', ACTIVE);
      const [states, deployed, wipes, threats] = await Promise.all([
        active.select(['compliance_state', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('compliance_state').execute(),
        // Distinct (policy, user) pairs first, then counted: both databases read the pairs in order from
        // app_registrations_applied_policy, where count(distinct) made PostgreSQL sort them (bench:console).
        this.#db
          .selectFrom((eb) =>
            eb
              .selectFrom('app_registrations')
              .where('tenant_id', '=', tenantId)
              .where('state', '=', ACTIVE)
              .where('applied_policy_id', 'is not', null)
              .select(['applied_policy_id', 'user_id'])
              .distinct()
              .as('holders'),
          )
          .select(['holders.applied_policy_id', (eb) => eb.fn.countAll<number | string>().as('n')])
          .groupBy('holders.applied_policy_id')
          .orderBy('holders.applied_policy_id')
          .execute(),
        this.#db
          .selectFrom('app_operations')
          .where('tenant_id', '=', tenantId)
          .where('status', '=', sql.lit<AppOperationStatus>('pending'))
          .where('kind', '=', sql.lit<AppOperationRecord['kind']>('wipe'))
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirst(),
        // The newest report of each device, in the order listThreatReports reads them (a window function: SQLite 3.25+, PostgreSQL).
        this.#db
          .selectFrom((eb) =>
            eb
              .selectFrom('mtd_threat_reports')
              .where('tenant_id', '=', tenantId)
              .select(['health_state', sql<number>`row_number() over (partition by user_id, azure_ad_device_id order by reported_at desc, connector_id, app_id)`.as('rank')])
              .as('reports'),
          )
          .where('reports.rank', '=', 1)
          .select(['reports.health_state', (eb) => eb.fn.countAll<number | string>().as('n')])
          .groupBy('reports.health_state')
          .execute(),
      ]);
      const complianceStates: Record<AppComplianceState, number> = { compliant: 0, notCompliant: 0, unknown: 0 };
      for (const row of states) complianceStates[row.compliance_state] += Number(row.n);
      return {
        complianceStates,
        deployedUsers: deployed.map((row) => ({ policyId: row.applied_policy_id!, users: Number(row.n) })),
        pendingWipes: Number(wipes?.n ?? 0),
        threatStates: Object.fromEntries(THREAT_LEVELS.map((level) => [level, Number(threats.find((row) => row.health_state === level)?.n ?? 0)])) as Record<ThreatLevel, number>,
      };
    });
  }

  /**
   * Newest lastCheckInAt first. The tenant is repeated in each branch of the OR: only then does SQLite search both
   * indexes (tenant + device_tag, tenant + azure_ad_device_id) instead of scanning the tenant's registrations.
   */
  otherUsersOnDevice(tenantId: string, userId: string, device: { deviceTag: string; azureAdDeviceId: string | null; azureAdDeviceIdVerified: boolean }): Promise<AppRegistrationRecord[]> {
    return this.#track(async () => (await otherUsersQuery(this.#db, tenantId, userId, device).execute()).map(registrationFromRow));
  }

  /** One transaction; the last change of an id wins; unknown ids are ignored. */
  setCompliance(changes: readonly { id: string; state: AppComplianceState; reasons: string[]; changedAt: number }[]): Promise<void> {
    return this.#track(async () => {
      if (changes.length === 0) return;
      const ordered = lastByKey(changes, (c) => c.id);
      await this.#context.write(async (trx) => {
        for (const change of ordered) {
          await trx
            .updateTable('app_registrations')
            .set({ compliance_state: change.state, compliance_reasons: JSON.stringify(change.reasons), compliance_changed_at: change.changedAt })
            .where('id', '=', change.id)
            .execute();
        }
      });
    });
  }

  // ---- operations

  /**
   * Inserts with "on conflict do nothing" on the partial unique index app_operations_pending_key: the database keeps
   * one pending wipe per registration, even under concurrent requests on several nodes. Answers the inserted ones in
   * the given order.
   */
  addOperations(operations: readonly AppOperationRecord[]): Promise<AppOperationRecord[]> {
    return this.#track(async () => {
      if (operations.length === 0) return [];
      const inserted = new Set<string>();
      await this.#context.write(async (trx) => {
        inserted.clear(); // a group commit that failed runs the unit again
        for (const batch of batches(operations, MAX_INSERT_BATCH)) {
          const rows = await trx
            .insertInto('app_operations')
            .values(batch.map(operationToRow))
            .onConflict((oc) => oc.columns(['registration_id', 'kind']).where('status', '=', PENDING).doNothing())
            .returning('id')
            .execute();
          for (const row of rows) inserted.add(row.id);
        }
      });
      return operations.filter((o) => inserted.has(o.id));
    });
  }

  getOperation(id: string): Promise<AppOperationRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('app_operations').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : operationFromRow(row);
    });
  }

  listOperations(registrationId: string): Promise<AppOperationRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('app_operations').selectAll().where('registration_id', '=', registrationId).execute();
      const pending = rows.filter((r) => r.status === 'pending').sort((a, b) => a.created_at - b.created_at || compareKeys(a.id, b.id));
      const completed = rows.filter((r) => r.status !== 'pending').sort((a, b) => b.created_at - a.created_at || compareKeys(b.id, a.id));
      return [...pending, ...completed].map(operationFromRow);
    });
  }

  pendingOperations(registrationId: string): Promise<AppOperationRecord[]> {
    return this.#track(async () => (await this.#run(this.#pendingOperations, [registrationId])).map(operationFromRow));
  }

  completeOperation(id: string, result: { status: 'succeeded' | 'failed'; detail: string | null; completedAt: number; expiresAt: number }): Promise<boolean> {
    return this.#track(() =>
      this.#context.write(async (trx) => {
        const completed = await trx
          .updateTable('app_operations')
          .set({ status: result.status, detail: result.detail, completed_at: result.completedAt, expires_at: result.expiresAt })
          .where('id', '=', id)
          .where('status', '=', PENDING)
          .returning(['registration_id', 'kind'])
          .executeTakeFirst();
        if (completed === undefined) return false;
        if (result.status === 'succeeded' && completed.kind === 'wipe') {
          await trx.updateTable('app_registrations').set({ state: 'wiped' }).where('id', '=', completed.registration_id).execute();
        }
        return true;
      }),
    );
  }

  // ---- wiped-and-blocked users

  blockUser(record: BlockedUserRecord): Promise<boolean> {
    return this.#track(async () => {
      const added = await this.#context.write((trx) =>
        trx
          .insertInto('app_blocked_users')
          .values({ tenant_id: record.tenantId, user_id: record.userId, blocked_at: record.blockedAt })
          .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doNothing())
          .returning('user_id')
          .executeTakeFirst(),
      );
      return added !== undefined;
    });
  }

  unblockUser(tenantId: string, userId: string): Promise<boolean> {
    return this.#track(async () => {
      const removed = await this.#context.write((trx) =>
        trx.deleteFrom('app_blocked_users').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst(),
      );
      return removed.numDeletedRows > 0n;
    });
  }

  isUserBlocked(tenantId: string, userId: string): Promise<boolean> {
    return this.#track(async () => (await this.#run(this.#blockedUser, [tenantId, userId])).length > 0);
  }

  // ---- threat defense

  /** A plain insert, never an upsert (versioned-write.ts). */
  createConnector(connector: MtdConnectorRecord): Promise<void> {
    return this.#create(`threat defense connector ${connector.id}`, async (trx) => {
      await bumpTenantVersion(trx, connector.tenantId);
      await trx.insertInto('mtd_connectors').values(connectorToRow(connector)).execute();
    });
  }

  /** The admin's settings only: the heartbeat is the connector's own (recordConnectorHeartbeat) and is never written back stale. */
  updateConnector(connector: MtdConnectorRecord): Promise<VersionedWrite> {
    return this.#update('mtd_connectors', connector, async (trx, version) => {
      const row = connectorToRow(connector);
      return trx
        .updateTable('mtd_connectors')
        .set({
          ...withoutColumns(row, ['tenant_id', 'id', 'created_at', 'last_heartbeat_at']),
          version,
        })
        .where('tenant_id', '=', connector.tenantId)
        .where('id', '=', connector.id)
        .where('version', '=', connector.version)
        .executeTakeFirst();
    });
  }

  recordConnectorHeartbeat(tenantId: string, id: string, at: number, enable: boolean): Promise<boolean> {
    return this.#track(() =>
      undoable<boolean>(
        (work) => this.#context.write(work),
        async (trx) => {
          if ((await bumpTenantVersionIfAny(trx, tenantId)) === undefined) return false;
          const updated = await trx
            .updateTable('mtd_connectors')
            .set((eb) => ({
              last_heartbeat_at: at,
              // A changed partner state is a change of the entity (its tag moves); a heartbeat alone is not.
              ...(enable
                ? {
                    partner_state: 'enabled' as const,
                    version: eb.case().when('partner_state', '=', 'enabled').then(eb.ref('version')).else(eb(eb.ref('version'), '+', 1)).end(),
                    updated_at: eb.case().when('partner_state', '=', 'enabled').then(eb.ref('updated_at')).else(at).end(),
                  }
                : {}),
            }))
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .executeTakeFirst();
          if (updated.numUpdatedRows === 0n) throw new Undo(false); // undoes the bump
          return true;
        },
      ),
    );
  }

  getConnector(tenantId: string, id: string): Promise<MtdConnectorRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('mtd_connectors').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : connectorFromRow(row);
    });
  }

  /** Ordered by createdAt, then id. */
  listConnectors(tenantId: string): Promise<MtdConnectorRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('mtd_connectors').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(connectorFromRow);
    });
  }

  deleteConnector(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#deleteWithBump('mtd_connectors', tenantId, id, expectedVersion, async (trx) => {
      await trx.deleteFrom('mtd_threat_reports').where('tenant_id', '=', tenantId).where('connector_id', '=', id).execute();
    });
  }

  /**
   * The connector's heartbeat becomes the report's receivedAt; a report older (by reportedAt) than the stored one for
   * the same key only counts as a heartbeat. `not_found` (nothing written) when the connector does not exist. A
   * report does not bump the version: its state is read per device (threatReportsFor).
   */
  saveThreatReport(report: ThreatReportRecord): Promise<void> {
    return this.#track(() =>
      this.#context.write(async (trx) => {
        const connector = await trx
          .updateTable('mtd_connectors')
          .set({ last_heartbeat_at: report.receivedAt })
          .where('tenant_id', '=', report.tenantId)
          .where('id', '=', report.connectorId)
          .returning('id')
          .executeTakeFirst();
        if (connector === undefined) throw new OpenMamError('not_found', `threat defense connector ${report.connectorId} does not exist`);
        await trx
          .insertInto('mtd_threat_reports')
          .values(threatReportToRow(report))
          .onConflict((oc) =>
            oc
              .columns(['tenant_id', 'connector_id', 'user_id', 'app_id', 'azure_ad_device_id'])
              .doUpdateSet((eb) => ({
                health_state: eb.ref('excluded.health_state'),
                reported_at: eb.ref('excluded.reported_at'),
                received_at: eb.ref('excluded.received_at'),
              }))
              .where((eb) => eb('mtd_threat_reports.reported_at', '<=', eb.ref('excluded.reported_at'))),
          )
          .execute();
      }),
    );
  }

  threatReportsFor(tenantId: string, userId: string, azureAdDeviceId: string): Promise<ThreatReportRecord[]> {
    return this.#track(async () => (await this.#run(this.#threatReports, [tenantId, userId, azureAdDeviceId])).map(threatReportFromRow));
  }

  listThreatReports(tenantId: string, limit: number): Promise<ThreatReportRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db
        .selectFrom('mtd_threat_reports')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('reported_at', 'desc')
        .orderBy('connector_id', 'asc')
        .orderBy('user_id', 'asc')
        .orderBy('azure_ad_device_id', 'asc')
        .orderBy('app_id', 'asc')
        .limit(limit)
        .execute();
      return rows.map(threatReportFromRow);
    });
  }

  // ---- conditional access

  /** A plain insert, never an upsert (versioned-write.ts). */
  createAccessPolicy(policy: AccessPolicyRecord): Promise<void> {
    return this.#create(`access policy ${policy.id}`, async (trx) => {
      await bumpTenantVersion(trx, policy.tenantId);
      await trx.insertInto('access_policies').values(accessPolicyToRow(policy)).execute();
    });
  }

  updateAccessPolicy(policy: AccessPolicyRecord): Promise<VersionedWrite> {
    return this.#update('access_policies', policy, async (trx, version) => {
      const row = accessPolicyToRow(policy);
      return trx
        .updateTable('access_policies')
        .set({ ...withoutColumns(row, ['tenant_id', 'id', 'created_at']), version })
        .where('tenant_id', '=', policy.tenantId)
        .where('id', '=', policy.id)
        .where('version', '=', policy.version)
        .executeTakeFirst();
    });
  }

  getAccessPolicy(tenantId: string, id: string): Promise<AccessPolicyRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : accessPolicyFromRow(row);
    });
  }

  /** Ordered by createdAt, then id. */
  listAccessPolicies(tenantId: string): Promise<AccessPolicyRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(accessPolicyFromRow);
    });
  }

  /** Bumps the version; nothing bumped unless deleted. */
  deleteAccessPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#deleteWithBump('access_policies', tenantId, id, expectedVersion, async () => undefined);
  }

  /** Insert or replace by (tenant, device). */
  saveDeviceCompliance(record: DeviceComplianceRecord): Promise<void> {
    return this.#track(async () => {
      const row = deviceComplianceToRow(record);
      await this.#context.write((trx) =>
        trx
          .insertInto('device_compliance')
          .values(row)
          .onConflict((oc) => oc.columns(['tenant_id', 'azure_ad_device_id']).doUpdateSet({ compliant: row.compliant, reported_at: row.reported_at }))
          .execute(),
      );
    });
  }

  getDeviceCompliance(tenantId: string, azureAdDeviceId: string): Promise<DeviceComplianceRecord | undefined> {
    return this.#track(async () => {
      const row = await this.#db
        .selectFrom('device_compliance')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('azure_ad_device_id', '=', azureAdDeviceId)
        .executeTakeFirst();
      return row === undefined ? undefined : deviceComplianceFromRow(row);
    });
  }

  // ---- managed app catalogue

  /** A plain insert after the tenant bump; the windowsAppId and client ids are checked against the tenant's entries under its lock. */
  createManagedApp(app: ManagedAppCatalogueRecord): Promise<void> {
    return this.#create(`managed app ${app.id}`, async (trx) => {
      await bumpTenantVersion(trx, app.tenantId);
      await refuseCatalogueClash(trx, app);
      await trx.insertInto('managed_apps').values(managedAppToRow(app)).execute();
    });
  }

  updateManagedApp(app: ManagedAppCatalogueRecord): Promise<VersionedWrite> {
    return this.#update('managed_apps', app, async (trx, version) => {
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
    return this.#track(async () => {
      const row = await this.#db.selectFrom('managed_apps').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : managedAppFromRow(row);
    });
  }

  listManagedApps(tenantId: string): Promise<ManagedAppCatalogueRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('managed_apps').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(managedAppFromRow);
    });
  }

  deleteManagedApp(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#deleteWithBump('managed_apps', tenantId, id, expectedVersion, async () => undefined);
  }

  // ---- service principals

  /** A plain insert after the tenant bump; its names are checked against the tenant's other service principals under its lock. */
  createServicePrincipal(principal: ServicePrincipalRecord): Promise<void> {
    return this.#create(`service principal ${principal.id} (appId ${principal.appId})`, async (trx) => {
      await bumpTenantVersion(trx, principal.tenantId);
      await refuseAudienceClash(trx, principal);
      await trx.insertInto('service_principals').values(servicePrincipalToRow(principal)).execute();
    });
  }

  /** The appId is never changed (it is how policies name the resource). */
  updateServicePrincipal(principal: ServicePrincipalRecord): Promise<VersionedWrite> {
    return this.#update('service_principals', principal, async (trx, version) => {
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
    return this.#track(async () => {
      const row = await this.#db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : servicePrincipalFromRow(row);
    });
  }

  async queryServicePrincipals(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ServicePrincipalRecord>> {
    const page = await this.#context.queryCollection<ServicePrincipalRow>(collections.SERVICE_PRINCIPALS, tenantId, query);
    return { ...page, rows: page.rows.map(servicePrincipalFromRow) };
  }

  listServicePrincipals(tenantId: string): Promise<ServicePrincipalRecord[]> {
    return this.#track(async () => {
      const rows = await this.#db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(servicePrincipalFromRow);
    });
  }

  /**
   * Refused with `conflict` while an access policy names the resource: checked after the tenant row is taken, and
   * access policies are written under the same lock, so no policy can come to name it before the delete commits.
   */
  deleteServicePrincipal(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return this.#deleteWithBump('service_principals', tenantId, id, expectedVersion, async (trx) => {
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

  // ---- retention

  /**
   * In transactions of at most PURGE_BATCH rows, so the single SQLite writer is never held long: first expired
   * operations, then silent registrations with their operations (counted among the operations). A registration that
   * checks in while it is being purged is kept (the delete checks its time again).
   */
  purgeAppProtection(now: number, silentBefore: number): Promise<{ operations: number; registrations: number }> {
    return this.#track(async () => {
      let operations = 0;
      let registrations = 0;
      for (;;) {
        const deleted = await this.#context.write((trx) =>
          trx
            .deleteFrom('app_operations')
            .where('id', 'in', (eb) => eb.selectFrom('app_operations').select('id').where('expires_at', '<=', now).limit(PURGE_BATCH))
            .executeTakeFirst(),
        );
        operations += Number(deleted.numDeletedRows);
        if (deleted.numDeletedRows < BigInt(PURGE_BATCH)) break;
      }
      for (;;) {
        const batch = await this.#context.write(async (trx) => {
          const ids = (
            await trx
              .selectFrom('app_registrations')
              .select('id')
              .where('last_check_in_at', '<', silentBefore)
              .orderBy('last_check_in_at', 'asc')
              .limit(PURGE_BATCH)
              .execute()
          ).map((r) => r.id);
          if (ids.length === 0) return { found: 0, operations: 0, registrations: 0 };
          const ops = await trx.deleteFrom('app_operations').where('registration_id', 'in', ids).executeTakeFirst();
          const regs = await trx.deleteFrom('app_registrations').where('id', 'in', ids).where('last_check_in_at', '<', silentBefore).executeTakeFirst();
          return { found: ids.length, operations: Number(ops.numDeletedRows), registrations: Number(regs.numDeletedRows) };
        });
        operations += batch.operations;
        registrations += batch.registrations;
        if (batch.found < PURGE_BATCH) break;
      }
      return { operations, registrations };
    });
  }

  // ---- helpers

  #track<T>(work: () => Promise<T>): Promise<T> {
    return this.#context.track(work);
  }

  #run<Row>(read: CompiledRead<Row>, parameters: readonly unknown[]): Promise<Row[]> {
    return read.run(this.#db, this.#context, parameters);
  }

  /** An insert after the tenant bump; a taken id is `conflict` (nothing written), never a replacement. */
  #create<T>(what: string, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#track(async () => {
      try {
        return await this.#context.write(work);
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) throw new OpenMamError('conflict', `${what} already exists`, { cause: err });
        throw err;
      }
    });
  }

  /**
   * The compare-and-set of versioned-write.ts: the tenant row first (the bump), then `update` (which must match only
   * at `record.version`, writing `version`); no row: undone, and `stale` or `not_found` answered.
   */
  #update(table: VersionedTable, record: { tenantId: string; id: string; version: number }, update: (trx: Transaction<Database>, version: number) => Promise<{ numUpdatedRows: bigint }>): Promise<VersionedWrite> {
    return this.#track(() =>
      undoable<VersionedWrite>(
        (work) => this.#context.write(work),
        async (trx) => {
          if ((await bumpTenantVersionIfAny(trx, record.tenantId)) === undefined) return { kind: 'not_found' };
          const version = record.version + 1;
          const updated = await update(trx, version);
          if (updated.numUpdatedRows === 0n) return undoMissedWrite(trx, table, record.tenantId, record.id);
          return { kind: 'saved', version };
        },
      ),
    );
  }

  /** The tenant bump, `dependents` removed, then the row (only at `expectedVersion` when given); no row: undone. */
  #deleteWithBump(table: VersionedTable, tenantId: string, id: string, expectedVersion: number | undefined, dependents: (trx: Transaction<Database>) => Promise<void>): Promise<VersionedDelete> {
    return this.#track(() =>
      undoable<VersionedDelete>(
        (work) => this.#context.write(work),
        async (trx) => {
          if ((await bumpTenantVersionIfAny(trx, tenantId)) === undefined) return { kind: 'not_found' };
          let query = trx.deleteFrom(table).where('tenant_id', '=', tenantId).where('id', '=', id);
          if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
          // Dependents go first (a connector's reports reference it), and are undone with the rest on a miss.
          await dependents(trx);
          const removed = await query.executeTakeFirst();
          if (removed.numDeletedRows === 0n) return undoMissedDelete(trx, table, tenantId, id); // undoes the bump
          return { kind: 'deleted' };
        },
      ),
    );
  }
}

/**
 * A hot read built and compiled once with placeholder values, then run with the real parameters, in order: building
 * and compiling a query costs more than running it (like KyselyStore's managed device query). Literals (ACTIVE,
 * PENDING) stay in the SQL; the arity check makes sure nothing else slipped in as a parameter.
 */
class CompiledRead<Row> {
  #compiled: CompiledQuery<Row> | undefined;

  constructor(
    private readonly build: (db: Kysely<Database>) => CompiledQuery<Row>,
    private readonly arity: number,
  ) {}

  run(db: Kysely<Database>, context: StoreContext, parameters: readonly unknown[]): Promise<Row[]> {
    if (this.#compiled === undefined) {
      const compiled = this.build(db);
      if (compiled.parameters.length !== this.arity) {
        throw new OpenMamError('internal', `a compiled read takes ${compiled.parameters.length} parameters, expected ${this.arity}: ${compiled.sql}`);
      }
      this.#compiled = compiled;
    }
    if (parameters.length !== this.arity) throw new OpenMamError('internal', `a compiled read got ${parameters.length} parameters, expected ${this.arity}`);
    return context.read(this.#compiled, parameters);
  }
}

/** Bumps the tenant's app configuration version; the new one. `not_found` when the tenant does not exist. */
async function bumpTenantVersion(trx: Transaction<Database>, tenantId: string): Promise<number> {
  const version = await bumpTenantVersionIfAny(trx, tenantId);
  if (version === undefined) throw new OpenMamError('not_found', `tenant ${tenantId} does not exist`);
  return version;
}

async function bumpTenantVersionIfAny(trx: Transaction<Database>, tenantId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('tenants')
    .set((eb) => ({ app_config_version: eb(eb.ref('app_config_version'), '+', 1) }))
    .where('id', '=', tenantId)
    .returning('app_config_version')
    .executeTakeFirst();
  return row?.app_config_version;
}

// ---- rows <-> records

/** What an upsert replaces: the row without its key and createdAt (a replacement keeps when it was created). */
function withoutColumns<R extends object, K extends keyof R>(row: R, columns: readonly K[]): Omit<R, K> {
  const dropped = new Set<PropertyKey>(columns);
  return Object.fromEntries(Object.entries(row).filter(([column]) => !dropped.has(column))) as Omit<R, K>;
}

function stringsFromColumn(column: string): string[] {
  // Most lists are empty: no parse for those.
  return column === '[]' ? [] : (JSON.parse(column) as string[]);
}

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

function registrationToRow(r: AppRegistrationRecord): RegistrationRow {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    user_id: r.userId,
    upn: r.upn,
    app_id: r.appId,
    app_version: r.appVersion,
    sdk_version: r.sdkVersion,
    os_version: r.osVersion,
    device_name: r.deviceName,
    device_model: r.deviceModel,
    device_manufacturer: r.deviceManufacturer,
    device_tag: r.deviceTag,
    azure_ad_device_id: r.azureAdDeviceId,
    azure_ad_device_id_verified: booleanToColumn(r.azureAdDeviceIdVerified),
    client_id: r.clientId,
    created_at: r.createdAt,
    last_check_in_at: r.lastCheckInAt,
    applied_policy_id: r.appliedPolicyId,
    applied_policy_version: r.appliedPolicyVersion,
    reported_failures: JSON.stringify(r.reportedFailures),
    compliance_state: r.complianceState,
    compliance_reasons: JSON.stringify(r.complianceReasons),
    compliance_changed_at: r.complianceChangedAt,
    state: r.state,
  };
}

function registrationFromRow(row: RegistrationRow): AppRegistrationRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    userId: row.user_id,
    upn: row.upn,
    appId: row.app_id,
    appVersion: row.app_version,
    sdkVersion: row.sdk_version,
    osVersion: row.os_version,
    deviceName: row.device_name,
    deviceModel: row.device_model,
    deviceManufacturer: row.device_manufacturer,
    deviceTag: row.device_tag,
    azureAdDeviceId: row.azure_ad_device_id,
    azureAdDeviceIdVerified: booleanFromColumn(row.azure_ad_device_id_verified),
    clientId: row.client_id,
    createdAt: row.created_at,
    lastCheckInAt: row.last_check_in_at,
    appliedPolicyId: row.applied_policy_id,
    appliedPolicyVersion: row.applied_policy_version,
    reportedFailures: stringsFromColumn(row.reported_failures),
    complianceState: row.compliance_state,
    complianceReasons: stringsFromColumn(row.compliance_reasons),
    complianceChangedAt: row.compliance_changed_at,
    state: row.state,
  };
}

/** The columns of an updateRegistration change: only the fields present. */
function registrationChanges(change: RegistrationChange): Updateable<AppRegistrationsTable> {
  const set: Updateable<AppRegistrationsTable> = {};
  if (change.appVersion !== undefined) set.app_version = change.appVersion;
  if (change.sdkVersion !== undefined) set.sdk_version = change.sdkVersion;
  if (change.osVersion !== undefined) set.os_version = change.osVersion;
  if (change.deviceName !== undefined) set.device_name = change.deviceName;
  if (change.deviceModel !== undefined) set.device_model = change.deviceModel;
  if (change.deviceManufacturer !== undefined) set.device_manufacturer = change.deviceManufacturer;
  if (change.appliedPolicyId !== undefined) set.applied_policy_id = change.appliedPolicyId;
  if (change.appliedPolicyVersion !== undefined) set.applied_policy_version = change.appliedPolicyVersion;
  if (change.reportedFailures !== undefined) set.reported_failures = JSON.stringify(change.reportedFailures);
  if (change.complianceState !== undefined) set.compliance_state = change.complianceState;
  if (change.complianceReasons !== undefined) set.compliance_reasons = JSON.stringify(change.complianceReasons);
  if (change.complianceChangedAt !== undefined) set.compliance_changed_at = change.complianceChangedAt;
  if (change.state !== undefined) set.state = change.state;
  if (change.lastCheckInAt !== undefined) set.last_check_in_at = change.lastCheckInAt;
  if (change.clientId !== undefined) set.client_id = change.clientId;
  return set;
}

function operationToRow(o: AppOperationRecord): OperationRow {
  return {
    id: o.id,
    tenant_id: o.tenantId,
    registration_id: o.registrationId,
    user_id: o.userId,
    kind: o.kind,
    reason: o.reason,
    status: o.status,
    detail: o.detail,
    created_at: o.createdAt,
    completed_at: o.completedAt,
    expires_at: o.expiresAt,
  };
}

function operationFromRow(row: OperationRow): AppOperationRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    registrationId: row.registration_id,
    userId: row.user_id,
    kind: row.kind,
    reason: row.reason,
    status: row.status,
    detail: row.detail,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
  };
}

/** A graph_extras column (migration 015): a JSON object, `{}` for a row without extras. */
function graphExtrasFromColumn(column: string): Record<string, unknown> {
  return column === '{}' ? {} : (JSON.parse(column) as Record<string, unknown>);
}

function connectorToRow(c: MtdConnectorRecord): ConnectorRow {
  return {
    tenant_id: c.tenantId,
    id: c.id,
    partner_state: c.partnerState,
    last_heartbeat_at: c.lastHeartbeatAt,
    windows_mobile_application_management_enabled: booleanToColumn(c.windowsMobileApplicationManagementEnabled),
    windows_device_blocked_on_missing_partner_data: booleanToColumn(c.windowsDeviceBlockedOnMissingPartnerData),
    partner_unsupported_os_version_blocked: booleanToColumn(c.partnerUnsupportedOsVersionBlocked),
    partner_unresponsiveness_threshold_in_days: c.partnerUnresponsivenessThresholdInDays,
    graph_extras: JSON.stringify(c.graphExtras),
    version: c.version,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

function connectorFromRow(row: ConnectorRow): MtdConnectorRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    partnerState: row.partner_state,
    lastHeartbeatAt: row.last_heartbeat_at,
    windowsMobileApplicationManagementEnabled: booleanFromColumn(row.windows_mobile_application_management_enabled),
    windowsDeviceBlockedOnMissingPartnerData: booleanFromColumn(row.windows_device_blocked_on_missing_partner_data),
    partnerUnsupportedOsVersionBlocked: booleanFromColumn(row.partner_unsupported_os_version_blocked),
    partnerUnresponsivenessThresholdInDays: row.partner_unresponsiveness_threshold_in_days,
    graphExtras: graphExtrasFromColumn(row.graph_extras),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function threatReportToRow(r: ThreatReportRecord): ThreatReportRow {
  return {
    tenant_id: r.tenantId,
    connector_id: r.connectorId,
    user_id: r.userId,
    app_id: r.appId,
    azure_ad_device_id: r.azureAdDeviceId,
    health_state: r.healthState,
    reported_at: r.reportedAt,
    received_at: r.receivedAt,
  };
}

function threatReportFromRow(row: ThreatReportRow): ThreatReportRecord {
  return {
    tenantId: row.tenant_id,
    connectorId: row.connector_id,
    userId: row.user_id,
    appId: row.app_id,
    azureAdDeviceId: row.azure_ad_device_id,
    healthState: row.health_state,
    reportedAt: row.reported_at,
    receivedAt: row.received_at,
  };
}

function accessPolicyToRow(p: AccessPolicyRecord): AccessPolicyRow {
  return {
    tenant_id: p.tenantId,
    id: p.id,
    display_name: p.displayName,
    state: p.state,
    resources: JSON.stringify(p.resources),
    include_groups: JSON.stringify(p.includeGroups),
    exclude_groups: JSON.stringify(p.excludeGroups),
    include_all_users: booleanToColumn(p.includeAllUsers),
    approved_apps: JSON.stringify(p.approvedApps),
    grant_controls: JSON.stringify(p.grantControls),
    graph_extras: JSON.stringify(p.graphExtras),
    version: p.version,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

function accessPolicyFromRow(row: AccessPolicyRow): AccessPolicyRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    displayName: row.display_name,
    state: row.state,
    resources: stringsFromColumn(row.resources),
    includeGroups: stringsFromColumn(row.include_groups),
    excludeGroups: stringsFromColumn(row.exclude_groups),
    includeAllUsers: booleanFromColumn(row.include_all_users),
    approvedApps: stringsFromColumn(row.approved_apps),
    grantControls: JSON.parse(row.grant_controls) as AccessPolicyRecord['grantControls'],
    graphExtras: graphExtrasFromColumn(row.graph_extras),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function deviceComplianceToRow(r: DeviceComplianceRecord): DeviceComplianceRow {
  return { tenant_id: r.tenantId, azure_ad_device_id: r.azureAdDeviceId, compliant: booleanToColumn(r.compliant), reported_at: r.reportedAt };
}

function deviceComplianceFromRow(row: DeviceComplianceRow): DeviceComplianceRecord {
  return { tenantId: row.tenant_id, azureAdDeviceId: row.azure_ad_device_id, compliant: booleanFromColumn(row.compliant), reportedAt: row.reported_at };
}

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

/** The insert-or-update of upsertRegistration, inside the caller's transaction. */
async function upsertRegistrationWithin(trx: Transaction<Database>, registration: AppRegistrationRecord, displayName: string | null): Promise<AppRegistrationRecord> {
  const row = registrationToRow(registration);
  const changes = withoutColumns(row, ['id', 'created_at']);
  const stored = await trx
    .insertInto('app_registrations')
    .values(row)
    .onConflict((oc) => oc.columns(['tenant_id', 'user_id', 'app_id', 'device_tag']).where('state', '=', ACTIVE).doUpdateSet(changes))
    .returningAll()
    .executeTakeFirstOrThrow();
  // The registering token proved its user: a registration is a sighting (a check-in is not recorded: hot path).
  await recordUsersWithin(trx, [{ tenantId: registration.tenantId, id: registration.userId, userPrincipalName: registration.upn, displayName, at: registration.createdAt }]);
  return registrationFromRow(stored);
}

/**
 * How many active registrations the user holds, when that is `max` or more and `registration` would be a new one
 * (the upsert updates the same user, app and deviceTag in place: no new row); undefined when it may be written.
 * Counted on app_registrations_user (tenant_id, user_id), under the tenant row's lock registerOnDevice holds.
 */
async function activeRegistrationsOfUser(trx: Transaction<Database>, registration: AppRegistrationRecord, max: number): Promise<number | undefined> {
  const { n } = await trx
    .selectFrom('app_registrations')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('tenant_id', '=', registration.tenantId)
    .where('user_id', '=', registration.userId)
    .where('state', '=', ACTIVE)
    .executeTakeFirstOrThrow();
  const active = Number(n);
  if (active < max) return undefined;
  const same = await trx
    .selectFrom('app_registrations')
    .select('id')
    .where('tenant_id', '=', registration.tenantId)
    .where('user_id', '=', registration.userId)
    .where('app_id', '=', registration.appId)
    .where('device_tag', '=', registration.deviceTag)
    .where('state', '=', ACTIVE)
    .executeTakeFirst();
  return same === undefined ? active : undefined;
}

/**
 * Active registrations of other users than `userId` on the device: by deviceTag, or by a verified azureAdDeviceId
 * when the device's is verified. A device id no token vouched for holds no device: an unverified claim never locks
 * out the user whose token proves the device.
 */
function otherUsersQuery(db: Kysely<Database>, tenantId: string, userId: string, device: { deviceTag: string; azureAdDeviceId: string | null; azureAdDeviceIdVerified: boolean }) {
  return db
    .selectFrom('app_registrations')
    .selectAll()
    .where((eb) => {
      const { azureAdDeviceId } = device;
      const byTag = eb.and([eb('tenant_id', '=', tenantId), eb('device_tag', '=', device.deviceTag)]);
      if (azureAdDeviceId === null || !device.azureAdDeviceIdVerified) return byTag;
      return eb.or([byTag, eb.and([eb('tenant_id', '=', tenantId), eb('azure_ad_device_id', '=', azureAdDeviceId), eb('azure_ad_device_id_verified', '=', 1)])]);
    })
    .where('state', '=', ACTIVE)
    .where('user_id', '<>', userId)
    .orderBy('last_check_in_at', 'desc')
    .orderBy('id', 'asc');
}
