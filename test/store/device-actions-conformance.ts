import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import type { DeviceActionRecord, EnrollmentRecord } from '../../src/store/records.ts';
import type { EnrollmentInput, Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of DeviceActionStore (src/store/roles.ts), for every backend: a retire or wipe moves the enrollment's
 * managementState with its action row, of two racing requests one wins, the session's answers move both on, a
 * re-enrollment cancels, and the stale retire ends only silent enrollments, in bounded batches.
 */
const T0 = Date.UTC(2026, 11, 1);
const DAY = 24 * 60 * 60 * 1000;

export function deviceActionConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`device action store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    async function tenant(): Promise<string> {
      const id = randomUUID();
      await store.createTenant({ id, name: 'Contoso', identityProvider: 'entra', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: T0, updatedAt: T0 });
      return id;
    }
    async function enrolled(tenantId: string, change: Partial<EnrollmentInput> = {}, at = T0): Promise<EnrollmentRecord> {
      const input: EnrollmentInput = {
        id: randomUUID(), tenantId, devId: `dev-${randomUUID()}`, userOid: randomUUID(), upn: 'alice@contoso.com', entraDeviceId: null, enrollmentType: 'MAM',
        applicationVersion: null, requestVersion: null, termsAcceptedAt: null, hwDevId: null, deviceName: 'Laptop', deviceType: null, osEdition: null, osVersion: null, locale: null,
        ...change,
      };
      const outcome = await store.enroll(input, at);
      assert.equal(outcome.kind, 'enrolled');
      return outcome.kind === 'enrolled' ? outcome.enrollment : assert.fail();
    }
    const action = (e: EnrollmentRecord, change: Partial<DeviceActionRecord> = {}): DeviceActionRecord => ({
      tenantId: e.tenantId, id: randomUUID(), enrollmentId: e.id, action: 'retire', state: 'pending', statusCode: null, reason: 'admin', requestedAt: T0 + 1000, updatedAt: T0 + 1000, ...change,
    });

    it('records a retire with its managementState and an unsettled device; refuses a second one, an ended enrollment and another tenant', async () => {
      const tenantId = await tenant();
      const e = await enrolled(tenantId);
      await store.applySyncOutcome({ enrollmentId: e.id, now: T0 + 10, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], management: { settledVersion: 3, inventoryAt: T0 } });
      const first = action(e);
      assert.deepEqual(await store.deviceActions.requestDeviceAction(first), { kind: 'requested', action: first });
      const managed = await store.getManagedDevice(e.devId);
      assert.equal(managed?.enrollment.managementState, 'retirePending', 'in the check-in row');
      assert.equal(managed?.management.settledVersion, -1, 'unsettled');
      assert.deepEqual(await store.deviceActions.requestDeviceAction(action(e, { action: 'wipe' })), { kind: 'already_pending', managementState: 'retirePending' });
      assert.deepEqual(await store.deviceActions.requestDeviceAction(action(e, { tenantId: await tenant() })), { kind: 'not_found' });
      assert.deepEqual((await store.deviceActions.pendingDeviceActions(e.id)).map((a) => a.id), [first.id]);

      const left = await enrolled(tenantId);
      assert.equal(await store.markUnenrolled(left.id, T0 + 5), true);
      assert.deepEqual(await store.deviceActions.requestDeviceAction(action(left)), { kind: 'not_enrolled', managementState: 'managed' });
    });

    it('of two racing retires or wipes one wins', async () => {
      const e = await enrolled(await tenant());
      const outcomes = await Promise.all([action(e), action(e, { action: 'wipe' }), action(e)].map((a) => store.deviceActions.requestDeviceAction(a)));
      assert.equal(outcomes.filter((o) => o.kind === 'requested').length, 1, JSON.stringify(outcomes));
      assert.equal((await store.deviceActions.pendingDeviceActions(e.id)).length, 1);
    });

    it("a syncDevice marks the inventory stale, once while pending; the session's answers move actions and managementState on", async () => {
      const tenantId = await tenant();
      const e = await enrolled(tenantId);
      await store.applySyncOutcome({ enrollmentId: e.id, now: T0 + 10, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], management: { settledVersion: 3, inventoryAt: T0 } });
      const sync = action(e, { action: 'syncDevice' });
      assert.equal((await store.deviceActions.requestDeviceAction(sync)).kind, 'requested');
      assert.deepEqual(await store.deviceActions.requestDeviceAction(action(e, { action: 'syncDevice' })), { kind: 'requested', action: sync }, 'the pending one');
      assert.equal((await store.getManagedDevice(e.devId))?.management.inventoryAt, null);
      const wipe = action(e, { action: 'wipe', requestedAt: T0 + 1500 });
      assert.equal((await store.deviceActions.requestDeviceAction(wipe)).kind, 'requested');

      await store.applySyncOutcome({ enrollmentId: e.id, now: T0 + 2000, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], deviceActions: [{ id: wipe.id, action: 'wipe', state: 'failed', statusCode: '500' }, { id: sync.id, action: 'syncDevice', state: 'done', statusCode: null }] });
      assert.equal((await store.getEnrollment(e.id))?.managementState, 'wipeFailed');
      const actions = (await store.deviceActions.deviceActionsOf(tenantId, [e.id, 'none'])).get(e.id)!;
      assert.deepEqual(actions.map((a) => [a.action, a.state, a.statusCode, a.updatedAt]), [['wipe', 'failed', '500', T0 + 2000], ['syncDevice', 'done', null, T0 + 2000]]);
      assert.deepEqual((await store.deviceActions.deviceActionsOf(tenantId, ['none'])).get('none'), []);
      assert.deepEqual((await store.deviceActions.deviceActionsOf(await tenant(), [e.id])).get(e.id), [], "another tenant's read sees none");

      const retire = action(e, { requestedAt: T0 + 3000 });
      assert.equal((await store.deviceActions.requestDeviceAction(retire)).kind, 'requested', 'a failed one may be asked again');
      await store.applySyncOutcome({ enrollmentId: e.id, now: T0 + 4000, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], unenrolledAt: T0 + 4000, unenrollReason: 'admin', deviceActions: [{ id: retire.id, action: 'retire', state: 'done', statusCode: '200' }] });
      const ended = await store.getEnrollment(e.id);
      assert.deepEqual([ended?.state, ended?.managementState, ended?.unenrollReason], ['unenrolled', 'retireIssued', 'admin']);
      assert.equal(await store.getManagedDevice(e.devId), undefined);
    });

    it('an unenrollment completes a pending retire; a re-enrollment in place cancels one', async () => {
      const tenantId = await tenant();
      const e = await enrolled(tenantId);
      const retire = action(e);
      await store.deviceActions.requestDeviceAction(retire);
      await store.applySyncOutcome({ enrollmentId: e.id, now: T0 + 2000, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], unenrolledAt: T0 + 2000 });
      const ended = await store.getEnrollment(e.id);
      assert.deepEqual([ended?.managementState, ended?.unenrollReason], ['retireIssued', 'user']);
      assert.deepEqual((await store.deviceActions.deviceActionsOf(tenantId, [e.id])).get(e.id)?.map((a) => a.state), ['done']);

      const again = await enrolled(tenantId);
      const wipe = action(again, { action: 'wipe' });
      await store.deviceActions.requestDeviceAction(wipe);
      const replaced = await enrolled(tenantId, { devId: again.devId, userOid: again.userOid }, T0 + 3000);
      assert.equal(replaced.id, again.id);
      assert.equal(replaced.managementState, 'wipeCanceled');
      assert.deepEqual(await store.deviceActions.pendingDeviceActions(again.id), []);
      assert.deepEqual((await store.deviceActions.deviceActionsOf(tenantId, [again.id])).get(again.id)?.map((a) => a.state), ['canceled']);
    });

    it('retires only the stale enrollments of the tenant, in bounded batches, ending them at once', async () => {
      const tenantId = await tenant();
      const neverSeen = await enrolled(tenantId, {}, T0 - 60 * DAY);
      const silent = await enrolled(tenantId, {}, T0 - 60 * DAY);
      const seen = await enrolled(tenantId, {}, T0 - 60 * DAY);
      const recent = await enrolled(tenantId, {}, T0 - DAY);
      const pendingRetire = action(silent);
      await store.deviceActions.requestDeviceAction(pendingRetire);
      await store.recordCheckins(new Map([[silent.id, T0 - 40 * DAY], [seen.id, T0 - 2 * DAY]]));
      const otherTenant = await tenant();
      const foreign = await enrolled(otherTenant, {}, T0 - 60 * DAY);

      let ids = 0;
      const newId = () => `stale-${++ids}-${randomUUID()}`;
      const first = await store.deviceActions.retireStaleEnrollments(tenantId, T0 - 30 * DAY, T0 + DAY, 1, newId);
      assert.equal(first.length, 1, 'bounded');
      const second = await store.deviceActions.retireStaleEnrollments(tenantId, T0 - 30 * DAY, T0 + DAY, 10, newId);
      assert.deepEqual([...first, ...second].sort(), [neverSeen.id, silent.id].sort());
      assert.deepEqual(await store.deviceActions.retireStaleEnrollments(tenantId, T0 - 30 * DAY, T0 + DAY, 10, newId), []);
      for (const e of [neverSeen, silent]) {
        const ended = await store.getEnrollment(e.id);
        assert.deepEqual([ended?.state, ended?.unenrollReason, ended?.managementState, ended?.unenrolledAt], ['unenrolled', 'stale', 'retirePending', T0 + DAY]);
        assert.equal(await store.getActiveEnrollmentByDevId(e.devId), undefined, 'the device is free');
      }
      const silentActions = (await store.deviceActions.deviceActionsOf(tenantId, [silent.id])).get(silent.id)!;
      assert.deepEqual(silentActions.map((a) => [a.action, a.state, a.reason]), [['retire', 'pending', 'stale'], ['retire', 'canceled', 'admin']]);
      for (const e of [seen, recent, foreign]) assert.equal((await store.getEnrollment(e.id))?.state, 'enrolled');

      const page = await store.queryRetiredDevices(tenantId, { orderBy: [{ field: 'retiredDateTime', descending: true }], top: 10, skip: 0, count: true });
      assert.deepEqual(page.rows.map((r) => r.id).sort(), [neverSeen.id, silent.id].sort());
      assert.equal((await store.queryRetiredDevices(otherTenant, { orderBy: [{ field: 'retiredDateTime', descending: true }], top: 10, skip: 0, count: false })).rows.length, 0);
    });
  });
}
