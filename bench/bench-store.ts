import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { bulkIdsFromEnv, bulkInsert as sqliteBulkInsert, countRows as sqliteCountRows, type BulkIds } from './bulk-devices.ts';

/**
 * The store a benchmark runs on: `BENCH_STORE=sqlite` (the default: a file in the benchmark's data folder) or
 * `BENCH_STORE=postgres` (the server at `OPENMAM_BENCH_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/test,
 * in a fresh schema of its own that `drop()` removes with everything in it).
 *
 * The benchmark process opens it once (`openBenchStore`) and the server children it starts inherit its URL through
 * the environment (`BENCH_DATABASE_URL`, read by `benchDatabaseEnv`): servers and benchmark then use the same database
 * without each script taking a new argument.
 */
export type BenchStoreKind = 'sqlite' | 'postgres';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** The variable through which server children learn the database URL (set by openBenchStore in this process). */
const DATABASE_URL_VARIABLE = 'BENCH_DATABASE_URL';

export interface BenchStore {
  kind: BenchStoreKind;
  /** What OPENMAM_DATABASE_URL would be: sqlite:<file>, or the PostgreSQL URL with the schema as its search_path. */
  databaseUrl: string;
  /** Adds devices with their enrollments and a settled management state until `total` enrollments exist. */
  bulkInsert(total: number): Promise<number>;
  /** The number in column `n` of the one row `sql` answers. */
  countRows(sql: string): Promise<number>;
  /** PostgreSQL: drops the schema and everything in it; SQLite: nothing (the data folder is removed by the benchmark). */
  drop(): Promise<void>;
}

export function benchStoreKind(): BenchStoreKind {
  const value = process.env['BENCH_STORE'] ?? 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres') throw new Error(`BENCH_STORE must be sqlite or postgres, not "${value}"`);
  return value;
}

/** Environment entries for loadConfig in a server child: the benchmark's database when it is not the default SQLite. */
export function benchDatabaseEnv(): Record<string, string> {
  const url = process.env[DATABASE_URL_VARIABLE];
  return url === undefined || url === '' ? {} : { OPENMAM_DATABASE_URL: url };
}

