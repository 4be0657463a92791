import { existsSync } from 'node:fs';
import path from 'node:path';
import { isOpenMamError, OpenMamError } from '../errors.ts';
import { openPostgresStore, postgresAdapter } from './postgres.ts';
import type { SecretStore, Store } from './roles.ts';
import { openSqliteStore, sqliteAdapter } from './sqlite.ts';

export interface OpenStoreOptions {
  /** PostgreSQL only: keep the tables in this schema (created when missing). Tests use it for isolation. */
  postgresSchema?: string;
  /**
   * How long to keep trying while the database cannot be reached (a node started before its database, or during a
   * restart), in milliseconds; 0 (the default): fail at once. `onWait` hears each failed attempt.
   */
  waitMs?: number;
  onWait?: (error: unknown, attempt: number) => void;
  /**
   * false: create no database (a command that acts on the server's data, such as minting a token, must not start a
   * new empty installation because its settings point elsewhere): an SQLite file that does not exist is a
   * `not_found`, and neither it nor its folder is created. PostgreSQL never creates a database (a missing one is
   * 3D000); an existing, empty one is migrated as a node would, since `openmam token` may take part in a cluster's
   * first start (test/fault/first-start.postgres.test.ts). Default true (the server's start creates and migrates).
   */
  create?: boolean;
}

/** Pauses between attempts to reach the database at start: doubling from 250 ms, at most 5 s. */
const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 5000;

/**
 * Opens the store `databaseUrl` names and applies pending migrations: `sqlite:<file>` (the folder is created) or a
 * `postgres://` / `postgresql://` URL. Anything else is an `invalid_configuration`. While the database cannot be
 * reached it tries again, for `waitMs` at most; any other failure ends it at once.
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store & SecretStore> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    try {
      return await openAndMigrate(databaseUrl, options);
    } catch (err) {
      if (!unreachable(err) || Date.now() >= deadline) throw err;
      options.onWait?.(err, attempt);
      const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 1), Math.max(0, deadline - Date.now()));
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** The database (or its lock) could not be had: the error, or what it wraps (a failed migration), says so. */
function unreachable(err: unknown): boolean {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if (isOpenMamError(cause) && cause.code === 'upstream_unavailable') return true;
    if (postgresAdapter.isUnavailable(cause) || sqliteAdapter.isUnavailable(cause)) return true;
  }
  return false;
}

async function openAndMigrate(databaseUrl: string, options: OpenStoreOptions): Promise<Store & SecretStore> {
  const store = await openBackend(databaseUrl, options);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

function openBackend(databaseUrl: string, options: OpenStoreOptions): Promise<Store & SecretStore> | (Store & SecretStore) {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file === '') throw new OpenMamError('invalid_configuration', 'the database URL "sqlite:" names no file; use sqlite:<file>');
    if (options.create === false && file !== ':memory:' && !existsSync(file)) {
      throw new OpenMamError('not_found', `no database at ${path.resolve(file)}: start the server once (openmam serve), or give this command the server's settings (OPENMAM_DATA_DIR, OPENMAM_DATABASE_URL)`);
    }
    return openSqliteStore(file);
  }
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    return openPostgresStore(databaseUrl, options.postgresSchema === undefined ? {} : { schema: options.postgresSchema });
  }
  throw new OpenMamError(
    'invalid_configuration',
    `unsupported database URL "${redact(databaseUrl)}": use sqlite:<file> or postgres://user@host:port/database`,
  );
}

/**
 * A failure of `openStore`, said in one line that names the cause and what to do about it, for a start (the server's,
 * or a CLI command's) to print: "database migration failed" alone leaves an operator guessing. The driver's error
 * stays the `cause`; `openStore` itself throws the driver's errors as they are (callers classify them).
 * Codes: Node's system errors, SQLite's result codes (https://www.sqlite.org/rescode.html) and PostgreSQL's SQLSTATEs
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html), looked for along the cause chain. An error this
 * module already phrased for the operator (an exposed OpenMamError) passes unchanged.
 */
export function explainOpenFailure(err: unknown, databaseUrl: string): unknown {
  if (isOpenMamError(err) && err.expose) return err;
  const root = rootCause(err);
  // Kysely's migrator refuses a database that ran a migration this release does not have (migrator.js #ensureNoMissingMigrations).
  const unknownMigration = root instanceof Error ? /^corrupted migrations: previously executed migration (\S+) is missing/.exec(root.message) : null;
  if (unknownMigration) {
    return new OpenMamError(
      'invalid_configuration',
      `the database was migrated by a newer OpenMAM release (migration ${unknownMigration[1]} is not one of this release's): run that release or a newer one, or restore the backup taken before the upgrade`,
      { cause: err },
    );
  }
  const explained = databaseUrl.startsWith('sqlite:') ? explainSqlite(err, databaseUrl.slice('sqlite:'.length)) : explainPostgres(err, databaseUrl);
  if (explained !== undefined) return new OpenMamError('invalid_configuration', explained, { cause: err });
  // Unrecognised: still one line, with what failed and the underlying reason (not only "migration failed").
  const what = err instanceof Error ? err.message : String(err);
  const message = root !== err && root instanceof Error && root.message !== what ? `${what}: ${root.message}` : what;
  return new OpenMamError('internal', `${message} (${redact(databaseUrl)})`, { cause: err, expose: true });
}

