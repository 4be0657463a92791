import type { CompiledQuery, LogEvent } from 'kysely';
import type { QueryKind, QueryObserver } from './roles.ts';

/** The statement kinds Kysely builds, by the root node of its query tree: no SQL text is read or labelled. */
const NODE_KINDS: Readonly<Record<string, QueryKind>> = {
  SelectQueryNode: 'select',
  InsertQueryNode: 'insert',
  UpdateQueryNode: 'update',
  DeleteQueryNode: 'delete',
};

/** A raw statement (`sql\`...\``, the drivers' begin/commit) by its first word: a handful of values, never the text. */
const RAW_VERBS: Readonly<Record<string, QueryKind>> = {
  select: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
  begin: 'transaction',
  commit: 'transaction',
  rollback: 'transaction',
  savepoint: 'transaction',
  release: 'transaction',
};

export function queryKindOf(query: CompiledQuery): QueryKind {
  const kind = NODE_KINDS[query.query.kind];
  if (kind !== undefined) return kind;
  const verb = /^\s*([a-z]+)/i.exec(query.sql)?.[1]?.toLowerCase();
  return (verb === undefined ? undefined : RAW_VERBS[verb]) ?? 'other';
}

/**
 * Each query's kind and duration for a store's observer (the metrics' store latency histogram). Kysely measures every
 * query it runs when given a `log` function (kysely.dev "Logging": `queryDurationMillis`); `log` is that function,
 * handed to Kysely when the store is opened, before anyone observes: until `observe` is called it does nothing.
 * Reads that bypass Kysely (SQLite's committed reader) are timed by the store with `observed` and `record`.
 */
export class QueryTiming {
  #observer: QueryObserver | undefined;

  observe(observer: QueryObserver | undefined): void {
    this.#observer = observer;
  }

  readonly log = (event: LogEvent): void => {
    this.#observer?.(queryKindOf(event.query), event.queryDurationMillis / 1000, event.level === 'error');
  };

  /** Whether anyone observes: a read that bypasses Kysely reads the clock only then. */
  get observed(): boolean {
    return this.#observer !== undefined;
  }

  /** A read that bypassed Kysely (SQLite's committed reader) ran from `startedAt` (`performance.now()`) until now. */
  record(query: CompiledQuery, startedAt: number, failed: boolean): void {
    this.#observer?.(queryKindOf(query), (performance.now() - startedAt) / 1000, failed);
  }
}
