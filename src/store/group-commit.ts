import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Unit {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for a database with one writer (SQLite). Write transactions that arrive while a batch is being
 * committed wait, and then run together in one transaction: the commit (SQLite's WAL write) is most of the cost of
 * a small write, so concurrent enrollments and check-ins share it. Units run one after the other, seeing each other's
 * writes exactly as consecutive transactions would. When a unit fails, the whole batch is rolled back and every unit
 * is run again in a transaction of its own, so one failure never takes the others' writes with it.
 */
export class GroupCommit {
  /** Writes waiting for the next batch: one per write in flight, bounded by the requests in flight (see load shedding). */
  #pending: Unit[] = [];
  #flushing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 128,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.maxBatch);
      if (batch.length === 1 || !(await this.#together(batch))) await this.#oneByOne(batch);
    }
    this.#flushing = false;
  }

  /** Runs the batch in one transaction; false (nothing kept) when any unit failed. */
  async #together(batch: readonly Unit[]): Promise<boolean> {
    const results: unknown[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const unit of batch) results.push(await unit.work(trx));
      });
    } catch {
      return false;
    }
    batch.forEach((unit, i) => unit.resolve(results[i]));
    return true;
  }

  async #oneByOne(batch: readonly Unit[]): Promise<void> {
    for (const unit of batch) {
      try {
        unit.resolve(await this.db.transaction().execute(unit.work));
      } catch (error) {
        unit.reject(error);
      }
    }
  }
}
