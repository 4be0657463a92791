import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';

/** Bulk devices for benchmarks that need a big store (bench:sync, bench:policy). */

/**
 * How the bulk rows' keys (DevId, enrollment id) are made. `sequential` (the default, as the figures so far were
 * measured): a common prefix, so all bulk rows sit together at one end of every index and the benchmark's real devices
 * keep their few index pages to themselves. `scattered`: keys spread like random ones (an MD5 of the row's number; the
 * same keys on both stores), as devices enrolled over the years are: every real device's index entries then sit on
 * pages of their own among the bulk rows', the way a large production store looks to a check-in.
 */
export type BulkIds = 'sequential' | 'scattered';

/**
 * The compliance policy both large-store benchmarks (sync, policy) assign through a device filter, so that every
 * device is judged as issue 15 has it (a Graph `windows10CompliancePolicy` body).
 */
export const BENCH_COMPLIANCE_POLICY = {
  '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
  displayName: 'bench: firewall, antivirus, OS',
  activeFirewallRequired: true,
  antivirusRequired: true,
  osMinimumVersion: '10.0.19045.0',
  scheduledActionsForRule: [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0 }] }],
} as const;

/** BENCH_BULK_IDS: sequential (default) or scattered. */
export function bulkIdsFromEnv(): BulkIds {
  const value = process.env['BENCH_BULK_IDS'] ?? 'sequential';
  if (value !== 'sequential' && value !== 'scattered') throw new Error(`BENCH_BULK_IDS must be sequential or scattered, not "${value}"`);
  return value;
}

/** The `i`th bulk row's DevId and enrollment id. */
export function bulkKeys(i: number, ids: BulkIds): { devId: string; id: string } {
  if (ids === 'sequential') {
    const n = i.toString(16).padStart(12, '0');
    return { devId: `B0${n.padStart(30, '0')}`.toUpperCase(), id: `00000000-b0b0-4000-8000-${n}` };
  }
  const hex = createHash('md5').update(`openmam-bench-${i}`).digest('hex');
  return { devId: hex.toUpperCase(), id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}` };
}

/**
 * Rows per transaction. The file is in WAL mode (the server set it; it persists): a checkpoint cannot move the WAL past
 * an open transaction, so one transaction for every row would grow the -wal file to the size of all the new pages
 * (the database's growth held twice on disk, tens of GB at 10,000,000 devices) and copy it all into the database at
 * the end (sqlite.org/wal.html, "Avoiding Excessively Large WAL Files"). Committing every BATCH_ROWS rows lets the
 * automatic checkpoint after each commit copy the batch and the WAL start over: it stays about one batch long.
 */
const BATCH_ROWS = 100_000;

/**
 * Adds enrollments until the store holds `total`: raw prepared statements (the server is stopped), in transactions of
 * BATCH_ROWS rows. Each new row copies a real enrolled row's columns (so rows have their real size) with its own ids,
 * and a settled management state, as a device that has checked in before would have. Memory stays flat whatever the
 * count: the rows are made one by one, SQLite's page cache is capped at 256 MiB (cache_size), and the WAL (with its
 * index) is bounded by one batch. An interrupted insert leaves the batches committed before it (benchmarks insert
 * into a fresh store only, and never reuse one that was interrupted).
 */
export function bulkInsert(file: string, total: number, ids: BulkIds = 'sequential', batchRows = BATCH_ROWS): number {
  const db = new SqliteDatabase(file);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const existing = (db.prepare('select count(*) as n from enrollments').get() as { n: number }).n;
    const toInsert = total - existing;
    if (toInsert <= 0) return 0;
    const enrollment = db.prepare('select * from enrollments limit 1').get() as Record<string, unknown>;
    const device = db.prepare('select * from devices where dev_id = ?').get(enrollment['dev_id']) as Record<string, unknown>;
    const state = (db.prepare('select * from management_state where enrollment_id = ?').get(enrollment['id']) as Record<string, unknown> | undefined) ?? {
      settled_version: 0,
      waiting_for_user: 0,
      inventory_at: Date.now(),
      last_checkin_at: Date.now(),
      message_log_until: null,
    };
    const insertRow = (table: string, template: Record<string, unknown>) => {
      const columns = Object.keys(template);
      const statement = db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
      return (row: Record<string, unknown>) => statement.run({ ...template, ...row });
    };
    const insertDevice = insertRow('devices', device);
    const insertEnrollment = insertRow('enrollments', enrollment);
    const insertState = insertRow('management_state', { ...state, enrollment_id: '' });
    const now = Date.now();
    const insertBatch = db.transaction((start: number, end: number) => {
      for (let i = start; i < end; i++) {
        const n = i.toString(16).padStart(12, '0');
        const { devId, id } = bulkKeys(i, ids);
        const oid = `11111111-b0b0-4000-8000-${n}`;
        const entraDeviceId = `22222222-b0b0-4000-8000-${n}`;
        insertDevice({ dev_id: devId, entra_device_id: entraDeviceId, created_at: now, updated_at: now });
        insertEnrollment({ id, dev_id: devId, user_oid: oid, upn: `bulk${i}@contoso.example`, entra_device_id: entraDeviceId, created_at: now, enrolled_at: now, updated_at: now });
        insertState({ enrollment_id: id });
      }
    });
    for (let start = 0; start < toInsert; start += batchRows) insertBatch(start, Math.min(start + batchRows, toInsert));
    db.pragma('wal_checkpoint(TRUNCATE)');
    return toInsert;
  } finally {
    db.close();
    // synchronous = OFF left the writing to the kernel: finish it now, or a gigabyte of writeback would run during the
    // measurement that follows (on a 2-core VM, CPU the server's figures would lose).
    const fd = openSync(file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

export function countRows(file: string, sql: string): number {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

