import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { SignInRecord } from '../app-protection-records.ts';
import type { StoreContext } from '../store-context.ts';
import { batches, booleanFromColumn, booleanToColumn } from '../row-helpers.ts';
import { recordUsersWithin } from '../user-sightings.ts';
import type { UserSighting } from '../records.ts';
import type { Database, SignInsTable } from '../schema.ts';
import type { SignInStore } from '../app-protection-roles.ts';

type SignInRow = Selectable<SignInsTable>;

/** The columns in the order every insert binds them. */
const COLUMNS = [
  'tenant_id',
  'id',
  'created_at',
  'user_id',
  'user_principal_name',
  'app_id',
  'app_display_name',
  'windows_app_id',
  'resource_id',
  'resource_display_name',
  'device_id',
  'device_id_verified',
  'registration_id',
  'ip_address',
  'correlation_id',
  'decision',
  'reasons',
  'conditional_access_status',
  'applied_policies',
] as const satisfies readonly (keyof SignInsTable)[];

/**
 * Rows of one multi-row insert: 512 x 19 = 9,728 parameters, far below SQLite's 32,766 and PostgreSQL's 65,535. A
 * power of two, so `batches` gives at most 10 statement shapes, each compiled once here and prepared once by
 * sqlite.ts's statement cache.
 */
const MAX_INSERT_BATCH = 512;
/** Most rows one purge transaction drops: the single SQLite writer is never held long. */
const PURGE_BATCH = 2048;

/**
 * The sign-in log's storage (SignInStore in app-protection-roles.ts), over KyselyStore's database, write path (group
 * commit on SQLite) and lifecycle, which exposes it as `signIns`. Appends are the hot part (a batch per second or
 * more under load): each batch size's INSERT is compiled once and run with the rows' values, not rebuilt by the
 * query builder per batch.
 */
/** How long a user recorded from the log is not recorded again (same UPN). */
const SIGHTING_INTERVAL_MS = 15 * 60 * 1000;
/** Bound of the recent-sightings map: cleared when full (a user is then recorded once more, never lost). */
const MAX_RECENT_SIGHTINGS = 100_000;

