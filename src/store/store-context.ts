import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { jsonArrayFrom } from 'kysely/helpers/sqlite';
import type { CollectionPage, CollectionQuery, CollectionSource } from './collection-query.ts';
import type { Database } from './schema.ts';

/**
 * What KyselyStore lends every repository, built once in its constructor, so that all of them share one connection,
 * one write path and one lifecycle: the write transaction (group commit on SQLite, carrying an attached audit event),
 * the in-flight tracking (close() waits for running work, then refuses) and the dialect's few differences. A
 * repository takes the narrowest `Pick` of it that it needs.
 */
export interface StoreContext {
  readonly db: Kysely<Database>;
  /** The dialect's JSON array of a subquery's rows (DialectAdapter). */
  readonly jsonArrayFrom: typeof jsonArrayFrom;
  /** True when `err` is the database refusing a row for a UNIQUE or PRIMARY KEY constraint (DialectAdapter). */
  isUniqueViolation(err: unknown): boolean;
  /**
   * The single write path: a write transaction, batched with concurrent ones where the database has a single writer,
   * carrying the audit event attached by `audit.attach` when there is one (repositories/audit-store.ts).
   */
  write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * `write`, where `work` may undo its own unit by throwing `Undo(outcome)` (versioned-write.ts): only this unit is
   * rolled back, under group commit too, and the outcome is answered (a failed compare-and-set, a row not there).
   */
  undoable<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Runs `work` unless the store is closing, and keeps it until it settles so that close() can wait for it. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** A compiled read of committed data, off the writer's queue where the database allows it (CommittedReader). */
  read<Row>(query: CompiledQuery<Row>, parameters: readonly unknown[]): Promise<Row[]>;
  /** One page of a collection (collection-sql.ts), tracked like every read. */
  queryCollection<Row>(source: CollectionSource, tenantId: string, query: CollectionQuery): Promise<CollectionPage<Row>>;
}
