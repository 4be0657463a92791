import { sql } from 'kysely';
import type { CompiledQuery, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type {
  AppComplianceState,
  AppOperationRecord,
  AppOperationStatus,
  AppRegistrationRecord,
  RegistrationSummary,
  ThreatLevel,
} from '../app-protection-records.ts';
import type { AppRegistrationStore, CheckInState, DeviceRegistration } from '../app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import { batches, booleanFromColumn, booleanToColumn, compareKeys, lastByKey } from '../row-helpers.ts';
import type { AppRegistrationsTable, Database } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { recordUsersWithin } from '../user-sightings.ts';
import { ACTIVE, CompiledRead, PENDING, stringsFromColumn, withoutColumns } from './app-protection-shared.ts';
import { threatReportFromRow, type ThreatReportRow } from './threat.ts';

type RegistrationRow = Selectable<AppRegistrationsTable>;
type CheckInStateRow = RegistrationRow & {
  app_config_version: number;
  config_version: number;
  user_blocked: number | boolean;
  has_pending: number | boolean;
  /** The device's threat reports as a JSON array: text on SQLite, parsed by the driver on PostgreSQL. */
  threat_reports: string | ThreatReportRow[];
};
type RegistrationChange = Parameters<AppRegistrationStore['updateRegistration']>[1];

/** Every threat level, in Graph's order of severity (the summary answers each, 0 when none). */
const THREAT_LEVELS: readonly ThreatLevel[] = ['secured', 'low', 'medium', 'high'];

/** Most rows of one bulk check-in update (2 parameters each). */
const MAX_CHECKIN_BATCH = 256;

/**
 * Managed app registrations, over KyselyStore's database and write path. A check-in's hot reads (getCheckInState,
 * getRegistration) are one indexed query each, compiled once.
 */
export class KyselyAppRegistrationRepository implements AppRegistrationStore {
  readonly #context: StoreContext;

  readonly #registrationById = new CompiledRead<RegistrationRow>(
    (db) => db.selectFrom('app_registrations').selectAll().where('id', '=', '').compile(),
    1,
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

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** An upsert on the partial unique index app_registrations_active_key: concurrent calls never make two active ones. */
  upsertRegistration(registration: AppRegistrationRecord, displayName: string | null = null): Promise<AppRegistrationRecord> {
    return this.#context.track(() => this.#context.write((trx) => upsertRegistrationWithin(trx, registration, displayName)));
  }

  registerOnDevice(registration: AppRegistrationRecord, displayName: string | null = null, maxActivePerUser?: number): Promise<DeviceRegistration> {
    return this.#context.track(() =>
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
    return this.#context.track(async () => {
      const [row] = await this.#registrationById.run(this.#context, [id]);
      return row === undefined ? undefined : registrationFromRow(row);
    });
  }

  getCheckInState(registrationId: string): Promise<CheckInState | undefined> {
    return this.#context.track(async () => {
      const [row] = await this.#checkInState.run(this.#context, [registrationId]);
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
    return this.#context.track(async () => {
      const set = registrationChanges(change);
      if (Object.keys(set).length === 0) {
        return (await this.#registrationById.run(this.#context, [id])).length > 0;
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
    return this.#context.track(async () => {
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
    return this.#context.track(async () => {
      let query = this.#context.db.selectFrom('app_registrations').selectAll().where('tenant_id', '=', tenantId);
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
    return this.#context.track(async () => {
      const active = this.#context.db.selectFrom('app_registrations').where('tenant_id', '=', tenantId).where('state', '=', ACTIVE);
      const [states, deployed, wipes, threats] = await Promise.all([
        active.select(['compliance_state', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('compliance_state').execute(),
        // Distinct (policy, user) pairs first, then counted: both databases read the pairs in order from
        // app_registrations_applied_policy, where count(distinct) made PostgreSQL sort them (bench:console).
        this.#context.db
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
        this.#context.db
          .selectFrom('app_operations')
          .where('tenant_id', '=', tenantId)
          .where('status', '=', sql.lit<AppOperationStatus>('pending'))
          .where('kind', '=', sql.lit<AppOperationRecord['kind']>('wipe'))
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirst(),
        // The newest report of each device, in the order listThreatReports reads them (a window function: SQLite 3.25+, PostgreSQL).
        this.#context.db
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
    return this.#context.track(async () => (await otherUsersQuery(this.#context.db, tenantId, userId, device).execute()).map(registrationFromRow));
  }

  /** One transaction; the last change of an id wins; unknown ids are ignored. */
  setCompliance(changes: readonly { id: string; state: AppComplianceState; reasons: string[]; changedAt: number }[]): Promise<void> {
    return this.#context.track(async () => {
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

  async queryRegistrations(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AppRegistrationRecord>> {
    const page = await this.#context.queryCollection<RegistrationRow>(collections.APP_REGISTRATIONS, tenantId, query);
    return { ...page, rows: page.rows.map(registrationFromRow) };
  }
}

// ---- rows <-> records

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
 * Counted on app_registrations_user_state (tenant_id, user_id, state: migration 028), under the tenant row's lock
 * registerOnDevice holds.
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
