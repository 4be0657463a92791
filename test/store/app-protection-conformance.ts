import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type {
  AccessPolicyRecord,
  AppOperationRecord,
  AppPolicyRecord,
  AppRegistrationRecord,
  DeviceComplianceRecord,
  ManagedAppCatalogueRecord,
  MtdConnectorRecord,
  ServicePrincipalRecord,
  ThreatReportRecord,
} from '../../src/store/app-protection-records.ts';
import type { AppProtectionStore } from '../../src/store/app-protection-roles.ts';
import type { TenantRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of src/store/app-protection-roles.ts, for every backend. `open` must return a migrated store on the
 * same database each time it is called. Every test works with its own tenant and random ids. Times are around T0,
 * except the retention tests', which are around P (long before T0): a purge at P touches no other test's rows, so
 * its counts are exact.
 */
export function appProtectionConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`app protection store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    let ap: AppProtectionStore;

    before(async () => {
      store = await open();
      ap = store.appProtection;
    });

    after(async () => {
      await store?.close();
    });

    async function newTenant(): Promise<string> {
      const tenant = tenantRecord();
      await store.createTenant(tenant);
      return tenant.id;
    }

    /** Upserts a registration and checks that it was stored as given (a new one). */
    async function newRegistration(tenantId: string, overrides: Partial<AppRegistrationRecord> = {}): Promise<AppRegistrationRecord> {
      const registration = registrationRecord(tenantId, overrides);
      assert.deepEqual(await ap.upsertRegistration(registration), registration);
      return registration;
    }

    async function newConnector(tenantId: string, overrides: Partial<MtdConnectorRecord> = {}): Promise<MtdConnectorRecord> {
      const connector = connectorRecord(tenantId, overrides);
      await ap.createConnector(connector);
      return connector;
    }

    describe('app configuration version', () => {
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

    describe('registrations', () => {
      it('upsertRegistration inserts a new registration and getRegistration reads it back exactly', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId, {
          reportedFailures: ['minimumRequiredOsVersion', 'minimumWarningAppVersion'],
          complianceState: 'notCompliant',
          complianceReasons: ['deviceThreatLevel', 'Ä ✓ "quoted"'],
          appliedPolicyId: randomUUID(),
          appliedPolicyVersion: 7,
        });
        const read = await ap.getRegistration(registration.id);
        assert.deepEqual(read, registration);
        assert.equal(typeof read?.lastCheckInAt, 'number');
        assert.equal(typeof read?.appliedPolicyVersion, 'number');
        assert.deepEqual((await newRegistration(tenantId, { upn: null, deviceName: null, deviceModel: null, deviceManufacturer: null, azureAdDeviceId: null })).upn, null);
      });

      it('getCheckInState reads the registration with its tenant\'s versions, the blocked and pending flags and the device\'s threat reports', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        assert.deepEqual(await ap.getCheckInState(registration.id), {
          registration,
          appConfigVersion: 0,
          configVersion: 0,
          userBlocked: false,
          hasPendingOperations: false,
          threatReports: [],
        });
        // The device's reports (every connector's and app's) come with it; another user's or device's do not.
        const [c1, c2] = [await newConnector(tenantId), await newConnector(tenantId)];
        const onDevice = { userId: registration.userId, azureAdDeviceId: registration.azureAdDeviceId! };
        const fromC1 = threatReportRecord(c1!, { ...onDevice, healthState: 'high', reportedAt: T0 + 5, receivedAt: T0 + 6 });
        const fromC2 = threatReportRecord(c2!, { ...onDevice, appId: 'com.microsoft.word', reportedAt: T0 + 7, receivedAt: T0 + 8 });
        for (const report of [fromC1, fromC2]) await ap.saveThreatReport(report);
        await ap.saveThreatReport(threatReportRecord(c1!, { azureAdDeviceId: onDevice.azureAdDeviceId }));
        await ap.saveThreatReport(threatReportRecord(c1!, { userId: onDevice.userId }));
        const byConnector = (reports: readonly { connectorId: string }[] | undefined) => [...(reports ?? [])].sort((a, b) => a.connectorId.localeCompare(b.connectorId));
        assert.deepEqual(byConnector((await ap.getCheckInState(registration.id))?.threatReports), byConnector([fromC1, fromC2]));
        await ap.createAppPolicy(appPolicyRecord(tenantId));
        await store.putConfigurationSet({ tenantId, id: randomUUID(), name: 'Set', target: { kind: 'all_devices' }, settings: [], createdAt: T0, updatedAt: T0 });
        await ap.blockUser({ tenantId, userId: registration.userId, blockedAt: T0 });
        await ap.addOperations([operationRecord(registration)]);
        const state = await ap.getCheckInState(registration.id);
        assert.deepEqual(
          { app: state?.appConfigVersion, config: state?.configVersion, blocked: state?.userBlocked, pending: state?.hasPendingOperations },
          // Two connectors and a policy: three bumps of the app version.
          { app: 3, config: 1, blocked: true, pending: true },
        );
        // Another user of the tenant is not blocked by it; an unknown id has no state.
        const other = await newRegistration(tenantId, { userId: randomUUID() });
        assert.equal((await ap.getCheckInState(other.id))?.userBlocked, false);
        assert.equal((await ap.getCheckInState(other.id))?.hasPendingOperations, false);
        assert.equal(await ap.getCheckInState(randomUUID()), undefined);
      });

      it('getRegistration answers undefined for an unknown id', async () => {
        assert.equal(await ap.getRegistration(randomUUID()), undefined);
      });

      it('the same user, app and deviceTag updates the active registration in place: id and createdAt kept', async () => {
        const tenantId = await newTenant();
        const first = await newRegistration(tenantId);
        const again: AppRegistrationRecord = {
          ...registrationRecord(tenantId, { userId: first.userId, appId: first.appId, deviceTag: first.deviceTag }),
          appVersion: '2.0.0',
          deviceName: 'LAPTOP-RENAMED',
          reportedFailures: ['x'],
          createdAt: T0 + 500,
          lastCheckInAt: T0 + 600,
        };
        const stored = await ap.upsertRegistration(again);
        assert.deepEqual(stored, { ...again, id: first.id, createdAt: first.createdAt });
        assert.deepEqual(await ap.getRegistration(first.id), stored);
        assert.equal(await ap.getRegistration(again.id), undefined);
        assert.equal((await ap.listRegistrations(tenantId, { userId: first.userId }, 10)).length, 1);
      });

      it('another app, device tag, user or tenant is another registration', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const first = await newRegistration(tenantId);
        const key = { userId: first.userId, appId: first.appId, deviceTag: first.deviceTag };
        await newRegistration(tenantId, { ...key, appId: 'com.contoso.other' });
        await newRegistration(tenantId, { ...key, deviceTag: randomUUID() });
        await newRegistration(tenantId, { ...key, userId: randomUUID() });
        await newRegistration(other, key);
        assert.equal((await ap.listRegistrations(tenantId, { userId: first.userId }, 10)).length, 3);
      });

      it('a wiped registration is not updated: the next upsert starts a new one', async () => {
        const tenantId = await newTenant();
        const first = await newRegistration(tenantId);
        assert.equal(await ap.updateRegistration(first.id, { state: 'wiped' }), true);
        const next = await newRegistration(tenantId, { userId: first.userId, appId: first.appId, deviceTag: first.deviceTag });
        assert.notEqual(next.id, first.id);
        assert.equal((await ap.getRegistration(first.id))?.state, 'wiped');
      });

      it('concurrent upserts of one key leave one active registration', async () => {
        const tenantId = await newTenant();
        const key = { userId: randomUUID(), appId: 'com.microsoft.edge', deviceTag: randomUUID() };
        const stored = await Promise.all(Array.from({ length: 6 }, (_, i) => ap.upsertRegistration(registrationRecord(tenantId, { ...key, appVersion: `1.0.${i}` }))));
        assert.equal(new Set(stored.map((r) => r.id)).size, 1);
        const active = await ap.listRegistrations(tenantId, key, 10);
        assert.equal(active.length, 1);
        assert.equal(active[0]!.id, stored[0]!.id);
      });

      it('updateRegistration writes only the given fields; false for an unknown id', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const change = {
          appVersion: '3.1.0',
          deviceName: null,
          appliedPolicyId: 'policy-1',
          appliedPolicyVersion: 4,
          reportedFailures: ['minimumWarningOsVersion'],
          complianceState: 'notCompliant' as const,
          complianceReasons: ['offlineWipe'],
          complianceChangedAt: T0 + 70,
          lastCheckInAt: T0 + 80,
        };
        assert.equal(await ap.updateRegistration(registration.id, change), true);
        assert.deepEqual(await ap.getRegistration(registration.id), { ...registration, ...change });
        assert.equal(await ap.updateRegistration(registration.id, { osVersion: '10.0.26100', sdkVersion: '1.2', deviceModel: 'M', deviceManufacturer: null }), true);
        assert.deepEqual(await ap.getRegistration(registration.id), { ...registration, ...change, osVersion: '10.0.26100', sdkVersion: '1.2', deviceModel: 'M', deviceManufacturer: null });
        assert.equal(await ap.updateRegistration(randomUUID(), { appVersion: '9' }), false);
      });

      it('updateRegistration with no change answers whether the registration exists', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        assert.equal(await ap.updateRegistration(registration.id, {}), true);
        assert.deepEqual(await ap.getRegistration(registration.id), registration);
        assert.equal(await ap.updateRegistration(randomUUID(), {}), false);
      });

      it('recordAppCheckins writes many check-in times at once; never an older one; unknown ids ignored', async () => {
        const tenantId = await newTenant();
        // More than one chunk of the bulk update.
        const registrations = await Promise.all(Array.from({ length: 300 }, () => ap.upsertRegistration(registrationRecord(tenantId, { lastCheckInAt: T0 + 100 }))));
        const checkins = new Map<string, number>(registrations.map((r, i) => [r.id, T0 + 200 + i]));
        const older = registrations[0]!;
        checkins.set(older.id, T0 + 50);
        checkins.set(randomUUID(), T0 + 999);
        await ap.recordAppCheckins(checkins);
        await ap.recordAppCheckins(new Map());
        for (const [i, registration] of registrations.entries()) {
          const read = await ap.getRegistration(registration.id);
          assert.equal(read?.lastCheckInAt, registration.id === older.id ? T0 + 100 : T0 + 200 + i, `registration ${i}`);
          assert.deepEqual({ ...read, lastCheckInAt: 0 }, { ...registration, lastCheckInAt: 0 });
        }
      });

      it('listRegistrations filters exactly, newest check-in first, at most limit, active unless includeWiped', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const userId = randomUUID();
        const deviceTag = randomUUID();
        const azureAdDeviceId = randomUUID();
        const edge = await newRegistration(tenantId, { userId, deviceTag, azureAdDeviceId, appId: 'com.microsoft.edge', lastCheckInAt: T0 + 3 });
        const word = await newRegistration(tenantId, { userId, deviceTag, azureAdDeviceId, appId: 'com.microsoft.word', lastCheckInAt: T0 + 5 });
        const elsewhere = await newRegistration(tenantId, { userId, appId: 'com.microsoft.edge', lastCheckInAt: T0 + 4 });
        const someoneElse = await newRegistration(tenantId, { deviceTag, azureAdDeviceId, appId: 'com.microsoft.edge', lastCheckInAt: T0 + 1 });
        const wiped = await newRegistration(tenantId, { userId, deviceTag, appId: 'com.microsoft.teams', lastCheckInAt: T0 + 9 });
        await ap.updateRegistration(wiped.id, { state: 'wiped' });
        await newRegistration(other, { userId, deviceTag, azureAdDeviceId, appId: 'com.microsoft.edge', lastCheckInAt: T0 + 8 });

        assert.deepEqual(await ap.listRegistrations(tenantId, {}, 10), [word, elsewhere, edge, someoneElse]);
        assert.deepEqual(await ap.listRegistrations(tenantId, {}, 2), [word, elsewhere]);
        assert.deepEqual(await ap.listRegistrations(tenantId, {}, 0), []);
        assert.deepEqual(await ap.listRegistrations(tenantId, { userId }, 10), [word, elsewhere, edge]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { appId: 'com.microsoft.edge' }, 10), [elsewhere, edge, someoneElse]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { deviceTag }, 10), [word, edge, someoneElse]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { azureAdDeviceId }, 10), [word, edge, someoneElse]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { userId, appId: 'com.microsoft.edge', deviceTag }, 10), [edge]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { userId, deviceTag, includeWiped: true }, 10), [{ ...wiped, state: 'wiped' }, word, edge]);
        assert.deepEqual(await ap.listRegistrations(tenantId, { appId: 'COM.MICROSOFT.EDGE' }, 10), []);
        assert.deepEqual(await ap.listRegistrations(randomUUID(), {}, 10), []);
      });

      it('otherUsersOnDevice finds other users’ active registrations by deviceTag', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const deviceTag = randomUUID();
        const me = randomUUID();
        await newRegistration(tenantId, { userId: me, deviceTag });
        const bob = await newRegistration(tenantId, { deviceTag, azureAdDeviceId: randomUUID(), lastCheckInAt: T0 + 2 });
        const carol = await newRegistration(tenantId, { deviceTag, azureAdDeviceId: null, lastCheckInAt: T0 + 3 });
        const wiped = await newRegistration(tenantId, { deviceTag });
        await ap.updateRegistration(wiped.id, { state: 'wiped' });
        await newRegistration(tenantId, { azureAdDeviceId: bob.azureAdDeviceId }); // same Entra device, but not asked for
        await newRegistration(other, { deviceTag });
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, me, { deviceTag, azureAdDeviceId: null, azureAdDeviceIdVerified: true }), [carol, bob]);
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, me, { deviceTag: randomUUID(), azureAdDeviceId: null, azureAdDeviceIdVerified: true }), []);
        assert.deepEqual(await ap.otherUsersOnDevice(randomUUID(), me, { deviceTag, azureAdDeviceId: null, azureAdDeviceIdVerified: true }), []);
      });

      it('otherUsersOnDevice finds them by azureAdDeviceId too, when given', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const azureAdDeviceId = randomUUID();
        const me = randomUUID();
        const mine = await newRegistration(tenantId, { userId: me, azureAdDeviceId });
        // Another device tag (another app's SDK instance), same Entra device.
        const dave = await newRegistration(tenantId, { azureAdDeviceId, lastCheckInAt: T0 + 1 });
        const byTag = await newRegistration(tenantId, { deviceTag: mine.deviceTag, azureAdDeviceId: null, lastCheckInAt: T0 + 2 });
        const mineToo = await newRegistration(tenantId, { userId: me, azureAdDeviceId, appId: 'com.contoso.mine-too', lastCheckInAt: T0 + 3 });
        await newRegistration(other, { azureAdDeviceId });
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, me, { deviceTag: mine.deviceTag, azureAdDeviceId, azureAdDeviceIdVerified: true }), [byTag, dave]);
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, me, { deviceTag: randomUUID(), azureAdDeviceId, azureAdDeviceIdVerified: true }), [dave]);
        // Dave's view: both of my apps on the Entra device; byTag shares only my first app's tag, not Dave's.
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, dave.userId, { deviceTag: dave.deviceTag, azureAdDeviceId, azureAdDeviceIdVerified: true }), [mineToo, mine]);
      });

      it('a device id no token vouched for holds no device, and finds none', async () => {
        const tenantId = await newTenant();
        const azureAdDeviceId = randomUUID();
        // Mallory registers first, claiming Alice's Entra device id in the body (her token has no deviceid).
        const squatter = await newRegistration(tenantId, { azureAdDeviceId, azureAdDeviceIdVerified: false });
        const alice = randomUUID();
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, alice, { deviceTag: randomUUID(), azureAdDeviceId, azureAdDeviceIdVerified: true }), [], 'an unverified claim never blocks a verified device');
        const registered = await ap.registerOnDevice(registrationRecord(tenantId, { userId: alice, azureAdDeviceId, azureAdDeviceIdVerified: true }));
        assert.equal(registered.kind, 'saved');
        // The other way round: an unverified claim is matched by device tag only.
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, randomUUID(), { deviceTag: randomUUID(), azureAdDeviceId, azureAdDeviceIdVerified: false }), []);
        assert.deepEqual(await ap.otherUsersOnDevice(tenantId, randomUUID(), { deviceTag: squatter.deviceTag, azureAdDeviceId, azureAdDeviceIdVerified: false }), [squatter]);
        const stored = await ap.getRegistration(squatter.id);
        assert.equal(stored?.azureAdDeviceIdVerified, false, 'the flag is stored');
        assert.equal(stored?.clientId, 'ecd6b820-32c2-49b6-98a6-444530e5a77a');
      });

      it('registerOnDevice: twelve users at once on one device, one wins; the winner registers more apps; the others write nothing', async () => {
        const tenantId = await newTenant();
        let deviceTag = '';
        let winner = '';
        // Several rounds, each on a fresh device: a check outside the write would let two through now and then.
        for (let round = 0; round < 5; round++) {
          deviceTag = randomUUID();
          const users = Array.from({ length: 12 }, () => randomUUID());
          const outcomes = await Promise.all(users.map((userId) => ap.registerOnDevice(registrationRecord(tenantId, { userId, deviceTag }))));
          const saved = outcomes.flatMap((o) => (o.kind === 'saved' ? [o.registration] : []));
          assert.equal(saved.length, 1, `one MAM work account per device: ${outcomes.map((o) => o.kind).join(', ')}`);
          winner = saved[0]!.userId;
          assert.ok(outcomes.every((o) => o.kind === 'saved' || (o.kind === 'device_taken' && o.holders.every((h) => h.userId === winner))));
          assert.deepEqual((await ap.listRegistrations(tenantId, { deviceTag }, 100)).map((r) => r.userId), [winner]);
        }
        const another = await ap.registerOnDevice(registrationRecord(tenantId, { userId: winner, deviceTag, appId: 'com.microsoft.office.outlook' }));
        assert.equal(another.kind, 'saved', 'the same user registers another app on the device');
        // By Entra device too: another tag (another app's SDK) on the same Entra device is the same device.
        const azureAdDeviceId = randomUUID();
        const first = await ap.registerOnDevice(registrationRecord(tenantId, { deviceTag: randomUUID(), azureAdDeviceId }));
        assert.equal(first.kind, 'saved');
        assert.equal((await ap.registerOnDevice(registrationRecord(tenantId, { deviceTag: randomUUID(), azureAdDeviceId }))).kind, 'device_taken');
      });

      it('registerOnDevice with maxActivePerUser: new registrations stop at the bound, also at once; the same one is updated; other users are not counted', async () => {
        const tenantId = await newTenant();
        const userId = randomUUID();
        const outcomes = await Promise.all(Array.from({ length: 8 }, () => ap.registerOnDevice(registrationRecord(tenantId, { userId, deviceTag: randomUUID() }), null, 3)));
        assert.deepEqual(outcomes.map((o) => o.kind).sort(), ['saved', 'saved', 'saved', 'user_limit', 'user_limit', 'user_limit', 'user_limit', 'user_limit']);
        assert.ok(outcomes.every((o) => o.kind !== 'user_limit' || o.active === 3), 'the refusal says how many are active');
        const held = outcomes.find((o) => o.kind === 'saved')!;
        assert.equal(held.kind, 'saved');
        const again = await ap.registerOnDevice({ ...held.registration, id: randomUUID(), appVersion: '2.0.0' }, null, 3);
        assert.equal(again.kind === 'saved' && again.registration.id, held.registration.id, 'the same user, app and device: updated in place');
        assert.equal((await ap.registerOnDevice(registrationRecord(tenantId, { deviceTag: randomUUID() }), null, 3)).kind, 'saved', 'another user');
        assert.equal((await ap.listRegistrations(tenantId, { userId }, 100)).length, 3, 'nothing of the refused ones was written');
      });

      it('setCompliance sets many registrations at once; the last change of an id wins; unknown ids ignored', async () => {
        const tenantId = await newTenant();
        const a = await newRegistration(tenantId);
        const b = await newRegistration(tenantId);
        const untouched = await newRegistration(tenantId);
        await ap.setCompliance([
          { id: a.id, state: 'compliant', reasons: ['first'], changedAt: T0 + 1 },
          { id: b.id, state: 'notCompliant', reasons: ['deviceThreatLevel', 'minimumRequiredOsVersion'], changedAt: T0 + 2 },
          { id: randomUUID(), state: 'notCompliant', reasons: [], changedAt: T0 + 3 },
          { id: a.id, state: 'notCompliant', reasons: ['offlineWipe'], changedAt: T0 + 4 },
        ]);
        await ap.setCompliance([]);
        assert.deepEqual(await ap.getRegistration(a.id), { ...a, complianceState: 'notCompliant', complianceReasons: ['offlineWipe'], complianceChangedAt: T0 + 4 });
        assert.deepEqual(await ap.getRegistration(b.id), { ...b, complianceState: 'notCompliant', complianceReasons: ['deviceThreatLevel', 'minimumRequiredOsVersion'], complianceChangedAt: T0 + 2 });
        assert.deepEqual(await ap.getRegistration(untouched.id), untouched);
      });
    });

    describe('operations (selective wipe)', () => {
      it('addOperations inserts and returns them; getOperation reads one back exactly', async () => {
        const tenantId = await newTenant();
        const [r1, r2] = [await newRegistration(tenantId), await newRegistration(tenantId)];
        const ops = [operationRecord(r1!), operationRecord(r2!, { reason: 'healthCheck' })];
        assert.deepEqual(await ap.addOperations(ops), ops);
        assert.deepEqual(await ap.getOperation(ops[0]!.id), ops[0]);
        assert.deepEqual(await ap.getOperation(ops[1]!.id), ops[1]);
        assert.equal(await ap.getOperation(randomUUID()), undefined);
        assert.deepEqual(await ap.addOperations([]), []);
      });

      it('addOperations adds no second pending wipe for a registration, in one call or across calls', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const other = await newRegistration(tenantId);
        const first = operationRecord(registration);
        const sameCall = operationRecord(registration, { reason: 'azureAdDeviceId', createdAt: T0 + 1 });
        const otherOne = operationRecord(other);
        assert.deepEqual(await ap.addOperations([first, sameCall, otherOne]), [first, otherOne]);
        assert.deepEqual(await ap.addOperations([operationRecord(registration, { reason: 'userBlocked', createdAt: T0 + 2 })]), []);
        assert.deepEqual(await ap.pendingOperations(registration.id), [first]);
        assert.equal(await ap.getOperation(sameCall.id), undefined);
      });

      it('concurrent addOperations for one registration insert one pending wipe', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const results = await Promise.all(Array.from({ length: 6 }, () => ap.addOperations([operationRecord(registration)])));
        assert.equal(results.flat().length, 1);
        assert.equal((await ap.pendingOperations(registration.id)).length, 1);
      });

      it('a new wipe can be added once the pending one completed', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const first = operationRecord(registration);
        await ap.addOperations([first]);
        assert.equal(await ap.completeOperation(first.id, { status: 'failed', detail: 'app busy', completedAt: T0 + 10, expiresAt: T0 + 20 }), true);
        const second = operationRecord(registration, { createdAt: T0 + 11 });
        assert.deepEqual(await ap.addOperations([second]), [second]);
      });

      it('completed operations may be added (imported history) beside a pending one', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const done = operationRecord(registration, { status: 'succeeded', completedAt: T0 + 1, detail: 'ok' });
        const pending = operationRecord(registration);
        assert.deepEqual(await ap.addOperations([pending, done]), [pending, done]);
        assert.deepEqual(await ap.getOperation(done.id), done);
      });

      it('pendingOperations lists only pending ones, oldest first; listOperations adds completed ones, newest first', async () => {
        const tenantId = await newTenant();
        const registrations = [await newRegistration(tenantId), await newRegistration(tenantId)];
        const registration = registrations[0]!;
        const oldDone = operationRecord(registration, { status: 'succeeded', detail: 'wiped', createdAt: T0 - 30, completedAt: T0 - 29 });
        const newDone = operationRecord(registration, { status: 'failed', detail: 'no', createdAt: T0 - 10, completedAt: T0 - 9 });
        const pending = operationRecord(registration, { createdAt: T0 });
        await ap.addOperations([newDone, pending, oldDone, operationRecord(registrations[1]!)]);
        assert.deepEqual(await ap.pendingOperations(registration.id), [pending]);
        assert.deepEqual(await ap.listOperations(registration.id), [pending, newDone, oldDone]);
        assert.deepEqual(await ap.pendingOperations(randomUUID()), []);
        assert.deepEqual(await ap.listOperations(randomUUID()), []);
      });

      it('completeOperation succeeds once and marks the registration wiped in the same transaction', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const op = operationRecord(registration);
        await ap.addOperations([op]);
        const result = { status: 'succeeded' as const, detail: 'wiped 3 files', completedAt: T0 + 100, expiresAt: T0 + 100 + 4 * DAY };
        assert.equal(await ap.completeOperation(op.id, result), true);
        const completed = { ...op, ...result };
        assert.deepEqual(await ap.getOperation(op.id), completed);
        assert.deepEqual(await ap.getRegistration(registration.id), { ...registration, state: 'wiped' });
        assert.deepEqual(await ap.pendingOperations(registration.id), []);
        // Once: a second completion writes nothing.
        assert.equal(await ap.completeOperation(op.id, { status: 'failed', detail: 'late', completedAt: T0 + 200, expiresAt: T0 + 300 }), false);
        assert.deepEqual(await ap.getOperation(op.id), completed);
        assert.equal(await ap.completeOperation(randomUUID(), result), false);
      });

      it('a failed wipe leaves the registration active', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const op = operationRecord(registration);
        await ap.addOperations([op]);
        assert.equal(await ap.completeOperation(op.id, { status: 'failed', detail: null, completedAt: T0 + 1, expiresAt: T0 + 2 }), true);
        assert.deepEqual(await ap.getOperation(op.id), { ...op, status: 'failed', detail: null, completedAt: T0 + 1, expiresAt: T0 + 2 });
        assert.deepEqual(await ap.getRegistration(registration.id), registration);
      });

      it('concurrent completions of one operation: exactly one wins', async () => {
        const tenantId = await newTenant();
        const registration = await newRegistration(tenantId);
        const op = operationRecord(registration);
        await ap.addOperations([op]);
        const outcomes = await Promise.all(
          Array.from({ length: 5 }, (_, i) => ap.completeOperation(op.id, { status: 'succeeded', detail: `node ${i}`, completedAt: T0 + i, expiresAt: T0 + DAY })),
        );
        assert.equal(outcomes.filter(Boolean).length, 1);
      });
    });

    describe('wiped-and-blocked users', () => {
      it('blockUser, isUserBlocked, unblockUser', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const userId = randomUUID();
        assert.equal(await ap.isUserBlocked(tenantId, userId), false);
        assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 }), true);
        assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 + 1 }), false);
        assert.equal(await ap.isUserBlocked(tenantId, userId), true);
        assert.equal(await ap.isUserBlocked(other, userId), false);
        assert.equal(await ap.isUserBlocked(tenantId, randomUUID()), false);
        assert.equal(await ap.unblockUser(other, userId), false);
        assert.equal(await ap.unblockUser(tenantId, userId), true);
        assert.equal(await ap.isUserBlocked(tenantId, userId), false);
        assert.equal(await ap.unblockUser(tenantId, userId), false);
        assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 + 2 }), true);
      });

      it('blocking does not bump the app configuration version', async () => {
        const tenantId = await newTenant();
        await ap.blockUser({ tenantId, userId: randomUUID(), blockedAt: T0 });
        assert.equal(await ap.getAppConfigVersion(tenantId), 0);
      });
    });

    describe('threat defense', () => {
      it('createConnector stores it exactly and bumps; updateConnector writes the settings at version + 1 (createdAt and heartbeat kept) and bumps', async () => {
        const tenantId = await newTenant();
        const connector = await newConnector(tenantId);
        assert.equal(await ap.getAppConfigVersion(tenantId), 1);
        assert.deepEqual(await ap.getConnector(tenantId, connector.id), connector);
        const changed: MtdConnectorRecord = {
          ...connector,
          partnerState: 'unresponsive',
          lastHeartbeatAt: T0 + 5,
          windowsMobileApplicationManagementEnabled: false,
          windowsDeviceBlockedOnMissingPartnerData: true,
          partnerUnsupportedOsVersionBlocked: true,
          partnerUnresponsivenessThresholdInDays: 3,
          graphExtras: { windowsEnabled: true, androidEnabled: false },
          createdAt: T0 + 100,
          updatedAt: T0 + 101,
        };
        assert.deepEqual(await ap.updateConnector(changed), { kind: 'saved', version: 2 });
        assert.equal(await ap.getAppConfigVersion(tenantId), 2);
        // The heartbeat is the connector's own: an admin's update never writes it.
        assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...changed, version: 2, lastHeartbeatAt: connector.lastHeartbeatAt, createdAt: connector.createdAt });
        // Stale, deleted: nothing written.
        assert.deepEqual(await ap.updateConnector({ ...changed, partnerUnresponsivenessThresholdInDays: 9 }), { kind: 'stale', current: 2 });
        assert.deepEqual(await ap.deleteConnector(tenantId, connector.id, 1), { kind: 'stale', current: 2 });
        assert.equal((await ap.getConnector(tenantId, connector.id))?.partnerUnresponsivenessThresholdInDays, 3);
        assert.equal(await ap.getAppConfigVersion(tenantId), 2);
        assert.deepEqual(await ap.deleteConnector(tenantId, connector.id, 2), { kind: 'deleted' });
        assert.deepEqual(await ap.updateConnector({ ...changed, version: 2 }), { kind: 'not_found' });
        assert.equal(await ap.getConnector(tenantId, connector.id), undefined);
        await assertRejectsWith(ap.createConnector(connectorRecord(randomUUID())), 'not_found');
      });

      it('recordConnectorHeartbeat writes the heartbeat over an admin change; enabling bumps the connector version once', async () => {
        const tenantId = await newTenant();
        // A heartbeat writes the heartbeat (and the partner state) only: the stored-only properties stay as they are.
        const connector = await newConnector(tenantId, { partnerState: 'available', graphExtras: { iosEnabled: true } });
        assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 10, false), true);
        assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...connector, lastHeartbeatAt: T0 + 10 });
        assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 20, true), true);
        assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...connector, partnerState: 'enabled', lastHeartbeatAt: T0 + 20, version: 2, updatedAt: T0 + 20 });
        assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 30, true), true);
        assert.equal((await ap.getConnector(tenantId, connector.id))?.version, 2);
        assert.equal(await ap.recordConnectorHeartbeat(tenantId, randomUUID(), T0, true), false);
        assert.equal(await ap.getAppConfigVersion(tenantId), 4);
      });

      it('getConnector and listConnectors stay in their tenant; list ordered by createdAt then id', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const late = await newConnector(tenantId, { createdAt: T0 + 9 });
        const early = await newConnector(tenantId, { createdAt: T0 - 9 });
        const foreign = await newConnector(other);
        assert.deepEqual(await ap.listConnectors(tenantId), [early, late]);
        assert.deepEqual(await ap.listConnectors(other), [foreign]);
        assert.equal(await ap.getConnector(tenantId, foreign.id), undefined);
        assert.deepEqual(await ap.listConnectors(randomUUID()), []);
      });

      it('saveThreatReport upserts the latest report per user, app and device, and records the heartbeat', async () => {
        const tenantId = await newTenant();
        const connector = await newConnector(tenantId);
        const versionBefore = await ap.getAppConfigVersion(tenantId);
        const report = threatReportRecord(connector, { healthState: 'medium', reportedAt: T0 + 10, receivedAt: T0 + 11 });
        await ap.saveThreatReport(report);
        assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [report]);
        assert.equal((await ap.getConnector(tenantId, connector.id))?.lastHeartbeatAt, T0 + 11);
        const newer = { ...report, healthState: 'secured' as const, reportedAt: T0 + 20, receivedAt: T0 + 21 };
        await ap.saveThreatReport(newer);
        assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [newer]);
        // A late report (older lastUpdatedDateTime) does not replace the latest one, but counts as a heartbeat.
        await ap.saveThreatReport({ ...report, healthState: 'high', reportedAt: T0 + 15, receivedAt: T0 + 30 });
        assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [newer]);
        assert.equal((await ap.getConnector(tenantId, connector.id))?.lastHeartbeatAt, T0 + 30);
        // Reports are read per device: they do not bump the version.
        assert.equal(await ap.getAppConfigVersion(tenantId), versionBefore);
      });

      it('saveThreatReport refuses an unknown connector with not_found and writes nothing', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const foreign = await newConnector(other);
        const report = { ...threatReportRecord(foreign), tenantId };
        await assertRejectsWith(ap.saveThreatReport(report), 'not_found');
        await assertRejectsWith(ap.saveThreatReport({ ...report, connectorId: randomUUID() }), 'not_found');
        assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), []);
        assert.equal((await ap.getConnector(other, foreign.id))?.lastHeartbeatAt, foreign.lastHeartbeatAt);
      });

      it('listThreatReports lists the tenant’s latest reports, newest first, at most limit, and no other tenant’s', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const connector = await newConnector(tenantId);
        const older = threatReportRecord(connector, { reportedAt: T0 + 1 });
        const newest = threatReportRecord(connector, { reportedAt: T0 + 3, healthState: 'high' });
        const middle = threatReportRecord(connector, { reportedAt: T0 + 2 });
        for (const report of [older, newest, middle]) await ap.saveThreatReport(report);
        await ap.saveThreatReport(threatReportRecord(await newConnector(other), { reportedAt: T0 + 9 }));
        assert.deepEqual(await ap.listThreatReports(tenantId, 10), [newest, middle, older]);
        assert.deepEqual(await ap.listThreatReports(tenantId, 2), [newest, middle]);
      });

      it('threatReportsFor lists every app and connector of the user’s device, newest first, and nothing else', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const [c1, c2] = [await newConnector(tenantId), await newConnector(tenantId)];
        const userId = randomUUID();
        const azureAdDeviceId = randomUUID();
        const edge = threatReportRecord(c1!, { userId, azureAdDeviceId, appId: 'com.microsoft.edge', reportedAt: T0 + 1 });
        const word = threatReportRecord(c1!, { userId, azureAdDeviceId, appId: 'com.microsoft.word', reportedAt: T0 + 3 });
        const fromC2 = threatReportRecord(c2!, { userId, azureAdDeviceId, appId: 'com.microsoft.edge', reportedAt: T0 + 2 });
        for (const report of [edge, word, fromC2]) await ap.saveThreatReport(report);
        await ap.saveThreatReport(threatReportRecord(c1!, { azureAdDeviceId })); // another user on the device
        await ap.saveThreatReport(threatReportRecord(c1!, { userId })); // the user's other device
        const foreignConnector = await newConnector(other);
        await ap.saveThreatReport(threatReportRecord(foreignConnector, { userId, azureAdDeviceId }));
        assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [word, fromC2, edge]);
        assert.equal((await ap.threatReportsFor(other, userId, azureAdDeviceId)).length, 1);
        assert.deepEqual(await ap.threatReportsFor(tenantId, userId, randomUUID()), []);
      });

      it('deleteConnector deletes the connector and every report it made, and bumps; false (no bump) when absent', async () => {
        const tenantId = await newTenant();
        const other = await newTenant();
        const [gone, kept] = [await newConnector(tenantId), await newConnector(tenantId)];
        const userId = randomUUID();
        const azureAdDeviceId = randomUUID();
        await ap.saveThreatReport(threatReportRecord(gone!, { userId, azureAdDeviceId, appId: 'a' }));
        await ap.saveThreatReport(threatReportRecord(gone!, { userId, azureAdDeviceId, appId: 'b' }));
        const keptReport = threatReportRecord(kept!, { userId, azureAdDeviceId });
        await ap.saveThreatReport(keptReport);
        const version = await ap.getAppConfigVersion(tenantId);
        assert.deepEqual(await ap.deleteConnector(other, gone!.id), { kind: 'not_found' });
        assert.deepEqual(await ap.deleteConnector(tenantId, gone!.id), { kind: 'deleted' });
        assert.equal(await ap.getAppConfigVersion(tenantId), version + 1);
        assert.equal(await ap.getConnector(tenantId, gone!.id), undefined);
        assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [keptReport]);
        assert.deepEqual(await ap.deleteConnector(tenantId, gone!.id), { kind: 'not_found' });
        assert.equal(await ap.getAppConfigVersion(tenantId), version + 1);
        // Saved again under the same id, it starts with no reports.
        await newConnector(tenantId, { id: gone!.id });
        assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [keptReport]);
      });
    });

    describe('conditional access', () => {
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

    describe('managed app catalogue and service principals', () => {
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

    describe('retention', () => {
      it('purgeAppProtection drops operations expired at or before now, and silent registrations with their operations', async () => {
        const tenantId = await newTenant();
        const live = await newRegistration(tenantId, { lastCheckInAt: P });
        const silent = await newRegistration(tenantId, { lastCheckInAt: P - 1 });
        const silentWiped = await newRegistration(tenantId, { lastCheckInAt: P - 2 });
        await ap.updateRegistration(silentWiped.id, { state: 'wiped' });
        const expired = operationRecord(live, { status: 'succeeded', createdAt: P - 10, completedAt: P - 9, expiresAt: P - 1 });
        const expiresNow = operationRecord(live, { status: 'failed', createdAt: P - 8, completedAt: P - 7, expiresAt: P });
        const kept = operationRecord(live, { expiresAt: P + 1 });
        const ofSilent = operationRecord(silent, { expiresAt: P + 100 });
        await ap.addOperations([expired, expiresNow, kept, ofSilent]);

        assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 3, registrations: 2 });
        assert.deepEqual(await ap.listOperations(live.id), [kept]);
        assert.deepEqual(await ap.getRegistration(live.id), live);
        assert.equal(await ap.getRegistration(silent.id), undefined);
        assert.equal(await ap.getRegistration(silentWiped.id), undefined);
        assert.equal(await ap.getOperation(ofSilent.id), undefined);
        assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 0, registrations: 0 });
      });

      it('purgeAppProtection drops everything due, however many (more than one batch)', async () => {
        const tenantId = await newTenant();
        const keeper = await newRegistration(tenantId, { lastCheckInAt: P });
        const history = Array.from({ length: 600 }, (_, i) =>
          operationRecord(keeper, { status: 'succeeded', createdAt: P - 1000 + i, completedAt: P - 999 + i, expiresAt: P - 10 }),
        );
        assert.equal((await ap.addOperations(history)).length, 600);
        const silent = await Promise.all(Array.from({ length: 530 }, () => ap.upsertRegistration(registrationRecord(tenantId, { lastCheckInAt: P - 5 }))));
        assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 600, registrations: 530 });
        assert.deepEqual(await ap.listOperations(keeper.id), []);
        assert.equal(await ap.getRegistration(silent[529]!.id), undefined);
        assert.deepEqual(await ap.getRegistration(keeper.id), keeper);
      });
    });

    describe('lifecycle', () => {
      it('close() waits for running app protection work, then refuses new work', async () => {
        const tenantId = await newTenant();
        const second = await open();
        const registration = registrationRecord(tenantId);
        const running = second.appProtection.upsertRegistration(registration);
        const closing = second.close();
        assert.deepEqual(await running, registration);
        await closing;
        await assert.rejects(second.appProtection.getRegistration(registration.id));
        assert.deepEqual(await ap.getRegistration(registration.id), registration);
      });
    });
  });
}

/** 2025-06-15: well past 2^32, so a backend that loses bigint precision or returns strings fails. */
const T0 = 1_750_000_000_000;
/** 2001: the retention tests' times, before every other test's. */
const P = 1_000_000_000_000;
const DAY = 86_400_000;

function tenantRecord(): TenantRecord {
  return {
    id: randomUUID(),
    name: 'Contoso',
    identityProvider: 'entra',
    enrollmentAllowed: true,
    settings: {
      requireTermsOfUse: false,
      termsOfUseText: '',
      pollSchedule: {
        numberOfFirstRetries: 8,
        intervalForFirstSetOfRetries: 15,
        numberOfSecondRetries: 5,
        intervalForSecondSetOfRetries: 60,
        numberOfRemainingScheduledRetries: 0,
        intervalForRemainingScheduledRetries: 480,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: false,
      },
    },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
  };
}

function appPolicyRecord(tenantId: string, overrides: Partial<AppPolicyRecord> = {}): AppPolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    kind: 'windowsManagedAppProtection',
    body: {
      displayName: 'Protect Contoso data',
      description: 'Ä ✓ "quoted"',
      allowedInboundDataTransferSources: 'allApps',
      periodOfflineBeforeWipeIsEnforced: 'P90D',
      minimumWipeSdkVersion: null,
      printBlocked: true,
    },
    apps: [
      { id: 'app-1', appId: 'com.microsoft.edge', version: null },
      { id: 'app-2', appId: 'com.microsoft.word', version: '16.0' },
    ],
    assignments: [
      { id: 'a-1', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'g-include' } },
      { id: 'a-2', target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: 'g-exclude' } },
    ],
    version: 1,
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

function registrationRecord(tenantId: string, overrides: Partial<AppRegistrationRecord> = {}): AppRegistrationRecord {
  return {
    tenantId,
    id: randomUUID(),
    userId: randomUUID(),
    upn: 'alice@contoso.com',
    appId: 'com.microsoft.edge',
    appVersion: '1.0.0',
    sdkVersion: '0.1.0',
    osVersion: '10.0.22631.2861',
    deviceName: 'DESKTOP-ALICE',
    deviceModel: 'Surface Laptop 5',
    deviceManufacturer: 'Microsoft',
    deviceTag: randomUUID(),
    azureAdDeviceId: randomUUID(),
    azureAdDeviceIdVerified: true,
    clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a',
    createdAt: T0,
    lastCheckInAt: T0,
    appliedPolicyId: null,
    appliedPolicyVersion: null,
    reportedFailures: [],
    complianceState: 'unknown',
    complianceReasons: [],
    complianceChangedAt: T0,
    state: 'active',
    ...overrides,
  };
}

function operationRecord(registration: AppRegistrationRecord, overrides: Partial<AppOperationRecord> = {}): AppOperationRecord {
  return {
    tenantId: registration.tenantId,
    id: randomUUID(),
    registrationId: registration.id,
    userId: registration.userId,
    kind: 'wipe',
    reason: 'deviceTag',
    status: 'pending',
    detail: null,
    createdAt: T0,
    completedAt: null,
    expiresAt: T0 + 94 * DAY,
    ...overrides,
  };
}

function connectorRecord(tenantId: string, overrides: Partial<MtdConnectorRecord> = {}): MtdConnectorRecord {
  return {
    tenantId,
    id: randomUUID(),
    partnerState: 'enabled',
    lastHeartbeatAt: null,
    windowsMobileApplicationManagementEnabled: true,
    windowsDeviceBlockedOnMissingPartnerData: false,
    partnerUnsupportedOsVersionBlocked: false,
    partnerUnresponsivenessThresholdInDays: 7,
    graphExtras: {},
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function threatReportRecord(connector: MtdConnectorRecord, overrides: Partial<ThreatReportRecord> = {}): ThreatReportRecord {
  return {
    tenantId: connector.tenantId,
    connectorId: connector.id,
    userId: randomUUID(),
    appId: 'com.microsoft.edge',
    azureAdDeviceId: randomUUID(),
    healthState: 'low',
    reportedAt: T0,
    receivedAt: T0 + 1,
    ...overrides,
  };
}

function accessPolicyRecord(tenantId: string, overrides: Partial<AccessPolicyRecord> = {}): AccessPolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName: 'Require approved apps for the intranet',
    state: 'enabled',
    resources: ['intranet', '00000003-0000-0ff1-ce00-000000000000'],
    includeGroups: ['g-1', 'g-2'],
    excludeGroups: [],
    includeAllUsers: false,
    approvedApps: ['com.microsoft.edge'],
    grantControls: ['approvedApplication', 'compliantApplication'],
    graphExtras: {},
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function managedAppRecord(tenantId: string, overrides: Partial<ManagedAppCatalogueRecord> = {}): ManagedAppCatalogueRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName: 'Contoso Notes',
    windowsAppId: `com.contoso.${randomUUID().slice(0, 8)}`,
    clientIds: [randomUUID()],
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function servicePrincipalRecord(tenantId: string, overrides: Partial<ServicePrincipalRecord> = {}): ServicePrincipalRecord {
  const appId = overrides.appId ?? randomUUID();
  return { tenantId, id: randomUUID(), appId, displayName: 'Exchange', servicePrincipalNames: [appId], graphExtras: {}, version: 1, createdAt: T0, updatedAt: T0, ...overrides };
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function assertRejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isOpenMamError(err), `expected an OpenMamError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}
