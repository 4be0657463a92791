import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { CollectionQuery, FieldValue, Filter } from '../../src/store/collection-query.ts';
import { ACTIVITY_COUNTERS, type ActivityCounts, type ActivityHourRecord } from '../../src/store/records.ts';
import type { ActivityStore, Store } from '../../src/store/roles.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { registrationRecord } from '../support/registrations.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

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
  skippableSuite(`activity rollup store conformance: ${name}`, { skip: options.skip ?? false }, () => {
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

    it("summarizes a tenant's registrations for the console's Home: compliance, users per applied policy, pending wipes, newest threat level per device", async () => {
      const tenantId = randomUUID();
      const other = randomUUID();
      for (const id of [tenantId, other]) {
        await store.createTenant({ id, name: 'Contoso', identityProvider: 'entra', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: T, updatedAt: T });
      }
      const [alice, bob] = [randomUUID(), randomUUID()];
      const [p1, p2] = [randomUUID(), randomUUID()];
      const ap = store.appProtection;
      const registrations = [
        registrationRecord(tenantId, { userId: alice, appId: 'com.microsoft.edge', complianceState: 'compliant', appliedPolicyId: p1, appliedPolicyVersion: 1 }),
        registrationRecord(tenantId, { userId: alice, appId: 'com.microsoft.office.outlook', complianceState: 'compliant', appliedPolicyId: p1, appliedPolicyVersion: 1 }),
        registrationRecord(tenantId, { userId: bob, complianceState: 'notCompliant', appliedPolicyId: p1, appliedPolicyVersion: 1 }),
        registrationRecord(tenantId, { userId: bob, appId: 'com.microsoft.edge', complianceState: 'unknown', appliedPolicyId: p2, appliedPolicyVersion: 3 }),
        registrationRecord(tenantId, { complianceState: 'unknown' }),
        registrationRecord(tenantId, { complianceState: 'notCompliant', appliedPolicyId: p2, appliedPolicyVersion: 1, state: 'wiped' }),
        registrationRecord(other, { complianceState: 'notCompliant', appliedPolicyId: p1, appliedPolicyVersion: 1 }),
      ];
      for (const r of registrations) await ap.upsertRegistration(r);
      const wipe = (r: (typeof registrations)[number], status: 'pending' | 'succeeded') =>
        ({ tenantId: r.tenantId, id: randomUUID(), registrationId: r.id, userId: r.userId, kind: 'wipe', reason: 'deviceTag', status, detail: null, createdAt: T, completedAt: status === 'pending' ? null : T, expiresAt: T + 1e9 }) as const;
      await ap.addOperations([wipe(registrations[0]!, 'pending'), wipe(registrations[2]!, 'pending'), wipe(registrations[3]!, 'succeeded'), wipe(registrations[6]!, 'pending')]);
      const connector = randomUUID();
      await ap.createConnector({ tenantId, id: connector, partnerState: 'enabled', lastHeartbeatAt: null, windowsMobileApplicationManagementEnabled: true, windowsDeviceBlockedOnMissingPartnerData: false, partnerUnsupportedOsVersionBlocked: false, partnerUnresponsivenessThresholdInDays: 7, graphExtras: {}, version: 1, createdAt: T, updatedAt: T });
      const [d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID()];
      const report = (userId: string, appId: string, device: string, healthState: 'secured' | 'low' | 'medium' | 'high', at: number) =>
        ap.saveThreatReport({ tenantId, connectorId: connector, userId, appId, azureAdDeviceId: device, healthState, reportedAt: at, receivedAt: at });
      // Alice's d1: high, then secured later (by another app's report): secured. Bob's d2: medium. Alice's d3: high.
      await report(alice, 'com.microsoft.edge', d1, 'high', T);
      await report(alice, 'com.microsoft.office.outlook', d1, 'secured', T + 10);
      await report(bob, 'com.microsoft.edge', d2, 'medium', T + 5);
      await report(alice, 'com.microsoft.edge', d3, 'high', T + 1);

      const summary = await ap.summarizeRegistrations(tenantId);
      assert.deepEqual(summary.complianceStates, { compliant: 2, notCompliant: 1, unknown: 2 }, 'active registrations only');
      assert.deepEqual(
        [...summary.deployedUsers].sort((a, b) => (a.policyId < b.policyId ? -1 : 1)),
        [{ policyId: p1, users: 2 }, { policyId: p2, users: 1 }].sort((a, b) => (a.policyId < b.policyId ? -1 : 1)),
        'distinct users of active registrations',
      );
      assert.equal(summary.pendingWipes, 2);
      assert.deepEqual(summary.threatStates, { secured: 1, low: 0, medium: 1, high: 1 });
      const empty = await ap.summarizeRegistrations(randomUUID());
      assert.deepEqual(empty, { complianceStates: { compliant: 0, notCompliant: 0, unknown: 0 }, deployedUsers: [], pendingWipes: 0, threatStates: { secured: 0, low: 0, medium: 0, high: 0 } });
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
