import { Migrator, sql } from 'kysely';
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { OpenMamError } from '../errors.ts';
import { GroupCommit } from './group-commit.ts';
import { migrations } from './migrations/index.ts';
import type { DeviceFacts, DeviceRecord, EnrollmentRecord, EnrollmentState, TenantRecord, TenantSettings } from './records.ts';
import type { EnrollmentInput, EnrollOutcome, SecretStore, Store } from './roles.ts';
import type { Database, DeviceFactColumns, DevicesTable, EnrollmentsTable, TenantsTable } from './schema.ts';

/**
 * Everything that differs between the databases, in one place. The queries below are the same for both; only these
 * answers change (see sqlite.ts and postgres.ts).
 */
export interface DialectAdapter {
  readonly backend: Store['backend'];
  /** True when `err` is the database refusing a row for a UNIQUE or PRIMARY KEY constraint. */
  isUniqueViolation(err: unknown): boolean;
  /** One writer (SQLite): concurrent write transactions share commits (group-commit.ts). */
  readonly groupCommit: boolean;
}

/**
 * How many times `enroll` starts over after losing a race (a concurrent enroll of the same device committed first,
 * or the active enrollment it was replacing got unenrolled meanwhile). Each retry reads what the winner wrote, so
 * one retry is enough in practice; the bound only guards against a livelock.
 */
const MAX_ENROLL_ATTEMPTS = 5;

/** Thrown inside the enroll transaction when the device's active enrollment is someone else's. Never leaves this module. */
class DeviceTaken extends Error {}

type TenantRow = Selectable<TenantsTable>;
type EnrollmentRow = Selectable<EnrollmentsTable>;
type DeviceRow = Selectable<DevicesTable>;

/** The one Store implementation, over SQLite or PostgreSQL. */
export class KyselyStore implements Store, SecretStore {
  readonly backend: Store['backend'];
  readonly #db: Kysely<Database>;
  readonly #dialect: DialectAdapter;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #groupCommit: GroupCommit | undefined;
  #closing: Promise<void> | undefined;

  constructor(db: Kysely<Database>, dialect: DialectAdapter) {
    this.#db = db;
    this.#dialect = dialect;
    this.backend = dialect.backend;
    this.#groupCommit = dialect.groupCommit ? new GroupCommit(db) : undefined;
  }

  /** A write transaction: batched with concurrent ones where the database has a single writer. */
  #write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#groupCommit ? this.#groupCommit.run(work) : this.#db.transaction().execute(work);
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

  updateTenant(
    id: string,
    change: { name?: string; enrollmentAllowed?: boolean; settings?: TenantSettings; updatedAt: number },
  ): Promise<TenantRecord> {
    return this.#track(async () => {
      const set: Updateable<TenantsTable> = { updated_at: change.updatedAt };
      if (change.name !== undefined) set.name = change.name;
      if (change.enrollmentAllowed !== undefined) set.enrollment_allowed = booleanToColumn(change.enrollmentAllowed);
      if (change.settings !== undefined) set.settings = JSON.stringify(change.settings);
      const row = await this.#db.updateTable('tenants').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      if (row === undefined) throw new OpenMamError('not_found', `tenant ${id} does not exist`);
      return tenantFromRow(row);
    });
  }

  // ---- EnrollmentStore

  enroll(input: EnrollmentInput, now: number): Promise<EnrollOutcome> {
    return this.#track(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#write((trx) => enrollWithin(trx, input, now));
        } catch (err) {
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

  markUnenrolled(id: string, now: number): Promise<boolean> {
    return this.#track(async () => {
      const result = await this.#db
        .updateTable('enrollments')
        .set({ state: 'unenrolled', unenrolled_at: now, updated_at: now })
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

  // ---- lifecycle

  migrate(): Promise<void> {
    return this.#track(async () => {
      const migrator = new Migrator({ db: this.#db, provider: { getMigrations: () => Promise.resolve({ ...migrations }) } });
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

  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      await this.#db.destroy();
    })();
    return this.#closing;
  }

  /** Runs `work` unless the store is closing, and remembers it until it settles so `close()` can wait for it. */
  #track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new OpenMamError('internal', 'the store is closed'));
    const running = work();
    this.#inflight.add(running);
    const forget = (): void => {
      this.#inflight.delete(running);
    };
    running.then(forget, forget);
    return running;
  }
}

/**
 * One attempt of `enroll`, inside its transaction, in two statements: upsert the device, then insert the enrollment
 * or, when the device already has an active one of the same tenant and user, update that one in place (an upsert on
 * the partial unique index enrollments_active_dev_id). No row back means the active enrollment belongs to someone
 * else: `DeviceTaken` rolls the device upsert back. A unique violation means a concurrent writer won: start over.
 */
async function enrollWithin(trx: Transaction<Database>, input: EnrollmentInput, now: number): Promise<EnrollOutcome> {
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
        }))
        .where('enrollments.tenant_id', '=', input.tenantId)
        .where('enrollments.user_oid', '=', input.userOid),
    )
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw new DeviceTaken();
  // An update keeps the existing id; an insert used ours.
  return { kind: 'enrolled', enrollment: enrollmentFromRow(row), replaced: row.id !== input.id };
}

/**
 * `state = 'enrolled'` is written as a literal, not a bound parameter: only then can SQLite (and PostgreSQL's
 * generic plans) prove the query matches the partial index enrollments_active_dev_id instead of scanning the table.
 */
const ACTIVE = sql.lit<EnrollmentState>('enrolled');

function activeEnrollmentRow(db: Kysely<Database>, devId: string): Promise<EnrollmentRow | undefined> {
  return db.selectFrom('enrollments').selectAll().where('dev_id', '=', devId).where('state', '=', ACTIVE).executeTakeFirst();
}

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

function booleanToColumn(value: boolean): number {
  return value ? 1 : 0;
}

function booleanFromColumn(value: number): boolean {
  return value !== 0;
}

function tenantToRow(tenant: TenantRecord): TenantRow {
  return {
    id: tenant.id,
    name: tenant.name,
    identity_provider: tenant.identityProvider,
    enrollment_allowed: booleanToColumn(tenant.enrollmentAllowed),
    settings: JSON.stringify(tenant.settings),
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
function enrollmentInputColumns(input: EnrollmentInput): Omit<EnrollmentRow, 'id' | 'state' | 'enroll_count' | 'created_at' | 'enrolled_at' | 'updated_at' | 'unenrolled_at'> {
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
