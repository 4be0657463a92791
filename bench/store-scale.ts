/**
 * Why is a steady OMA-DM check-in slower with 1,000,000 devices in the store than with 2,000? The steady session's
 * store work is one read (the managed device: the active enrollment through the partial index
 * enrollments_active_dev_id, its tenant, its management state; SQLite's read-only connection, raw values) plus, once
 * a second, the buffered check-in times written in one transaction (src/store/repositories/management.ts recordCheckins). This
 * looks at exactly that, on two copies of a bench:sync store kept with BENCH_KEEP_STORE=<dir> (small.sqlite: the
 * prepared devices only; large.sqlite: after the bulk insert; devices.json: the prepared devices' DevIds):
 *
 *   node --import tsx bench/store-scale.ts <dir>
 *
 * - the B-tree depth and size of the tables and indexes the read walks (SQLite's dbstat);
 * - the read, round-robin over the prepared devices as the benchmark sends them, with a commit on another connection
 *   every COMMIT_EVERY reads (what the buffered check-in flush does to the reader: in WAL mode a connection drops its
 *   whole page cache when it sees the database changed: SQLite's src/pager.c pagerBeginReadTransaction calls
 *   pager_reset), interleaved small/large
 *   over ROUNDS rounds, in variants of the reader's settings: as the server opens it (default cache_size, 2 MiB),
 *   a bigger page cache, and memory-mapped I/O (mmap_size: pages are read from the OS page cache without a read()
 *   system call each); and on copies whose management_state is a WITHOUT ROWID table (one B-tree per lookup instead of
 *   its key index plus the table);
 * - the flush: the prepared devices' check-in times written in one transaction, as recordCheckins does.
 *
 * Environment: BENCH_READS (reads per measurement, default 20000), BENCH_ROUNDS (default 5), BENCH_COMMIT_EVERY
 * (default 5000: one flush a second at 5,000 sessions/s). The last line is JSON ({"bench":"store-scale",...}).
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';

const READS = Number(process.env['BENCH_READS'] ?? 20_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const COMMIT_EVERY = Number(process.env['BENCH_COMMIT_EVERY'] ?? 5000);

/** getManagedDevice's statement (src/store/repositories/management.ts managedDeviceQuery), as Kysely compiles it for SQLite. */
const MANAGED_DEVICE_SQL =
  'select "enrollments".*, "tenants"."config_version", "management_state"."settled_version", "management_state"."waiting_for_user", ' +
  '"management_state"."inventory_at", "management_state"."last_checkin_at", "management_state"."message_log_until", "management_state"."token_groups" ' +
  'from "enrollments" inner join "tenants" on "tenants"."id" = "enrollments"."tenant_id" ' +
  'left join "management_state" on "management_state"."enrollment_id" = "enrollments"."id" ' +
  `where "enrollments"."dev_id" = ? and "enrollments"."state" = 'enrolled'`;

interface Variant {
  name: string;
  pragmas: string[];
  /** `withoutRowid`: copies of the stores whose management_state is a WITHOUT ROWID table (one B-tree, not two). */
  schema?: 'withoutRowid';
}

const VARIANTS: Variant[] = [
  { name: 'as served (default cache)', pragmas: [] },
  { name: 'cache_size 64 MiB', pragmas: ['cache_size = -65536'] },
  { name: 'mmap_size 1 GiB', pragmas: ['mmap_size = 1073741824'] },
  { name: 'management_state WITHOUT ROWID', pragmas: [], schema: 'withoutRowid' },
];

const dir = process.argv[2];
if (!dir || !existsSync(path.join(dir, 'small.sqlite')) || !existsSync(path.join(dir, 'large.sqlite'))) {
  process.stderr.write('usage: store-scale.ts <dir with small.sqlite, large.sqlite and devices.json (bench:sync with BENCH_KEEP_STORE=<dir>)>\n');
  process.exit(2);
}
const devIds = JSON.parse(readFileSync(path.join(dir, 'devices.json'), 'utf8')) as string[];
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Working copies: the flushes below write to them. */
function workingCopy(name: string, schema?: Variant['schema']): string {
  const file = path.join(dir!, `work-${schema ?? 'as-served'}-${name}`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  copyFileSync(path.join(dir!, name), file);
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  if (schema === 'withoutRowid') {
    // The same table (its own DDL) keyed by enrollment_id alone (https://www.sqlite.org/withoutrowid.html).
    const ddl = (db.prepare(`select sql from sqlite_master where type = 'table' and name = 'management_state'`).get() as { sql: string }).sql;
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      db.exec('alter table management_state rename to management_state_rowid');
      db.exec(`${ddl} without rowid`);
      db.exec('insert into management_state select * from management_state_rowid');
      db.exec('drop table management_state_rowid');
    })();
    db.exec('vacuum');
  }
  db.close();
  return file;
}

interface TreeShape {
  name: string;
  depth: number;
  pages: number;
}

/** Depth and pages of the B-trees the read walks (dbstat: one row per page, `path` shows its place in the tree). */
function shapes(file: string): TreeShape[] {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        `select name, count(*) as pages, max(length(path) - length(replace(path, '/', ''))) as depth from dbstat
         where name in ('enrollments', 'tenants', 'management_state', 'enrollments_active_dev_id', 'sqlite_autoindex_enrollments_1', 'sqlite_autoindex_management_state_1', 'sqlite_autoindex_tenants_1')
         group by name order by name`,
      )
      .all() as TreeShape[];
    return rows;
  } finally {
    db.close();
  }
}