export class KyselySignInStore implements SignInStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'write' | 'track' | 'queryCollection'>;
  /** The insert of n rows, by n: at most MAX_INSERT_BATCH entries. */
  readonly #inserts = new Map<number, CompiledQuery>();
  /** Users this node recorded from the log, with the UPN and time it recorded: see #unrecordedSightings. */
  readonly #recentSightings = new Map<string, { upn: string | null; at: number }>();
  readonly #maxRecentSightings: number;

  constructor(db: Kysely<Database>, context: Pick<StoreContext, 'write' | 'track' | 'queryCollection'>, options: { maxRecentSightings?: number } = {}) {
    this.#db = db;
    this.#context = context;
    this.#maxRecentSightings = options.maxRecentSightings ?? MAX_RECENT_SIGHTINGS;
  }

  appendSignIns(records: readonly SignInRecord[]): Promise<void> {
    return this.#context.track(async () => {
      if (records.length === 0) return;
      const seen = this.#unrecordedSightings(records);
      await this.#context.write(async (trx) => {
        for (const batch of batches(records, MAX_INSERT_BATCH)) {
          const parameters: unknown[] = [];
          for (const record of batch) pushRow(parameters, record);
          await trx.executeQuery({ ...this.#insertOf(batch.length), parameters });
        }
        // Each decision's user came from a verified token: the log's users are known users, in the same transaction.
        if (seen.length > 0) await recordUsersWithin(trx, seen);
      });
      // Only once committed: a batch that failed is written again, its users with it.
      for (const s of seen) {
        if (this.#recentSightings.size >= this.#maxRecentSightings) this.#recentSightings.clear();
        this.#recentSightings.set(`${s.tenantId}\n${s.id}`, { upn: s.userPrincipalName, at: s.at ?? 0 });
      }
    });
  }

  /**
   * The users of `records` this node has not recorded in the last SIGHTING_INTERVAL_MS with the same UPN: a user
   * decided on all day would otherwise rewrite their users row with every batch (measured by bench:access: an upsert
   * of ~128 users per batch of 128 decisions, 5-10% of a decision's CPU on SQLite). A user's last-seen time from the
   * log is so at most that much behind; enrollments and registrations still record theirs at once.
   */
  #unrecordedSightings(records: readonly SignInRecord[]): UserSighting[] {
    const sightings: UserSighting[] = [];
    for (const r of records) {
      if (r.userId === null) continue;
      const key = `${r.tenantId}\n${r.userId}`;
      const recorded = this.#recentSightings.get(key);
      if (recorded !== undefined && recorded.upn === r.userPrincipalName && r.createdAt - recorded.at < SIGHTING_INTERVAL_MS) continue;
      sightings.push({ tenantId: r.tenantId, id: r.userId, userPrincipalName: r.userPrincipalName, displayName: null, at: r.createdAt });
    }
    return sightings;
  }

  async querySignIns(tenantId: string, query: CollectionQuery): Promise<CollectionPage<SignInRecord>> {
    const page = await this.#context.queryCollection<SignInRow>(collections.SIGN_INS, tenantId, query);
    return { ...page, rows: page.rows.map(signInFromRow) };
  }

  getSignIn(tenantId: string, id: string): Promise<SignInRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('sign_ins').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : signInFromRow(row);
    });
  }

  /**
   * Tenant by tenant, oldest first, in transactions of at most PURGE_BATCH rows, each found through the page index
   * (tenant_id, created_at): no index on created_at alone is kept just for the purge.
   */
  purgeSignIns(before: number): Promise<number> {
    return this.#context.track(async () => {
      let purged = 0;
      const tenants = await this.#db.selectFrom('tenants').select('id').execute();
      for (const { id: tenantId } of tenants) {
        for (;;) {
          const deleted = await this.#context.write((trx) =>
            trx
              .deleteFrom('sign_ins')
              .where('tenant_id', '=', tenantId)
              .where('id', 'in', (eb) =>
                eb.selectFrom('sign_ins').select('id').where('tenant_id', '=', tenantId).where('created_at', '<', before).orderBy('created_at', 'asc').limit(PURGE_BATCH),
              )
              .executeTakeFirst(),
          );
          purged += Number(deleted.numDeletedRows);
          if (deleted.numDeletedRows < BigInt(PURGE_BATCH)) break;
        }
      }
      return purged;
    });
  }

  /** The INSERT of `rows` rows, compiled on first use; its parameters are COLUMNS row by row. */
  #insertOf(rows: number): CompiledQuery {
    let compiled = this.#inserts.get(rows);
    if (compiled === undefined) {
      const placeholder = Object.fromEntries(COLUMNS.map((column) => [column, null])) as unknown as SignInRow;
      compiled = this.#db.insertInto('sign_ins').values(Array.from({ length: rows }, () => placeholder)).compile();
      if (compiled.parameters.length !== rows * COLUMNS.length) {
        throw new OpenMamError('internal', `the sign-in insert binds ${compiled.parameters.length} parameters, expected ${rows * COLUMNS.length}`);
      }
      this.#inserts.set(rows, compiled);
    }
    return compiled;
  }
}

/** Appends the record's values in COLUMNS order. */
function pushRow(parameters: unknown[], r: SignInRecord): void {
  parameters.push(
    r.tenantId,
    r.id,
    r.createdAt,
    r.userId,
    r.userPrincipalName,
    r.appId,
    r.appDisplayName,
    r.windowsAppId,
    r.resourceId,
    r.resourceDisplayName,
    r.deviceId,
    booleanToColumn(r.deviceIdVerified),
    r.registrationId,
    r.ipAddress,
    r.correlationId,
    r.decision,
    JSON.stringify(r.reasons),
    r.conditionalAccessStatus,
    JSON.stringify(r.appliedPolicies),
  );
}

function signInFromRow(row: SignInRow): SignInRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    createdAt: Number(row.created_at),
    userId: row.user_id,
    userPrincipalName: row.user_principal_name,
    appId: row.app_id,
    appDisplayName: row.app_display_name,
    windowsAppId: row.windows_app_id,
    resourceId: row.resource_id,
    resourceDisplayName: row.resource_display_name,
    deviceId: row.device_id,
    deviceIdVerified: booleanFromColumn(row.device_id_verified),
    registrationId: row.registration_id,
    ipAddress: row.ip_address,
    correlationId: row.correlation_id,
    decision: row.decision,
    reasons: JSON.parse(row.reasons) as string[],
    conditionalAccessStatus: row.conditional_access_status,
    appliedPolicies: JSON.parse(row.applied_policies) as SignInRecord['appliedPolicies'],
  };
}
