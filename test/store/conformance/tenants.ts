import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, T0, tenantRecord } from '../conformance-support.ts';
import type { ConfigurationSetRecord, ConfigurationStore, StoreFixture, TenantRecord, TenantSettings, TenantStore } from '../conformance-support.ts';

/** TenantStore (src/store/roles.ts); a tenant update may carry a configuration set (ConfigurationStore). */
export function tenantConformance(fixture: StoreFixture<TenantStore & ConfigurationStore>): void {
  const { newTenant } = fixture;

  describe('tenants', () => {
    let store: TenantStore & ConfigurationStore;

    before(() => {
      store = fixture.store;
    });

    it('creates a tenant and reads it back exactly', async () => {
      const entra = await newTenant();
      const builtin = await newTenant({ identityProvider: 'builtin', enrollmentAllowed: false, createdAt: T0 + 1, updatedAt: T0 + 2 });
      assert.deepEqual(await store.getTenant(entra.id), entra);
      assert.deepEqual(await store.getTenant(builtin.id), builtin);
      const read = await store.getTenant(builtin.id);
      assert.equal(typeof read?.createdAt, 'number');
      assert.equal(read?.enrollmentAllowed, false);
    });

    it('getTenant answers undefined for a tenant never onboarded', async () => {
      assert.equal(await store.getTenant(randomUUID()), undefined);
    });

    it('createTenant refuses an existing id with conflict and keeps the original', async () => {
      const original = await newTenant();
      await assertRejectsWith(store.createTenant({ ...original, name: 'Impostor', createdAt: T0 + 9 }), 'conflict');
      assert.deepEqual(await store.getTenant(original.id), original);
    });

    it('listTenants orders by creation time, oldest first', async () => {
      const late = await newTenant({ createdAt: T0 + 300 });
      const early = await newTenant({ createdAt: T0 - 300 });
      const middle = await newTenant({ createdAt: T0 });
      const all = await store.listTenants();
      const ours = all.filter((t) => [late.id, early.id, middle.id].includes(t.id));
      assert.deepEqual(ours, [early, middle, late]);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.createdAt <= all[i]!.createdAt, 'listTenants is not ordered by createdAt');
    });

    it('updateTenant writes the tenant at the version it was read, one version up', async () => {
      const tenant = await newTenant();
      const settings: TenantSettings = {
        requireTermsOfUse: false,
        termsOfUseText: 'Second version.',
        pollSchedule: { ...tenant.settings.pollSchedule, numberOfFirstRetries: 3, pollOnLogin: false },
      };
      const next: TenantRecord = { ...tenant, name: 'Fabrikam', enrollmentAllowed: false, settings, updatedAt: T0 + 1000 };
      assert.deepEqual(await store.updateTenant(next), { kind: 'saved', version: tenant.version + 1 });
      assert.deepEqual(await store.getTenant(tenant.id), { ...next, version: tenant.version + 1 });
    });

    it('updateTenant is a compare-and-set: a write from a stale read is refused and writes nothing', async () => {
      const tenant = await newTenant();
      assert.equal((await store.updateTenant({ ...tenant, name: 'First', updatedAt: T0 + 1 })).kind, 'saved');
      assert.deepEqual(await store.updateTenant({ ...tenant, name: 'Lost', updatedAt: T0 + 2 }), { kind: 'stale', current: tenant.version + 1 });
      assert.equal((await store.getTenant(tenant.id))?.name, 'First');
      const racing = await Promise.all([0, 1, 2, 3].map((i) => store.updateTenant({ ...tenant, version: tenant.version + 1, name: `Racer ${i}` })));
      assert.equal(racing.filter((r) => r.kind === 'saved').length, 1, JSON.stringify(racing));
    });

    it('updateTenant puts a configuration set in the same write, and not when the write is refused', async () => {
      const tenant = await newTenant();
      const before = await store.getConfigurationVersion(tenant.id);
      const set = (name: string): ConfigurationSetRecord => ({ id: 'poll', tenantId: tenant.id, name, target: { kind: 'all_devices' }, settings: [], createdAt: T0, updatedAt: T0 });
      assert.equal((await store.updateTenant({ ...tenant, version: tenant.version + 5 }, set('stale'))).kind, 'stale');
      assert.equal(await store.getConfigurationSet(tenant.id, 'poll'), undefined);
      assert.equal((await store.updateTenant(tenant, set('saved'))).kind, 'saved');
      assert.equal((await store.getConfigurationSet(tenant.id, 'poll'))?.name, 'saved');
      assert.equal(await store.getConfigurationVersion(tenant.id), before + 1, 'devices re-plan once');
    });

    it('updateTenant of an unknown tenant is not_found and creates nothing', async () => {
      const ghost = tenantRecord();
      assert.deepEqual(await store.updateTenant(ghost), { kind: 'not_found' });
      assert.equal(await store.getTenant(ghost.id), undefined);
    });
  });
}
