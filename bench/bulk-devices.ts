import SqliteDatabase from 'better-sqlite3';

/** Bulk devices for benchmarks that need a big store (bench:sync, bench:policy). */

/**
 * Adds enrollments until the store holds `total`: one transaction of raw prepared statements (the server is stopped).
 * Each new row copies a real enrolled row's columns (so rows have their real size) with its own ids, and a settled
 * management state, as a device that has checked in before would have.
 */
export function bulkInsert(file: string, total: number): number {
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
    db.transaction(() => {
      for (let i = 0; i < toInsert; i++) {
        const n = i.toString(16).padStart(12, '0');
        const devId = `B0${n.padStart(30, '0')}`.toUpperCase();
        const id = `00000000-b0b0-4000-8000-${n}`;
        const oid = `11111111-b0b0-4000-8000-${n}`;
        const entraDeviceId = `22222222-b0b0-4000-8000-${n}`;
        insertDevice({ dev_id: devId, entra_device_id: entraDeviceId, created_at: now, updated_at: now });
        insertEnrollment({ id, dev_id: devId, user_oid: oid, upn: `bulk${i}@contoso.example`, entra_device_id: entraDeviceId, created_at: now, enrolled_at: now, updated_at: now });
        insertState({ enrollment_id: id });
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return toInsert;
  } finally {
    db.close();
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

