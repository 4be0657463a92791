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

/** Keeps passwords out of error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
