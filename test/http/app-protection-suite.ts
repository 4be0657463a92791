import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';

/**
 * The app protection service end to end over real HTTPS (docs/app-protection.md): an admin assigns a Level 2 app
 * protection policy to a group; a member's app registers and gets it; an old OS build is blocked with the right
 * message; a threat report flips access decisions; a wipe by device tag reaches the app at its next check-in and is
 * recorded succeeded. Run per store backend.
 */
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const EDGE = 'com.microsoft.edge';
const CURRENT_BUILD = '10.0.22631.3155';
const OLD_BUILD = '10.0.19045.3636';

interface Action {
  id: string;
  type: string;
  reason: string;
  message: { title: string; text: string; remediation: string };
}

interface CheckIn {
  registrationId?: string;
  policy?: { id: string; version: string; settings: Record<string, unknown> } | null;
  configuration?: { version: string; settings: { name: string; value: string }[] } | null;
  actions: Action[];
  complianceState: string;
  nextCheckInSeconds: number;
}

export function appProtectionEndToEnd(backend: Backend, skip?: string): void {
  describe(`app protection service (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let gateway: string;
    let connector: string;
    let alice: string;
    let bob: string;
    let outsider: string;
    let policyId: string;
    const aliceId = (): string => stableObjectId(server.tenantId, 'alice@contoso.example');
    const deviceTag = randomUUID();
    const aliceDevice = randomUUID();

    const call = (method: string, path: string, body: unknown, token: string): Promise<JsonResponse> => server.json(method, path, token, body);
    const registration = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
      appId: EDGE,
      appVersion: '120.0.2210.91',
      sdkVersion: '1.0.0',
      osVersion: CURRENT_BUILD,
      deviceName: 'LAPTOP-ALICE',
      deviceModel: 'Surface Laptop 5',
      deviceManufacturer: 'Microsoft',
      deviceTag,
      azureAdDeviceId: aliceDevice,
      ...overrides,
    });
    const checkIn = async (id: string, held: { policyVersion: string | null; configurationVersion?: string | null }, osVersion = CURRENT_BUILD, token = alice) =>
      call('POST', `/mam/v1/registrations/${id}/checkin`, { appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion, configurationVersion: null, ...held }, token);
    const evaluate = async (body: Record<string, unknown>) => call('POST', '/access/v1/evaluate', { userToken: alice, appId: EDGE, resource: 'exchange', ...body }, gateway);

    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      connector = await server.mint({ upn: 'wsc-connector@contoso.example', roles: ['OpenMAM.ThreatConnector'] });
      alice = await server.mint({ upn: 'alice@contoso.example', deviceId: aliceDevice });
      bob = await server.mint({ upn: 'bob@contoso.example' });
      outsider = await server.mint({ upn: 'mallory@contoso.example' });

      const group = await call('POST', '/graph/v1.0/groups', { displayName: 'Windows MAM users' }, admin);
      assert.equal(group.status, 201, JSON.stringify(group.body));
      const groupId = String(group.body['id']);
      for (const upn of ['alice@contoso.example', 'bob@contoso.example']) {
        const added = await call('POST', `/graph/v1.0/groups/${groupId}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, upn)}` }, admin);
        assert.equal(added.status, 204, JSON.stringify(added.body));
      }
      const template = await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=${CURRENT_BUILD}`, undefined, admin);
      assert.equal(template.status, 200, JSON.stringify(template.body));
      const body = Object.fromEntries(Object.entries(template.body).filter(([name]) => !name.startsWith('@odata')));
      const created = await call('POST', PROTECTIONS, { ...body, displayName: 'Level 2 - enhanced' }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      policyId = String(created.body['id']);
      const targeted = await call('POST', `${PROTECTIONS}/${policyId}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: EDGE } }] }, admin);
      assert.equal(targeted.status, 204, JSON.stringify(targeted.body));
      const assigned = await call('POST', `${PROTECTIONS}/${policyId}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId } }] }, admin);
      assert.equal(assigned.status, 204, JSON.stringify(assigned.body));
    });
    after(async () => {
      await server?.close();
    });

    let aliceRegistration: string;
    let policyVersion: string;

    it('registers a member\'s app and delivers the Level 2 policy', async () => {
      const response = await call('POST', '/mam/v1/registrations', registration(), alice);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const answer = response.body as unknown as CheckIn;
      aliceRegistration = String(answer.registrationId);
      assert.ok(answer.policy, 'the policy is delivered at registration');
      assert.equal(answer.policy.id, policyId);
      assert.equal(answer.policy.settings['allowedOutboundDataTransferDestinations'], 'none');
      assert.equal(answer.policy.settings['allowedOutboundClipboardSharingLevel'], 'none');
      assert.equal(answer.policy.settings['minimumRequiredOsVersion'], CURRENT_BUILD);
      assert.deepEqual(answer.actions, []);
      assert.equal(answer.nextCheckInSeconds, 1800);
      policyVersion = answer.policy.version;

      const again = await call('POST', '/mam/v1/registrations', registration(), alice);
      assert.equal(again.status, 200, 'registering again answers the same registration');
      assert.equal(again.body['registrationId'], aliceRegistration);
    });

    it('sends the policy only when the app does not hold its version, and records it applied', async () => {
      const steady = await checkIn(aliceRegistration, { policyVersion });
      assert.equal(steady.status, 200, JSON.stringify(steady.body));
      assert.equal('policy' in steady.body, false, 'unchanged policy is not sent again');
      assert.equal(steady.body['complianceState'], 'compliant');
      await server.runtime.app.appProtection.checkins.flush();
      const applied = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations/${aliceRegistration}/appliedPolicies`, undefined, admin);
      assert.deepEqual((applied.body['value'] as { id: string }[]).map((p) => p.id), [policyId]);
      const stale = await checkIn(aliceRegistration, { policyVersion: 'something-old' });
      assert.equal((stale.body['policy'] as { version: string }).version, policyVersion);
    });

    it('blocks an app on an old OS build with the "App can no longer be used" message', async () => {
      const response = await call('POST', '/mam/v1/registrations', registration({ appId: 'com.microsoft.office.outlook', osVersion: OLD_BUILD, deviceTag: randomUUID(), azureAdDeviceId: null }), bob);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const answer = response.body as unknown as CheckIn;
      assert.equal(answer.policy, null, 'Outlook is not a target app of the policy');
      assert.equal(answer.nextCheckInSeconds, 43200, 'no policy: back in 12 hours');

      // Edge on the same old build is targeted: block.
      const edge = await call('POST', '/mam/v1/registrations', registration({ osVersion: OLD_BUILD, deviceTag: randomUUID(), azureAdDeviceId: null }), bob);
      const blocked = edge.body as unknown as CheckIn;
      const block = blocked.actions.find((a) => a.type === 'block');
      assert.ok(block, JSON.stringify(blocked.actions));
      assert.equal(block.reason, 'minimumRequiredOsVersion');
      assert.match(block.message.title, /can no longer be used/i);
      assert.equal(blocked.complianceState, 'notCompliant');
    });

    it('refuses another work account on the same device, another user\'s registration, impossible versions', async () => {
      const wrong = await call('POST', '/mam/v1/registrations', registration({ appId: 'com.contoso.notes' }), outsider);
      assert.equal(wrong.status, 409);
      const error = wrong.body['error'] as { code: string; userMessage: { title: string } };
      assert.equal(error.code, 'wrongAccount');
      assert.match(error.userMessage.title, /organization's data/i);

      const foreign = await checkIn(aliceRegistration, { policyVersion }, CURRENT_BUILD, outsider);
      assert.equal(foreign.status, 404, 'another user cannot check in with alice\'s registration');
      const impossible = await call('POST', '/mam/v1/registrations', registration({ osVersion: '10..0', deviceTag: randomUUID() }), bob);
      assert.equal(impossible.status, 400);
      assert.match(String((impossible.body['error'] as { message: string }).message), /osVersion/);
      const unknownAction = await call('POST', `/mam/v1/registrations/${aliceRegistration}/actions/${randomUUID()}/result`, { status: 'succeeded' }, alice);
      assert.equal(unknownAction.status, 404, 'a result for an action never issued');
      const deviceOnly = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID() }), await server.mint({ deviceId: randomUUID() }));
      assert.equal(deviceOnly.status, 403, "a device's own token registers no managed app");
      const noToken = await server.request('/mam/v1/registrations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(registration()) });
      assert.equal(noToken.status, 401);
      const malformed = await call('POST', '/mam/v1/registrations', '{"appId": ', alice);
      assert.equal(malformed.status, 400);
    });

    it('flips the access decision on a high threat report and back when secured', async () => {
      const policy = await call(
        'POST',
        '/graph/v1.0/identity/conditionalAccess/policies',
        {
          displayName: 'Exchange needs protected apps',
          state: 'enabled',
          conditions: { applications: { includeApplications: [String((await call('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Exchange', servicePrincipalNames: ['exchange'] }, admin)).body['appId'])] }, users: { includeUsers: ['All'] } },
          grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
        },
        admin,
      );
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      const allowed = await evaluate({ registrationId: aliceRegistration });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
      assert.equal(allowed.body['decision'], 'allow', JSON.stringify(allowed.body));

      const created = await call('POST', '/graph/beta/deviceManagement/mobileThreatDefenseConnectors', { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, partnerUnresponsivenessThresholdInDays: 7 }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      // A connector with default settings blocks nothing until reports come (windowsDeviceBlockedOnMissingPartnerData false).
      assert.equal((await evaluate({ registrationId: aliceRegistration })).body['decision'], 'allow', 'no report yet: nothing changed');
      const report = (healthState: string) =>
        call('POST', '/mtd/v1/health', { userId: aliceId(), appId: EDGE, azureAdDeviceId: aliceDevice, healthState, lastUpdatedDateTime: new Date().toISOString() }, connector);
      assert.equal((await report('high')).status, 204);
      const denied = await evaluate({ registrationId: aliceRegistration });
      assert.equal(denied.body['decision'], 'deny');
      assert.ok((denied.body['reasons'] as string[]).includes('deviceThreatLevel'), JSON.stringify(denied.body));
      assert.ok((denied.body['remediation'] as { title: string }).title.length > 0);
      const byDevice = await evaluate({ azureAdDeviceId: aliceDevice });
      assert.equal(byDevice.body['decision'], 'deny', 'the same decision when the gateway names the device');

      assert.equal((await report('secured')).status, 204);
      assert.equal((await evaluate({ registrationId: aliceRegistration })).body['decision'], 'allow');
      const other = await evaluate({ registrationId: aliceRegistration, appId: 'com.contoso.unprotected' });
      assert.equal(other.body['decision'], 'deny', 'an app without a registration is not let through');
    });

    it('refuses threat reports and decisions from callers without the role, and reports for unknown users', async () => {
      const body = { userId: aliceId(), appId: EDGE, azureAdDeviceId: aliceDevice, healthState: 'high', lastUpdatedDateTime: new Date().toISOString() };
      assert.equal((await call('POST', '/mtd/v1/health', body, alice)).status, 403);
      assert.equal((await call('POST', '/access/v1/evaluate', { userToken: alice, appId: EDGE, resource: 'exchange' }, alice)).status, 403);
      const unknown = await call('POST', '/mtd/v1/health', { ...body, userId: randomUUID() }, connector);
      assert.equal(unknown.status, 404);
      const badState = await call('POST', '/mtd/v1/health', { ...body, healthState: 'critical' }, connector);
      assert.equal(badState.status, 400);
      // Dated in the future, a report would outrank every later one (the newest report of a connector counts).
      const future = await call('POST', '/mtd/v1/health', { ...body, lastUpdatedDateTime: new Date(Date.now() + 3600_000).toISOString() }, connector);
      assert.equal(future.status, 400);
      assert.match(String((future.body['error'] as { message: string }).message), /^lastUpdatedDateTime: /);
      assert.equal((await evaluate({ registrationId: aliceRegistration })).body['decision'], 'allow', 'refused reports changed nothing');
    });

    it('delivers a wipe by device tag at the next check-in and records it succeeded', async () => {
      const wipe = await call('POST', `/graph/beta/users/${aliceId()}/wipeManagedAppRegistrationsByDeviceTag`, { deviceTag }, admin);
      assert.equal(wipe.status, 204, JSON.stringify(wipe.body));
      const next = await checkIn(aliceRegistration, { policyVersion });
      const action = (next.body as unknown as CheckIn).actions.find((a) => a.type === 'wipe');
      assert.ok(action, JSON.stringify(next.body));
      assert.equal(action.reason, 'adminWipe');
      assert.equal((await evaluate({ registrationId: aliceRegistration })).body['decision'], 'deny', 'a pending wipe denies access');

      const result = await call('POST', `/mam/v1/registrations/${aliceRegistration}/actions/${action.id}/result`, { status: 'succeeded' }, alice);
      assert.equal(result.status, 204, JSON.stringify(result.body));
      const twice = await call('POST', `/mam/v1/registrations/${aliceRegistration}/actions/${action.id}/result`, { status: 'failed' }, alice);
      assert.equal(twice.status, 409, 'a result is recorded once');
      const operations = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations/${aliceRegistration}/operations`, undefined, admin);
      assert.deepEqual((operations.body['value'] as { state: string }[]).map((o) => o.state), ['succeeded']);
      const afterWipe = await checkIn(aliceRegistration, { policyVersion });
      assert.equal(afterWipe.status, 404, 'a wiped registration must register again');
    });

    it('wipes a wiped-and-blocked user at every check-in until unblocked', async () => {
      const bobId = stableObjectId(server.tenantId, 'bob@contoso.example');
      assert.equal((await call('POST', `/graph/beta/users/${bobId}/wipeAndBlockManagedApps`, {}, admin)).status, 204);
      const blocked = await call('GET', `/graph/beta/users/${bobId}/isManagedAppUserBlocked`, undefined, admin);
      assert.equal(blocked.body['value'], true);
      const fresh = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: null, appId: 'com.contoso.new' }), bob);
      assert.ok((fresh.body as unknown as CheckIn).actions.some((a) => a.type === 'wipe'), 'a new registration of a blocked user is wiped');
      assert.equal((await call('POST', `/graph/beta/users/${bobId}/unblockManagedApps`, {}, admin)).status, 204);
      assert.equal((await call('GET', `/graph/beta/users/${bobId}/isManagedAppUserBlocked`, undefined, admin)).body['value'], false);
    });

    it('lists registrations and the status report for admins only', async () => {
      const list = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations?$filter=userId eq '${aliceId()}'`, undefined, admin);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual((list.body['value'] as { id: string }[]).map((r) => r.id), [aliceRegistration]);
      const report = await call('GET', '/graph/beta/deviceAppManagement/managedAppStatuses/windowsProtectionReport', undefined, admin);
      const rows = (report.body['content'] as { rows: { userId: string; appId: string; deviceHealth: string | null }[] }).rows;
      const alicesEdge = rows.find((r) => r.userId === aliceId() && r.appId === EDGE);
      assert.ok(alicesEdge, JSON.stringify(rows));
      assert.equal(alicesEdge.deviceHealth, 'secured', 'the latest threat report of the device');
      assert.equal((await call('GET', '/graph/beta/deviceAppManagement/managedAppRegistrations', undefined, alice)).status, 403);
      const badFilter = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations?$filter=${encodeURIComponent("startswith(userId,'a')")}`, undefined, admin);
      assert.equal(badFilter.status, 400);
    });
  });
}
