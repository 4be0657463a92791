import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { appPolicyRecord, operationRecord, registrationRecord, T0, threatReportRecord } from '../conformance-support.ts';
import type { AppOperationStore, AppPolicyStore, AppProtectionFixture, AppRegistrationRecord, AppRegistrationStore, BlockedUserStore, ConfigurationStore, ThreatStore } from '../conformance-support.ts';

/** The check-in read gathers from every concern: versions, blocked user, pending operations, threat reports. */
type Roles = AppRegistrationStore & AppOperationStore & BlockedUserStore & ThreatStore & AppPolicyStore;

/**
 * AppRegistrationStore (src/store/app-protection-roles.ts): upserts, one MAM work account per device, the check-in
 * read, check-ins, compliance, other users on a device.
 */
export function appRegistrationConformance(fixture: AppProtectionFixture<Roles, ConfigurationStore>): void {
  const { newTenant, newRegistration, newConnector } = fixture;

  describe('registrations', () => {
    let store: ConfigurationStore;
    let ap: Roles;

    before(() => {
      store = fixture.store;
      ap = fixture.ap;
    });

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
}
