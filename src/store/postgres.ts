import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { OpenMamError } from '../errors.ts';
import { KyselyStore } from './kysely-store.ts';
import type { DialectAdapter } from './kysely-store.ts';
import { QueryTiming } from './query-timing.ts';
import type { Database } from './schema.ts';

const INT8_OID = 20;
const UNIQUE_VIOLATION = '23505';
const DUPLICATE_SCHEMA = '42P06';

/**
 * SQLSTATEs that mean "the database is not there right now", not "this statement is wrong"
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html): class 08 (connection exception), 57P01
 * admin_shutdown (a restart, pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
 * shutting down), 53300 too_many_connections.
 */
const UNAVAILABLE_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket errors of a connection that could not be made or was cut. */
const UNAVAILABLE_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * pg reports a lost or unobtainable connection with plain Errors and no code: these are its messages (pg 8
 * client.js and pg-pool index.js), matched by their stable beginnings.
 */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly)/;

/** How long a request waits for a pooled connection (or to open one) before it is answered "try later". */
const CONNECT_TIMEOUT_MS = 5_000;

export interface PostgresStoreOptions {
  /** Schema to keep the tables in (created when missing), via the connection's search_path. Default: the server's. */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
}

function sqlState(err: unknown): unknown {
  return err instanceof Error && 'code' in err ? err.code : undefined;
}

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = sqlState(err);
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_SOCKET_ERRORS.has(code))) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}

export const postgresAdapter: DialectAdapter = {
  backend: 'postgres',
  isUniqueViolation: (err) => sqlState(err) === UNIQUE_VIOLATION,
  isUnavailable,
  groupCommit: false,
  binaryType: 'bytea',
  serialType: 'bigserial',
  jsonArrayFrom,
};

/**
 * Our times are bigint epoch milliseconds, far below 2^53: read int8 as a JS number. Per pool, so that other users
 * of `pg` in the process keep the default (string) parser.
 */
const types: CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new OpenMamError('invalid_configuration', `PostgreSQL schema name must be lower-case letters, digits and underscores, got "${schema}"`);
  }
  return `"${schema}"`;
}

/** The failure reaches the query that was running, if any; the store answers it (see isUnavailable). */
function ignoreConnectionError(): void {}

/** Opens a pool on `url`. With `schema`, creates that schema when missing and keeps every table in it. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<KyselyStore> {
  const quoted = options.schema === undefined ? undefined : quoteSchema(options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    // A request waits at most this long for a connection: during an outage it is answered "try later" instead of
    // queueing without bound. TCP keep-alive notices a peer that vanished without closing (a failover).
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(quoted === undefined ? {} : { options: `-c search_path=${quoted}` }),
  });
  // A connection can drop at any moment: a server restart, a failover, pg_terminate_backend (57P01). pg emits
  // 'error' on the client, and an 'error' event nobody listens to ends the process. pg-pool listens only while a
  // client is idle, so every client gets its own listener for its whole life, checked out or not; the query in
  // flight fails with the error, and the pool discards the broken client when it is released (it is no longer
  // queryable), so the next request opens a new connection: the store reconnects by itself.
  pool.on('error', ignoreConnectionError);
  pool.on('connect', (client) => client.on('error', ignoreConnectionError));
  if (quoted !== undefined) {
    try {
      await pool.query(`create schema if not exists ${quoted}`);
    } catch (err) {
      // Two processes creating it at once: the loser sees a duplicate, which is what it wanted anyway.
      const state = sqlState(err);
      if (state !== DUPLICATE_SCHEMA && state !== UNIQUE_VIOLATION) {
        await pool.end();
        throw err;
      }
    }
  }
  // Without the option, the tables go where the URL's search_path puts them. Kysely's migrator must still be told
  // which schema that is: otherwise its own tables in any other schema of the database (another installation, a
  // test running beside) count as present, and every start fails with "kysely_migration_lock does not exist".
  const schema = options.schema ?? (await currentSchema(pool));
  const adapter = schema === undefined ? postgresAdapter : { ...postgresAdapter, schema };
  const timing = new QueryTiming();
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: timing.log }), adapter, undefined, timing);
}

/** The schema unqualified tables are created in (the first existing one of the search_path); undefined when none. */
async function currentSchema(pool: pg.Pool): Promise<string | undefined> {
  try {
    const { rows } = await pool.query<{ name: string | null }>('select current_schema() as name');
    return rows[0]?.name ?? undefined;
  } catch (err) {
    await pool.end();
    throw err;
  }
}
