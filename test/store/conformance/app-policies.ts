import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { accessPolicyRecord, appPolicyRecord, assertRejectsWith, compareKeys, T0 } from '../conformance-support.ts';
import type { AccessPolicyStore, AppPolicyRecord, AppPolicyStore, AppProtectionFixture, ConfigurationStore, TenantStore } from '../conformance-support.ts';

/**
 * AppPolicyStore (src/store/app-protection-roles.ts): app policies and the tenant's app configuration version, which
 * access policies bump too, moves apart from the configuration version (ConfigurationStore) and survives tenant
 * updates (TenantStore).
 */
export function appPolicyConformance(fixture: AppProtectionFixture<AppPolicyStore & AccessPolicyStore, TenantStore & ConfigurationStore>): void {
  const { newTenant, newConnector } = fixture;

  describe('app configuration version', () => {
    let store: TenantStore & ConfigurationStore;
    let ap: AppPolicyStore & AccessPolicyStore;

    before(() => {
      store = fixture.store;
      ap = fixture.ap;
    });

    it('is 0 for a new tenant and for an unknown one', async () => {
      const tenantId = await newTenant();
      assert.equal(await ap.getAppConfigVersion(tenantId), 0);
      assert.equal(await ap.getAppConfigVersion(randomUUID()), 0);
    });

    it('is the tenant’s own: other tenants and the configuration version do not move with it', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      await ap.createAppPolicy(appPolicyRecord(tenantId));
      await newConnector(tenantId);
      await ap.createAccessPolicy(accessPolicyRecord(tenantId));
      assert.equal(await ap.getAppConfigVersion(tenantId), 3);
      assert.equal(await ap.getAppConfigVersion(other), 0);
      assert.equal(await store.getConfigurationVersion(tenantId), 0);
      // And the other way round: a configuration set bumps only the configuration version.
      await store.putConfigurationSet({ tenantId, id: randomUUID(), name: 'Set', target: { kind: 'all_devices' }, settings: [], createdAt: T0, updatedAt: T0 });
      assert.equal(await ap.getAppConfigVersion(tenantId), 3);
      assert.equal(await store.getConfigurationVersion(tenantId), 1);
    });

    it('survives the tenant’s own updates', async () => {
      const tenantId = await newTenant();
      await ap.createAppPolicy(appPolicyRecord(tenantId));
      const tenant = (await store.getTenant(tenantId))!;
      assert.equal((await store.updateTenant({ ...tenant, name: 'Renamed', updatedAt: T0 + 5 })).kind, 'saved');
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
    });
  });

  describe('app policies', () => {
    let ap: AppPolicyStore & AccessPolicyStore;

    before(() => {
      ap = fixture.ap;
    });

    it('createAppPolicy stores the policy exactly and returns the bumped version', async () => {
      const tenantId = await newTenant();
      const protection = appPolicyRecord(tenantId);
      const configuration = appPolicyRecord(tenantId, { kind: 'targetedManagedAppConfiguration', body: { displayName: 'Config', customSettings: [{ name: 'k', value: 'v' }] }, apps: [] });
      assert.equal(await ap.createAppPolicy(protection), 1);
      assert.equal(await ap.createAppPolicy(configuration), 2);
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.getAppPolicy(tenantId, protection.id), protection);
      assert.deepEqual(await ap.getAppPolicy(tenantId, configuration.id), configuration);
    });

    it('updateAppPolicy is a compare-and-set: at the stored version it writes version + 1 (createdAt kept) and bumps', async () => {
      const tenantId = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      const changed: AppPolicyRecord = {
        ...policy,
        body: { displayName: 'Changed', minimumRequiredOsVersion: '10.0.22631' },
        apps: [{ id: 'app-2', appId: 'com.contoso.app', version: '2.0' }],
        assignments: [],
        createdAt: T0 + 999,
        updatedAt: T0 + 1000,
      };
      assert.deepEqual(await ap.updateAppPolicy(changed), { kind: 'saved', version: policy.version + 1 });
      assert.deepEqual(await ap.getAppPolicy(tenantId, policy.id), { ...changed, version: policy.version + 1, createdAt: policy.createdAt });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.equal((await ap.listAppPolicies(tenantId)).length, 1);
    });

    it('updateAppPolicy at a stale version writes nothing and answers stale with the current version', async () => {
      const tenantId = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      assert.deepEqual(await ap.updateAppPolicy({ ...policy, body: { displayName: 'First' } }), { kind: 'saved', version: policy.version + 1 });
      // A second writer that read the same version loses: its change is refused, not laid over the first.
      assert.deepEqual(await ap.updateAppPolicy({ ...policy, body: { displayName: 'Lost' } }), { kind: 'stale', current: policy.version + 1 });
      assert.deepEqual((await ap.getAppPolicy(tenantId, policy.id))?.body, { displayName: 'First' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      // Of concurrent writers at one version, exactly one wins.
      const current = (await ap.getAppPolicy(tenantId, policy.id))!;
      const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => ap.updateAppPolicy({ ...current, body: { displayName: `Racer ${i}` } })));
      assert.equal(outcomes.filter((o) => o.kind === 'saved').length, 1);
      assert.equal(outcomes.filter((o) => o.kind === 'stale').length, 5);
      assert.equal((await ap.getAppPolicy(tenantId, policy.id))?.version, current.version + 1);
      assert.equal(await ap.getAppConfigVersion(tenantId), 3);
    });

    it('updateAppPolicy of a deleted policy answers not_found and never re-creates it', async () => {
      const tenantId = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id), { kind: 'deleted' });
      assert.deepEqual(await ap.updateAppPolicy({ ...policy, body: { displayName: 'Resurrected?' } }), { kind: 'not_found' });
      assert.equal(await ap.getAppPolicy(tenantId, policy.id), undefined);
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.updateAppPolicy(appPolicyRecord(randomUUID())), { kind: 'not_found' });
    });

    it('createAppPolicy is a plain insert: a taken id is conflict and the stored policy stays', async () => {
      const tenantId = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      await assertRejectsWith(ap.createAppPolicy({ ...policy, body: { displayName: 'Replaced?' } }), 'conflict');
      assert.deepEqual(await ap.getAppPolicy(tenantId, policy.id), policy);
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
    });

    it('deleteAppPolicy with an expected version deletes only at that version', async () => {
      const tenantId = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      await ap.updateAppPolicy(policy);
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id, policy.version), { kind: 'stale', current: policy.version + 1 });
      assert.equal((await ap.getAppPolicy(tenantId, policy.id))?.version, policy.version + 1);
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id, policy.version + 1), { kind: 'deleted' });
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id, policy.version + 1), { kind: 'not_found' });
    });

    it('createAppPolicy refuses an unknown tenant with not_found', async () => {
      await assertRejectsWith(ap.createAppPolicy(appPolicyRecord(randomUUID())), 'not_found');
    });

    it('getAppPolicy answers undefined for an unknown id and for another tenant’s policy', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      assert.equal(await ap.getAppPolicy(tenantId, randomUUID()), undefined);
      assert.equal(await ap.getAppPolicy(other, policy.id), undefined);
    });

    it('listAppPolicies orders by createdAt then id, filters by kind, and stays in its tenant', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const late = appPolicyRecord(tenantId, { createdAt: T0 + 20 });
      const early = appPolicyRecord(tenantId, { createdAt: T0 - 20 });
      const [tieA, tieB] = [appPolicyRecord(tenantId, { createdAt: T0 }), appPolicyRecord(tenantId, { createdAt: T0 })].sort((a, b) => compareKeys(a.id, b.id));
      const configuration = appPolicyRecord(tenantId, { kind: 'targetedManagedAppConfiguration', createdAt: T0 + 10 });
      for (const policy of [late, tieB!, configuration, early, tieA!]) await ap.createAppPolicy(policy);
      await ap.createAppPolicy(appPolicyRecord(other));
      assert.deepEqual(await ap.listAppPolicies(tenantId), [early, tieA, tieB, configuration, late]);
      assert.deepEqual(await ap.listAppPolicies(tenantId, 'windowsManagedAppProtection'), [early, tieA, tieB, late]);
      assert.deepEqual(await ap.listAppPolicies(tenantId, 'targetedManagedAppConfiguration'), [configuration]);
      assert.deepEqual(await ap.listAppPolicies(randomUUID()), []);
    });

    it('deleteAppPolicy deletes and bumps; false (no bump) when absent or another tenant’s', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const policy = appPolicyRecord(tenantId);
      await ap.createAppPolicy(policy);
      assert.deepEqual(await ap.deleteAppPolicy(other, policy.id), { kind: 'not_found' });
      assert.equal(await ap.getAppConfigVersion(other), 0);
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id), { kind: 'deleted' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.equal(await ap.getAppPolicy(tenantId, policy.id), undefined);
      assert.deepEqual(await ap.deleteAppPolicy(tenantId, policy.id), { kind: 'not_found' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.deleteAppPolicy(randomUUID(), policy.id), { kind: 'not_found' });
    });

    it('concurrent creates each get their own version', async () => {
      const tenantId = await newTenant();
      const versions = await Promise.all(Array.from({ length: 8 }, () => ap.createAppPolicy(appPolicyRecord(tenantId))));
      assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(await ap.getAppConfigVersion(tenantId), 8);
    });
  });
}
