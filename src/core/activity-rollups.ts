import { ACTIVITY_COUNTERS, type ActivityCounter, type ActivityCounts, type ActivityHourRecord } from '../store/records.ts';
import type { ActivityStore } from '../store/roles.ts';
import { WriteBehind } from './write-behind.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** The console plots 30 days at most; 90 are kept, as the issue asks (and as Intune keeps most of its report history). */
export const ACTIVITY_RETENTION_DAYS = 90;
/** Hours dropped per purge: one bounded transaction, however many tenants aged out at once. */
const PURGE_LIMIT = 4096;

/** Where the hot paths count what they did (the OMA-DM session engine, app check-ins, the sign-in log). */
export interface ActivitySink {
  count(tenantId: string, counter: ActivityCounter, at: number): void;
}

export interface ActivityRollupsOptions {
  store: Pick<ActivityStore, 'addActivity' | 'purgeActivity'>;
  /** A failed write (retried) or purge; also told when counts are dropped. */
  onError: (error: unknown) => void;
  clock: () => number;
  /** A write at least this often while counts wait (default 1000 ms, as the other write-behind buffers). */
  intervalMs?: number;
  retentionDays?: number;
  /** Most (tenant, hour) buckets kept while writes fail; counts for a new bucket beyond it are dropped and counted. */
  maxPending?: number;
}

/**
 * Per-tenant hourly activity (the console's plots), counted in memory and written behind (core/write-behind.ts): a
 * count is a map update, never a write, so a steady check-in still writes nothing on its request path. Every
 * interval, the buckets counted since the last flush go to the store in one upsert that adds to the stored counters,
 * so every node's flushes add up. A failed write merges its buckets back (nothing is counted twice: a batch is
 * written whole or not at all); the buffer holds one bucket per tenant and hour, bounded by `maxPending`. At most once
 * an hour, after a successful write, hours older than the retention are purged (bounded; a purge failure is only
 * reported: the counts it followed are written).
 */
export class ActivityRollups extends WriteBehind<ActivityHourRecord[]> implements ActivitySink {
  readonly #store: ActivityRollupsOptions['store'];
  readonly #onError: (error: unknown) => void;
  readonly #clock: () => number;
  readonly #retentionMs: number;
  readonly #maxPending: number;
  #pending = new Map<string, ActivityHourRecord>();
  #lastPurge = Number.NEGATIVE_INFINITY;
  #dropped = 0;
  /** Drops not yet told to onError: one message per write, not one per count. */
  #droppedUnreported = 0;

  constructor(options: ActivityRollupsOptions) {
    super(options.onError, options.intervalMs ?? 1000);
    this.#store = options.store;
    this.#onError = options.onError;
    this.#clock = options.clock;
    this.#retentionMs = (options.retentionDays ?? ACTIVITY_RETENTION_DAYS) * DAY_MS;
    this.#maxPending = Math.max(1, options.maxPending ?? 100_000);
  }

  count(tenantId: string, counter: ActivityCounter, at: number): void {
    const bucket = this.#bucket(tenantId, Math.floor(at / HOUR_MS) * HOUR_MS, 1);
    if (bucket === undefined) return;
    bucket.counts[counter]++;
    this.schedule();
  }

  /** Counts dropped because the buffer was full (writes failing for long, with many tenants). */
  get droppedCount(): number {
    return this.#dropped;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  protected take(): ActivityHourRecord[] | undefined {
    if (this.#pending.size === 0) return undefined;
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    return batch;
  }

  protected sizeOf(batch: ActivityHourRecord[]): number {
    return batch.length;
  }

  /** Added back into the buffer, with whatever was counted meanwhile. */
  protected giveBack(batch: ActivityHourRecord[]): void {
    for (const record of batch) {
      const bucket = this.#bucket(record.tenantId, record.hourStart, ACTIVITY_COUNTERS.reduce((sum, counter) => sum + record.counts[counter], 0));
      if (bucket === undefined) continue;
      for (const counter of ACTIVITY_COUNTERS) bucket.counts[counter] += record.counts[counter];
    }
  }

  protected async write(batch: ActivityHourRecord[]): Promise<void> {
    if (this.#droppedUnreported > 0) {
      this.#onError(new Error(`activity rollups: ${this.#droppedUnreported} counts dropped while writes failed (buffer full)`));
      this.#droppedUnreported = 0;
    }
    await this.#store.addActivity(batch);
    const now = this.#clock();
    if (now - this.#lastPurge < HOUR_MS) return;
    this.#lastPurge = now;
    try {
      await this.#store.purgeActivity(now - this.#retentionMs, PURGE_LIMIT);
    } catch (error) {
      // Not thrown: the batch is written, and giving it back would count it twice.
      this.#onError(error);
    }
  }

  /** The bucket of (tenant, hour), created when there is room; otherwise `counts` are dropped and counted. */
  #bucket(tenantId: string, hourStart: number, counts: number): ActivityHourRecord | undefined {
    const key = `${tenantId}\n${hourStart}`;
    let bucket = this.#pending.get(key);
    if (bucket === undefined) {
      if (this.#pending.size >= this.#maxPending) {
        this.#dropped += counts;
        this.#droppedUnreported += counts;
        return undefined;
      }
      bucket = { tenantId, hourStart, counts: zeroCounts() };
      this.#pending.set(key, bucket);
    }
    return bucket;
  }
}

function zeroCounts(): ActivityCounts {
  return Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, 0])) as ActivityCounts;
}