const SET_URL = 'check OPENMAM_DATABASE_URL';

function explainSqlite(err: unknown, file: string): string | undefined {
  const full = path.resolve(file);
  const code = firstCode(err);
  switch (code) {
    case 'ENOTDIR':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'EEXIST':
      return `cannot create the SQLite database's folder ${path.dirname(full)} (${code}): make it a writable folder, or ${SET_URL} (or OPENMAM_DATA_DIR)`;
    case 'SQLITE_CANTOPEN':
      return `cannot open the SQLite database ${full} (SQLITE_CANTOPEN: a folder has that name, or its folder is not writable): ${SET_URL}`;
    case 'SQLITE_NOTADB':
      return `${full} is not an SQLite database (SQLITE_NOTADB): restore it from a backup (docs/operations.md) or ${SET_URL}`;
    case 'SQLITE_CORRUPT':
      return `the SQLite database ${full} is damaged (SQLITE_CORRUPT): restore it from a backup (docs/operations.md)`;
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_IOERR':
      return `cannot write the SQLite database ${full} or its -wal and -shm files beside it (${code}): give the server write access to them and their folder`;
    case 'SQLITE_BUSY':
      return `the SQLite database ${full} stayed locked by another process (SQLITE_BUSY): SQLite serves one host; stop the other process, or use PostgreSQL for several nodes`;
    default:
      return undefined;
  }
}

function explainPostgres(err: unknown, databaseUrl: string): string | undefined {
  const target = postgresTarget(databaseUrl);
  const code = firstCode(err);
  const serverSays = (): string => {
    const root = rootCause(err);
    return root instanceof Error ? root.message : String(root);
  };
  switch (code) {
    case 'ECONNREFUSED':
      return `PostgreSQL at ${target.address} refused the connection (ECONNREFUSED): start it, or ${SET_URL} (host and port); OPENMAM_DATABASE_WAIT sets how long a start waits for it`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the PostgreSQL host "${target.host}" (${code}): ${SET_URL}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `PostgreSQL at ${target.address} cannot be reached (${code}): check the network and firewall, or ${SET_URL}`;
    case '28P01':
      return `PostgreSQL refused the password of user "${target.user}" (28P01): correct it in OPENMAM_DATABASE_URL (postgres://user:password@host:port/database, special characters percent-encoded)`;
    case '28000':
      return `PostgreSQL refused user "${target.user}" on database "${target.database}" (28000: ${serverSays()}): create the role, or add a pg_hba.conf entry for this host, user and database`;
    case '3D000':
      return `the PostgreSQL database "${target.database}" does not exist at ${target.address} (3D000): create it (createdb -h ${target.host} -p ${target.port} -U ${target.user} ${target.database}) or ${SET_URL}`;
    case '42501':
      return `PostgreSQL user "${target.user}" may not create or change OpenMAM's tables (42501: ${serverSays()}): make it the database's owner, or grant it CREATE on the schema`;
    case '53300':
      return `PostgreSQL at ${target.address} has no connection to spare (53300 too_many_connections): raise max_connections or stop other clients`;
    case '57P03':
      return `PostgreSQL at ${target.address} is starting up or shutting down (57P03): start OpenMAM again once it accepts connections, or raise OPENMAM_DATABASE_WAIT`;
    default:
      return undefined;
  }
}

/** The first `code` along the cause chain (an AggregateError of several addresses carries the shared one too). */
function firstCode(err: unknown): string | undefined {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if ('code' in cause && typeof cause.code === 'string' && !isOpenMamError(cause)) return cause.code;
  }
  return undefined;
}

function rootCause(err: unknown): unknown {
  let cause = err;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  return cause;
}

/** Host, port, user and database as pg reads them from the URL (its defaults: localhost, 5432, the user's name). */
function postgresTarget(databaseUrl: string): { host: string; port: string; address: string; user: string; database: string } {
  const url = new URL(databaseUrl);
  const host = url.hostname === '' ? 'localhost' : url.hostname;
  const port = url.port === '' ? '5432' : url.port;
  const user = decodeURIComponent(url.username) || (process.env['PGUSER'] ?? process.env['USER'] ?? 'postgres');
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  return { host, port, address: `${host}:${port}`, user, database };
}

/** Keeps passwords out of error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
