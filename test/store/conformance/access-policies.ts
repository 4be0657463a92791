import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { accessPolicyRecord, assertRejectsWith, T0 } from '../conformance-support.ts';
import type { AccessPolicyRecord, AccessPolicyStore, AppPolicyStore, AppProtectionFixture, DeviceComplianceRecord } from '../conformance-support.ts';

/** Conditional access policies and device compliance (AccessPolicyStore). */
export function accessPolicyConformance(fixture: AppProtectionFixture<AccessPolicyStore & AppPolicyStore>): void {
  const { newTenant } = fixture;

  describe('conditional access', () => {
    let ap: AccessPolicyStore & AppPolicyStore;

    before(() => {
      ap = fixture.ap;
    });

    it('createAccessPolicy stores it exactly and bumps; updateAccessPolicy writes version + 1 (createdAt kept), stale and deleted refused', async () => {
      const tenantId = await newTenant();
      const policy = accessPolicyRecord(tenantId);
      await ap.createAccessPolicy(policy);
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
      assert.deepEqual(await ap.getAccessPolicy(tenantId, policy.id), policy);
      const changed: AccessPolicyRecord = {
        ...policy,
        displayName: 'Changed ✓',
        state: 'disabled',
        resources: [],
        includeGroups: [],
        excludeGroups: ['g-3'],
        includeAllUsers: true,
        approvedApps: [],
        grantControls: ['compliantDevice'],
        graphExtras: { description: 'Stored ✓', conditions: { users: { excludeUsers: ['u-1'] }, platforms: { includePlatforms: ['windows'] } }, sessionControls: null },
        createdAt: T0 + 50,
        updatedAt: T0 + 51,
      };
      assert.deepEqual(await ap.updateAccessPolicy(changed), { kind: 'saved', version: 2 });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.getAccessPolicy(tenantId, policy.id), { ...changed, version: 2, createdAt: policy.createdAt });
      assert.deepEqual(await ap.updateAccessPolicy({ ...changed, displayName: 'Lost' }), { kind: 'stale', current: 2 });
      assert.equal((await ap.getAccessPolicy(tenantId, policy.id))?.displayName, 'Changed ✓');
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.deleteAccessPolicy(tenantId, policy.id, 1), { kind: 'stale', current: 2 });
      assert.deepEqual(await ap.deleteAccessPolicy(tenantId, policy.id), { kind: 'deleted' });
      assert.deepEqual(await ap.updateAccessPolicy({ ...changed, version: 2 }), { kind: 'not_found' });
      assert.equal(await ap.getAccessPolicy(tenantId, policy.id), undefined);
      await assertRejectsWith(ap.createAccessPolicy({ ...policy, id: randomUUID(), tenantId: randomUUID() }), 'not_found');
      await ap.createAccessPolicy(policy);
      await assertRejectsWith(ap.createAccessPolicy(policy), 'conflict');
    });

    it('listAccessPolicies orders by createdAt then id and stays in its tenant', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const late = accessPolicyRecord(tenantId, { createdAt: T0 + 1 });
      const early = accessPolicyRecord(tenantId, { createdAt: T0 - 1 });
      const foreign = accessPolicyRecord(other);
      for (const policy of [late, early, foreign]) await ap.createAccessPolicy(policy);
      assert.deepEqual(await ap.listAccessPolicies(tenantId), [early, late]);
      assert.equal(await ap.getAccessPolicy(tenantId, foreign.id), undefined);
      assert.deepEqual(await ap.listAccessPolicies(randomUUID()), []);
    });

    it('deleteAccessPolicy deletes and bumps; false (no bump) when absent or another tenant’s', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const policy = accessPolicyRecord(tenantId);
      await ap.createAccessPolicy(policy);
      assert.deepEqual(await ap.deleteAccessPolicy(other, policy.id), { kind: 'not_found' });
      assert.deepEqual(await ap.deleteAccessPolicy(tenantId, policy.id), { kind: 'deleted' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.equal(await ap.getAccessPolicy(tenantId, policy.id), undefined);
      assert.deepEqual(await ap.deleteAccessPolicy(tenantId, policy.id), { kind: 'not_found' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
    });

    it('saveDeviceCompliance inserts or replaces by tenant and device; getDeviceCompliance reads it back', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const record: DeviceComplianceRecord = { tenantId, azureAdDeviceId: randomUUID(), compliant: true, reportedAt: T0 };
      await ap.saveDeviceCompliance(record);
      assert.deepEqual(await ap.getDeviceCompliance(tenantId, record.azureAdDeviceId), record);
      const changed = { ...record, compliant: false, reportedAt: T0 + 1 };
      await ap.saveDeviceCompliance(changed);
      assert.deepEqual(await ap.getDeviceCompliance(tenantId, record.azureAdDeviceId), changed);
      assert.equal(await ap.getDeviceCompliance(other, record.azureAdDeviceId), undefined);
      assert.equal(await ap.getDeviceCompliance(tenantId, randomUUID()), undefined);
      assert.equal(await ap.getAppConfigVersion(tenantId), 0);
    });
  });
}
