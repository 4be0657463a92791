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

/** The roles whose methods KyselyStore takes from a repository each (bindRoles), as they are: no field lists them again. */
type RoleMethods = TenantStore & EnrollmentStore & DeviceStore & ConfigurationStore & ManagementStore & GroupStore & UserStore & PolicyStore & WipLogStore & SecretStore;

/** The intersection of a union's members. */
type AllOf<U> = (U extends unknown ? (all: U) => void : never) extends (all: infer I) => void ? I : never;

/**
 * Sets each public method of each repository (those of its class: the roles it implements) on `store`, bound to the
 * repository, once: a call is the repository's own method, with no wrapper closure. The compiler checks that the
 * repositories together have every method of RoleMethods (else it names the `unbound` ones); a name the store has
 * already (a lifecycle method, another repository's) is refused, so nothing is shadowed silently.
 */
function bindRoles<const Repositories extends readonly object[]>(
  store: KyselyStore,
  repositories: Repositories & (AllOf<Repositories[number]> extends RoleMethods ? unknown : { unbound: Exclude<keyof RoleMethods, keyof AllOf<Repositories[number]>> }),
): void {
  for (const repository of repositories) {
    const prototype = Object.getPrototypeOf(repository) as object;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method: unknown = Reflect.get(prototype, name);
      if (name === 'constructor' || typeof method !== 'function') continue;
      if (name in store) throw new OpenMamError('internal', `the store has a method ${name} already`);
      Reflect.set(store, name, method.bind(repository));
    }
  }
}

/**
 * The one Store implementation, over SQLite or PostgreSQL: the connection, the StoreContext it lends every role
 * repository (repositories/), the lifecycle (migrate, ping, observeQueries, close and the tracking close() waits
 * for) and collection pages. Each method of a role is its repository's, bound once here (bindRoles): a call costs no
 * wrapper closure (the check-in's hot reads and writes included), and the ~80 consumers of `Store` see one object.
 * The role methods are declared once, in their role interfaces (roles.ts); the interface below merges them into
 * the class's type; the compiler checks that bindRoles covers them, and test/store/kysely-store.test.ts that each
 * is a function of a store.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- it adds RoleMethods to the class's type; bindRoles sets them, checked by the compiler
export interface KyselyStore extends RoleMethods {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
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
    bindRoles(this, [
      new KyselyTenantRepository(context),
      new KyselyEnrollmentRepository(context),
      new KyselyConfigurationRepository(context),
      new KyselyManagementRepository(context),
      new KyselyGroupRepository(context),
      new KyselyUserRepository(context),
      new KyselyPolicyRepository(context),
      new KyselyWipLogRepository(context),
      new KyselySecretRepository(context),
    ]);
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
