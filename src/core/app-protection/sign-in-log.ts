import { randomUUID } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import type { SignInRecord } from '../../store/app-protection-records.ts';
import type { SignInStore } from '../../store/app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import type { ActivitySink } from '../activity-rollups.ts';
import { WriteBehind } from '../write-behind.ts';

/** Entra keeps sign-in logs 30 days (P1/P2): learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention. */
export const DEFAULT_SIGN_IN_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A sign-in record's id: a UUID version 7 (RFC 9562 §5.7: 48 bits of Unix milliseconds, then random bits), so ids
 * of a tenant grow with time. Records must use it: the store's primary key is (tenant_id, id), and random (v4) ids
 * would scatter every insert over the whole index (about 6 times the write cost on SQLite: migration 011).
 * Built on randomUUID, whose entropy Node draws in bulk (a randomFillSync per id cost more than the whole insert): its
 * first 48 bits become the time, its version nibble 7; its variant bits are already RFC 9562's.
 */
export function newSignInId(now: number): string {
  const uuid = randomUUID();
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${uuid.slice(15)}`;
}

export interface SignInLogOptions {
  store: SignInStore;
  /** A failed write (retried) or a purge failure; also told when entries are dropped. */
  onError: (error: unknown) => void;
  /** Records older than this are purged (default 30 days). */
  retentionDays?: number;
  /** A write at least this often while entries wait (default 1000 ms). */
  intervalMs?: number;
  /**
   * Entries per store write; a write starts as soon as this many wait (default 128). Small enough that a write on
   * SQLite, which runs on the event loop, holds requests up for about 2 ms rather than 9 (500 rows), and a power of
   * two, so that a full batch is one multi-row INSERT (the store splits into powers of two): bench:sign-in-log.
   */
  batchSize?: number;
  /** Most entries kept while writes fail; beyond it the oldest are dropped and counted (default 100,000). */
  maxPending?: number;
  /** Hourly activity: each decision counted by result as it is recorded (none when absent). */
  activity?: ActivitySink;
}

/**
 * The sign-in log: every access decision, as Entra's sign-in log records a sign-in (Graph `signIn`), written behind
 * the request path (core/write-behind.ts). `record` is synchronous, never throws and never waits for the store: it
 * appends to a bounded in-memory queue, written in batches of `batchSize` every `intervalMs`, or at once when a
 * batch is full. A failed write puts its batch back at the head of the queue and is retried at the next interval
 * (not sooner, so an outage is not a busy loop); entries are lost only beyond `maxPending`, oldest first, and are
 * counted (`droppedCount`). A record appears in `query` once written: within a second or so, on every node.
 */
export class SignInLog extends WriteBehind<SignInRecord[]> {
  readonly #store: SignInStore;
  readonly #onError: (error: unknown) => void;
  readonly #retentionMs: number;
  readonly #batchSize: number;
  readonly #maxPending: number;
  readonly #activity: ActivitySink | undefined;
  /** A queue: entries from `#head` on are pending, oldest first (shift() per entry would copy the array). */
  #items: SignInRecord[] = [];
  #head = 0;
  #dropped = 0;
  /** Drops not yet told to onError: one message per write attempt, not one per entry. */
  #droppedUnreported = 0;

  constructor(options: SignInLogOptions) {
    super(options.onError, options.intervalMs ?? 1000);
    this.#store = options.store;
    this.#onError = options.onError;
    this.#retentionMs = (options.retentionDays ?? DEFAULT_SIGN_IN_RETENTION_DAYS) * DAY_MS;
    this.#batchSize = Math.max(1, options.batchSize ?? 128);
    this.#maxPending = Math.max(this.#batchSize, options.maxPending ?? 100_000);
    this.#activity = options.activity;
  }

  /** Buffers one decision's record (kept by reference: the caller hands it over). */
  record(entry: SignInRecord): void {
    this.#activity?.count(entry.tenantId, entry.decision === 'allow' ? 'accessAllowed' : 'accessDenied', entry.createdAt);
    this.#items.push(entry);
    if (this.pendingCount > this.#maxPending) this.#dropOldest(this.pendingCount - this.#maxPending);
    if (this.pendingCount >= this.#batchSize) this.flushSoon();
    else this.schedule();
  }

  get pendingCount(): number {
    return this.#items.length - this.#head;
  }

  /** Entries lost because the buffer bound was exceeded while writes failed, since start. */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** One page of a tenant's records. */
  query(tenantId: string, query: CollectionQuery): Promise<CollectionPage<SignInRecord>> {
    return this.#store.querySignIns(tenantId, query);
  }

  /** One of the tenant's records; `not_found` for another tenant's id, as for an unknown one. */
  async get(tenantId: string, id: string): Promise<SignInRecord> {
    const record = await this.#store.getSignIn(tenantId, id);
    if (record === undefined) throw new OpenMamError('not_found', `no signIn ${id}`);
    return record;
  }

  /** Drops records older than the retention period; how many. */
  purge(now: number): Promise<number> {
    return this.#store.purgeSignIns(now - this.#retentionMs);
  }

  protected take(): SignInRecord[] | undefined {
    if (this.pendingCount === 0) return undefined;
    this.#reportDrops();
    const end = Math.min(this.#items.length, this.#head + this.#batchSize);
    let batch: SignInRecord[];
    if (this.#head === 0 && end === this.#items.length) {
      // The usual case (a batch or less waiting): hand the array over rather than copy it.
      batch = this.#items;
      this.#items = [];
    } else {
      batch = this.#items.slice(this.#head, end);
      this.#head = end;
      this.#compact();
    }
    return batch;
  }

  protected sizeOf(batch: SignInRecord[]): number {
    return batch.length;
  }

  /** At the head again (older than what arrived meanwhile), then the bound applies. */
  protected giveBack(batch: SignInRecord[]): void {
    this.#items = batch.concat(this.#items.slice(this.#head));
    this.#head = 0;
    if (this.pendingCount > this.#maxPending) this.#dropOldest(this.pendingCount - this.#maxPending);
  }

  protected write(batch: SignInRecord[]): Promise<void> {
    return this.#store.appendSignIns(batch);
  }

  #dropOldest(count: number): void {
    this.#head += count;
    this.#dropped += count;
    this.#droppedUnreported += count;
    this.#compact();
  }

  /** Releases the consumed head once it is most of the array (amortised: each entry is copied at most once more). */
  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  #reportDrops(): void {
    if (this.#droppedUnreported === 0) return;
    const count = this.#droppedUnreported;
    this.#droppedUnreported = 0;
    this.#onError(new OpenMamError('internal', `the sign-in log dropped its ${count} oldest unwritten entries (${this.#dropped} since start): writes failed longer than its buffer of ${this.#maxPending} holds`));
  }
}
