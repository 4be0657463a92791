import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server for tests. Any test that needs one should go through these helpers, so that every suite
 * skips (locally) or fails (under CI) the same way when the server is missing.
 */

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The test server: OPENMAM_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test. */
export function postgresTestUrl(): string {
  const fromEnv = process.env.OPENMAM_TEST_POSTGRES_URL;
  return fromEnv === undefined || fromEnv === '' ? DEFAULT_URL : fromEnv;
}

let probe: Promise<string | undefined> | undefined;

/** Connects once per process; resolves the reason it could not, or undefined when `select 1` answered. */
function probeOnce(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

/** Whether the test server answers. Probed once per process, at most ~3 s. */
export async function postgresAvailable(): Promise<boolean> {
  return (await probeOnce()) === undefined;
}

/**
 * What to pass as node:test's `skip` option for a suite that needs PostgreSQL: undefined when the server answers,
 * else a message saying why `what` is skipped. Under CI (process.env.CI set) it rejects instead: CI must never skip.
 */
export async function postgresSkipReason(what = 'PostgreSQL tests'): Promise<string | undefined> {
  const failure = await probeOnce();
  if (failure === undefined) return undefined;
  const where = redact(postgresTestUrl());
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`PostgreSQL not reachable at ${where} (${failure}); CI is set, so ${what} fail instead of skipping`);
  }
  return `PostgreSQL not reachable at ${where} (${failure}): skipping ${what} (set OPENMAM_TEST_POSTGRES_URL)`;
}

export interface PostgresTestSchema {
  /** The test URL with `options=-c search_path=<schema>`: whatever connects with it works inside the schema. */
  url: string;
  /** The bare test URL (pair it with `schema`, e.g. openStore(baseUrl, { postgresSchema: schema })). */
  baseUrl: string;
  /** A fresh, empty schema, already created. */
  schema: string;
  /** Drops the schema and everything in it (CASCADE). Idempotent. */
  drop(): Promise<void>;
}

/** Creates a fresh, randomly named schema on the test server, for one test file's run. Call `drop()` when done. */
export async function withPostgresSchema(): Promise<PostgresTestSchema> {
  const baseUrl = postgresTestUrl();
  const schema = `openmam_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema "${schema}"`);
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    baseUrl,
    schema,
    drop: () => adminQuery(`drop schema if exists "${schema}" cascade`),
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Keeps a password out of messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
