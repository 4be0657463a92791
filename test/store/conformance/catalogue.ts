import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { accessPolicyRecord, assertRejectsWith, compareKeys, isOpenMamError, managedAppRecord, servicePrincipalRecord, T0 } from '../conformance-support.ts';
import type { AccessPolicyStore, AppPolicyStore, AppProtectionFixture, CatalogueStore } from '../conformance-support.ts';

/**
 * The managed app catalogue and service principals (CatalogueStore); an access policy naming a service principal
 * (AccessPolicyStore) holds it.
 */
export function catalogueConformance(fixture: AppProtectionFixture<CatalogueStore & AccessPolicyStore & AppPolicyStore>): void {
  const { newTenant } = fixture;

  describe('managed app catalogue and service principals', () => {
    let ap: CatalogueStore & AccessPolicyStore & AppPolicyStore;

    before(() => {
      ap = fixture.ap;
    });

    it('createManagedApp stores it exactly and bumps; updateManagedApp is a compare-and-set; delete at a version', async () => {
      const tenantId = await newTenant();
      const app = managedAppRecord(tenantId);
      await ap.createManagedApp(app);
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
      assert.deepEqual(await ap.getManagedApp(tenantId, app.id), app);
      const changed = { ...app, displayName: 'Changed ✓', clientIds: [...app.clientIds, randomUUID()], createdAt: T0 + 50, updatedAt: T0 + 51 };
      assert.deepEqual(await ap.updateManagedApp(changed), { kind: 'saved', version: 2 });
      assert.deepEqual(await ap.getManagedApp(tenantId, app.id), { ...changed, version: 2, createdAt: app.createdAt });
      assert.deepEqual(await ap.updateManagedApp({ ...changed, displayName: 'Lost' }), { kind: 'stale', current: 2 });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.deleteManagedApp(tenantId, app.id, 1), { kind: 'stale', current: 2 });
      assert.deepEqual(await ap.deleteManagedApp(randomUUID(), app.id), { kind: 'not_found' });
      assert.deepEqual(await ap.deleteManagedApp(tenantId, app.id, 2), { kind: 'deleted' });
      assert.equal(await ap.getAppConfigVersion(tenantId), 3);
      assert.deepEqual(await ap.updateManagedApp({ ...changed, version: 2 }), { kind: 'not_found' });
      await assertRejectsWith(ap.createManagedApp(managedAppRecord(randomUUID())), 'not_found');
    });

    it("refuses another entry's windowsAppId or client id in the tenant (conflict, nothing written), not another tenant's", async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const first = managedAppRecord(tenantId);
      await ap.createManagedApp(first);
      await assertRejectsWith(ap.createManagedApp(first), 'conflict');
      await assertRejectsWith(ap.createManagedApp(managedAppRecord(tenantId, { windowsAppId: first.windowsAppId })), 'conflict');
      await assertRejectsWith(ap.createManagedApp(managedAppRecord(tenantId, { clientIds: [randomUUID(), first.clientIds[0]!] })), 'conflict');
      const second = managedAppRecord(tenantId);
      await ap.createManagedApp(second);
      await assertRejectsWith(ap.updateManagedApp({ ...second, clientIds: first.clientIds }), 'conflict');
      await assertRejectsWith(ap.updateManagedApp({ ...second, windowsAppId: first.windowsAppId }), 'conflict');
      assert.equal(await ap.getAppConfigVersion(tenantId), 2, 'refused writes are undone, bump included');
      await ap.createManagedApp({ ...first, tenantId: other });
      assert.deepEqual(await ap.listManagedApps(tenantId), [first, second].sort((a, b) => a.createdAt - b.createdAt || compareKeys(a.id, b.id)));
      assert.deepEqual(await ap.listManagedApps(randomUUID()), []);
    });

    it('service principals: create, compare-and-set update, appId and audiences unique in a tenant ignoring case', async () => {
      const tenantId = await newTenant();
      const principal = servicePrincipalRecord(tenantId, { servicePrincipalNames: ['Exchange'] });
      await ap.createServicePrincipal(principal);
      assert.deepEqual(await ap.getServicePrincipal(tenantId, principal.id), principal);
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
      await assertRejectsWith(ap.createServicePrincipal(servicePrincipalRecord(tenantId, { appId: principal.appId })), 'conflict');
      await assertRejectsWith(ap.createServicePrincipal(servicePrincipalRecord(tenantId, { servicePrincipalNames: ['EXCHANGE'] })), 'conflict');
      await assertRejectsWith(ap.createServicePrincipal(servicePrincipalRecord(tenantId, { servicePrincipalNames: [principal.appId] })), 'conflict');
      const changed = { ...principal, displayName: 'Exchange Online', servicePrincipalNames: ['https://outlook.office365.com'], graphExtras: { tags: ['mail'], notes: 'Stored ✓' }, updatedAt: T0 + 9 };
      assert.deepEqual(await ap.updateServicePrincipal(changed), { kind: 'saved', version: 2 });
      assert.deepEqual(await ap.getServicePrincipal(tenantId, principal.id), { ...changed, version: 2 });
      assert.deepEqual(await ap.updateServicePrincipal(changed), { kind: 'stale', current: 2 });
      await ap.createServicePrincipal(servicePrincipalRecord(tenantId, { servicePrincipalNames: ['exchange'] }));
      assert.equal((await ap.listServicePrincipals(tenantId)).length, 2);
      await ap.createServicePrincipal({ ...principal, tenantId: await newTenant() });
    });

    it('deleteServicePrincipal is refused (conflict, nothing written) while an access policy names its appId', async () => {
      const tenantId = await newTenant();
      const principal = servicePrincipalRecord(tenantId);
      await ap.createServicePrincipal(principal);
      const policy = accessPolicyRecord(tenantId, { displayName: 'Needs it', resources: [principal.appId.toUpperCase()] });
      await ap.createAccessPolicy(policy);
      await assert.rejects(ap.deleteServicePrincipal(tenantId, principal.id), (error: unknown) => isOpenMamError(error) && error.code === 'conflict' && /"Needs it"/.test(error.message));
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.ok(await ap.getServicePrincipal(tenantId, principal.id));
      await ap.deleteAccessPolicy(tenantId, policy.id);
      assert.deepEqual(await ap.deleteServicePrincipal(tenantId, principal.id), { kind: 'deleted' });
      assert.deepEqual(await ap.deleteServicePrincipal(tenantId, principal.id), { kind: 'not_found' });
    });
  });
}
