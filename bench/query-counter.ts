import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

/**
 * Counts the statements a process sends to its database, at the drivers (better-sqlite3's Statement and pg's Client),
 * so that every path is counted: Kysely's executor, the SQLite committed reader's raw prepared statements (they bypass
 * Kysely, so Kysely's `log` hook would miss them), transaction control (BEGIN, COMMIT) and the buffered writes
 * flushed behind the requests. A benchmark server installs it once at start; the benchmark reads a snapshot before and
 * after its steady phase (over IPC, see `answerQueryCountRequests`) and divides the difference by the requests
 * answered: queries per steady request (issue 16's target: 1).
 *
 * Cost: one Map lookup and one increment per statement (the Map is keyed by the statement's SQL text, a few dozen
 * shapes), against the 5-30 µs a statement takes.
 */

/** Statements sent so far, by SQL text (whitespace collapsed, at most 160 characters). */
export type QueryCounts = Record<string, number>;

/** Statements counted, by SQL text: one cell each. */
const counts = new Map<string, { n: number }>();
/**
 * The cell of each better-sqlite3 statement object, so a counted call costs a WeakMap lookup: reading `source` makes a
 * new string of the SQL, and hashing it for the Map cost microseconds per statement (a share of a steady request's CPU
 * that the base of an interleaved comparison does not pay).
 */
const statementCells = new WeakMap<object, { n: number }>();
let installed = false;

function cellOf(sql: string): { n: number } {
  let cell = counts.get(sql);
  if (cell === undefined) {
    cell = { n: 0 };
    counts.set(sql, cell);
  }
  return cell;
}

function count(sql: string): void {
  cellOf(sql).n++;
}

function countStatement(statement: { source: string }): void {
  let cell = statementCells.get(statement);
  if (cell === undefined) {
    cell = cellOf(statement.source);
    statementCells.set(statement, cell);
  }
  cell.n++;
}

/** Patches the two drivers' statement methods, once per process. Statements run before it are not counted. */
export function installQueryCounter(): void {
  // BENCH_COUNT_QUERIES=0: no counting (queries per request then read 0), for comparing CPU with a base that has none.
  if (installed || process.env['BENCH_COUNT_QUERIES'] === '0') return;
  installed = true;
  // better-sqlite3 exports no Statement class: reach its prototype through a statement of a throwaway database.
  const scratch = new SqliteDatabase(':memory:');
  const statementPrototype = Object.getPrototypeOf(scratch.prepare('select 1')) as Record<'run' | 'get' | 'all' | 'iterate', (...args: unknown[]) => unknown> & { source: string };
  scratch.close();
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = statementPrototype[method];
    statementPrototype[method] = function (this: { source: string }, ...args: unknown[]): unknown {
      countStatement(this);
      return original.apply(this, args);
    };
  }
  // Kysely's PostgresDriver (and pg.Pool#query) send every statement through Client#query, in text or config form.
  const clientPrototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = clientPrototype.query;
  clientPrototype.query = function (this: unknown, ...args: unknown[]): unknown {
    const [first] = args;
    count(typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'text' in first ? String(first.text) : '(unknown)');
    return query.apply(this, args);
  };
}

/** What has been counted so far, by statement (SQL text normalised: whitespace collapsed, cut at 160 characters). */
export function queryCounts(): QueryCounts {
  const snapshot: QueryCounts = {};
  for (const [sql, { n }] of counts) {
    const key = sql.replace(/\s+/g, ' ').trim().slice(0, 160);
    snapshot[key] = (snapshot[key] ?? 0) + n;
  }
  return snapshot;
}

/** The message a benchmark sends a server child over IPC to ask for its counts, and the answer's shape. */
export const QUERY_COUNT_REQUEST = 'openmam-bench:query-counts';
export interface QueryCountAnswer {
  type: typeof QUERY_COUNT_REQUEST;
  counts: QueryCounts;
}

/** In a server child started with an IPC channel (child-server.ts): answers each request with `queryCounts()`. */
export function answerQueryCountRequests(): void {
  process.on('message', (message: unknown) => {
    if (message === QUERY_COUNT_REQUEST) process.send?.({ type: QUERY_COUNT_REQUEST, counts: queryCounts() } satisfies QueryCountAnswer);
  });
}

/** The statements sent between two snapshots: total, by kind (the statement's first word) and the busiest shapes. */
export interface QueryDelta {
  total: number;
  byKind: Record<string, number>;
  top: { sql: string; count: number }[];
}

export function queryDelta(before: QueryCounts, after: QueryCounts, topN = 8): QueryDelta {
  const byKind: Record<string, number> = {};
  const shapes: { sql: string; count: number }[] = [];
  let total = 0;
  for (const [sql, n] of Object.entries(after)) {
    const delta = n - (before[sql] ?? 0);
    if (delta <= 0) continue;
    total += delta;
    const kind = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'other';
    byKind[kind] = (byKind[kind] ?? 0) + delta;
    shapes.push({ sql, count: delta });
  }
  shapes.sort((a, b) => b.count - a.count);
  return { total, byKind, top: shapes.slice(0, topN) };
}

/** "1.00 per request (select 1.00, insert 0.00 ...)" for a log line. */
export function describeQueries(delta: QueryDelta, requests: number): string {
  const per = (n: number): string => (n / Math.max(1, requests)).toFixed(3);
  const kinds = Object.entries(delta.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${per(n)}`)
    .join(', ');
  return `${per(delta.total)} store queries per request (${kinds || 'none'})`;
}
