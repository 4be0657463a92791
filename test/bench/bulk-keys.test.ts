import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { postgresBulkKeys } from '../../bench/bench-store.ts';
import { bulkInsert, bulkKeys } from '../../bench/bulk-devices.ts';
import { postgresSkipReason, postgresTestUrl } from '../support/postgres.ts';

describe('bench bulk keys', () => {
  it('sequential keys share a prefix; scattered keys are UUID- and DevId-shaped and spread', () => {
    assert.deepEqual(bulkKeys(26, 'sequential'), { devId: `B0${'0'.repeat(28)}1A`, id: '00000000-b0b0-4000-8000-00000000001a' });
    const scattered = Array.from({ length: 64 }, (_, i) => bulkKeys(i, 'scattered'));
    for (const { devId, id } of scattered) {
      assert.match(devId, /^[0-9A-F]{32}$/);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.ok(new Set(scattered.map((k) => k.devId[0])).size >= 10, 'the first characters spread over the alphabet');
  });

  it('SQLite bulk rows in batches of a few rows are the rows one transaction makes (timestamps aside), in WAL mode', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'openmam-bulk-test-'));
    try {
      /** A store of the three tables bulkInsert fills (the columns it copies and sets), with one enrolled device. */
      const seeded = (name: string): string => {
        const file = path.join(dir, name);
        const db = new SqliteDatabase(file);
        db.pragma('journal_mode = WAL');
        db.exec(`create table devices (dev_id text primary key, entra_device_id text, model text, created_at integer, updated_at integer);
          create table enrollments (id text primary key, dev_id text not null, user_oid text, upn text, entra_device_id text, state text, created_at integer, enrolled_at integer, updated_at integer);
          create table management_state (enrollment_id text primary key, settled_version integer, last_checkin_at integer);
          insert into devices values ('REAL', 'e-real', 'Surface', 1, 1);
          insert into enrollments values ('real', 'REAL', 'oid-real', 'real@contoso.example', 'e-real', 'enrolled', 1, 1, 1);
          insert into management_state values ('real', 7, 5);`);
        db.close();
        return file;
      };
      const rows = (file: string): unknown[] => {
        const db = new SqliteDatabase(file, { readonly: true });
        try {
          return ['devices', 'enrollments', 'management_state'].flatMap((table) =>
            (db.prepare(`select * from ${table} order by rowid`).all() as Record<string, unknown>[]).map((row) => ({ table, ...row, created_at: 0, updated_at: 0, enrolled_at: 0 })),
          );
        } finally {
          db.close();
        }
      };
      const whole = seeded('whole.sqlite');
      const batched = seeded('batched.sqlite');
      assert.equal(bulkInsert(whole, 11, 'scattered', 1_000), 10);
      assert.equal(bulkInsert(batched, 11, 'scattered', 3), 10, 'four batches: 3 + 3 + 3 + 1');
      const made = rows(batched);
      assert.equal(made.length, 33);
      assert.deepEqual(made, rows(whole));
      assert.ok(made.some((row) => (row as { upn?: string }).upn === 'bulk9@contoso.example'), 'the last batch is in');
      assert.equal(bulkInsert(batched, 11, 'scattered', 3), 0, 'a store at the total gets nothing more');
      const db = new SqliteDatabase(batched, { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL makes the same keys as SQLite (bench-store.ts builds them in SQL)', async (t) => {
    const skip = await postgresSkipReason('the bulk keys comparison');
    if (skip) return t.skip(skip);
    const client = new pg.Client({ connectionString: postgresTestUrl() });
    await client.connect();
    try {
      const keys = (ids: 'sequential' | 'scattered') => postgresBulkKeys(ids, 'g.i');
      for (const ids of ['sequential', 'scattered'] as const) {
        const { rows } = await client.query<{ dev_id: string; id: string }>(`select ${keys(ids).devId} as dev_id, ${keys(ids).enrollmentId} as id from generate_series(0, 40, 10) as g(i) order by g.i`);
        assert.deepEqual(rows.map((r) => ({ devId: r.dev_id, id: r.id })), [0, 10, 20, 30, 40].map((i) => bulkKeys(i, ids)), `${ids} keys`);
      }
    } finally {
      await client.end();
    }
  });
});
