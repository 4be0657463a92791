import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PARSED_PERIODS, offlineWipeDue, parsedPeriodsHeld } from '../../src/core/app-protection/health-checks.ts';
import { TenantAppSnapshots, type SnapshotStore } from '../../src/core/app-protection/tenant-snapshot.ts';
import { TenantDirectory } from '../../src/identity/tenants.ts';
import { MAX_MEMOIZED_RULES, memoizedRule } from '../../src/policy/assignment-filter-rule.ts';
import type { TenantStore } from '../../src/store/roles.ts';
import { statementCache } from '../../src/store/sqlite.ts';

/**
 * The in-memory caches of the server each keep a bound (docs/operations.md "Limits"): past it they drop entries and
 * read again, which these tests observe (a read counted, a new object where the memo answered the same one).
 */
describe('cache bounds', () => {
  it('TenantDirectory: unknown tenants are cached too, but at most maxCached entries', async () => {
    const reads: string[] = [];
    const store: TenantStore = {
      getTenant: async (id) => {
        reads.push(id);
        return undefined;
      },
      listTenants: async () => [],
      createTenant: async () => assert.fail('not called'),
      updateTenant: async () => assert.fail('not called'),
    };
    const directory = new TenantDirectory(store, () => 0, 30_000, undefined, 2);
    await directory.get('a');
    await directory.get('a');
    assert.deepEqual(reads, ['a'], 'an unknown tenant is cached: one read');
    await directory.get('b');
    await directory.get('c');
    await directory.get('a');
    assert.deepEqual(reads, ['a', 'b', 'c', 'a'], 'the third entry emptied the cache: a is read again');
  });

  it('TenantAppSnapshots: at most maxCachedUsers users\' memberships per tenant', async () => {
    const membershipReads: string[] = [];
    const store: SnapshotStore = {
      appProtection: {
        getAppConfigVersion: async () => 1,
        listAppPolicies: async () => [],
        listConnectors: async () => [],
        listAccessPolicies: async () => [],
        listManagedApps: async () => [],
        listServicePrincipals: async () => [],
      },
      getConfigurationVersion: async () => 1,
      groupsOfMember: async (_tenantId, userId) => {
        membershipReads.push(userId);
        return [];
      },
    };
    const snapshots = new TenantAppSnapshots(store, undefined, { maxCachedUsers: 2 });
    await snapshots.groupsOf('t', 'u1', []);
    await snapshots.groupsOf('t', 'u1', []);
    assert.deepEqual(membershipReads, ['u1'], 'cached');
    await snapshots.groupsOf('t', 'u2', []);
    await snapshots.groupsOf('t', 'u3', []);
    await snapshots.groupsOf('t', 'u1', []);
    assert.deepEqual(membershipReads, ['u1', 'u2', 'u3', 'u1'], 'the third user emptied the cache: u1 is read again');
  });

  it(`assignment filter rules: at most ${MAX_MEMOIZED_RULES} parsed rules are kept`, () => {
    const rule = (i: number) => `(device.model -eq "model ${i}")`;
    const first = memoizedRule(rule(0), 'devices');
    assert.ok(first !== null);
    assert.equal(memoizedRule(rule(0), 'devices'), first, 'the same parsed object while it is kept');
    for (let i = 1; i <= MAX_MEMOIZED_RULES; i++) memoizedRule(rule(i), 'devices');
    const again = memoizedRule(rule(0), 'devices');
    assert.notEqual(again, first, 'dropped past the bound: parsed anew');
    assert.deepEqual(again, first, 'to the same rule');
  });

  it(`health checks: at most ${MAX_PARSED_PERIODS} parsed ISO 8601 periods are kept`, () => {
    for (let i = 1; i <= MAX_PARSED_PERIODS * 2 + 5; i++) {
      assert.equal(offlineWipeDue(`PT${i}S`, i * 1000 + 1), true, `PT${i}S is past after ${i} s`);
      assert.ok(parsedPeriodsHeld() <= MAX_PARSED_PERIODS, `held ${parsedPeriodsHeld()}`);
    }
  });

  it('SQLite statements: at most `capacity` prepared per connection, the oldest dropped first', () => {
    const prepared: string[] = [];
    const prepare = statementCache((sql) => {
      prepared.push(sql);
      return { sql };
    }, 2);
    const a = prepare('select 1');
    assert.equal(prepare('select 1'), a, 'kept');
    prepare('select 2');
    prepare('select 3');
    assert.equal(prepare('select 3'), prepare('select 3'));
    assert.notEqual(prepare('select 1'), a, 'the oldest was dropped: prepared again');
    assert.deepEqual(prepared, ['select 1', 'select 2', 'select 3', 'select 1']);
  });
});
