/**
 * `npm run bench:graph-paging`: what one page of a large admin collection costs, however deep it is. 10,000 managed
 * app registrations of one tenant (and as many of another, which a page must not scan) are paged by 100 in the
 * admin API's default order (creation time, then id) with the keyset positions the API puts in its `$skiptoken`s;
 * the first, the 50th and the last page are read in interleaved rounds (first, middle, last, first, ...), so the
 * ratios are measured under the same machine drift. O(page) means the ratios stay near 1; an OFFSET scan or a sort
 * of the tenant's rows would make the last page about 100 times the first. Also a filtered page (one user's).
 *
 * Stores: SQLite in a temporary folder; PostgreSQL at OPENMAM_TEST_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/test) in a schema of its own, when it answers.
 * Environment: BENCH_ROWS (default 10000), BENCH_PAGE (default 100), BENCH_ROUNDS (default 7), BENCH_READS (page reads
 * per measurement, default 50). The last line is JSON: {"bench":"graph-paging",...}.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_TENANT_SETTINGS } from '../src/identity/tenants.ts';
import type { CollectionQuery, FieldValue } from '../src/store/collection-query.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store, TenantStore } from '../src/store/roles.ts';
import { registrationRecord } from '../test/support/registrations.ts';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 10_000);
const PAGE = Number(process.env['BENCH_PAGE'] ?? 100);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const READS = Number(process.env['BENCH_READS'] ?? 50);
const PG_URL = process.env['OPENMAM_TEST_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ORDER: CollectionQuery['orderBy'] = [{ field: 'createdDateTime', descending: false }];

/** The roles the benchmark uses: a tenant, then the app protection tables it fills and pages. */
type PagingStore = TenantStore & Pick<Store, 'appProtection'>;

async function seed(store: PagingStore, tenantId: string, users: readonly string[]): Promise<void> {
  const now = Date.now();
  await store.createTenant({ id: tenantId, name: 'bench', identityProvider: 'builtin', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: now, updatedAt: now });
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    const registration = registrationRecord(tenantId, {
      userId: users[i % users.length]!,
      appId: 'com.microsoft.edge',
      appVersion: '120.0.2210.91',
      deviceName: `PC-${i}`,
      createdAt: now + i,
      lastCheckInAt: now + i,
      complianceState: 'unknown',
      complianceChangedAt: now,
    });
    writes.push(store.appProtection.upsertRegistration(registration));
    if (writes.length === 256) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

/** The keyset positions of every page, walking the collection once as a client following nextLinks would. */
async function positions(store: Pick<Store, 'appProtection'>, tenantId: string): Promise<(readonly FieldValue[] | undefined)[]> {
  const found: (readonly FieldValue[] | undefined)[] = [undefined];
  for (;;) {
    const after = found.at(-1);
    const page = await store.appProtection.queryRegistrations(tenantId, { orderBy: ORDER, top: PAGE, skip: 0, count: false, ...(after ? { after } : {}) });
    if (page.next === undefined) return found;
    found.push(page.next);
  }
}

async function timePage(store: Pick<Store, 'appProtection'>, tenantId: string, query: CollectionQuery): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < READS; i++) {
    const page = await store.appProtection.queryRegistrations(tenantId, query);
    if (page.rows.length === 0) throw new Error('an empty page');
  }
  return ((performance.now() - t0) * 1000) / READS;
}

interface Figures {
  store: string;
  pages: number;
  firstUs: number;
  middleUs: number;
  lastUs: number;
  filteredUs: number;
  middleRatio: number;
  lastRatio: number;
  lastRatioSpread: [number, number];
}

async function measure(name: string, store: PagingStore, afterSeeding?: () => Promise<void>): Promise<Figures> {
  const tenantId = randomUUID();
  const users = Array.from({ length: 100 }, () => randomUUID());
  const t0 = performance.now();
  await seed(store, tenantId, users);
  await seed(store, randomUUID(), users);
  log(`${name}: ${2 * ROWS} registrations written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await afterSeeding?.();
  const keys = await positions(store, tenantId);
  const at = (page: number): CollectionQuery => ({ orderBy: ORDER, top: PAGE, skip: 0, count: false, ...(keys[page] ? { after: keys[page] } : {}) });
  const filtered: CollectionQuery = { orderBy: ORDER, top: PAGE, skip: 0, count: false, filter: { kind: 'compare', field: 'userId', operator: 'eq', value: users[7]! } };
  const rounds: { first: number; middle: number; last: number; filtered: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const first = await timePage(store, tenantId, at(0));
    const middle = await timePage(store, tenantId, at(Math.floor(keys.length / 2)));
    const last = await timePage(store, tenantId, at(keys.length - 1));
    const filter = await timePage(store, tenantId, filtered);
    rounds.push({ first, middle, last, filtered: filter });
    log(`${name} round ${round + 1}: first ${first.toFixed(0)} µs, page ${Math.floor(keys.length / 2) + 1} ${middle.toFixed(0)} µs, page ${keys.length} ${last.toFixed(0)} µs, one user's ${filter.toFixed(0)} µs`);
  }
  const lastRatios = rounds.map((r) => r.last / r.first);
  return {
    store: name,
    pages: keys.length,
    firstUs: Math.round(median(rounds.map((r) => r.first))),
    middleUs: Math.round(median(rounds.map((r) => r.middle))),
    lastUs: Math.round(median(rounds.map((r) => r.last))),
    filteredUs: Math.round(median(rounds.map((r) => r.filtered))),
    middleRatio: Number(median(rounds.map((r) => r.middle / r.first)).toFixed(2)),
    lastRatio: Number(median(lastRatios).toFixed(2)),
    lastRatioSpread: [Number(Math.min(...lastRatios).toFixed(2)), Number(Math.max(...lastRatios).toFixed(2))],
  };
}

async function postgresSchema(): Promise<{ schema: string; analyze: () => Promise<void>; drop: () => Promise<void> } | undefined> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch {
    log(`PostgreSQL at ${PG_URL} does not answer: SQLite only`);
    return undefined;
  }
  const schema = `bench_paging_${randomUUID().replace(/-/g, '')}`;
  await client.query(`create schema ${schema}`);
  await client.end();
  return {
    schema,
    // What autovacuum does after a bulk load: the planner then knows the tenant's rows and their index.
    analyze: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`analyze ${schema}.app_registrations`);
      await client.end();
    },
    drop: async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

const results: Figures[] = [];
const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-paging-'));
try {
  const sqlite = await openStore(`sqlite:${path.join(dataDir, 'openmam.db')}`);
  results.push(await measure('sqlite', sqlite));
  await sqlite.close();
  const postgres = await postgresSchema();
  if (postgres) {
    const store = await openStore(PG_URL, { postgresSchema: postgres.schema });
    try {
      results.push(await measure('postgres', store, () => postgres.analyze()));
    } finally {
      await store.close();
      await postgres.drop();
    }
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'graph-paging', rows: ROWS, page: PAGE, rounds: ROUNDS, results }));