/** µs per managed-device read over READS reads, a commit by another connection every COMMIT_EVERY reads. */
function timeReads(file: string, variant: Variant): { readUs: number; flushMs: number } {
  const reader = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  const writer = new SqliteDatabase(file);
  try {
    reader.pragma('busy_timeout = 5000');
    for (const pragma of variant.pragmas) reader.pragma(pragma);
    writer.pragma('synchronous = NORMAL');
    const read = reader.prepare<unknown[], unknown[]>(MANAGED_DEVICE_SQL).raw(true);
    const enrollmentIds = devIds.map((devId) => (read.all(devId)[0] as unknown[] | undefined)?.[0] as string | undefined);
    if (enrollmentIds.some((id) => id === undefined)) throw new Error(`${file}: some prepared devices are not enrolled`);
    // recordCheckins' statement, one row per device, in one transaction.
    const upsert = writer.prepare(
      `insert into management_state (enrollment_id, settled_version, waiting_for_user, last_checkin_at) values (?, 0, 0, ?)
       on conflict (enrollment_id) do update set last_checkin_at = excluded.last_checkin_at
       where management_state.last_checkin_at is null or management_state.last_checkin_at < excluded.last_checkin_at`,
    );
    let stamp = Date.now();
    const flush = writer.transaction(() => {
      stamp++;
      for (const id of enrollmentIds) upsert.run(id, stamp);
    });
    let flushMs = 0;
    let flushes = 0;
    for (let i = 0; i < devIds.length; i++) read.all(devIds[i]!); // warm
    const started = performance.now();
    let inFlush = 0;
    for (let i = 0; i < READS; i++) {
      if (i > 0 && i % COMMIT_EVERY === 0) {
        const t = performance.now();
        flush();
        const spent = performance.now() - t;
        inFlush += spent;
        flushMs += spent;
        flushes++;
      }
      read.all(devIds[i % devIds.length]!);
    }
    const readUs = ((performance.now() - started - inFlush) * 1000) / READS;
    return { readUs, flushMs: flushes === 0 ? 0 : flushMs / flushes };
  } finally {
    reader.close();
    writer.close();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const small = workingCopy('small.sqlite');
const large = workingCopy('large.sqlite');
const withoutRowid = { small: workingCopy('small.sqlite', 'withoutRowid'), large: workingCopy('large.sqlite', 'withoutRowid') };
const fileOf = (which: 'small' | 'large', variant: Variant): string => (variant.schema === 'withoutRowid' ? withoutRowid[which] : which === 'small' ? small : large);
const count = (file: string): number => {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return (db.prepare(`select count(*) as n from enrollments where state = 'enrolled'`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};
const sizes = { small: count(small), large: count(large) };
log(`${devIds.length} prepared devices; ${sizes.small} and ${sizes.large} enrollments in the two stores`);
const plan = new SqliteDatabase(large, { readonly: true });
log(`query plan: ${(plan.prepare(`explain query plan ${MANAGED_DEVICE_SQL}`).all('X') as { detail: string }[]).map((row) => row.detail).join('; ')}`);
plan.close();
const shapeOf = { small: shapes(small), large: shapes(large) };
for (const shape of shapeOf.large) {
  const before = shapeOf.small.find((s) => s.name === shape.name);
  log(`  ${shape.name}: depth ${before?.depth ?? '?'} -> ${shape.depth}, pages ${before?.pages ?? '?'} -> ${shape.pages}`);
}

const results: Record<string, { small: number[]; large: number[]; flushSmall: number[]; flushLarge: number[] }> = {};
for (const variant of VARIANTS) results[variant.name] = { small: [], large: [], flushSmall: [], flushLarge: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of VARIANTS) {
    // Alternate which store goes first, so that a drift of the machine does not favour one.
    const order: ('small' | 'large')[] = round % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
    for (const which of order) {
      const timing = timeReads(fileOf(which, variant), variant);
      results[variant.name]![which].push(timing.readUs);
      results[variant.name]![which === 'small' ? 'flushSmall' : 'flushLarge'].push(timing.flushMs);
    }
  }
  log(`round ${round + 1}: ${VARIANTS.map((v) => `${v.name} ${results[v.name]!.small.at(-1)!.toFixed(2)} / ${results[v.name]!.large.at(-1)!.toFixed(2)} µs`).join('; ')}`);
}

const summary: Record<string, number> = {};
const lines: string[] = [];
for (const variant of VARIANTS) {
  const r = results[variant.name]!;
  const ratios = r.small.map((s, i) => r.large[i]! / s);
  const key = variant.name.replace(/\W+/g, '_').replace(/^_|_$/g, '').toLowerCase();
  summary[`${key}_small_us`] = Number(median(r.small).toFixed(2));
  summary[`${key}_large_us`] = Number(median(r.large).toFixed(2));
  summary[`${key}_ratio`] = Number(median(ratios).toFixed(3));
  summary[`${key}_flush_small_ms`] = Number(median(r.flushSmall).toFixed(2));
  summary[`${key}_flush_large_ms`] = Number(median(r.flushLarge).toFixed(2));
  lines.push(
    `${variant.name}: read ${median(r.small).toFixed(2)} µs with ${sizes.small} devices, ${median(r.large).toFixed(2)} µs with ${sizes.large} (large/small ${median(ratios).toFixed(3)}, spread ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); ` +
      `flush of ${devIds.length} check-in times ${median(r.flushSmall).toFixed(1)} / ${median(r.flushLarge).toFixed(1)} ms`,
  );
}
for (const file of [small, large, withoutRowid.small, withoutRowid.large]) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
process.stdout.write(`${lines.join('\n')}\n${JSON.stringify({ bench: 'store-scale', devices_small: sizes.small, devices_large: sizes.large, prepared: devIds.length, reads: READS, rounds: ROUNDS, commit_every: COMMIT_EVERY, ...summary })}\n`);
