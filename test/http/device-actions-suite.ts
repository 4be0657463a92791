import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { DeviceSimulator, NotEnrolledError, type ServerCommand, type SimulatorOptions } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Retire, wipe and syncDevice of a MAM-enrolled device end to end (core/management/device-actions.ts): an admin asks
 * through the Graph API, the device simulator (its own XML) gets DMClient Unenroll at its next session and leaves
 * management, the enrollment ends and frees the work account; failures keep the device's code; the stale-device sweep
 * retires a silent device and lists it. Run per store backend.
 */
const BETA = '/graph/beta/deviceManagement';
const DEVICES = `${BETA}/managedDevices`;
const REVOKE = './Vendor/MSFT/EnterpriseDataProtection/Settings/RevokeOnUnenroll';
const SETTINGS = `${BETA}/openMamTenantSettings`;
const DAY = 24 * 60 * 60 * 1000;

export function deviceActionsEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`managed device actions: retire, wipe, syncDevice (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let tokens: AdminTokens;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      tokens = await adminTokens(server);
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const app = () => server.runtime.app;
    const call = (method: string, path: string, body?: unknown, token = tokens.admin): Promise<JsonResponse> => server.json(method, path, token, body);
    const message = (response: JsonResponse): string => String((response.body['error'] as { message?: unknown } | undefined)?.message ?? '');
    const unenrollUri = () => `./Vendor/MSFT/DMClient/Provider/${server.config.providerId}/Unenroll`;

    interface Enrolled {
      device: DeviceSimulator;
      id: string;
      upn: string;
      token: string;
    }
    async function enrolledDevice(options: Partial<SimulatorOptions> = {}, upn = `user-${randomUUID().slice(0, 8)}@contoso.example`): Promise<Enrolled> {
      const token = await server.mint({ upn, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token, ...options });
      devices.push(device);
      await device.enroll();
      await device.sync(); // the first session: inventory read, settled
      const enrollment = await app().store.getActiveEnrollmentByDevId(device.devId);
      return { device, id: enrollment!.id, upn, token };
    }
    const ask = (id: string, action: 'retire' | 'wipe' | 'syncDevice', body?: unknown, token?: string) => call('POST', `${DEVICES}/${id}/${action}`, body, token);
    async function asked(id: string, action: 'retire' | 'wipe' | 'syncDevice', body?: unknown): Promise<void> {
      const response = await ask(id, action, body);
      assert.equal(response.status, 204, `${action}: ${JSON.stringify(response.body)}`);
    }
    const deviceBody = async (id: string): Promise<Record<string, unknown>> => {
      const response = await call('GET', `${DEVICES}/${id}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    };
    const results = (body: Record<string, unknown>) => body['deviceActionResults'] as { actionName: string; actionState: string; '@openmam.statusCode': string | null; '@openmam.reason': string }[];

    it('retire reaches the device at its next session, alone; the device leaves, the enrollment ends (admin) and the user may enroll again', async () => {
      const { device, id } = await enrolledDevice();
      // Something for the device: a retire sends nothing else.
      await app().configuration.putSet({ tenantId: server.tenantId, name: 'edp', target: { kind: 'device', devId: device.devId }, settings: [{ locUri: './Vendor/MSFT/EnterpriseDataProtection/Settings/AllowUserDecryption', format: 'int', value: '0' }] });
      await asked(id, 'retire');
      const pending = await deviceBody(id);
      assert.equal(pending['managementState'], 'retirePending');
      assert.deepEqual(results(pending).map((r) => [r.actionName, r.actionState, r['@openmam.reason']]), [['retire', 'pending', 'admin']]);

      const session = await device.sync();
      assert.equal(session.headerStatus, '200');
      const sent = session.commands.filter((c) => ['Add', 'Replace', 'Delete', 'Exec', 'Get'].includes(c.verb));
      assert.deepEqual(sent.map((c) => [c.verb, c.locUri, c.data, c.format, c.statusSent]), [['Exec', unenrollUri(), server.config.providerId, 'chr', '200']]);
      assert.deepEqual(device.unenrolledByServer, { providerId: server.config.providerId, wipDataRevoked: true });
      await assert.rejects(device.sync(), NotEnrolledError, 'no work account: no more sessions');

      const ended = await app().store.getEnrollment(id);
      assert.equal(ended?.state, 'unenrolled');
      assert.equal(ended?.unenrollReason, 'admin');
      assert.equal(ended?.managementState, 'retireIssued');
      const retired = await deviceBody(id);
      assert.equal(retired['managementState'], 'retireIssued', 'still readable at managedDevices/{id}');
      assert.deepEqual(results(retired).map((r) => [r.actionName, r.actionState, r['@openmam.statusCode']]), [['retire', 'done', '200']]);
      const listed = await call('GET', `${BETA}/openMamRetiredDevices?$filter=id eq '${id}'`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const [row] = listed.body['value'] as Record<string, unknown>[];
      assert.equal(row?.['retireReason'], 'admin');
      assert.equal(row?.['managementState'], 'retireIssued');
      assert.equal(((await call('GET', `${DEVICES}?$filter=id eq '${id}'`)).body['value'] as unknown[]).length, 0, 'no longer a managed device');

      // A device that still tried would be refused: its DevId has no active enrollment.
      device.unenrolledByServer = undefined;
      assert.equal((await device.sync()).headerStatus, '401');
      // The work account is free: the same user enrolls the device again and is managed anew.
      await device.enroll();
      const again = await app().store.getActiveEnrollmentByDevId(device.devId);
      assert.ok(again && again.id !== id, 'a new enrollment');
      assert.equal(again.managementState, 'managed');
      const managedAgain = await device.sync();
      assert.equal(managedAgain.headerStatus, '200');
      assert.ok(managedAgain.commands.some((c) => c.verb === 'Add'), 'desired state sent again');
      assert.equal((await ask(id, 'retire')).status, 409, 'the old enrollment stays retired');
    });

    it('wipe sends RevokeOnUnenroll 1 first, then Unenroll once the device accepted it', async () => {
      const { device, id } = await enrolledDevice();
      // A WIP policy that kept data at unenrollment: the wipe overrides it.
      device.nodes.set(REVOKE, { format: 'int', value: '0' });
      await asked(id, 'wipe', { keepEnrollmentData: false, keepUserData: false, persistEsimDataPlan: true, useProtectedWipe: false, macOsUnlockCode: null });
      assert.equal((await deviceBody(id))['managementState'], 'wipePending');
      const session = await device.sync();
      const sent = session.commands.filter((c) => c.verb === 'Replace' || c.verb === 'Exec');
      assert.deepEqual(sent.map((c) => [c.verb, c.locUri, c.data, c.statusSent]), [
        ['Replace', REVOKE, '1', '200'],
        ['Exec', unenrollUri(), server.config.providerId, '200'],
      ]);
      assert.equal(device.nodes.get(REVOKE)?.value, '1');
      assert.equal(device.unenrolledByServer?.wipDataRevoked, true);
      const ended = await app().store.getEnrollment(id);
      assert.equal(ended?.managementState, 'wipeIssued');
      assert.equal(ended?.unenrollReason, 'admin');
      assert.deepEqual(results(await deviceBody(id)).map((r) => [r.actionName, r.actionState]), [['wipe', 'done']]);
    });

    it('a wipe whose revoke the device refuses is not unenrolled: wipeFailed with the code', async () => {
      const { device, id } = await enrolledDevice({ statusFor: (c: ServerCommand) => (c.locUri === REVOKE ? '405' : '200') });
      await asked(id, 'wipe');
      const session = await device.sync();
      assert.deepEqual(session.commands.filter((c) => c.verb === 'Replace' || c.verb === 'Exec').map((c) => [c.verb, c.statusSent]), [['Replace', '405']]);
      assert.equal(device.unenrolledByServer, undefined);
      const body = await deviceBody(id);
      assert.equal(body['managementState'], 'wipeFailed');
      assert.deepEqual(results(body).map((r) => [r.actionName, r.actionState, r['@openmam.statusCode']]), [['wipe', 'failed', '405']]);
    });

    it('a device that answers Unenroll with 500 is retireFailed with the code, stays managed, and may be retired again', async () => {
      let unenrollStatus = '500';
      const { device, id } = await enrolledDevice({ statusFor: (c: ServerCommand) => (c.verb === 'Exec' && c.locUri.endsWith('/Unenroll') ? unenrollStatus : '200') });
      await asked(id, 'retire');
      const failed = await device.sync();
      assert.deepEqual(failed.commands.filter((c) => c.verb === 'Exec').map((c) => c.statusSent), ['500']);
      const body = await deviceBody(id);
      assert.equal(body['managementState'], 'retireFailed');
      assert.deepEqual(results(body).map((r) => [r.actionState, r['@openmam.statusCode']]), [['failed', '500']]);
      assert.equal((await app().store.getEnrollment(id))?.state, 'enrolled');
      // Still managed: its next session plans its configuration again (inventory included), and sends no Unenroll.
      const next = await device.sync();
      assert.equal(next.headerStatus, '200');
      assert.ok(!next.commands.some((c) => c.verb === 'Exec'), 'no retire pending');

      unenrollStatus = '200';
      await asked(id, 'retire');
      await device.sync();
      const done = await deviceBody(id);
      assert.equal(done['managementState'], 'retireIssued');
      assert.deepEqual(results(done).map((r) => r.actionState), ['done', 'failed'], 'newest first');
    });

    it('a retire stays pending while the device never checks in; a second retire or wipe is 409', async () => {
      const { id } = await enrolledDevice();
      await asked(id, 'retire');
      for (const action of ['retire', 'wipe'] as const) {
        const again = await ask(id, action);
        assert.equal(again.status, 409, `${action}: ${JSON.stringify(again.body)}`);
        assert.match(message(again), /retire of this device is pending already/);
      }
      const body = await deviceBody(id);
      assert.equal(body['managementState'], 'retirePending');
      assert.deepEqual(results(body).map((r) => r.actionState), ['pending']);
      const filtered = await call('GET', `${DEVICES}?$filter=managementState eq 'retirePending'`);
      assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
      assert.ok((filtered.body['value'] as { id: string }[]).some((d) => d.id === id), 'managedDevices filters by managementState');
      assert.equal((await call('GET', `${DEVICES}?$filter=managementState eq 'gone'`)).status, 400);
    });

    it("the user's own unenrollment (alert 1226) while a retire is pending completes it; a re-enrollment cancels one", async () => {
      const left = await enrolledDevice();
      await asked(left.id, 'retire');
      await left.device.unenroll();
      const ended = await app().store.getEnrollment(left.id);
      assert.equal(ended?.state, 'unenrolled');
      assert.equal(ended?.unenrollReason, 'user');
      assert.equal(ended?.managementState, 'retireIssued');
      assert.deepEqual(results(await deviceBody(left.id)).map((r) => r.actionState), ['done']);

      const back = await enrolledDevice();
      await asked(back.id, 'wipe');
      await back.device.enroll(); // the same user adds the work account again before the device was told
      const body = await deviceBody(back.id);
      assert.equal(body['managementState'], 'wipeCanceled');
      assert.deepEqual(results(body).map((r) => r.actionState), ['canceled']);
      const session = await back.device.sync();
      assert.ok(!session.commands.some((c) => c.verb === 'Exec' || c.locUri === REVOKE), 'nothing of the wipe is sent');
    });

    it('syncDevice: the next check-in re-plans and reads the inventory again; done when that session ends', async () => {
      const { device, id } = await enrolledDevice();
      assert.equal((await device.sync()).commands.length, 0, 'settled: nothing to do');
      await asked(id, 'syncDevice');
      assert.deepEqual(results(await deviceBody(id)).map((r) => [r.actionName, r.actionState]), [['syncDevice', 'pending']]);
      const session = await device.sync();
      assert.ok(session.commands.some((c) => c.verb === 'Get' && c.locUri.startsWith('./Vendor/MSFT/DeviceStatus/')), 'inventory read again');
      assert.deepEqual(results(await deviceBody(id)).map((r) => [r.actionName, r.actionState]), [['syncDevice', 'done']]);
      assert.equal((await device.sync()).commands.length, 0, 'settled again');
      // Taken with no body and with {} alike.
      assert.equal((await ask(id, 'syncDevice', {})).status, 204);
    });

    it("refuses another tenant's device (404), a Reader (403), an ended enrollment (409), and what a MAM wipe cannot honour (400, naming the field)", async () => {
      const { device, id } = await enrolledDevice();
      for (const action of ['retire', 'wipe', 'syncDevice'] as const) {
        const foreign = await ask(id, action, undefined, tokens.intruder);
        assert.equal(foreign.status, 404, `${action}: ${JSON.stringify(foreign.body)}`);
        assert.equal((await ask(randomUUID(), action)).status, 404);
        assert.equal((await ask(id, action, undefined, tokens.reader)).status, 403);
      }
      assert.equal((await call('GET', `${DEVICES}/${id}`, undefined, tokens.intruder)).status, 404);
      const refusals: [unknown, RegExp][] = [
        [{ keepUserData: true }, /^keepUserData: /],
        [{ keepEnrollmentData: true }, /^keepEnrollmentData: /],
        [{ macOsUnlockCode: '123456' }, /^macOsUnlockCode: /],
        [{ useProtectedWipe: true }, /^useProtectedWipe: /],
        [{ obliterate: true }, /obliterate/],
        [{ keepUserData: 'no' }, /keepUserData/],
      ];
      for (const [body, pattern] of refusals) {
        const refused = await ask(id, 'wipe', body);
        assert.equal(refused.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(refused.body)}`);
        assert.match(message(refused), pattern);
      }
      const retireBody = await ask(id, 'retire', { keepUserData: true });
      assert.equal(retireBody.status, 400, 'retire takes no parameters');
      assert.match(message(retireBody), /keepUserData/);
      assert.equal((await deviceBody(id))['managementState'], 'managed', 'nothing was recorded');

      await device.unenroll();
      for (const action of ['retire', 'wipe', 'syncDevice'] as const) {
        const ended = await ask(id, action);
        assert.equal(ended.status, 409, `${action}: ${JSON.stringify(ended.body)}`);
        assert.match(message(ended), /no longer enrolled/);
      }
      assert.equal((await call('POST', `/graph/v1.0/deviceManagement/managedDevices/${id}/retire`)).status, 409, 'v1.0 too');
    });

    it('an action without parameters POSTed as JSON with no body at all is taken, as Graph takes it; a write that needs a body still refuses one', async () => {
      const { id } = await enrolledDevice();
      const post = (url: string) =>
        app().server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, payload: '' });
      const synced = await post(`${DEVICES}/${id}/syncDevice`);
      assert.equal(synced.statusCode, 204, synced.body);
      const refused = await post(`${BETA}/assignmentFilters`);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'BadRequest');
      const malformed = await app().server.inject({ method: 'POST', url: `${DEVICES}/${id}/wipe`, headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, payload: '{"keepUserData":' });
      assert.equal(malformed.statusCode, 400, malformed.body);
    });

    it('the stale-device sweep retires a silent device at once (its account freed) and lists it; the setting is checked', async () => {
      for (const [value, pattern] of [[10, /^staleDeviceRetireAfterDays: must be between 30 and 270/], ['30', /^staleDeviceRetireAfterDays: /], [30.5, /^staleDeviceRetireAfterDays: /]] as const) {
        const refused = await call('PATCH', SETTINGS, { staleDeviceRetireAfterDays: value });
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.match(message(refused), pattern);
      }
      const silent = await enrolledDevice();
      const active = await enrolledDevice();
      await app().checkins.flush();
      // The sweep runs as if 40 days had passed, in which only `active` checked in.
      const later = Date.now() + 40 * DAY;
      await app().store.recordCheckins(new Map([[active.id, later - DAY]]));
      assert.equal(await app().deviceActions.sweepStale(later), 0, 'off by default');

      const set = await call('PATCH', SETTINGS, { staleDeviceRetireAfterDays: 30 });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body['staleDeviceRetireAfterDays'], 30);
      try {
        // Every other device of this suite's tenant is silent that long too.
        assert.ok((await app().deviceActions.sweepStale(later)) >= 1);
        const ended = await app().store.getEnrollment(silent.id);
        assert.equal(ended?.state, 'unenrolled');
        assert.equal(ended?.unenrollReason, 'stale');
        assert.equal(ended?.managementState, 'retirePending', 'the device was never told');
        assert.equal((await app().store.getEnrollment(active.id))?.state, 'enrolled', 'a device that checks in stays');
        const listed = await call('GET', `${BETA}/openMamRetiredDevices?$filter=retireReason eq 'stale'`);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        const [row] = (listed.body['value'] as Record<string, unknown>[]).filter((d) => d['id'] === silent.id);
        assert.equal((await call('GET', `${BETA}/openMamRetiredDevices?$filter=retireReason eq 'bored'`)).status, 400, 'not a reason');
        assert.equal((await call('GET', `${BETA}/openMamRetiredDevices?$orderby=osVersion`)).status, 400, 'not a field');
        assert.equal((await call('GET', '/graph/v1.0/deviceManagement/openMamRetiredDevices')).status, 404, "OpenMAM's own: beta only");
        assert.equal((await call('GET', `${BETA}/openMamRetiredDevices`, undefined, tokens.intruder)).body['value'] instanceof Array, true);
        assert.ok(!((await call('GET', `${BETA}/openMamRetiredDevices`, undefined, tokens.intruder)).body['value'] as { id: string }[]).some((d) => d.id === silent.id), "another tenant's admin sees none of these");
        assert.equal(row?.['managementState'], 'retirePending');
        assert.deepEqual((row?.['deviceActionResults'] as { actionName: string; actionState: string; '@openmam.reason': string }[]).map((r) => [r.actionName, r.actionState, r['@openmam.reason']]), [['retire', 'pending', 'stale']]);
        // If it ever comes back, its DevId has no active enrollment; its user may enroll it again.
        assert.equal((await silent.device.sync()).headerStatus, '401');
        await silent.device.enroll();
        assert.equal((await silent.device.sync()).headerStatus, '200');
        assert.equal(await app().deviceActions.sweepStale(), 0, 'nothing more to retire');
      } finally {
        assert.equal((await call('PATCH', SETTINGS, { staleDeviceRetireAfterDays: null })).body['staleDeviceRetireAfterDays'], null);
      }
    });
  });
}
