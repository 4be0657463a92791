import { sql } from 'kysely';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { DeviceFacts, DeviceManagementState, DeviceRecord, EnrollmentRecord } from '../records.ts';
import type { DeviceStore, EnrollmentInput, EnrollmentStore, EnrollOutcome } from '../roles.ts';
import type { Database, DeviceFactColumns, DevicesTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { recordUsersWithin } from '../user-sightings.ts';
import { cancelPendingDeviceActionsWithin } from './device-actions-store.ts';
import { ACTIVE, deviceFactsFromColumns, enrollmentFromRow } from './shared.ts';
import type { EnrollmentRow } from './shared.ts';

type DeviceRow = Selectable<DevicesTable>;

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

/** MAM enrollments and the devices they were made on (EnrollmentStore, DeviceStore). */
export class KyselyEnrollmentRepository implements EnrollmentStore, DeviceStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'queryCollection' | 'isUniqueViolation'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'queryCollection' | 'isUniqueViolation'>) {
    this.#db = context.db;
    this.#context = context;
  }

  enroll(input: EnrollmentInput, now: number, displayName: string | null = null, maxActivePerUser?: number): Promise<EnrollOutcome> {
    return this.#context.track(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#context.write((trx) => enrollWithin(trx, input, now, displayName, maxActivePerUser));
        } catch (err) {
          if (err instanceof UserLimit) return { kind: 'user_limit', active: err.active };
          if (err instanceof DeviceTaken) {
            // Nothing was written. Answer from the enrollment that holds the device, unless it went away meanwhile.
            const holder = await activeEnrollmentRow(this.#db, input.devId);
            if (holder !== undefined && (holder.tenant_id !== input.tenantId || holder.user_oid !== input.userOid)) {
              return { kind: 'device_taken', existing: enrollmentFromRow(holder) };
            }
          } else if (!this.#context.isUniqueViolation(err)) {
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
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : enrollmentFromRow(row);
    });
  }

  getActiveEnrollmentByDevId(devId: string): Promise<EnrollmentRecord | undefined> {
    return this.#context.track(async () => {
      const row = await activeEnrollmentRow(this.#db, devId);
      return row === undefined ? undefined : enrollmentFromRow(row);
    });
  }

  listEnrollments(tenantId: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]> {
    return this.#context.track(async () => {
      const limit = Math.max(0, Math.floor(options.limit));
      let query = this.#db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId);
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      const rows = await query.orderBy('enrolled_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(enrollmentFromRow);
    });
  }

  async queryManagedDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>> {
    const page = await this.#context.queryCollection<EnrollmentRow>(collections.MANAGED_DEVICES, tenantId, query);
    return { ...page, rows: page.rows.map(enrollmentFromRow) };
  }

  async queryRetiredDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>> {
    const page = await this.#context.queryCollection<EnrollmentRow>(collections.RETIRED_DEVICES, tenantId, query);
    return { ...page, rows: page.rows.map(enrollmentFromRow) };
  }

  listEnrollmentsOfUser(tenantId: string, userOid: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]> {
    return this.#context.track(async () => {
      let query = this.#db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId).where('user_oid', '=', userOid);
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      const rows = await query.orderBy('enrolled_at', 'desc').orderBy('id', 'desc').limit(Math.max(0, Math.floor(options.limit))).execute();
      return rows.map(enrollmentFromRow);
    });
  }

  markUnenrolled(id: string, now: number): Promise<boolean> {
    return this.#context.track(async () => {
      const result = await this.#db
        .updateTable('enrollments')
        .set({ state: 'unenrolled', unenrolled_at: now, updated_at: now, unenroll_reason: 'user' })
        .where('id', '=', id)
        .where('state', '=', ACTIVE)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  getDevice(devId: string): Promise<DeviceRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('devices').selectAll().where('dev_id', '=', devId).executeTakeFirst();
      return row === undefined ? undefined : deviceFromRow(row);
    });
  }
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
    // enrollments of one user count one after the other. Then the user's active enrollments on other devices, from
    // the user's own index entries (enrollments_user_state, migration 028), never the tenant's.
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