/** Opens the benchmark's store for the data folder `dataDir` (see BenchStore). */
export async function openBenchStore(dataDir: string): Promise<BenchStore> {
  if (benchStoreKind() === 'sqlite') {
    Reflect.deleteProperty(process.env, DATABASE_URL_VARIABLE);
    const file = path.join(dataDir, 'openmam.sqlite');
    return {
      kind: 'sqlite',
      databaseUrl: `sqlite:${file}`,
      bulkInsert: async (total) => sqliteBulkInsert(file, total, bulkIdsFromEnv()),
      countRows: async (sql) => sqliteCountRows(file, sql),
      drop: async () => undefined,
    };
  }
  const baseUrl = process.env['OPENMAM_BENCH_POSTGRES_URL'] || DEFAULT_POSTGRES_URL;
  const schema = `openmam_bench_${randomBytes(6).toString('hex')}`;
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const databaseUrl = url.toString();
  await onePostgresQuery(baseUrl, `create schema "${schema}"`);
  process.env[DATABASE_URL_VARIABLE] = databaseUrl;
  const dropSchema = (): Promise<unknown> => onePostgresQuery(baseUrl, `drop schema if exists "${schema}" cascade`);
  // A run stopped with Ctrl-C (or killed politely) skips the benchmark's `finally`: drop the schema on the way out.
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: dropping PostgreSQL schema ${schema}\n`);
    void dropSchema().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    kind: 'postgres',
    databaseUrl,
    bulkInsert: (total) => postgresBulkInsert(databaseUrl, total, bulkIdsFromEnv()),
    countRows: async (sql) => Number((await onePostgresQuery(databaseUrl, sql))[0]?.['n'] ?? NaN),
    drop: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      Reflect.deleteProperty(process.env, DATABASE_URL_VARIABLE);
      await dropSchema();
    },
  };
}

/** SQL for the DevId and enrollment id of bulk row number `row` (an SQL expression): bulk-devices.ts bulkKeys's keys. */
export function postgresBulkKeys(ids: BulkIds, row: string): { devId: string; enrollmentId: string } {
  if (ids === 'sequential') {
    return { devId: `upper('b0' || lpad(to_hex(${row}), 30, '0'))`, enrollmentId: `'00000000-b0b0-4000-8000-' || lpad(to_hex(${row}), 12, '0')` };
  }
  const md5 = `md5('openmam-bench-' || ${row})`;
  return {
    devId: `upper(${md5})`,
    enrollmentId: `substr(${md5}, 1, 8) || '-' || substr(${md5}, 9, 4) || '-4' || substr(${md5}, 14, 3) || '-8' || substr(${md5}, 18, 3) || '-' || substr(${md5}, 21, 12)`,
  };
}

async function onePostgresQuery(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The PostgreSQL twin of bulk-devices.ts's bulkInsert: each new row copies a real enrolled row's columns (so rows have
 * their real size) with its own ids, the same ids as the SQLite version makes, generated by the server
 * (`generate_series`, one INSERT ... SELECT per table), then VACUUM ANALYZE as autovacuum would do after a bulk load
 * (without statistics the planner guesses; without the visibility map index-only scans read the heap).
 */
async function postgresBulkInsert(databaseUrl: string, total: number, ids: BulkIds): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const existing = Number((await client.query<{ n: string }>('select count(*) as n from enrollments')).rows[0]!.n);
    const toInsert = total - existing;
    if (toInsert <= 0) return 0;
    const template = (await client.query<{ id: string; dev_id: string }>('select id, dev_id from enrollments limit 1')).rows[0];
    if (template === undefined) throw new Error('bulk insert: the store has no enrollment to copy');
    const state = (await client.query('select 1 from management_state where enrollment_id = $1', [template.id])).rowCount;
    if (state === 0) throw new Error('bulk insert: the enrollment to copy has no management state (run one session first)');
    const now = Date.now();
    const hex = `lpad(to_hex(g.i), 12, '0')`;
    const { devId, enrollmentId } = postgresBulkKeys(ids, 'g.i');
    /** Copies the row of `table` whose `key` is `value`, toInsert times, with `overrides` (SQL over g.i) for some columns. */
    const copy = async (table: string, key: string, value: string, overrides: Record<string, string>): Promise<void> => {
      const columns = (await client.query<{ name: string }>(`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = $1 order by ordinal_position`, [table])).rows.map((r) => r.name);
      const select = columns.map((c) => overrides[c] ?? `t."${c}"`).join(', ');
      await client.query(`insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) select ${select} from (select * from ${table} where "${key}" = $1) t cross join generate_series(0, $2::int - 1) as g(i)`, [value, toInsert]);
    };
    await client.query('begin');
    await copy('devices', 'dev_id', template.dev_id, {
      dev_id: devId,
      entra_device_id: `'22222222-b0b0-4000-8000-' || ${hex}`,
      created_at: String(now),
      updated_at: String(now),
    });
    await copy('enrollments', 'id', template.id, {
      id: enrollmentId,
      dev_id: devId,
      user_oid: `'11111111-b0b0-4000-8000-' || ${hex}`,
      upn: `'bulk' || g.i || '@contoso.example'`,
      entra_device_id: `'22222222-b0b0-4000-8000-' || ${hex}`,
      created_at: String(now),
      enrolled_at: String(now),
      updated_at: String(now),
    });
    await copy('management_state', 'enrollment_id', template.id, {
      enrollment_id: enrollmentId,
    });
    await client.query('commit');
    await client.query('vacuum (analyze) devices, enrollments, management_state');
    return toInsert;
  } finally {
    await client.end();
  }
}
