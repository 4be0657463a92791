import { sql, type Selectable } from 'kysely';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import { ACTIVITY_HOURS } from '../collections.ts';
import type { StoreContext } from '../store-context.ts';
import { ACTIVITY_COUNTERS, type ActivityCounter, type ActivityHourRecord } from '../records.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { ActivityStore } from '../roles.ts';
import type { ActivityHoursTable } from '../schema.ts';

type ActivityHourRow = Selectable<ActivityHoursTable>;
type CounterColumn = Exclude<keyof ActivityHoursTable, 'tenant_id' | 'hour_start'>;

/** Each counter's column, declared once: the upsert, the row mapper and the table's type follow it. */
const COLUMN_OF = {
  appCheckIns: 'app_check_ins',
  omaDmSessions: 'oma_dm_sessions',
  accessAllowed: 'access_allowed',
  accessDenied: 'access_denied',
  compliantCheckIns: 'compliant_check_ins',
  noncompliantCheckIns: 'noncompliant_check_ins',
} as const satisfies Record<ActivityCounter, CounterColumn>;

/** Rows of one multi-row upsert: 256 x 8 = 2,048 parameters, far below both databases' limits; a power of two (row-helpers `batches`). */
const MAX_UPSERT_BATCH = 256;

/**
 * The activity rollups' storage (ActivityStore in roles.ts), over KyselyStore's database, write path (group commit on
 * SQLite) and lifecycle, which exposes it as `activity`. A flush is one upsert per 256 hours that adds its counts to
 * the stored ones (`INSERT ... ON CONFLICT (tenant_id, hour_start) DO UPDATE SET c = c + excluded.c`, which SQLite
 * and PostgreSQL both take), so that concurrent nodes' flushes add up without reading.
 */
export class KyselyActivityStore implements ActivityStore {
  readonly #context: Pick<StoreContext, 'write' | 'track' | 'queryCollection'>;

  constructor(context: Pick<StoreContext, 'write' | 'track' | 'queryCollection'>) {
    this.#context = context;
  }

  addActivity(records: readonly ActivityHourRecord[]): Promise<void> {
    return this.#context.track(async () => {
      const rows = mergedRows(records);
      if (rows.length === 0) return;
      await this.#context.write(async (trx) => {
        for (const batch of batches(rows, MAX_UPSERT_BATCH)) {
          await trx
            .insertInto('activity_hours')
            .values(batch)
            .onConflict((conflict) =>
              conflict
                .columns(['tenant_id', 'hour_start'])
                .doUpdateSet(
                  Object.fromEntries(
                    Object.values(COLUMN_OF).map((column) => [column, sql<number>`${sql.ref(`activity_hours.${column}`)} + ${sql.ref(`excluded.${column}`)}`]),
                  ) as Record<CounterColumn, ReturnType<typeof sql<number>>>,
                ),
            )
            .execute();
        }
      });
    });
  }

  async queryActivityHours(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ActivityHourRecord>> {
    const page = await this.#context.queryCollection<ActivityHourRow>(ACTIVITY_HOURS, tenantId, query);
    return { ...page, rows: page.rows.map(activityFromRow) };
  }

  /** The oldest hours first, found through `activity_hours_hour`; one bounded transaction. */
  purgeActivity(before: number, limit: number): Promise<number> {
    return this.#context.track(async () => {
      const result = await this.#context.write((trx) =>
        sql`delete from activity_hours where (tenant_id, hour_start) in (select tenant_id, hour_start from activity_hours where hour_start < ${before} order by hour_start limit ${limit})`.execute(trx),
      );
      return Number(result.numAffectedRows ?? 0);
    });
  }
}

/** One row per (tenant, hour), counts summed, in key order (a multi-row upsert may not touch a row twice; writers lock in one order). */
function mergedRows(records: readonly ActivityHourRecord[]): ActivityHourRow[] {
  const merged = new Map<string, ActivityHourRow>();
  for (const record of records) {
    const key = `${record.tenantId}\n${String(record.hourStart).padStart(16, '0')}`;
    let row = merged.get(key);
    if (row === undefined) {
      row = { tenant_id: record.tenantId, hour_start: record.hourStart, app_check_ins: 0, oma_dm_sessions: 0, access_allowed: 0, access_denied: 0, compliant_check_ins: 0, noncompliant_check_ins: 0 };
      merged.set(key, row);
    }
    for (const counter of ACTIVITY_COUNTERS) row[COLUMN_OF[counter]] += record.counts[counter];
  }
  return [...merged].sort(([a], [b]) => compareKeys(a, b)).map(([, row]) => row);
}

function activityFromRow(row: ActivityHourRow): ActivityHourRecord {
  const counts = Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, Number(row[COLUMN_OF[counter]])])) as Record<ActivityCounter, number>;
  return { tenantId: row.tenant_id, hourStart: Number(row.hour_start), counts };
}
