import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { postgresBulkKeys } from '../../bench/bench-store.ts';
import { bulkKeys } from '../../bench/bulk-devices.ts';
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
