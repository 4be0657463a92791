import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { bytes, compareKeys, configurationSet, enrollmentInput, expectEnrolled, nodeState, T0 } from '../conformance-support.ts';
import type { ConfigurationStore, EnrollmentRecord, EnrollmentStore, ManagementSessionRecord, ManagementState, ManagementStore, MessageLogRecord, StoreFixture, SyncOutcome } from '../conformance-support.ts';

/**
 * ManagementStore (src/store/roles.ts): the check-in read, sync outcomes (sessions, node states, inventory, management
 * state, unenrollment), check-ins and the message log, on enrolled devices (EnrollmentStore).
 */
export function managementConformance(fixture: StoreFixture<ManagementStore & EnrollmentStore & ConfigurationStore>): void {
  const { newTenant, newEnrollment } = fixture;

  describe('management', () => {
    let store: ManagementStore & EnrollmentStore & ConfigurationStore;

    before(() => {
      store = fixture.store;
    });

    function outcome(enrollmentId: string, overrides: Partial<SyncOutcome> = {}): SyncOutcome {
      return { enrollmentId, now: T0, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], ...overrides };
    }

    function session(enrollmentId: string, overrides: Partial<ManagementSessionRecord> = {}): ManagementSessionRecord {
      return { enrollmentId, sessionId: '1', lastDeviceMsgId: 1, lastServerMsgId: 1, state: '{"step":"first"}', expiresAt: T0 + 60_000, ...overrides };
    }

    function defaults(enrollmentId: string): ManagementState {
      return { enrollmentId, settledVersion: 0, waitingForUser: false, inventoryAt: null, lastCheckinAt: null, messageLogUntil: null, tokenGroups: null };
    }

    it('getManagedDevice: the active enrollment, default management state, and the tenant\'s version', async () => {
      const tenant = await newTenant();
      const enrollment = await newEnrollment(tenant.id);
      assert.deepEqual(await store.getManagedDevice(enrollment.devId), { enrollment, management: defaults(enrollment.id), configVersion: 0 });
      await store.putConfigurationSet(configurationSet(tenant.id, 'a'));
      await store.putConfigurationSet(configurationSet(tenant.id, 'b'));
      assert.equal((await store.getManagedDevice(enrollment.devId))?.configVersion, 2);
    });

    it('getManagedDevice answers undefined for an unknown device and after unenrollment; then the next enrollment', async () => {
      assert.equal(await store.getManagedDevice(`dev-${randomUUID()}`), undefined);
      const tenant = await newTenant();
      const first = await newEnrollment(tenant.id);
      await store.markUnenrolled(first.id, T0 + 1);
      assert.equal(await store.getManagedDevice(first.devId), undefined);
      const next = expectEnrolled(await store.enroll(enrollmentInput(tenant.id, { devId: first.devId }), T0 + 2));
      assert.deepEqual(await store.getManagedDevice(first.devId), { enrollment: next, management: defaults(next.id), configVersion: 0 });
    });

    it('getManagedDevice reads the management state written', async () => {
      const enrollment = await newEnrollment();
      const management = { settledVersion: 7, waitingForUser: true, inventoryAt: T0 + 5, lastCheckinAt: T0 + 6, tokenGroups: ['g-a', 'g-b'] };
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { management })), true);
      await store.setMessageLogUntil(enrollment.id, T0 + 86_400_000);
      const managed = await store.getManagedDevice(enrollment.devId);
      assert.deepEqual(managed?.management, { enrollmentId: enrollment.id, ...management, messageLogUntil: T0 + 86_400_000 });
    });

    it('tokenGroups: null until written, kept when absent from an outcome, [] distinct from null', async () => {
      const { id, devId } = await newEnrollment();
      const groups = [randomUUID(), randomUUID(), 'Ä ✓ "quoted"'].sort();
      assert.equal((await store.getManagedDevice(devId))?.management.tokenGroups, null);
      assert.equal(await store.applySyncOutcome(outcome(id, { management: { tokenGroups: groups } })), true);
      assert.deepEqual((await store.getManagedDevice(devId))?.management, { ...defaults(id), tokenGroups: groups });
      await store.applySyncOutcome(outcome(id, { management: { settledVersion: 2 } }));
      await store.recordCheckins(new Map([[id, T0 + 1]]));
      await store.setMessageLogUntil(id, T0 + 2);
      assert.deepEqual((await store.getManagedDevice(devId))?.management, {
        ...defaults(id), settledVersion: 2, lastCheckinAt: T0 + 1, messageLogUntil: T0 + 2, tokenGroups: groups,
      });
      await store.applySyncOutcome(outcome(id, { management: { tokenGroups: [] } }));
      assert.deepEqual((await store.getManagedDevice(devId))?.management.tokenGroups, []);
      await store.applySyncOutcome(outcome(id, { management: { tokenGroups: null } }));
      assert.equal((await store.getManagedDevice(devId))?.management.tokenGroups, null);
    });

    it('re-enrolling starts tokenGroups over', async () => {
      const tenant = await newTenant();
      const first = await newEnrollment(tenant.id);
      await store.applySyncOutcome(outcome(first.id, { management: { tokenGroups: ['g-1'] } }));
      await store.enroll(enrollmentInput(tenant.id, { devId: first.devId, userOid: first.userOid }), T0 + 1);
      assert.equal((await store.getManagedDevice(first.devId))?.management.tokenGroups, null);
    });

    it('applySyncOutcome upserts node states and forgets acknowledged deletes', async () => {
      const { id } = await newEnrollment();
      const camera = nodeState('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', { value: '0' });
      const lock = nodeState('./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', { status: 'failed', statusCode: '405' });
      const xml = nodeState('./User/Vendor/MSFT/Policy/Config/Browser/Home', { format: 'xml', value: '<a href="x">Ä ✓</a>', statusCode: null, status: 'conflict' });
      assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: [xml, lock, camera] })), true);
      assert.deepEqual(await store.getNodeStates(id), [camera, lock, xml]);

      const cameraAgain = { ...camera, value: '1', status: 'exists' as const, statusCode: '418', updatedAt: T0 + 10 };
      assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: [cameraAgain], forgetNodes: [lock.locUri, './Device/never/there'] })), true);
      assert.deepEqual(await store.getNodeStates(id), [cameraAgain, xml]);
      assert.deepEqual(await store.getNodeStates(randomUUID()), []);
    });

    it('applySyncOutcome: the last of two states for one node wins; many nodes at once', async () => {
      const { id } = await newEnrollment();
      const uri = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
      await store.applySyncOutcome(outcome(id, { nodeStates: [nodeState(uri, { value: '0' }), nodeState(uri, { value: '1' })] }));
      assert.deepEqual((await store.getNodeStates(id)).map((n) => n.value), ['1']);

      const many = Array.from({ length: 300 }, (_, i) => nodeState(`./Device/Vendor/OpenMAM/Node${String(i).padStart(3, '0')}`, { value: String(i) }));
      assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: many })), true);
      assert.equal((await store.getNodeStates(id)).length, 301);
      await store.applySyncOutcome(outcome(id, { forgetNodes: many.map((n) => n.locUri) }));
      assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [uri]);
    });

    it('getNodeStatesOf: the node states of many enrollments, ordered by locUri, every id a key, past one chunk', async () => {
      const tenant = await newTenant();
      const [a, b, quiet] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      const lock = nodeState('./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', { status: 'failed', statusCode: '405' });
      const edp = nodeState('./Device/Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', { value: '3' });
      await store.applySyncOutcome(outcome(a.id, { nodeStates: [lock, edp] }));
      await store.applySyncOutcome(outcome(b.id, { nodeStates: [{ ...edp, value: '2' }] }));
      const unknown = randomUUID();
      const answer = await store.getNodeStatesOf([b.id, quiet.id, a.id, unknown, a.id]);
      assert.deepEqual([...answer.keys()].sort(compareKeys), [a.id, b.id, quiet.id, unknown].sort(compareKeys));
      assert.deepEqual(answer.get(a.id), await store.getNodeStates(a.id));
      assert.deepEqual(answer.get(a.id), [edp, lock]);
      assert.deepEqual(answer.get(b.id), [{ ...edp, value: '2' }]);
      assert.deepEqual(answer.get(quiet.id), []);
      assert.deepEqual(answer.get(unknown), []);
      assert.equal((await store.getNodeStatesOf([])).size, 0);
      const many = [...Array.from({ length: 1500 }, () => randomUUID()), a.id, b.id];
      const all = await store.getNodeStatesOf(many);
      assert.equal(all.size, many.length);
      assert.deepEqual(all.get(a.id), [edp, lock]);
      assert.deepEqual(all.get(b.id), [{ ...edp, value: '2' }]);
    });

    it('getManagementStatesOf: like getManagedDevice for many enrollments; defaults where nothing was written', async () => {
      const tenant = await newTenant();
      const [a, b] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      const management = { settledVersion: 3, waitingForUser: true, inventoryAt: T0 + 5, tokenGroups: ['g-1', 'g-2'] };
      await store.applySyncOutcome(outcome(a.id, { management }));
      await store.recordCheckins(new Map([[a.id, T0 + 9]]));
      const answer = await store.getManagementStatesOf([b.id, a.id]);
      assert.deepEqual(answer.get(a.id), (await store.getManagedDevice(a.devId))?.management);
      assert.deepEqual(answer.get(a.id), { ...defaults(a.id), ...management, lastCheckinAt: T0 + 9 });
      assert.deepEqual(answer.get(b.id), defaults(b.id));
      assert.equal((await store.getManagementStatesOf([])).size, 0);
      const many = [...Array.from({ length: 1100 }, () => randomUUID()), a.id];
      const all = await store.getManagementStatesOf(many);
      assert.equal(all.size, many.length);
      assert.deepEqual(all.get(a.id)?.tokenGroups, ['g-1', 'g-2']);
    });

    it('applySyncOutcome upserts inventory; listInventory orders by locUri', async () => {
      const { id } = await newEnrollment();
      const name = { locUri: './DevDetail/Ext/Microsoft/DeviceName', value: 'DESKTOP-ALICE', updatedAt: T0 };
      const os = { locUri: './DevDetail/SwV', value: '10.0.22631.2861', updatedAt: T0 };
      const model = { locUri: './DevInfo/Mod', value: 'Virtual Machine', updatedAt: T0 };
      await store.applySyncOutcome(outcome(id, { inventory: [model, os, name] }));
      assert.deepEqual(await store.listInventory(id), [name, os, model]);
      const osLater = { ...os, value: '10.0.26100.1', updatedAt: T0 + 100 };
      await store.applySyncOutcome(outcome(id, { inventory: [osLater] }));
      assert.deepEqual(await store.listInventory(id), [name, osLater, model]);
      assert.deepEqual(await store.listInventory(randomUUID()), []);
    });

    it('applySyncOutcome sets only the given management fields', async () => {
      const { id, devId } = await newEnrollment();
      await store.setMessageLogUntil(id, T0 + 999);
      await store.applySyncOutcome(outcome(id, { management: { settledVersion: 3, inventoryAt: T0 + 1 } }));
      await store.applySyncOutcome(outcome(id, { management: { waitingForUser: true } }));
      assert.deepEqual((await store.getManagedDevice(devId))?.management, {
        ...defaults(id), settledVersion: 3, inventoryAt: T0 + 1, waitingForUser: true, messageLogUntil: T0 + 999,
      });
      await store.applySyncOutcome(outcome(id, { management: { waitingForUser: false, lastCheckinAt: T0 + 2, inventoryAt: null } }));
      assert.deepEqual((await store.getManagedDevice(devId))?.management, {
        ...defaults(id), settledVersion: 3, lastCheckinAt: T0 + 2, messageLogUntil: T0 + 999,
      });
      await store.applySyncOutcome(outcome(id, { management: {} }));
      await store.setMessageLogUntil(id, null);
      assert.deepEqual((await store.getManagedDevice(devId))?.management, { ...defaults(id), settledVersion: 3, lastCheckinAt: T0 + 2 });
    });

    it('sessions: insert, then compare-and-set on lastDeviceMsgId', async () => {
      const { id } = await newEnrollment();
      const first = session(id);
      assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: first, expectedLastDeviceMsgId: null } })), true);
      assert.deepEqual(await store.getSession(id, '1', T0), first);
      assert.equal(await store.getSession(id, '2', T0), undefined);
      assert.equal(await store.getSession(randomUUID(), '1', T0), undefined);

      const second = session(id, { lastDeviceMsgId: 2, lastServerMsgId: 2, state: '{"step":"second"}', expiresAt: T0 + 120_000 });
      assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: second, expectedLastDeviceMsgId: 1 } })), true);
      assert.deepEqual(await store.getSession(id, '1', T0), second);
    });

    it('a stale compare-and-set answers false and writes nothing at all', async () => {
      const tenant = await newTenant();
      const enrollment = await newEnrollment(tenant.id);
      const { id, devId } = enrollment;
      const kept = nodeState('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', { value: '0' });
      const first = session(id);
      await store.applySyncOutcome(outcome(id, {
        session: { kind: 'save', record: first, expectedLastDeviceMsgId: null },
        nodeStates: [kept],
        inventory: [{ locUri: './DevInfo/Mod', value: 'A', updatedAt: T0 }],
        management: { settledVersion: 1 },
      }));
      const second = session(id, { lastDeviceMsgId: 2 });
      assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: second, expectedLastDeviceMsgId: 1 } })), true);

      const replayed = outcome(id, {
        session: { kind: 'save', record: session(id, { lastDeviceMsgId: 2, state: '{"step":"replayed"}' }), expectedLastDeviceMsgId: 1 },
        nodeStates: [{ ...kept, value: '1' }, nodeState('./Device/Vendor/OpenMAM/New')],
        forgetNodes: [kept.locUri],
        inventory: [{ locUri: './DevInfo/Mod', value: 'B', updatedAt: T0 + 1 }],
        management: { settledVersion: 9, waitingForUser: true, tokenGroups: ['g-replayed'] },
        unenrolledAt: T0 + 5,
      });
      assert.equal(await store.applySyncOutcome(replayed), false);
      assert.deepEqual(await store.getSession(id, '1', T0), second);
      assert.deepEqual(await store.getNodeStates(id), [kept]);
      assert.deepEqual(await store.listInventory(id), [{ locUri: './DevInfo/Mod', value: 'A', updatedAt: T0 }]);
      assert.deepEqual(await store.getManagedDevice(devId), { enrollment, management: { ...defaults(id), settledVersion: 1 }, configVersion: 0 });

      const unknown = session(id, { sessionId: 'never-started', lastDeviceMsgId: 2 });
      assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: unknown, expectedLastDeviceMsgId: 1 } })), false);
      assert.equal(await store.getSession(id, 'never-started', T0), undefined);
    });

    it('a new session whose id is live answers false; an expired one is replaced', async () => {
      const { id } = await newEnrollment();
      const live = session(id, { expiresAt: T0 + 1000 });
      await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: live, expectedLastDeviceMsgId: null } }));
      const again = session(id, { state: '{"step":"again"}', expiresAt: T0 + 5000 });
      const attempt = (now: number): Promise<boolean> =>
        store.applySyncOutcome(outcome(id, { now, session: { kind: 'save', record: again, expectedLastDeviceMsgId: null }, nodeStates: [nodeState('./Device/X')] }));
      assert.equal(await attempt(T0 + 999), false);
      assert.deepEqual(await store.getSession(id, '1', T0), live);
      assert.deepEqual(await store.getNodeStates(id), []);
      assert.equal(await attempt(T0 + 1000), true, 'expired at its expiresAt');
      assert.deepEqual(await store.getSession(id, '1', T0 + 1000), again);
      assert.equal((await store.getNodeStates(id)).length, 1);
    });

    it("starting a session drops the enrollment's abandoned (expired) sessions, and only those", async () => {
      const { id } = await newEnrollment();
      const abandoned = session(id, { sessionId: '1', expiresAt: T0 + 1000 });
      const live = session(id, { sessionId: '2', expiresAt: T0 + 9000 });
      for (const record of [abandoned, live]) await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record, expectedLastDeviceMsgId: null } }));
      const next = session(id, { sessionId: '3', expiresAt: T0 + 9000 });
      assert.equal(await store.applySyncOutcome(outcome(id, { now: T0 + 2000, session: { kind: 'save', record: next, expectedLastDeviceMsgId: null } })), true);
      assert.equal(await store.getSession(id, '1', T0), undefined, 'the abandoned row is gone (read at a time it was still valid)');
      assert.deepEqual(await store.getSession(id, '2', T0), live);
    });

    it('getSession ignores an expired session', async () => {
      const { id } = await newEnrollment();
      const record = session(id, { expiresAt: T0 + 1000 });
      await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record, expectedLastDeviceMsgId: null } }));
      assert.deepEqual(await store.getSession(id, '1', T0 + 999), record);
      assert.equal(await store.getSession(id, '1', T0 + 1000), undefined);
    });

    it('ending a session is a compare-and-set too: the same last message applied twice ends it once, and writes nothing the second time', async () => {
      const { id } = await newEnrollment();
      await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
      const end = (locUri: string, expected: number): Promise<boolean> =>
        store.applySyncOutcome(outcome(id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: expected }, nodeStates: [nodeState(locUri)] }));
      assert.equal(await end('./Device/Stale', 0), false, 'a stale MsgID does not end it');
      assert.notEqual(await store.getSession(id, '1', T0), undefined);
      assert.equal(await end('./Device/First', 1), true);
      assert.equal(await store.getSession(id, '1', T0), undefined);
      assert.equal(await end('./Device/Second', 1), false, 'the second node handed the same message');
      assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), ['./Device/First']);
      assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } })), true, 'the id is free again');
    });

    it('two nodes ending one session at once: exactly one wins', async () => {
      const { id } = await newEnrollment();
      await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
      const answers = await Promise.all(
        [0, 1, 2].map((i) => store.applySyncOutcome(outcome(id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: 1 }, nodeStates: [nodeState(`./Device/Ender${i}`)] }))),
      );
      assert.equal(answers.filter(Boolean).length, 1, `one winner, got ${JSON.stringify(answers)}`);
      assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [`./Device/Ender${answers.indexOf(true)}`]);
    });

    it('concurrent messages of one session: exactly one compare-and-set wins; other writes are unaffected', async () => {
      const { id } = await newEnrollment();
      const bystander = await newEnrollment();
      await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
      const racing = Array.from({ length: 4 }, (_, i) =>
        store.applySyncOutcome(outcome(id, {
          session: { kind: 'save', record: session(id, { lastDeviceMsgId: 2, state: `{"racer":${i}}` }), expectedLastDeviceMsgId: 1 },
          nodeStates: [nodeState(`./Device/Racer${i}`)],
        })),
      );
      const other = store.applySyncOutcome(outcome(bystander.id, { nodeStates: [nodeState('./Device/Bystander')] }));
      const answers = await Promise.all(racing);
      assert.equal(await other, true);
      assert.equal(answers.filter(Boolean).length, 1, `one winner, got ${JSON.stringify(answers)}`);
      const winner = answers.indexOf(true);
      assert.equal((await store.getSession(id, '1', T0))?.state, `{"racer":${winner}}`);
      assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [`./Device/Racer${winner}`]);
      assert.equal((await store.getNodeStates(bystander.id)).length, 1);
    });

    it('unenrolledAt ends the active enrollment, once', async () => {
      const enrollment = await newEnrollment();
      await store.applySyncOutcome(outcome(enrollment.id, { session: { kind: 'save', record: session(enrollment.id), expectedLastDeviceMsgId: null } }));
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: 1 }, unenrolledAt: T0 + 50 })), true);
      const ended: EnrollmentRecord = { ...enrollment, state: 'unenrolled', unenrolledAt: T0 + 50, updatedAt: T0 + 50, unenrollReason: 'user' };
      assert.deepEqual(await store.getEnrollment(enrollment.id), ended);
      assert.equal(await store.getManagedDevice(enrollment.devId), undefined);
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { unenrolledAt: T0 + 60 })), true);
      assert.deepEqual(await store.getEnrollment(enrollment.id), ended, 'an unenrolled enrollment is left alone');
    });

    it('unenrollReason says why the enrollment ended', async () => {
      const enrollment = await newEnrollment();
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { unenrolledAt: T0 + 50, unenrollReason: 'admin' })), true);
      assert.equal((await store.getEnrollment(enrollment.id))?.unenrollReason, 'admin');
    });

    it('deviceReport keeps the manufacturer and model the device reported, and only the fields given', async () => {
      const enrollment = await newEnrollment();
      assert.equal(enrollment.manufacturer, null);
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { deviceReport: { manufacturer: 'Contoso Ltd.', model: 'Surface Laptop 7' } })), true);
      assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { deviceReport: { model: 'Surface Pro 11' } })), true);
      const stored = await store.getEnrollment(enrollment.id);
      assert.deepEqual([stored?.manufacturer, stored?.model], ['Contoso Ltd.', 'Surface Pro 11']);
      assert.deepEqual([(await store.getManagedDevice(enrollment.devId))?.enrollment.model], ['Surface Pro 11'], 'the check-in read carries it too');
    });

    it('recordCheckins writes in bulk and keeps the latest time', async () => {
      const tenant = await newTenant();
      const a = await newEnrollment(tenant.id);
      const b = await newEnrollment(tenant.id);
      await store.applySyncOutcome(outcome(b.id, { management: { settledVersion: 4 } }));
      await store.recordCheckins(new Map());
      await store.recordCheckins(new Map([[a.id, T0 + 10], [b.id, T0 + 5]]));
      await store.recordCheckins(new Map([[a.id, T0 + 3], [b.id, T0 + 20]]));
      assert.deepEqual((await store.getManagedDevice(a.devId))?.management, { ...defaults(a.id), lastCheckinAt: T0 + 10 });
      assert.deepEqual((await store.getManagedDevice(b.devId))?.management, { ...defaults(b.id), settledVersion: 4, lastCheckinAt: T0 + 20 });
    });

    it('recordCheckins takes many enrollments at once', async () => {
      const tenant = await newTenant();
      const many = await Promise.all(Array.from({ length: 40 }, () => newEnrollment(tenant.id)));
      await store.recordCheckins(new Map(many.map((e, i) => [e.id, T0 + i])));
      const read = await Promise.all(many.map((e) => store.getManagedDevice(e.devId)));
      assert.deepEqual(read.map((m) => m?.management.lastCheckinAt), many.map((_, i) => T0 + i));
    });

    it('message log: newest first, keeps the newest `keep` per enrollment, drops the old, bytes intact', async () => {
      const { id } = await newEnrollment();
      const neighbour = await newEnrollment();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const entry = (at: number, direction: 'in' | 'out', body: Uint8Array, enrollmentId = id): MessageLogRecord => ({ enrollmentId, at, direction, body });
      const records = [entry(T0 + 1, 'in', bytes(10)), entry(T0 + 1, 'out', all), entry(T0 + 2, 'in', new Uint8Array(0)), entry(T0 + 1, 'in', bytes(3), neighbour.id)];
      await store.appendMessageLog(records, 10, T0);
      assert.deepEqual(await store.listMessageLog(id, 10), [records[2], records[1], records[0]], 'same `at`: the later appended is newer');
      assert.deepEqual(await store.listMessageLog(id, 1), [records[2]]);
      assert.deepEqual(await store.listMessageLog(neighbour.id, 10), [records[3]]);
      const view = bytes(64).subarray(8, 40);
      const later = [entry(T0 + 3, 'out', view), entry(T0 + 4, 'in', bytes(5)), entry(T0 + 5, 'out', bytes(5))];
      await store.appendMessageLog(later, 3, T0);
      const kept = await store.listMessageLog(id, 10);
      assert.deepEqual(kept, [later[2], later[1], later[0]]);
      assert.deepEqual(kept[2]!.body, new Uint8Array(view));
      assert.deepEqual(await store.listMessageLog(neighbour.id, 10), [records[3]], 'only the enrollments appended to are trimmed');
      await store.appendMessageLog([entry(T0 + 6, 'in', bytes(5))], 10, T0 + 5);
      assert.deepEqual((await store.listMessageLog(id, 10)).map((r) => r.at), [T0 + 6, T0 + 5], 'older than olderThan: dropped');
      await store.appendMessageLog([], 0, T0 + 100);
      assert.deepEqual(await store.listMessageLog(randomUUID(), 10), []);
    });

    it('message log: a record older than olderThan is not kept, keep 0 keeps nothing', async () => {
      const { id } = await newEnrollment();
      await store.appendMessageLog([{ enrollmentId: id, at: T0, direction: 'in', body: bytes(4) }], 5, T0 + 1);
      assert.deepEqual(await store.listMessageLog(id, 10), []);
      await store.appendMessageLog([{ enrollmentId: id, at: T0 + 2, direction: 'in', body: bytes(4) }], 0, T0);
      assert.deepEqual(await store.listMessageLog(id, 10), []);
    });
  });
}
