import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The app protection service end to end over real HTTPS (docs/app-protection.md): an admin assigns a Level 2 app
 * protection policy to a group; a member's app registers and gets it; an old OS build is blocked with the right
 * message; a threat report flips access decisions; a wipe by device tag reaches the app at its next check-in and is
 * recorded succeeded. Run per store backend.
 */
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const MANAGED_APPS = '/graph/beta/deviceAppManagement/openMamManagedApps';
const EDGE = 'com.microsoft.edge';
/** Microsoft Edge's first-party client id (a built-in catalogue entry). */
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
const OUTLOOK = 'com.microsoft.office.outlook';
const OUTLOOK_CLIENT = randomUUID();
const NOTES = 'com.contoso.notes';
const NOTES_CLIENT = randomUUID();
/** A client no catalogue entry names: it speaks for no managed app. */
const ROGUE_CLIENT = randomUUID();
/** The protected resource (a service principal): Exchange Online's application id and its identifier URI. */
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const EXCHANGE_URI = 'https://outlook.office365.com';
const SHAREPOINT = '00000003-0000-0ff1-ce00-000000000000';
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
  skippableSuite(`app protection service (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let gateway: string;
    let connector: string;
    let alice: string;
    /** Alice's Edge token for Exchange (what Edge sends to Exchange, and a gateway passes on). */
    let aliceForExchange: string;
    let bob: string;
    let outsider: string;
    let policyId: string;
    /** Tokens of one user, by client app and audience. */
    const token = (upn: string, options: { clientId?: string; audience?: string; deviceId?: string } = {}): Promise<string> =>
      server.mint({ upn, clientId: EDGE_CLIENT, ...options });
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
    const evaluate = async (body: Record<string, unknown>) => call('POST', '/access/v1/evaluate', { userToken: aliceForExchange, resource: EXCHANGE, ...body }, gateway);

    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      connector = await server.mint({ upn: 'wsc-connector@contoso.example', roles: ['OpenMAM.ThreatConnector'] });
      alice = await token('alice@contoso.example', { deviceId: aliceDevice });
      aliceForExchange = await token('alice@contoso.example', { deviceId: aliceDevice, audience: EXCHANGE_URI });
      bob = await token('bob@contoso.example');
      outsider = await token('mallory@contoso.example', { clientId: NOTES_CLIENT });

      for (const [displayName, windowsAppId, clientId] of [['Outlook', OUTLOOK, OUTLOOK_CLIENT], ['Contoso Notes', NOTES, NOTES_CLIENT]]) {
        const app = await call('POST', MANAGED_APPS, { displayName, windowsAppId, clientIds: [clientId] }, admin);
        assert.equal(app.status, 201, JSON.stringify(app.body));
      }
      for (const [displayName, appId, servicePrincipalNames] of [['Exchange Online', EXCHANGE, [EXCHANGE_URI]], ['SharePoint Online', SHAREPOINT, ['https://contoso.sharepoint.com']]] as const) {
        const principal = await call('POST', '/graph/v1.0/servicePrincipals', { displayName, appId, servicePrincipalNames }, admin);
        assert.equal(principal.status, 201, JSON.stringify(principal.body));
      }

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
      const bobOutlook = await token('bob@contoso.example', { clientId: OUTLOOK_CLIENT });
      const response = await call('POST', '/mam/v1/registrations', registration({ appId: OUTLOOK, osVersion: OLD_BUILD, deviceTag: randomUUID(), azureAdDeviceId: null }), bobOutlook);
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
      const wrong = await call('POST', '/mam/v1/registrations', registration({ appId: NOTES, azureAdDeviceId: null }), outsider);
      assert.equal(wrong.status, 409);
      const error = wrong.body['error'] as { code: string; userMessage: { title: string } };
      assert.equal(error.code, 'wrongAccount');
      assert.match(error.userMessage.title, /organization's data/i);

      const foreign = await checkIn(aliceRegistration, { policyVersion }, CURRENT_BUILD, await token('mallory@contoso.example'));
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
          conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] } },
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
      const byDevice = await evaluate({});
      assert.equal(byDevice.body['decision'], 'deny', 'the same decision without the registration id: the token names the device');

      assert.equal((await report('secured')).status, 204);
      assert.equal((await evaluate({ registrationId: aliceRegistration })).body['decision'], 'allow');
      const other = await evaluate({ userToken: await token('alice@contoso.example', { deviceId: aliceDevice, audience: EXCHANGE, clientId: NOTES_CLIENT }) });
      assert.equal(other.body['decision'], 'deny', 'an app without a registration is not let through');
      assert.deepEqual(other.body['reasons'], ['protectionPolicyRequired']);
    });

    it('refuses threat reports and decisions from callers without the role, and reports for unknown users', async () => {
      const body = { userId: aliceId(), appId: EDGE, azureAdDeviceId: aliceDevice, healthState: 'high', lastUpdatedDateTime: new Date().toISOString() };
      assert.equal((await call('POST', '/mtd/v1/health', body, alice)).status, 403);
      assert.equal((await call('POST', '/access/v1/evaluate', { userToken: aliceForExchange, resource: EXCHANGE }, alice)).status, 403);
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
      // The function as Graph's clients call it: with parentheses, the user as a key segment.
      assert.equal((await call('GET', `/graph/beta/users('${bobId}')/isManagedAppUserBlocked()`, undefined, admin)).body['value'], true);
      const fresh = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: null, appId: NOTES }), await token('bob@contoso.example', { clientId: NOTES_CLIENT }));
      assert.ok((fresh.body as unknown as CheckIn).actions.some((a) => a.type === 'wipe'), 'a new registration of a blocked user is wiped');
      assert.equal((await call('POST', `/graph/beta/users/${bobId}/unblockManagedApps`, {}, admin)).status, 204);
      assert.equal((await call('GET', `/graph/beta/users/${bobId}/isManagedAppUserBlocked`, undefined, admin)).body['value'], false);
    });

    it('lists registrations and the status report for admins only', async () => {
      const list = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations?$filter=userId eq '${aliceId()}'`, undefined, admin);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual((list.body['value'] as { id: string }[]).map((r) => r.id), [aliceRegistration]);
      const report = await call('GET', '/graph/beta/deviceAppManagement/managedAppStatuses/windowsProtectionReport', undefined, admin);
      // Intune's report shape: a header of columns, rows of values, a skipToken (null on the last page).
      const content = report.body['content'] as { header: { name: string; dataType: string }[]; body: { values: unknown[] }[]; skipToken: string | null };
      const columns = content.header.map((h) => h.name);
      const rows = content.body.map((row) => Object.fromEntries(columns.map((name, i) => [name, row.values[i]])) as { userId: string; appId: string; deviceHealth: string | null });
      assert.equal(content.skipToken, null, 'one page');
      const paged = await call('GET', '/graph/beta/deviceAppManagement/managedAppStatuses/windowsProtectionReport?$top=1', undefined, admin);
      const first = paged.body['content'] as typeof content;
      assert.equal(first.body.length, 1);
      assert.ok(first.skipToken, 'a skipToken while more rows follow');
      const second = await call('GET', `/graph/beta/deviceAppManagement/managedAppStatuses/windowsProtectionReport?$top=1&skipToken=${first.skipToken}`, undefined, admin);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.notDeepEqual((second.body['content'] as typeof content).body[0], first.body[0]);
      assert.equal((await call('GET', '/graph/beta/deviceAppManagement/managedAppStatuses/windowsProtectionReport?skipToken=forged.token', undefined, admin)).status, 400);
      const alicesEdge = rows.find((r) => r.userId === aliceId() && r.appId === EDGE);
      assert.ok(alicesEdge, JSON.stringify(rows));
      assert.equal(alicesEdge.deviceHealth, 'secured', 'the latest threat report of the device');
      assert.equal((await call('GET', '/graph/beta/deviceAppManagement/managedAppRegistrations', undefined, alice)).status, 403);
      const badFilter = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations?$filter=${encodeURIComponent("contains(userId,'a')")}`, undefined, admin);
      assert.equal(badFilter.status, 400);
    });

    // ---- Trust model (docs/app-protection.md): the app is the token's client, the device the token's deviceid.

    const sharePointPolicy = async (): Promise<void> => {
      const created = await call(
        'POST',
        '/graph/v1.0/identity/conditionalAccess/policies',
        {
          displayName: 'SharePoint from approved apps',
          state: 'enabled',
          conditions: { applications: { includeApplications: [SHAREPOINT] }, users: { includeUsers: ['All'] } },
          grantControls: { operator: 'OR', builtInControls: ['approvedApplication'] },
          approvedApplications: [EDGE],
        },
        admin,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
    };
    const decide = async (userToken: string, resource: string, extra: Record<string, unknown> = {}): Promise<{ decision: string; reasons: string[] }> => {
      const response = await call('POST', '/access/v1/evaluate', { userToken, resource, ...extra }, gateway);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as unknown as { decision: string; reasons: string[] };
    };
    const errorOf = (response: JsonResponse): { code: string; message: string; userMessage?: { title: string } } => response.body['error'] as { code: string; message: string; userMessage?: { title: string } };

    it('takes the app from the token: an unknown client cannot register, a claimed app id must be the client\'s, a registration answers only to its client', async () => {
      const eveDevice = randomUUID();
      const rogue = await token('eve@contoso.example', { clientId: ROGUE_CLIENT, deviceId: eveDevice });
      const unknown = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: null }), rogue);
      assert.equal(unknown.status, 403, JSON.stringify(unknown.body));
      assert.equal(errorOf(unknown).code, 'unableToRegister');
      assert.equal(errorOf(unknown).userMessage?.title, 'Unable to register the app');

      const eve = await token('eve@contoso.example', { deviceId: eveDevice });
      const claimsNotes = await call('POST', '/mam/v1/registrations', registration({ appId: NOTES, deviceTag: randomUUID(), azureAdDeviceId: null }), eve);
      assert.equal(claimsNotes.status, 403);
      assert.equal(errorOf(claimsNotes).code, 'appIdMismatch');
      const otherDevice = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: randomUUID() }), eve);
      assert.equal(otherDevice.status, 403);
      assert.equal(errorOf(otherDevice).code, 'deviceIdMismatch');
      const eveId = stableObjectId(server.tenantId, 'eve@contoso.example');
      const nothing = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations?$filter=userId eq '${eveId}'`, undefined, admin);
      assert.deepEqual(nothing.body['value'], [], 'refused registrations wrote nothing');

      // No appId in the body: the token's client says it is Edge; the device is the token's.
      const unclaimed = registration({ deviceTag: randomUUID() });
      delete unclaimed['appId'];
      delete unclaimed['azureAdDeviceId'];
      const registered = await call('POST', '/mam/v1/registrations', unclaimed, eve);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const eveRegistration = String(registered.body['registrationId']);
      const listed = await call('GET', `/graph/beta/deviceAppManagement/managedAppRegistrations/${eveRegistration}`, undefined, admin);
      assert.equal(listed.body['appIdentifier'] && (listed.body['appIdentifier'] as { windowsAppId: string }).windowsAppId, EDGE);
      assert.equal(listed.body['azureADDeviceId'], eveDevice);

      const eveOutlook = await token('eve@contoso.example', { clientId: OUTLOOK_CLIENT, deviceId: eveDevice });
      const borrowed = await checkIn(eveRegistration, { policyVersion: null }, CURRENT_BUILD, eveOutlook);
      assert.equal(borrowed.status, 403, 'another client of the same user cannot use the registration');
      assert.equal(errorOf(borrowed).code, 'clientMismatch');
      // Exchange needs a protected app for everyone, but no protection policy targets Eve's Edge: "App not set up", at
      // check-in and at the decision, rather than a generic denial later.
      const notSetUp = await checkIn(eveRegistration, { policyVersion: null }, CURRENT_BUILD, eve);
      assert.equal(notSetUp.status, 200);
      const block = (notSetUp.body as unknown as CheckIn).actions.find((a) => a.reason === 'appNotSetUp');
      assert.equal(block?.type, 'block', JSON.stringify(notSetUp.body));
      assert.equal(block.message.title, 'App not set up');
      assert.equal(notSetUp.body['nextCheckInSeconds'], 1800, 'back soon, to pick up the policy once assigned');
      const eveForExchange = await token('eve@contoso.example', { deviceId: eveDevice, audience: EXCHANGE });
      assert.deepEqual((await decide(eveForExchange, EXCHANGE)).reasons, ['appNotSetUp']);

      // Access decisions: SharePoint only from approved apps (Edge).
      await sharePointPolicy();
      const eveForSharePoint = await token('eve@contoso.example', { deviceId: eveDevice, audience: SHAREPOINT });
      assert.deepEqual(await decide(eveForSharePoint, SHAREPOINT), { decision: 'allow', reasons: ['approvedApplication'] });
      assert.equal((await decide(eveForSharePoint, 'https://contoso.sharepoint.com')).decision, 'allow', 'the resource named by its audience');
      const rogueForSharePoint = await token('eve@contoso.example', { clientId: ROGUE_CLIENT, deviceId: eveDevice, audience: SHAREPOINT });
      assert.deepEqual((await decide(rogueForSharePoint, SHAREPOINT)).reasons, ['approvedAppRequired'], 'an unknown client is no approved app');
      assert.deepEqual((await decide(rogueForSharePoint, SHAREPOINT, { appId: EDGE })).reasons, ['appIdMismatch'], 'claiming Edge in the body');
      assert.deepEqual((await decide(rogueForSharePoint, SHAREPOINT, { registrationId: eveRegistration })).reasons, ['clientMismatch'], "presenting Edge's registration");
      const outlookForSharePoint = await token('eve@contoso.example', { clientId: OUTLOOK_CLIENT, deviceId: eveDevice, audience: SHAREPOINT });
      assert.deepEqual((await decide(outlookForSharePoint, SHAREPOINT, { registrationId: eveRegistration })).reasons, ['clientMismatch']);
    });

    it('judges the token for the resource: not one for OpenMAM or another resource, not an app-only one, not an unregistered resource', async () => {
      const eve = await token('eve@contoso.example');
      assert.deepEqual((await decide(eve, SHAREPOINT)).reasons, ['tokenAudienceMismatch'], "a token for OpenMAM's own API");
      const forExchange = await token('eve@contoso.example', { audience: EXCHANGE_URI });
      assert.deepEqual((await decide(forExchange, SHAREPOINT)).reasons, ['tokenAudienceMismatch'], 'a token for another resource');
      assert.deepEqual((await decide(forExchange, 'https://nobody.example/api')).reasons, ['unknownResource']);
      const appOnly = await server.mint({ audience: SHAREPOINT, roles: ['Sites.Read.All'] });
      assert.deepEqual((await decide(appOnly, SHAREPOINT)).reasons, ['userTokenRequired']);
      const denied = await call('POST', '/access/v1/evaluate', { userToken: forExchange, resource: SHAREPOINT }, gateway);
      assert.match(String((denied.body['remediation'] as { title: string }).title), /sign-in required/i);
      const forged = `${forExchange.slice(0, forExchange.lastIndexOf('.'))}.${Buffer.from('not the signature').toString('base64url')}`;
      assert.deepEqual((await decide(forged, EXCHANGE)).reasons, ['invalidUserToken']);
      const fabrikam = randomUUID();
      await server.runtime.app.tenants.onboard({ id: fabrikam, name: 'Fabrikam', identityProvider: 'builtin' });
      const foreign = await server.mint({ upn: 'ann@fabrikam.example', tenantId: fabrikam, clientId: EDGE_CLIENT, audience: EXCHANGE });
      assert.deepEqual((await decide(foreign, EXCHANGE)).reasons, ['foreignTenant'], "a user of another tenant, at this tenant's gateway");
    });

    it('trusts only the token\'s device: a borrowed device id neither grants nor hides a threat, and locks nobody out', async () => {
      const hr = await call('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Contoso HR', servicePrincipalNames: ['api://contoso-hr'] }, admin);
      assert.equal(hr.status, 201, JSON.stringify(hr.body));
      const hrApp = String(hr.body['appId']);
      const devicePolicy = await call(
        'POST',
        '/graph/v1.0/identity/conditionalAccess/policies',
        {
          displayName: 'HR from compliant devices',
          state: 'enabled',
          conditions: { applications: { includeApplications: [hrApp] }, users: { includeUsers: ['All'] } },
          grantControls: { operator: 'OR', builtInControls: ['compliantDevice'] },
        },
        admin,
      );
      assert.equal(devicePolicy.status, 201, JSON.stringify(devicePolicy.body));
      const daveDevice = randomUUID();
      const reporter = await server.mint({ upn: 'mdm@contoso.example', roles: ['OpenMAM.ComplianceReporter'] });
      assert.equal((await call('POST', '/access/v1/deviceCompliance', { azureAdDeviceId: daveDevice, compliant: true }, reporter)).status, 204);
      const daveForHr = await token('dave@contoso.example', { deviceId: daveDevice, audience: 'api://contoso-hr' });
      assert.deepEqual(await decide(daveForHr, hrApp), { decision: 'allow', reasons: ['compliantDevice'] });
      const malloryForHr = await token('mallory@contoso.example', { audience: 'api://contoso-hr' });
      assert.deepEqual((await decide(malloryForHr, hrApp, { azureAdDeviceId: daveDevice })).reasons, ['deviceNotCompliant'], "a claimed device id grants nothing");
      assert.deepEqual((await decide(daveForHr, hrApp, { azureAdDeviceId: randomUUID() })).reasons, ['deviceIdMismatch'], 'a claim that disagrees with the token');

      // Mallory registers first, claiming Dave's device id; Dave's token proves the device: he is not locked out.
      const squat = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: daveDevice }), await token('mallory@contoso.example'));
      assert.equal(squat.status, 201, JSON.stringify(squat.body));
      const dave = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: daveDevice }), await token('dave@contoso.example', { deviceId: daveDevice }));
      assert.equal(dave.status, 201, JSON.stringify(dave.body));

      // Carol's device is not registered in Entra (no deviceid): her device ids are hints, which only ever count against her.
      const group = (await call('GET', "/graph/v1.0/groups?$filter=displayName eq 'Windows MAM users'", undefined, admin)).body['value'] as { id: string }[];
      const carolId = stableObjectId(server.tenantId, 'carol@contoso.example');
      const groupId = group.find(() => true)?.id ?? '';
      const added = await call('POST', `/graph/v1.0/groups/${groupId}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${carolId}` }, admin);
      assert.equal(added.status, 204, JSON.stringify(added.body));
      const carol = await token('carol@contoso.example');
      const carolDevice = randomUUID();
      const cleanDevice = randomUUID();
      const registered = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: carolDevice }), carol);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const carolRegistration = String(registered.body['registrationId']);
      const held = (registered.body['policy'] as { version: string }).version;
      assert.equal((await checkIn(carolRegistration, { policyVersion: held }, CURRENT_BUILD, carol)).status, 200);
      const carolForExchange = await token('carol@contoso.example', { audience: EXCHANGE });
      assert.equal((await decide(carolForExchange, EXCHANGE)).decision, 'allow');
      const report = (device: string, healthState: string) =>
        call('POST', '/mtd/v1/health', { userId: carolId, appId: EDGE, azureAdDeviceId: device, healthState, lastUpdatedDateTime: new Date().toISOString() }, connector);
      // Her Notes app is on the other device (a connector reports only on devices with registrations).
      const notes = await call('POST', '/mam/v1/registrations', registration({ appId: NOTES, deviceTag: randomUUID(), azureAdDeviceId: cleanDevice }), await token('carol@contoso.example', { clientId: NOTES_CLIENT }));
      assert.equal(notes.status, 201, JSON.stringify(notes.body));
      assert.equal((await report(cleanDevice, 'high')).status, 204);
      assert.equal((await decide(carolForExchange, EXCHANGE)).decision, 'allow', 'a report for a device she does not claim');
      assert.ok((await decide(carolForExchange, EXCHANGE, { azureAdDeviceId: cleanDevice })).reasons.includes('deviceThreatLevel'), "the claimed device's threat counts against her");
      assert.equal((await report(cleanDevice, 'secured')).status, 204);
      assert.equal((await report(carolDevice, 'high')).status, 204);
      for (const extra of [{ azureAdDeviceId: cleanDevice }, { registrationId: carolRegistration, azureAdDeviceId: cleanDevice }, {}]) {
        assert.ok((await decide(carolForExchange, EXCHANGE, extra)).reasons.includes('deviceThreatLevel'), `a clean device id does not hide her device's threat (${JSON.stringify(extra)})`);
      }
    });

    it('judges an app registered without a device id, says "update Windows" for an old build, and lets it through once updated', async () => {
      const frankId = stableObjectId(server.tenantId, 'frank@contoso.example');
      const group = (await call('GET', "/graph/v1.0/groups?$filter=displayName eq 'Windows MAM users'", undefined, admin)).body['value'] as { id: string }[];
      const added = await call('POST', `/graph/v1.0/groups/${group[0]!.id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${frankId}` }, admin);
      assert.equal(added.status, 204, JSON.stringify(added.body));
      // Frank's device is not registered in Entra: no deviceid in his tokens, no device id in the registration.
      const frank = await token('frank@contoso.example');
      const frankForExchange = await token('frank@contoso.example', { audience: EXCHANGE });
      const registered = await call('POST', '/mam/v1/registrations', registration({ deviceTag: randomUUID(), azureAdDeviceId: null }), frank);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const id = String(registered.body['registrationId']);
      // Right after registering, the app holds the policy it was given: the decision agrees with the app.
      assert.deepEqual(await decide(frankForExchange, EXCHANGE, { registrationId: id }), { decision: 'allow', reasons: ['compliantApplication'] });
      assert.deepEqual(await decide(frankForExchange, EXCHANGE), { decision: 'allow', reasons: ['compliantApplication'] }, 'found without a registration id or a device id');

      const held = (registered.body['policy'] as { version: string }).version;
      assert.equal((await checkIn(id, { policyVersion: held }, OLD_BUILD, frank)).status, 200);
      const old = await call('POST', '/access/v1/evaluate', { userToken: frankForExchange, resource: EXCHANGE }, gateway);
      assert.deepEqual(old.body['reasons'], ['minimumRequiredOsVersion']);
      assert.match(String((old.body['remediation'] as { message: string }).message), /Windows Update/, 'the remediation says to update Windows, not to use a protected app');
      assert.equal((await checkIn(id, { policyVersion: held }, CURRENT_BUILD, frank)).status, 200);
      assert.equal((await decide(frankForExchange, EXCHANGE)).decision, 'allow', 'updated: let through again');
    });

    it('records every decision in the sign-in log, with who, which client, which device and why', async () => {
      await server.runtime.app.appProtection.signIns.flush();
      const eveId = stableObjectId(server.tenantId, 'eve@contoso.example');
      interface SignIn {
        appId: string | null;
        appDisplayName: string | null;
        resourceId: string | null;
        conditionalAccessStatus: string;
        appliedConditionalAccessPolicies: { displayName: string; result: string; enforcedGrantControls: string[] }[];
        status: { errorCode: number; additionalDetails: string | null };
        deviceDetail: { deviceId: string | null; deviceIdVerified: boolean };
        managedAppRegistrationId: string | null;
      }
      const read = async (filter: string): Promise<SignIn[]> => {
        const response = await call('GET', `/graph/beta/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`, undefined, admin);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        return response.body['value'] as SignIn[];
      };
      const eves = await read(`userId eq '${eveId}' and resourceId eq '${SHAREPOINT}'`);
      const allowed = eves.find((e) => e.status.errorCode === 0 && e.appId === EDGE_CLIENT);
      assert.ok(allowed, JSON.stringify(eves));
      assert.equal(allowed.appDisplayName, 'Microsoft Edge');
      assert.equal(allowed.conditionalAccessStatus, 'success');
      assert.deepEqual(allowed.appliedConditionalAccessPolicies.map((p) => [p.displayName, p.result, p.enforcedGrantControls]), [['SharePoint from approved apps', 'success', ['approvedApplication']]]);
      assert.equal(allowed.deviceDetail.deviceIdVerified, true, "the token's deviceid");
      const rogue = eves.filter((e) => e.appId === ROGUE_CLIENT).map((e) => e.status.additionalDetails);
      for (const reason of ['approvedAppRequired', 'appIdMismatch', 'clientMismatch']) assert.ok(rogue.includes(reason), `${reason} in ${JSON.stringify(rogue)}`);
      const denied = await read(`userId eq '${eveId}' and status/errorCode ne 0`);
      assert.ok(denied.every((e) => e.status.errorCode !== 0) && denied.length >= 4, JSON.stringify(denied));
      const audience = denied.find((e) => e.status.additionalDetails === 'tokenAudienceMismatch');
      assert.ok(audience, 'a token for another audience is recorded too');
      assert.equal(audience.conditionalAccessStatus, 'notApplied', 'no policy was judged');

      const malloryId = stableObjectId(server.tenantId, 'mallory@contoso.example');
      const borrowed = (await read(`userId eq '${malloryId}'`)).find((e) => e.status.additionalDetails === 'deviceNotCompliant');
      assert.ok(borrowed, 'the borrowed device id decision is recorded');
      assert.equal(borrowed.deviceDetail.deviceIdVerified, false, 'a claimed device id is marked as such');
      assert.equal((await call('GET', '/graph/beta/auditLogs/signIns', undefined, alice)).status, 403, 'users cannot read the log');
    });
  });
}
