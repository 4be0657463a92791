import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase as KyselySqliteDatabase, SqliteDialectConfig, SqliteStatement } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/sqlite';
import { OpenMamError } from '../errors.ts';
import { KyselyStore } from './kysely-store.ts';
import type { CommittedReader, DialectAdapter } from './kysely-store.ts';
import { QueryTiming } from './query-timing.ts';
import type { Database } from './schema.ts';

/** better-sqlite3 names the failed constraint in `code`, e.g. SQLITE_CONSTRAINT_UNIQUE. */
export const sqliteAdapter: DialectAdapter = {
  backend: 'sqlite',
  groupCommit: true,
  binaryType: 'blob',
  serialType: 'integer',
  jsonArrayFrom,
  isUniqueViolation: (err) => {
    const code = sqliteCode(err);
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  // Another process held the write lock past busy_timeout (https://www.sqlite.org/rescode.html#busy): try later.
  isUnavailable: (err) => {
    const code = sqliteCode(err);
    return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
  },
};

function sqliteCode(err: unknown): unknown {
  return err instanceof Error && 'code' in err ? err.code : undefined;
}

/**
 * Transactions take the write lock when they begin (BEGIN IMMEDIATE) instead of at their first write, so that a
 * read-then-write transaction waits (busy_timeout) for another process's writer rather than failing with
 * SQLITE_BUSY when it tries to upgrade its lock. All our transactions write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * Kysely's SQLite driver prepares every statement it runs; preparing costs as much as running a small statement.
 * Our queries come from a few dozen query shapes, so prepared statements are kept by SQL text and reused.
 */
export function withStatementCache(database: SqliteDatabase.Database, capacity = STATEMENT_CACHE_CAPACITY): KyselySqliteDatabase {
  const prepare = statementCache<SqliteStatement>((sql) => database.prepare(sql), capacity);
  return { close: () => database.close(), prepare };
}

/** Prepared statements kept per connection: a few dozen query shapes, with room for the variable-length IN lists. */
export const STATEMENT_CACHE_CAPACITY = 256;

/**
 * `prepare` through a cache by SQL text that keeps at most `capacity` statements: past it the oldest is dropped (a
 * statement built from data, such as an IN list of any length, must not grow it without bound).
 */
export function statementCache<S>(prepare: (sql: string) => S, capacity: number): (sql: string) => S {
  const statements = new Map<string, S>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
    }
    return statement;
  };
}

/**
 * A second connection, read-only, for the hot paths' reads (CommittedReader): in WAL mode it reads the last
 * committed state without waiting for the writer connection. Its statements are kept by SQL text too.
 */
function openCommittedReader(file: string): CommittedReader {
  const database = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  database.pragma('busy_timeout = 5000');
  // The hot paths' reads are compiled once (a handful of shapes), but the cache is bounded like the writer's anyway.
  const prepare = statementCache((sql) => {
    const statement = database.prepare<unknown[], unknown[]>(sql).raw(true);
    return { statement, toRow: rowBuilder(statement.columns().map((column) => column.name)) };
  }, STATEMENT_CACHE_CAPACITY);
  return {
    all<Row>(query: CompiledQuery<Row>, parameters: readonly unknown[]): Row[] {
      const prepared = prepare(query.sql);
      return prepared.statement.all(...parameters).map(prepared.toRow) as Row[];
    },
    close: () => database.close(),
  };
}

/**
 * Builds row objects from a statement's raw values. better-sqlite3 creates each row object property by property
 * through V8's API (about a third of a hot 30-column read); an object literal of fixed shape, compiled once per
 * statement from its own column names, costs a fraction of that. The names come from our SQL, quoted as JSON.
 */
function rowBuilder(names: readonly string[]): (values: unknown[]) => unknown {
  // In an object literal this key would set the prototype instead of a property.
  if (names.includes('__proto__')) throw new OpenMamError('internal', 'a column may not be named __proto__');
  const fields = names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(', ');
  return new Function('values', `return { ${fields} };`) as (values: unknown[]) => unknown;
}

/** Opens (creating it and its folder when missing) the SQLite database at `file`; `:memory:` for a throwaway one. */
export function openSqliteStore(file: string): KyselyStore {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SqliteDatabase(file);
  let reader: CommittedReader | undefined;
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    // An in-memory database is private to its connection: there, reads share the writer's.
    if (!inMemory) reader = openCommittedReader(file);
  } catch (err) {
    database.close();
    throw err;
  }
  const timing = new QueryTiming();
  return new KyselyStore(new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }), log: timing.log }), sqliteAdapter, reader, timing);
}

/**
 * An online backup of the SQLite database `file` into `destination` (a new file), while servers keep using it:
 * SQLite's backup API (https://www.sqlite.org/backup.html, better-sqlite3's `backup()`) copies a consistent snapshot,
 * committed transactions still in the -wal file included, which a plain copy of the file would miss. The source is
 * opened read-only and must exist; an existing destination is never overwritten.
 */
export async function backupSqliteDatabase(file: string, destination: string): Promise<{ pages: number }> {
  if (existsSync(destination)) throw new OpenMamError('conflict', `${path.resolve(destination)} exists: name a new file (a backup never overwrites one)`);
  const source = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    const { totalPages } = await source.backup(destination);
    return { pages: totalPages };
  } finally {
    source.close();
  }
}
