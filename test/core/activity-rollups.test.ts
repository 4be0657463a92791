import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityRollups } from '../../src/core/activity-rollups.ts';
import { OpenMamError } from '../../src/errors.ts';
import type { ActivityHourRecord } from '../../src/store/records.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 1, 10);

/** A store whose writes fail while `down` is set, and whose purge fails while `purgeDown` is; what it was given. */
function fakeStore() {
  const state = { down: false, purgeDown: false };
  const written: ActivityHourRecord[][] = [];
  const purges: { before: number; limit: number }[] = [];
  return {
    state,
    written,
    purges,
    addActivity(records: readonly ActivityHourRecord[]): Promise<void> {
      if (state.down) return Promise.reject(new OpenMamError('upstream_unavailable', 'the database is unavailable'));
      written.push(structuredClone([...records]));
      return Promise.resolve();
    },
    purgeActivity(before: number, limit: number): Promise<number> {
      purges.push({ before, limit });
      return state.purgeDown ? Promise.reject(new OpenMamError('upstream_unavailable', 'the database is unavailable')) : Promise.resolve(0);
    },
  };
}

/** Totals per "tenant@hour" and counter over every write. */
function totals(written: readonly ActivityHourRecord[][]): Record<string, Record<string, number>> {
  const sums: Record<string, Record<string, number>> = {};
  for (const record of written.flat()) {
    const key = `${record.tenantId}@${(record.hourStart - T) / HOUR}`;
    const sum = (sums[key] ??= {});
    for (const [counter, n] of Object.entries(record.counts)) if (n > 0) sum[counter] = (sum[counter] ?? 0) + n;
  }
  return sums;
}

describe('ActivityRollups: per-tenant hourly counts, written behind', () => {
  it('counts per tenant and UTC hour in memory, and writes one record per bucket', async () => {
    const store = fakeStore();
    const now = { t: T };
    const rollups = new ActivityRollups({ store, onError: (error) => assert.fail(String(error)), clock: () => now.t, intervalMs: 60_000 });
    rollups.count('a', 'appCheckIns', T);
    rollups.count('a', 'appCheckIns', T + HOUR - 1);
    rollups.count('a', 'compliantCheckIns', T + 5);
    rollups.count('a', 'omaDmSessions', T + HOUR);
    rollups.count('b', 'accessDenied', T + 10);
    assert.equal(rollups.pendingCount, 3, 'three buckets');
    assert.equal(store.written.length, 0, 'nothing written on the count path');
    await rollups.flush();
    assert.equal(store.written.length, 1, 'one write for every bucket');
    assert.deepEqual(totals(store.written), { 'a@0': { appCheckIns: 2, compliantCheckIns: 1 }, 'a@1': { omaDmSessions: 1 }, 'b@0': { accessDenied: 1 } });
    assert.equal(rollups.pendingCount, 0);
    await rollups.close();
  });

  it('keeps the counts of a failed write and adds them to newer ones: none lost, none counted twice', async () => {
    const store = fakeStore();
    const errors: unknown[] = [];
    const rollups = new ActivityRollups({ store, onError: (e) => errors.push(e), clock: () => T, intervalMs: 60_000 });
    store.state.down = true;
    rollups.count('a', 'accessAllowed', T);
    rollups.count('a', 'accessAllowed', T);
    await rollups.flush();
    assert.equal(errors.length, 1);
    assert.equal(rollups.pendingCount, 1);
    rollups.count('a', 'accessAllowed', T);
    store.state.down = false;
    await rollups.flush();
    assert.deepEqual(totals(store.written), { 'a@0': { accessAllowed: 3 } });
    await rollups.close();
  });

  it('purges past the retention after a write, at most hourly; a failed purge is reported and never rewrites the counts', async () => {
    const store = fakeStore();
    const errors: unknown[] = [];
    const now = { t: T };
    const rollups = new ActivityRollups({ store, onError: (e) => errors.push(e), clock: () => now.t, intervalMs: 60_000 });
    store.state.purgeDown = true;
    rollups.count('a', 'appCheckIns', T);
    await rollups.flush();
    assert.deepEqual(store.purges, [{ before: T - 90 * 24 * HOUR, limit: 4096 }]);
    assert.equal(errors.length, 1, 'reported');
    assert.equal(rollups.pendingCount, 0, 'the written counts are not given back');
    store.state.purgeDown = false;
    now.t = T + HOUR - 1;
    rollups.count('a', 'appCheckIns', now.t);
    await rollups.flush();
    assert.equal(store.purges.length, 1, 'not again within the hour');
    now.t = T + HOUR;
    rollups.count('a', 'appCheckIns', now.t);
    await rollups.flush();
    assert.equal(store.purges.length, 2);
    assert.deepEqual(totals(store.written), { 'a@0': { appCheckIns: 2 }, 'a@1': { appCheckIns: 1 } });
    await rollups.close();
  });

  it('bounds its buffer while writes fail: counts for a new bucket beyond it are dropped, counted and reported', async () => {
    const store = fakeStore();
    const errors: unknown[] = [];
    const rollups = new ActivityRollups({ store, onError: (e) => errors.push(e), clock: () => T, intervalMs: 60_000, maxPending: 2 });
    store.state.down = true;
    rollups.count('a', 'appCheckIns', T);
    rollups.count('b', 'appCheckIns', T);
    rollups.count('c', 'appCheckIns', T);
    rollups.count('a', 'appCheckIns', T);
    assert.equal(rollups.droppedCount, 1);
    store.state.down = false;
    await rollups.flush();
    assert.deepEqual(totals(store.written), { 'a@0': { appCheckIns: 2 }, 'b@0': { appCheckIns: 1 } });
    assert.match(String(errors[0]), /1 counts dropped/);
    await rollups.close();
  });
});
