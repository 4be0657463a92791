import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, configurationSet, T0 } from '../conformance-support.ts';
import type { ConfigurationSetRecord, ConfigurationStore, StoreFixture } from '../conformance-support.ts';

/** ConfigurationStore (src/store/roles.ts): configuration sets and the tenant's configuration version. */
export function configurationConformance(fixture: StoreFixture<ConfigurationStore>): void {
  const { newTenant } = fixture;

  describe('configuration sets', () => {
    let store: ConfigurationStore;

    before(() => {
      store = fixture.store;
    });

    it('the version starts at 0, also for a tenant never onboarded', async () => {
      const tenant = await newTenant();
      assert.equal(await store.getConfigurationVersion(tenant.id), 0);
      assert.equal(await store.getConfigurationVersion(randomUUID()), 0);
    });

    it('putConfigurationSet creates a set, reads back exactly, and bumps the version', async () => {
      const tenant = await newTenant();
      const set = configurationSet(tenant.id, 'baseline');
      assert.equal(await store.putConfigurationSet(set), 1);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, 'baseline'), set);
      assert.equal(await store.getConfigurationSet(tenant.id, 'other'), undefined);
      assert.equal(await store.getConfigurationSet(randomUUID(), 'baseline'), undefined, 'sets belong to their tenant');
    });

    it('putConfigurationSet replaces a set by id, keeping createdAt, and bumps again', async () => {
      const tenant = await newTenant();
      const original = configurationSet(tenant.id, 'baseline');
      await store.putConfigurationSet(original);
      const replacement = configurationSet(tenant.id, 'baseline', {
        name: 'Renamed',
        target: { kind: 'device', devId: 'dev-1' },
        settings: [{ locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
        createdAt: T0 + 500,
        updatedAt: T0 + 600,
      });
      assert.equal(await store.putConfigurationSet(replacement), 2);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, 'baseline'), { ...replacement, createdAt: original.createdAt });
      assert.equal((await store.configurationSetsFor(tenant.id, 'dev-1')).length, 1, 'a replacement never duplicates the set');
    });

    it('putConfigurationSet refuses an unknown tenant with not_found', async () => {
      const tenantId = randomUUID();
      await assertRejectsWith(store.putConfigurationSet(configurationSet(tenantId, 'x')), 'not_found');
      assert.equal(await store.getConfigurationSet(tenantId, 'x'), undefined);
    });

    it('deleteConfigurationSet deletes and bumps; a missing set bumps nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      await store.putConfigurationSet(configurationSet(tenant.id, 'a'));
      await store.putConfigurationSet(configurationSet(tenant.id, 'b'));
      assert.equal(await store.deleteConfigurationSet(other.id, 'a', T0), false, 'another tenant cannot delete it');
      assert.equal(await store.getConfigurationVersion(other.id), 0);
      assert.equal(await store.deleteConfigurationSet(tenant.id, 'a', T0), true);
      assert.equal(await store.getConfigurationVersion(tenant.id), 3);
      assert.equal(await store.getConfigurationSet(tenant.id, 'a'), undefined);
      assert.ok(await store.getConfigurationSet(tenant.id, 'b'));
      assert.equal(await store.deleteConfigurationSet(tenant.id, 'a', T0), false, 'already deleted');
      assert.equal(await store.deleteConfigurationSet(tenant.id, 'never', T0), false);
      assert.equal(await store.deleteConfigurationSet(randomUUID(), 'a', T0), false, 'unknown tenant');
      assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');
    });

    it('configurationSetsFor: the tenant\'s all-devices sets and the sets targeting that device, ordered by id', async () => {
      const tenant = await newTenant();
      const neighbour = await newTenant();
      const forAll = configurationSet(tenant.id, 'b-all');
      const forDev1 = configurationSet(tenant.id, 'a-dev1', { target: { kind: 'device', devId: 'dev-1' } });
      const forDev2 = configurationSet(tenant.id, 'c-dev2', { target: { kind: 'device', devId: 'dev-2' } });
      const alsoForAll = configurationSet(tenant.id, 'd-all');
      for (const set of [alsoForAll, forDev2, forAll, forDev1]) await store.putConfigurationSet(set);
      await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour'));
      await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour-dev1', { target: { kind: 'device', devId: 'dev-1' } }));
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [forDev1, forAll, alsoForAll]);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-2'), [forAll, forDev2, alsoForAll]);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-3'), [forAll, alsoForAll]);
      assert.deepEqual(await store.configurationSetsFor(randomUUID(), 'dev-1'), []);
    });

    it('concurrent puts each get their own version', async () => {
      const tenant = await newTenant();
      const versions = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putConfigurationSet(configurationSet(tenant.id, `set-${i}`))));
      assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(await store.getConfigurationVersion(tenant.id), 10);
    });

    it('a group-targeted set reads back exactly', async () => {
      const tenant = await newTenant();
      const include = [randomUUID(), randomUUID()];
      const exclude = [randomUUID()];
      const set = configurationSet(tenant.id, 'wip', { target: { kind: 'groups', include, exclude, allUsers: false } });
      await store.putConfigurationSet(set);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, 'wip'), set);
      const everyone = configurationSet(tenant.id, 'everyone', { target: { kind: 'groups', include: [], exclude: [], allUsers: true } });
      await store.putConfigurationSet(everyone);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, 'everyone'), everyone);
    });

    it('a replacement may change the target kind: groups, device, all devices and back', async () => {
      const tenant = await newTenant();
      const targets: ConfigurationSetRecord['target'][] = [
        { kind: 'groups', include: ['g-1'], exclude: ['g-2'], allUsers: true },
        { kind: 'device', devId: 'dev-1' },
        { kind: 'all_devices' },
        { kind: 'groups', include: [], exclude: ['g-3'], allUsers: false },
      ];
      for (const target of targets) {
        const set = configurationSet(tenant.id, 'moving', { target });
        await store.putConfigurationSet(set);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'moving'), set);
      }
      assert.equal(await store.getConfigurationVersion(tenant.id), targets.length);
    });

    it('configurationSetsFor also answers every group-targeted set of the tenant (the caller decides targeting)', async () => {
      const tenant = await newTenant();
      const neighbour = await newTenant();
      const forAll = configurationSet(tenant.id, 'b-all');
      const forDev1 = configurationSet(tenant.id, 'a-dev1', { target: { kind: 'device', devId: 'dev-1' } });
      const forDev2 = configurationSet(tenant.id, 'e-dev2', { target: { kind: 'device', devId: 'dev-2' } });
      const forSales = configurationSet(tenant.id, 'c-sales', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: false } });
      const forUsers = configurationSet(tenant.id, 'd-users', { target: { kind: 'groups', include: [], exclude: ['interns'], allUsers: true } });
      for (const set of [forUsers, forDev2, forSales, forAll, forDev1]) await store.putConfigurationSet(set);
      await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: true } }));
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [forDev1, forAll, forSales, forUsers]);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-3'), [forAll, forSales, forUsers]);
      assert.deepEqual(await store.configurationSetsFor(neighbour.id, 'dev-1'), [
        configurationSet(neighbour.id, 'a-neighbour', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: true } }),
      ]);
    });
  });
}
