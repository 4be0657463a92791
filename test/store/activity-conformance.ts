import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CollectionQuery, FieldValue, Filter } from '../../src/store/collection-query.ts';
import { ACTIVITY_COUNTERS, type ActivityCounts, type ActivityHourRecord } from '../../src/store/records.ts';
import type { ActivityStore, Store } from '../../src/store/roles.ts';

/**
 * The contract of ActivityStore (src/store/roles.ts), for every backend: counts add up across writes (as every node's
 * flushes do), one call may name an hour twice, tenants stay apart, a range of hours reads in either order by keyset,
 * and the purge is bounded. Each test has its own tenants; the purge test's hours are decades older than any other's.
 */
const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 1);

function counts(partial: Partial<ActivityCounts> = {}): ActivityCounts {
  return { ...(Object.fromEntries(ACTIVITY_COUNTERS.map((c) => [c, 0])) as ActivityCounts), ...partial };
}

export function activityConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  describe(`activity rollup store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    let activity: ActivityStore;

    before(async () => {
      store = await open();
      activity = store.activity;
    });
    after(async () => {
      await store?.close();
    });

    const query = (filter?: Filter, descending = false, top = 1000, afterKeys?: readonly FieldValue[]): CollectionQuery => ({
      orderBy: [{ field: 'hourStart', descending }],
      top,
      skip: 0,
      count: false,
      ...(filter === undefined ? {} : { filter }),
      ...(afterKeys === undefined ? {} : { after: afterKeys }),
    });

    it('adds the counts of every write to the stored hour, and sums an hour named twice in one write', async () => {
      const tenantId = randomUUID();
      const other = randomUUID();
      await activity.addActivity([
        { tenantId, hourStart: T, counts: counts({ appCheckIns: 3, compliantCheckIns: 2, noncompliantCheckIns: 1 }) },
        { tenantId, hourStart: T + HOUR, counts: counts({ omaDmSessions: 5 }) },
        { tenantId: other, hourStart: T, counts: counts({ accessDenied: 7 }) },
      ]);
      await activity.addActivity([
        { tenantId, hourStart: T, counts: counts({ appCheckIns: 1, accessAllowed: 4 }) },
        { tenantId, hourStart: T, counts: counts({ appCheckIns: 10, accessDenied: 2 }) },
      ]);
      const page = await activity.queryActivityHours(tenantId, query());
      assert.deepEqual(page.rows, [
        { tenantId, hourStart: T, counts: counts({ appCheckIns: 14, compliantCheckIns: 2, noncompliantCheckIns: 1, accessAllowed: 4, accessDenied: 2 }) },
        { tenantId, hourStart: T + HOUR, counts: counts({ omaDmSessions: 5 }) },
      ]);
      assert.equal(page.next, undefined);
      assert.deepEqual((await activity.queryActivityHours(other, query())).rows, [{ tenantId: other, hourStart: T, counts: counts({ accessDenied: 7 }) }]);
      await activity.addActivity([]);
    });

    it('adds up concurrent writes (as several nodes flush at once): nothing is lost', async () => {
      const tenantId = randomUUID();
      await Promise.all(Array.from({ length: 20 }, () => activity.addActivity([{ tenantId, hourStart: T, counts: counts({ omaDmSessions: 1, appCheckIns: 2 }) }])));
      const [row] = (await activity.queryActivityHours(tenantId, query())).rows;
      assert.deepEqual(row?.counts, counts({ omaDmSessions: 20, appCheckIns: 40 }));
    });

    it('reads a range of hours by hourStart, in either order, page by page', async () => {
      const tenantId = randomUUID();
      const hours: ActivityHourRecord[] = Array.from({ length: 48 }, (_, i) => ({ tenantId, hourStart: T + i * HOUR, counts: counts({ appCheckIns: i + 1 }) }));
      await activity.addActivity(hours);
      const range: Filter = {
        kind: 'and',
        operands: [
          { kind: 'compare', field: 'hourStart', operator: 'ge', value: T + 10 * HOUR },
          { kind: 'compare', field: 'hourStart', operator: 'lt', value: T + 34 * HOUR },
        ],
      };
      const ascending = await activity.queryActivityHours(tenantId, query(range));
      assert.deepEqual(
        ascending.rows.map((r) => r.counts.appCheckIns),
        Array.from({ length: 24 }, (_, i) => i + 11),
      );
      const seen: number[] = [];
      let next: readonly FieldValue[] | undefined;
      do {
        const page = await activity.queryActivityHours(tenantId, query(range, true, 5, next));
        seen.push(...page.rows.map((r) => r.hourStart));
        next = page.next;
      } while (next !== undefined);
      assert.deepEqual(seen, Array.from({ length: 24 }, (_, i) => T + (33 - i) * HOUR));
    });

    it('purges hours before the cut-off, at most `limit` at a time, oldest first', async () => {
      const tenantId = randomUUID();
      const old = Date.UTC(2000, 0, 1);
      await activity.addActivity(Array.from({ length: 10 }, (_, i) => ({ tenantId, hourStart: old + i * HOUR, counts: counts({ appCheckIns: 1 }) })));
      await activity.addActivity([{ tenantId, hourStart: T, counts: counts({ appCheckIns: 1 }) }]);
      assert.equal(await activity.purgeActivity(old + 10 * HOUR, 4), 4);
      assert.deepEqual(
        (await activity.queryActivityHours(tenantId, query())).rows.map((r) => r.hourStart),
        [...Array.from({ length: 6 }, (_, i) => old + (i + 4) * HOUR), T],
      );
      assert.equal(await activity.purgeActivity(old + 10 * HOUR, 100), 6);
      assert.equal(await activity.purgeActivity(old + 10 * HOUR, 100), 0);
      assert.deepEqual((await activity.queryActivityHours(tenantId, query())).rows.map((r) => r.hourStart), [T]);
    });
  });
}
