import { OpenMamError } from '../errors.ts';
import { openPostgresStore } from './postgres.ts';
import type { SecretStore, Store } from './roles.ts';
import { openSqliteStore } from './sqlite.ts';

export interface OpenStoreOptions {
  /** PostgreSQL only: keep the tables in this schema (created when missing). Tests use it for isolation. */
  postgresSchema?: string;
}

/**
 * Opens the store `databaseUrl` names and applies pending migrations: `sqlite:<file>` (the folder is created) or a
 * `postgres://` / `postgresql://` URL. Anything else is an `invalid_configuration`.
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store & SecretStore> {
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
