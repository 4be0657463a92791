/**
 * `npm run bench:sign-in-log`: what the sign-in log costs the process that records it, per entry,
 * on each store: SignInLog.record() on the request path, and the batched writes behind it (SignInLog -> store
 * appendSignIns, one multi-row INSERT per 512 rows, batches of 500 as the log forms them under load).
 *
 * Interleaved rounds of the same N records through (a) a SignInLog over a store that writes nothing (the buffer and
 * the record objects alone) and (b) a SignInLog over the real store (SQLite in a temporary folder; PostgreSQL at
 * OPENMAM_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test, in a schema of its own, when it
 * answers). CPU is this process's (process.cpuUsage): all of SQLite's work, only the client's side of PostgreSQL's.
 * Environment: BENCH_ENTRIES (per round, default 50000), BENCH_ROUNDS (default 5).
 * The last line is JSON: {"bench":"sign-in-log",...}.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newSignInId, SignInLog } from '../src/core/app-protection/sign-in-log.ts';
import type { SignInRecord } from '../src/store/app-protection-records.ts';
import type { SignInStore } from '../src/store/app-protection-roles.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store, TenantStore } from '../src/store/roles.ts';
import { benchSignIn } from './sign-in-records.ts';

const ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 50_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BATCH = Number(process.env['BENCH_SIGN_IN_BATCH'] ?? 500);
const PG_URL = process.env['OPENMAM_TEST_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const nothing: SignInStore = {
  appendSignIns: () => Promise.resolve(),
  querySignIns: () => Promise.resolve({ rows: [] }),
  getSignIn: () => Promise.resolve(undefined),
  purgeSignIns: () => Promise.resolve(0),
};

interface Round {
  /** CPU µs per entry: record() and the writes. */
  cpuUs: number;
  /** Wall-clock ms per batch of BATCH. */
  batchMs: number;
}

/** Records `records` through a SignInLog over `store` as a busy node would (a batch fills, its write starts). */
async function round(store: SignInStore, records: readonly SignInRecord[]): Promise<Round> {
  const signIns = new SignInLog({ store, onError: (error) => log(`write failed: ${String(error)}`), intervalMs: 60_000, batchSize: BATCH, maxPending: records.length });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += BATCH) {
    for (let j = i; j < Math.min(records.length, i + BATCH); j++) signIns.record(records[j]!);
    await signIns.flush();
  }
  await signIns.close();
  const used = process.cpuUsage(cpu);
  if (signIns.pendingCount !== 0 || signIns.droppedCount !== 0) throw new Error(`left ${signIns.pendingCount}, dropped ${signIns.droppedCount}`);
  return { cpuUs: (used.user + used.system) / records.length, batchMs: ((performance.now() - t0) * BATCH) / records.length };
}

async function measure(name: string, store: TenantStore & Pick<Store, 'signIns'>): Promise<Record<string, number>> {
  const tenantId = randomUUID();
  await store.createTenant({
    id: tenantId,
    name: 'Bench',
    identityProvider: 'entra',
    enrollmentAllowed: true,
    settings: {
      requireTermsOfUse: false,
      termsOfUseText: '',
      pollSchedule: { numberOfFirstRetries: 0, intervalForFirstSetOfRetries: 15, numberOfSecondRetries: 0, intervalForSecondSetOfRetries: 60, numberOfRemainingScheduledRetries: 0, intervalForRemainingScheduledRetries: 480, pollOnLogin: true, allUsersPollOnFirstLogin: false },
    },
    version: 1,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  });
  const fresh = (): SignInRecord[] => Array.from({ length: ENTRIES }, (_, i) => benchSignIn(tenantId, randomUUID(), `user-${i % 2000}`));
  // Warm-up: JIT, statement shapes, the table's first pages.
  await round(nothing, fresh());
  await round(store.signIns, fresh());
  const base: Round[] = [];
  const real: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const records = fresh();
    base.push(await round(nothing, records));
    real.push(await round(store.signIns, records.map((record) => ({ ...record, id: newSignInId(record.createdAt) }))));
    log(`  ${name} round ${r + 1}: buffer only ${base.at(-1)!.cpuUs.toFixed(2)} µs/entry; with the store ${real.at(-1)!.cpuUs.toFixed(2)} µs/entry, ${real.at(-1)!.batchMs.toFixed(2)} ms per batch of ${BATCH}`);
  }
  const buffer = median(base.map((r) => r.cpuUs));
  const total = median(real.map((r) => r.cpuUs));
  return { buffer_cpu_us: buffer, total_cpu_us: total, write_cpu_us: total - buffer, ratio: total / buffer, batch_ms: median(real.map((r) => r.batchMs)) };
}

const results: Record<string, Record<string, number>> = {};
const dir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-sign-ins-'));
try {
  log(`sqlite: ${ROUNDS} interleaved rounds of ${ENTRIES} entries...`);
  const sqlite = await openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`);
  try {
    results['sqlite'] = await measure('sqlite', sqlite);
  } finally {
    await sqlite.close();
  }
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  const reachable = await admin.connect().then(
    () => true,
    (error: unknown) => (log(`postgres: skipped (${String(error)})`), false),
  );
  if (reachable) {
    const schema = `bench_sign_ins_${randomBytes(4).toString('hex')}`;
    await admin.query(`create schema ${schema}`);
    try {
      log(`postgres: ${ROUNDS} interleaved rounds of ${ENTRIES} entries...`);
      const postgres = await openStore(PG_URL, { postgresSchema: schema });
      try {
        results['postgres'] = await measure('postgres', postgres);
      } finally {
        await postgres.close();
      }
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const lines = Object.entries(results).map(
  ([name, r]) =>
    `${name}: ${r['total_cpu_us']!.toFixed(2)} µs CPU per entry in all (${r['ratio']!.toFixed(2)}x the buffer alone, interleaved): record() and batching ${r['buffer_cpu_us']!.toFixed(2)} µs, the store write ${r['write_cpu_us']!.toFixed(2)} µs; ${r['batch_ms']!.toFixed(2)} ms wall per batch of ${BATCH}`,
);
const round2 = (n: number): number => Number(n.toFixed(3));
process.stdout.write(
  `${lines.join('\n')}\n${JSON.stringify({ bench: 'sign-in-log', entries: ENTRIES, rounds: ROUNDS, batch: BATCH, ...Object.fromEntries(Object.entries(results).map(([name, r]) => [name, Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round2(v)]))])) })}\n`,
);
