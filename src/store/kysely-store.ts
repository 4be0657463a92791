import { Migrator, sql } from 'kysely';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { jsonArrayFrom } from 'kysely/helpers/sqlite';
import { OpenMamError } from '../errors.ts';
import type { AppProtectionStore, SignInStore } from './app-protection-roles.ts';
import { kyselyAppProtectionStore } from './app-protection-store.ts';
import type { AuditStore } from './audit-records.ts';
import type { CollectionPage, CollectionQuery, CollectionSource } from './collection-query.ts';
import { queryCollection } from './collection-sql.ts';
import type { ComplianceStore } from './compliance-records.ts';
import { GroupCommit } from './group-commit.ts';
import type { HealthAttestationStore } from './health-attestation-records.ts';
import { migrations } from './migrations/index.ts';
import type { SchemaDialect } from './migrations/index.ts';
import { QueryTiming } from './query-timing.ts';
import type {
  ActivityStore,
  AssignmentFilterStore,
  ConfigurationStore,
  DeviceActionStore,
  DevicePictureStore,
  DeviceStore,
  EnrollmentStore,
  GroupStore,
  ManagementStore,
  PolicyStore,
  QueryObserver,
  SecretStore,
  Store,
  TenantStore,
  UserStore,
  WipLogStore,
} from './roles.ts';
import { KyselyActivityStore } from './repositories/activity-store.ts';
import { KyselyAssignmentFilterStore } from './repositories/assignment-filter-store.ts';
import { KyselyAuditStore } from './repositories/audit-store.ts';
import { KyselyComplianceStore } from './repositories/compliance-store.ts';
import { KyselyConfigurationRepository } from './repositories/configuration.ts';
import { KyselyDeviceActionStore } from './repositories/device-actions-store.ts';
import { KyselyDevicePictureStore } from './repositories/device-picture-store.ts';
import { KyselyEnrollmentRepository } from './repositories/enrollments.ts';
import { KyselyGroupRepository } from './repositories/groups.ts';
import { KyselyHealthAttestationStore } from './repositories/health-attestation-store.ts';
import { KyselyManagementRepository } from './repositories/management.ts';
import { KyselyPolicyRepository } from './repositories/policies.ts';
import { KyselySecretRepository } from './repositories/secrets.ts';
import { KyselySignInStore } from './repositories/sign-in-store.ts';
import { KyselyTenantRepository } from './repositories/tenants.ts';
import { KyselyUserRepository } from './repositories/users.ts';
import { KyselyWipLogRepository } from './repositories/wip-logs.ts';
import type { Database } from './schema.ts';
import type { StoreContext } from './store-context.ts';
import { undoable } from './versioned-write.ts';

