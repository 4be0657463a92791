import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { OpenMamError } from '../errors.ts';
import { KyselyStore } from './kysely-store.ts';
import type { DialectAdapter } from './kysely-store.ts';
import type { Database } from './schema.ts';

const INT8_OID = 20;
const UNIQUE_VIOLATION = '23505';
const DUPLICATE_SCHEMA = '42P06';

export interface PostgresStoreOptions {
  /** Schema to keep the tables in (created when missing), via the connection's search_path. Default: the server's. */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
}

function sqlState(err: unknown): unknown {
  return err instanceof Error && 'code' in err ? err.code : undefined;
}

export const postgresAdapter: DialectAdapter = {
  backend: 'postgres',
  isUniqueViolation: (err) => sqlState(err) === UNIQUE_VIOLATION,
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

/** Opens a pool on `url`. With `schema`, creates that schema when missing and keeps every table in it. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<KyselyStore> {
  const quoted = options.schema === undefined ? undefined : quoteSchema(options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    ...(quoted === undefined ? {} : { options: `-c search_path=${quoted}` }),
  });
  // A connection that drops while idle (a server restart, a failover) is discarded by the pool and the next query
  // reconnects; without a listener, the pool's 'error' event would end the process.
  pool.on('error', () => undefined);
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
  return new KyselyStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), adapter);
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