/**
 * Everything that differs between the databases, in one place. The queries (repositories/) are the same for both;
 * only these answers change (see sqlite.ts and postgres.ts).
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

/**
 * The one Store implementation, over SQLite or PostgreSQL: the connection, the StoreContext it lends every role
 * repository (repositories/), the lifecycle (migrate, ping, observeQueries, close and the tracking close() waits
 * for) and collection pages. Each method of a role is its repository's, bound once here: a call costs no wrapper
 * closure (the check-in's hot reads and writes included), and the ~80 consumers of `Store` see one object.
 */
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

  // Each role's methods, bound to its repository in the constructor.
  // TenantStore (repositories/tenants.ts)
  readonly getTenant: TenantStore['getTenant'];
  readonly listTenants: TenantStore['listTenants'];
  readonly createTenant: TenantStore['createTenant'];
  readonly updateTenant: TenantStore['updateTenant'];

  // EnrollmentStore (repositories/enrollments.ts)
  readonly enroll: EnrollmentStore['enroll'];
  readonly getEnrollment: EnrollmentStore['getEnrollment'];
  readonly getActiveEnrollmentByDevId: EnrollmentStore['getActiveEnrollmentByDevId'];
  readonly listEnrollments: EnrollmentStore['listEnrollments'];
  readonly queryManagedDevices: EnrollmentStore['queryManagedDevices'];
  readonly queryRetiredDevices: EnrollmentStore['queryRetiredDevices'];
  readonly listEnrollmentsOfUser: EnrollmentStore['listEnrollmentsOfUser'];
  readonly markUnenrolled: EnrollmentStore['markUnenrolled'];

  // DeviceStore (repositories/enrollments.ts)
  readonly getDevice: DeviceStore['getDevice'];

  // ConfigurationStore (repositories/configuration.ts)
  readonly putConfigurationSet: ConfigurationStore['putConfigurationSet'];
  readonly deleteConfigurationSet: ConfigurationStore['deleteConfigurationSet'];
  readonly getConfigurationSet: ConfigurationStore['getConfigurationSet'];
  readonly configurationSetsFor: ConfigurationStore['configurationSetsFor'];
  readonly getConfigurationVersion: ConfigurationStore['getConfigurationVersion'];

  // ManagementStore (repositories/management.ts)
  readonly getManagedDevice: ManagementStore['getManagedDevice'];
  readonly getNodeStates: ManagementStore['getNodeStates'];
  readonly getNodeStatesOf: ManagementStore['getNodeStatesOf'];
  readonly getManagementStatesOf: ManagementStore['getManagementStatesOf'];
  readonly getSession: ManagementStore['getSession'];
  readonly applySyncOutcome: ManagementStore['applySyncOutcome'];
  readonly recordCheckins: ManagementStore['recordCheckins'];
  readonly listInventory: ManagementStore['listInventory'];
  readonly setMessageLogUntil: ManagementStore['setMessageLogUntil'];
  readonly appendMessageLog: ManagementStore['appendMessageLog'];
  readonly listMessageLog: ManagementStore['listMessageLog'];

  // GroupStore (repositories/groups.ts)
  readonly createGroup: GroupStore['createGroup'];
  readonly getGroup: GroupStore['getGroup'];
  readonly listGroups: GroupStore['listGroups'];
  readonly queryGroups: GroupStore['queryGroups'];
  readonly updateGroup: GroupStore['updateGroup'];
  readonly deleteGroup: GroupStore['deleteGroup'];
  readonly addGroupMember: GroupStore['addGroupMember'];
  readonly removeGroupMember: GroupStore['removeGroupMember'];
  readonly listGroupMembers: GroupStore['listGroupMembers'];
  readonly groupsOfMember: GroupStore['groupsOfMember'];
  readonly listGroupsOfMember: GroupStore['listGroupsOfMember'];
  readonly groupsOfMembers: GroupStore['groupsOfMembers'];

  // UserStore (repositories/users.ts)
  readonly queryUsers: UserStore['queryUsers'];
  readonly getUser: UserStore['getUser'];
  readonly getUserByPrincipalName: UserStore['getUserByPrincipalName'];
  readonly recordUsers: UserStore['recordUsers'];

  // PolicyStore (repositories/policies.ts)
  readonly createPolicy: PolicyStore['createPolicy'];
  readonly updatePolicy: PolicyStore['updatePolicy'];
  readonly getPolicy: PolicyStore['getPolicy'];
  readonly listPolicies: PolicyStore['listPolicies'];
  readonly queryPolicies: PolicyStore['queryPolicies'];
  readonly deletePolicy: PolicyStore['deletePolicy'];
  readonly queryManagedAppPolicies: PolicyStore['queryManagedAppPolicies'];

  // WipLogStore (repositories/wip-logs.ts)
  readonly requestWipLogs: WipLogStore['requestWipLogs'];
  readonly pendingWipLogRequests: WipLogStore['pendingWipLogRequests'];
  readonly listWipLogRequests: WipLogStore['listWipLogRequests'];

  // SecretStore (repositories/secrets.ts)
  readonly getOrCreateSecret: SecretStore['getOrCreateSecret'];
  readonly deleteSecretsOlderThan: SecretStore['deleteSecretsOlderThan'];

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
    const tenants = new KyselyTenantRepository(context);
    this.getTenant = tenants.getTenant.bind(tenants);
    this.listTenants = tenants.listTenants.bind(tenants);
    this.createTenant = tenants.createTenant.bind(tenants);
    this.updateTenant = tenants.updateTenant.bind(tenants);
    const enrollments = new KyselyEnrollmentRepository(context);
    this.enroll = enrollments.enroll.bind(enrollments);
    this.getEnrollment = enrollments.getEnrollment.bind(enrollments);
    this.getActiveEnrollmentByDevId = enrollments.getActiveEnrollmentByDevId.bind(enrollments);
    this.listEnrollments = enrollments.listEnrollments.bind(enrollments);
    this.queryManagedDevices = enrollments.queryManagedDevices.bind(enrollments);
    this.queryRetiredDevices = enrollments.queryRetiredDevices.bind(enrollments);
    this.listEnrollmentsOfUser = enrollments.listEnrollmentsOfUser.bind(enrollments);
    this.markUnenrolled = enrollments.markUnenrolled.bind(enrollments);
    this.getDevice = enrollments.getDevice.bind(enrollments);
    const configuration = new KyselyConfigurationRepository(context);
    this.putConfigurationSet = configuration.putConfigurationSet.bind(configuration);
    this.deleteConfigurationSet = configuration.deleteConfigurationSet.bind(configuration);
    this.getConfigurationSet = configuration.getConfigurationSet.bind(configuration);
    this.configurationSetsFor = configuration.configurationSetsFor.bind(configuration);
    this.getConfigurationVersion = configuration.getConfigurationVersion.bind(configuration);
    const management = new KyselyManagementRepository(context);
    this.getManagedDevice = management.getManagedDevice.bind(management);
    this.getNodeStates = management.getNodeStates.bind(management);
    this.getNodeStatesOf = management.getNodeStatesOf.bind(management);
    this.getManagementStatesOf = management.getManagementStatesOf.bind(management);
    this.getSession = management.getSession.bind(management);
    this.applySyncOutcome = management.applySyncOutcome.bind(management);
    this.recordCheckins = management.recordCheckins.bind(management);
    this.listInventory = management.listInventory.bind(management);
    this.setMessageLogUntil = management.setMessageLogUntil.bind(management);
    this.appendMessageLog = management.appendMessageLog.bind(management);
    this.listMessageLog = management.listMessageLog.bind(management);
    const groups = new KyselyGroupRepository(context);
    this.createGroup = groups.createGroup.bind(groups);
    this.getGroup = groups.getGroup.bind(groups);
    this.listGroups = groups.listGroups.bind(groups);
    this.queryGroups = groups.queryGroups.bind(groups);
    this.updateGroup = groups.updateGroup.bind(groups);
    this.deleteGroup = groups.deleteGroup.bind(groups);
    this.addGroupMember = groups.addGroupMember.bind(groups);
    this.removeGroupMember = groups.removeGroupMember.bind(groups);
    this.listGroupMembers = groups.listGroupMembers.bind(groups);
    this.groupsOfMember = groups.groupsOfMember.bind(groups);
    this.listGroupsOfMember = groups.listGroupsOfMember.bind(groups);
    this.groupsOfMembers = groups.groupsOfMembers.bind(groups);
    const users = new KyselyUserRepository(context);
    this.queryUsers = users.queryUsers.bind(users);
    this.getUser = users.getUser.bind(users);
    this.getUserByPrincipalName = users.getUserByPrincipalName.bind(users);
    this.recordUsers = users.recordUsers.bind(users);
    const policies = new KyselyPolicyRepository(context);
    this.createPolicy = policies.createPolicy.bind(policies);
    this.updatePolicy = policies.updatePolicy.bind(policies);
    this.getPolicy = policies.getPolicy.bind(policies);
    this.listPolicies = policies.listPolicies.bind(policies);
    this.queryPolicies = policies.queryPolicies.bind(policies);
    this.deletePolicy = policies.deletePolicy.bind(policies);
    this.queryManagedAppPolicies = policies.queryManagedAppPolicies.bind(policies);
    const wipLogs = new KyselyWipLogRepository(context);
    this.requestWipLogs = wipLogs.requestWipLogs.bind(wipLogs);
    this.pendingWipLogRequests = wipLogs.pendingWipLogRequests.bind(wipLogs);
    this.listWipLogRequests = wipLogs.listWipLogRequests.bind(wipLogs);
    const secrets = new KyselySecretRepository(context);
    this.getOrCreateSecret = secrets.getOrCreateSecret.bind(secrets);
    this.deleteSecretsOlderThan = secrets.deleteSecretsOlderThan.bind(secrets);
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
   * The single write path of every repository: a write transaction, carrying the audit event attached by
   * `audit.attach` when there is one (inserted after `work` succeeded, in the same transaction:
   * repositories/audit-store.ts).
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

  /** One page of a collection of the admin API: see collection-sql.ts. */
  queryCollection<Row>(source: CollectionSource, tenantId: string, query: CollectionQuery): Promise<CollectionPage<Row>> {
    return this.#track(() => queryCollection<Row>(this.#db as Kysely<unknown>, this.backend, source, tenantId, query));
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
