import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { adminTokens } from '../support/admin-tokens.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Device compliance end to end over real HTTPS, per store backend: `deviceManagement/deviceCompliancePolicies`
 * (`windows10CompliancePolicy`) written and assigned by an admin, simulated MAM devices whose DeviceStatus and OS
 * build decide their state (judged off the request path after each inventory change and after each policy change),
 * the reports (`deviceCompliancePolicyStates`, `deviceStatuses`, `deviceStatusOverview`), and an access decision that
 * requires a compliant device, for a token whose `deviceid` is the enrolled device's.
 */
const POLICIES = '/graph/beta/deviceManagement/deviceCompliancePolicies';
const POLICIES_V1 = '/graph/v1.0/deviceManagement/deviceCompliancePolicies';
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const EXCHANGE_URI = 'https://outlook.office365.com';
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
const CURRENT_BUILD = '10.0.22631.4460';
const OLD_BUILD = '10.0.17763.1';

const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';
const DEVICES = '/graph/beta/deviceManagement/managedDevices';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const blockAndRetire = (retireHours: number) => [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0 }, { actionType: 'retire', gracePeriodHours: retireHours }] }];
const block = (gracePeriodHours = 0) => [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours }] }];

export function complianceEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`device compliance (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let intruder: string;
    let gateway: string;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      ({ admin, intruder } = await adminTokens(server));
      gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      const principal = await call('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Exchange Online', appId: EXCHANGE, servicePrincipalNames: [EXCHANGE_URI] });
      assert.equal(principal.status, 201, JSON.stringify(principal.body));
      const access = await call('POST', '/graph/v1.0/identity/conditionalAccess/policies', {
        displayName: 'Exchange Online only from compliant devices',
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] } },
        grantControls: { operator: 'OR', builtInControls: ['compliantDevice'] },
      });
      assert.equal(access.status, 201, JSON.stringify(access.body));
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const call = (method: string, path: string, body?: unknown, token = admin, headers?: Record<string, string>): Promise<JsonResponse> => server.json(method, path, token, body, headers);
    const message = (response: JsonResponse): string => String((response.body['error'] as { message?: unknown } | undefined)?.message ?? '');
    const app = () => server.runtime.app;
    function refused(response: JsonResponse, pattern: RegExp): void {
      assert.equal(response.status, 400, JSON.stringify(response.body).slice(0, 300));
      assert.match(message(response), pattern);
    }
    async function created(body: Record<string, unknown>): Promise<string> {
      const response = await call('POST', POLICIES, { '@odata.type': '#microsoft.graph.windows10CompliancePolicy', ...body });
      assert.equal(response.status, 201, JSON.stringify(response.body).slice(0, 400));
      return String(response.body['id']);
    }
    async function assignAll(id: string): Promise<JsonResponse> {
      const answer = await call('POST', `${POLICIES}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      await app().compliance.settled();
      return answer;
    }
    /** A MAM device enrolled by `upn` with an Entra device id in its token, synced once (inventory read). */
    async function enrolled(upn: string, osVersion = CURRENT_BUILD): Promise<{ device: DeviceSimulator; entraDeviceId: string; enrollmentId: string }> {
      const entraDeviceId = randomUUID();
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: entraDeviceId }) });
      devices.push(device);
      await device.enroll({ OSVersion: osVersion });
      assert.equal((await device.sync()).headerStatus, '200');
      await app().compliance.flush();
      const enrollment = await app().store.getActiveEnrollmentByDevId(device.devId);
      return { device, entraDeviceId, enrollmentId: enrollment!.id };
    }
    /** The inventory is due again (as it is a day later), then the device syncs and its change is judged. */
    async function reportAgain(device: DeviceSimulator, enrollmentId: string): Promise<void> {
      await app().store.applySyncOutcome({ enrollmentId, now: Date.now(), session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], management: { inventoryAt: null } });
      const session = await device.sync();
      assert.ok(session.commands.some((c) => c.verb === 'Get' && c.locUri.includes('DeviceStatus')), 'DeviceStatus read again');
      await app().compliance.flush();
    }
    /** The device is judged again (as after an inventory change), without a session. */
    async function reportAgainQueued(enrollmentId: string): Promise<void> {
      const enrollment = await app().store.getEnrollment(enrollmentId);
      app().compliance.inventoryChanged(enrollment!);
      await app().compliance.flush();
    }
    const complianceOf = async (enrollmentId: string) => (await app().store.getEnrollment(enrollmentId))!.complianceState;
    async function decide(upn: string, entraDeviceId: string): Promise<Record<string, unknown>> {
      const userToken = await server.mint({ upn, clientId: EDGE_CLIENT, deviceId: entraDeviceId, audience: EXCHANGE_URI });
      const answer = await call('POST', '/access/v1/evaluate', { userToken, resource: EXCHANGE }, gateway);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    }

    it('refuses what is not a Windows compliance policy, naming the field', async () => {
      const type = { '@odata.type': '#microsoft.graph.windows10CompliancePolicy', displayName: 'Bad' };
      refused(await call('POST', POLICIES, { ...type, osMinimumVersion: 'ten' }), /^osMinimumVersion: "ten" is not a Windows version/);
      refused(await call('POST', POLICIES, { ...type, osMinimumVersion: '10.0.22631.0', osMaximumVersion: '10.0.19045.0' }), /^osMaximumVersion: is below osMinimumVersion/);
      refused(await call('POST', POLICIES, { ...type, validOperatingSystemBuildRanges: [{ lowestVersion: '10.0.2.0', highestVersion: '10.0.1.0' }] }), /^validOperatingSystemBuildRanges\[0\]\.highestVersion: is below lowestVersion/);
      refused(await call('POST', POLICIES, { ...type, scheduledActionsForRule: [{ ruleName: 'r', scheduledActionConfigurations: [{ actionType: 'notification', gracePeriodHours: 0 }] }] }), /^scheduledActionsForRule\[0\]\.scheduledActionConfigurations: must have a block action/);
      refused(await call('POST', POLICIES, { ...type, scheduledActionsForRule: [{ scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: -1 }] }] }), /^scheduledActionsForRule\[0\]\.scheduledActionConfigurations\[0\]\.gracePeriodHours: /);
      refused(await call('POST', POLICIES, { ...type, scheduledActionsForRule: [{ scheduledActionConfigurations: [{ actionType: 'explode', gracePeriodHours: 1 }] }] }), /^scheduledActionsForRule\[0\]\.scheduledActionConfigurations\[0\]\.actionType: /);
      refused(await call('POST', POLICIES, { ...type, activeFirewallRequired: 'yes' }), /^activeFirewallRequired: /);
      refused(await call('POST', POLICIES, { ...type, passwordRequiredType: 'emoji' }), /^passwordRequiredType: "emoji" is not a member of requiredPasswordType/);
      refused(await call('POST', POLICIES, { ...type, sdCardEncrypted: true }), /^sdCardEncrypted: is not a property of windows10CompliancePolicy/);
      refused(await call('POST', POLICIES, { '@odata.type': '#microsoft.graph.iosCompliancePolicy', displayName: 'iOS' }), /^@odata\.type: must be #microsoft\.graph\.windows10CompliancePolicy/);
      refused(await call('POST', POLICIES, { ...type, displayName: '' }), /^displayName: must not be empty/);
      const id = await created({ displayName: 'Ok', osMinimumVersion: '10.0.19045.0' });
      refused(await call('PATCH', `${POLICIES}/${id}`, { osMaximumVersion: '10.0.1.0' }), /^osMaximumVersion: is below osMinimumVersion/);
      refused(await call('POST', `${POLICIES}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget' } }] }), /^assignments\[0\]\.target\.groupId: /);
      assert.equal((await call('DELETE', `${POLICIES}/${id}`)).status, 204);
    });

    it('creates, reads, PATCHes and assigns (200 with the assignments); stores what a MAM device cannot evidence and says so; another tenant finds nothing', async () => {
      const id = await created({ displayName: 'Windows baseline', osMinimumVersion: '10.0.19045.0', passwordRequired: true, defenderEnabled: true, rtpEnabled: false, passwordRequiredType: 'deviceDefault', scheduledActionsForRule: block(24) });
      const read = await call('GET', `${POLICIES_V1}/${id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body['osMinimumVersion'], '10.0.19045.0');
      assert.equal(read.body['version'], 1);
      assert.equal(read.body['rtpEnabled'], false, 'stored as given');
      assert.deepEqual(read.body['@openmam.notApplicableProperties'], ['passwordRequired', 'defenderEnabled'], 'false and the default configure nothing');
      const etag = String(read.body['@odata.etag']);
      const patched = await call('PATCH', `${POLICIES}/${id}`, { activeFirewallRequired: true }, admin, { 'If-Match': etag });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body['activeFirewallRequired'], true);
      assert.equal((await call('PATCH', `${POLICIES}/${id}`, { description: 'late' }, admin, { 'If-Match': etag })).status, 412, 'the ETag read before is stale');
      const assigned = await call('POST', `${POLICIES_V1}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
      assert.equal(assigned.status, 200);
      const value = assigned.body['value'] as Record<string, unknown>[];
      assert.equal(value[0]!['@odata.type'], '#microsoft.graph.deviceCompliancePolicyAssignment');
      refused(await call('POST', `${POLICIES}/${id}/scheduleActionsForRules`, { deviceComplianceScheduledActionForRules: [{ scheduledActionConfigurations: [{ actionType: 'retire', gracePeriodHours: 1 }] }] }), /^scheduledActionsForRule\[0\]\.scheduledActionConfigurations: must have a block action/);
      const scheduled = await call('POST', `${POLICIES}/${id}/scheduleActionsForRules`, { deviceComplianceScheduledActionForRules: [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 24 }, { actionType: 'retire', gracePeriodHours: 720 }] }] });
      assert.equal(scheduled.status, 204, JSON.stringify(scheduled.body));
      assert.equal((await call('POST', `${POLICIES}/${id}/scheduleActionsForRules`, { deviceComplianceScheduledActionForRules: [] }, intruder)).status, 404);
      const rules = await call('GET', `${POLICIES}/${id}/scheduledActionsForRule`);
      assert.equal(rules.status, 200);
      const actions = (rules.body['value'] as { scheduledActionConfigurations: Record<string, unknown>[] }[])[0]!.scheduledActionConfigurations;
      assert.equal(actions[0]!['actionType'], 'block');
      assert.equal(actions[0]!['gracePeriodHours'], 24);
      assert.deepEqual([actions[1]!['actionType'], actions[1]!['gracePeriodHours']], ['retire', 720], 'stored and shown');
      const filtered = await call('GET', `${POLICIES}?$filter=displayName eq 'Windows baseline'`);
      assert.deepEqual((filtered.body['value'] as { id: string }[]).map((p) => p.id), [id]);
      for (const path of [`${POLICIES}/${id}`, `${POLICIES}/${id}/deviceStatuses`, `${POLICIES}/${id}/deviceStatusOverview`, `${POLICIES}/${id}/scheduledActionsForRule`, `${POLICIES}/${id}/assignments`]) {
        assert.equal((await call('GET', path, undefined, intruder)).status, 404, path);
      }
      assert.equal((await call('POST', `${POLICIES}/${id}/assign`, { assignments: [] }, intruder)).status, 404);
      assert.equal((await call('PATCH', `${POLICIES}/${id}`, { description: 'x' }, intruder)).status, 404);
      const metadata = await server.request('/graph/v1.0/$metadata');
      for (const name of ['"windows10CompliancePolicy"', '"deviceCompliancePolicyAssignment"', '"deviceCompliancePolicies"']) assert.ok(metadata.body.includes(name), name);
      assert.equal((await call('DELETE', `${POLICIES}/${id}`)).status, 204);
      await app().compliance.settled();
    });

    it('judges a device on its DeviceStatus and OS build, and an access decision that requires a compliant device follows it', async () => {
      const policyId = await created({ displayName: 'Firewall and build', osMinimumVersion: '10.0.19045.0', activeFirewallRequired: true, scheduledActionsForRule: block(0) });
      await assignAll(policyId);
      const alice = await enrolled('alice@contoso.example');
      assert.equal(await complianceOf(alice.enrollmentId), 'compliant');
      assert.deepEqual((await decide('alice@contoso.example', alice.entraDeviceId))['decision'], 'allow');

      // The firewall goes off: the next inventory makes the device noncompliant, and access is denied.
      alice.device.setDeviceStatus('Firewall/Status', '1');
      await reportAgain(alice.device, alice.enrollmentId);
      assert.equal(await complianceOf(alice.enrollmentId), 'noncompliant');
      const denied = await decide('alice@contoso.example', alice.entraDeviceId);
      assert.equal(denied['decision'], 'deny');
      assert.deepEqual(denied['reasons'], ['deviceNotCompliant']);

      // Why, per device and per policy.
      const states = await call('GET', `/graph/beta/deviceManagement/managedDevices/${alice.enrollmentId}/deviceCompliancePolicyStates`);
      assert.equal(states.status, 200, JSON.stringify(states.body));
      const state = (states.body['value'] as Record<string, unknown>[])[0]!;
      assert.equal(state['id'], policyId);
      assert.equal(state['state'], 'nonCompliant');
      const settings = state['settingStates'] as Record<string, unknown>[];
      const firewall = settings.find((s) => s['settingName'] === 'activeFirewallRequired')!;
      assert.deepEqual([firewall['state'], firewall['currentValue']], ['nonCompliant', 'disabled']);
      assert.equal(settings.find((s) => s['settingName'] === 'osMinimumVersion')!['state'], 'compliant');
      assert.equal((await call('GET', `/graph/beta/deviceManagement/managedDevices/${alice.enrollmentId}/deviceCompliancePolicyStates`, undefined, intruder)).status, 404);
      const statuses = await call('GET', `${POLICIES}/${policyId}/deviceStatuses`);
      assert.equal(statuses.status, 200, JSON.stringify(statuses.body));
      const row = (statuses.body['value'] as Record<string, unknown>[]).find((s) => s['id'] === alice.enrollmentId)!;
      assert.equal(row['status'], 'nonCompliant');
      assert.deepEqual((row['@openmam.settingStates'] as Record<string, unknown>[]).map((s) => s['setting']), ['activeFirewallRequired']);
      const overview = await call('GET', `${POLICIES}/${policyId}/deviceStatusOverview`);
      assert.equal(overview.body['failedCount'], 1);

      // An old build: noncompliant from its first inventory.
      const bob = await enrolled('bob@contoso.example', OLD_BUILD);
      assert.equal(await complianceOf(bob.enrollmentId), 'noncompliant');
      assert.equal((await decide('bob@contoso.example', bob.entraDeviceId))['decision'], 'deny');
      // A policy's device statuses page by keyset, with Graph's opaque token.
      const first = await call('GET', `${POLICIES}/${policyId}/deviceStatuses?$top=1`);
      assert.equal((first.body['value'] as unknown[]).length, 1);
      const nextLink = String(first.body['@odata.nextLink']);
      const second = await call('GET', nextLink.slice(nextLink.indexOf('/graph/')));
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const seen = [...(first.body['value'] as { id: string }[]), ...(second.body['value'] as { id: string }[])].map((s) => s.id).sort();
      assert.deepEqual(seen, [alice.enrollmentId, bob.enrollmentId].sort());
      refused(await call('GET', `${POLICIES}/${policyId}/deviceStatuses?$skiptoken=forged.token`), /^\$skiptoken: /);

      // Alice turns the firewall back on: compliant at the next inventory, access allowed again.
      alice.device.setDeviceStatus('Firewall/Status', '0');
      await reportAgain(alice.device, alice.enrollmentId);
      assert.equal(await complianceOf(alice.enrollmentId), 'compliant');
      assert.equal((await decide('alice@contoso.example', alice.entraDeviceId))['decision'], 'allow');
      // A token whose deviceid is no enrolled device is judged by the outside MDM report: none, so denied.
      assert.equal((await decide('alice@contoso.example', randomUUID()))['decision'], 'deny');

      // The admin lowers the minimum build: the tenant's devices are judged again off the request path, at version 2.
      const patched = await call('PATCH', `${POLICIES}/${policyId}`, { osMinimumVersion: '10.0.17763.0' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await app().compliance.settled();
      assert.equal(await complianceOf(bob.enrollmentId), 'compliant');
      const bobStates = await call('GET', `/graph/v1.0/deviceManagement/managedDevices/${bob.enrollmentId}/deviceCompliancePolicyStates`);
      assert.equal((bobStates.body['value'] as Record<string, unknown>[])[0]!['version'], 3, 'the policy version judged (created 1, assigned 2, patched 3)');

      // A grace period: noncompliant devices are inGracePeriod, which Intune treats as compliant for access.
      assert.equal((await call('PATCH', `${POLICIES}/${policyId}`, { osMinimumVersion: '10.0.26100.0', scheduledActionsForRule: block(48) })).status, 200);
      await app().compliance.settled();
      assert.equal(await complianceOf(bob.enrollmentId), 'inGracePeriod');
      assert.equal((await decide('bob@contoso.example', bob.entraDeviceId))['decision'], 'allow');
      const graced = await call('GET', `${POLICIES}/${policyId}/deviceStatuses`);
      const bobRow = (graced.body['value'] as Record<string, unknown>[]).find((s) => s['id'] === bob.enrollmentId)!;
      assert.ok(Date.parse(String(bobRow['complianceGracePeriodExpirationDateTime'])) > Date.now() + 47 * 3_600_000);
      // The sweep ends grace periods that are over (here: one set in the past).
      await app().store.compliance.saveComplianceResults([{ enrollmentId: bob.enrollmentId, state: 'inGracePeriod', graceUntil: Date.now() - 1, policies: [] }]);
      assert.equal(await app().compliance.sweepGrace(), 1);
      assert.equal(await complianceOf(bob.enrollmentId), 'noncompliant');

      // The policy goes: with no policy assigned the device is unknown (never compliant by default), its states gone.
      assert.equal((await call('DELETE', `${POLICIES}/${policyId}`)).status, 204);
      await app().compliance.settled();
      assert.equal(await complianceOf(bob.enrollmentId), 'unknown');
      assert.equal((await decide('bob@contoso.example', bob.entraDeviceId))['decision'], 'deny');
      assert.deepEqual((await call('GET', `/graph/beta/deviceManagement/managedDevices/${bob.enrollmentId}/deviceCompliancePolicyStates`)).body['value'], []);
    });

    it('honours a device assignment filter on a compliance assignment, and judges again when its rule changes', async () => {
      const filter = await call('POST', '/graph/beta/deviceManagement/assignmentFilters', { displayName: 'Windows 11 23H2', platform: 'windows10AndLater', rule: '(device.osVersion -startsWith "10.0.22631")' });
      assert.equal(filter.status, 201, JSON.stringify(filter.body));
      const filterId = String(filter.body['id']);
      const policyId = await created({ displayName: 'Filtered build', osMinimumVersion: '10.0.19045.0' });
      const assigned = await call('POST', `${POLICIES}/${policyId}/assign`, {
        assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: 'include' } }],
      });
      assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
      await app().compliance.settled();
      const carol = await enrolled('carol@contoso.example');
      const dave = await enrolled('dave@contoso.example', OLD_BUILD);
      assert.equal(await complianceOf(carol.enrollmentId), 'compliant');
      assert.equal(await complianceOf(dave.enrollmentId), 'unknown', 'the filter keeps the policy off the old build: no policy, unknown');
      // The filter now picks the old build: the tenant's devices are judged again.
      assert.equal((await call('PATCH', `/graph/beta/deviceManagement/assignmentFilters/${filterId}`, { rule: '(device.osVersion -startsWith "10.0.17763")' })).status, 200);
      for (let i = 0; i < 100 && (await complianceOf(dave.enrollmentId)) !== 'noncompliant'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await app().compliance.settled();
      }
      assert.equal(await complianceOf(dave.enrollmentId), 'noncompliant');
      assert.equal(await complianceOf(carol.enrollmentId), 'unknown');
      assert.equal((await call('DELETE', `${POLICIES}/${policyId}`)).status, 204);
      await app().compliance.settled();
    });

    it('retires a device whose policy stayed noncompliant past its retire grace, once, with reason compliance; a device compliant again before the grace ends is not', async () => {
      const policyId = await created({ displayName: 'Firewall, retire at once', activeFirewallRequired: true, scheduledActionsForRule: blockAndRetire(0) });
      await assignAll(policyId);
      const erin = await enrolled('erin@contoso.example');
      const frank = await enrolled('frank@contoso.example');
      assert.equal(await complianceOf(erin.enrollmentId), 'compliant');
      assert.equal(await app().compliance.sweepRetires(), 0, 'nothing noncompliant, nothing due');

      erin.device.setDeviceStatus('Firewall/Status', '1');
      await reportAgain(erin.device, erin.enrollmentId);
      assert.equal(await complianceOf(erin.enrollmentId), 'noncompliant');
      const [state] = await app().store.compliance.compliancePolicyStatesOf(erin.enrollmentId);
      assert.equal(state!.state, 'nonCompliant');
      assert.ok(state!.nonCompliantSince !== null && state!.nonCompliantSince! <= Date.now());
      assert.equal(state!.retireAt, state!.nonCompliantSince, 'retire after 0 hours');

      assert.equal(await app().compliance.sweepRetires(), 1);
      const pending = await call('GET', `${DEVICES}/${erin.enrollmentId}`);
      assert.equal(pending.body['managementState'], 'retirePending');
      const results = pending.body['deviceActionResults'] as Record<string, unknown>[];
      assert.deepEqual(results.map((r) => [r['actionName'], r['actionState'], r['@openmam.reason']]), [['retire', 'pending', 'compliance']]);
      // Idempotent: the due row is cleared; judged again it is due again, but the device is no longer managed; a
      // second node's ask is a 409 (the compare-and-set on managementState), which the sweep counts as done.
      assert.equal(await app().compliance.sweepRetires(), 0);
      await reportAgainQueued(erin.enrollmentId);
      assert.equal(await app().compliance.sweepRetires(), 0);
      await assert.rejects(app().deviceActions.request({ tenantId: server.tenantId, reason: 'compliance' }, erin.enrollmentId, 'retire'), /pending already/);

      // The device's next session gets DMClient Unenroll, as for an admin's retire; the enrollment ends with reason compliance.
      const session = await erin.device.sync();
      assert.ok(session.commands.some((c) => c.verb === 'Exec' && c.locUri === `./Vendor/MSFT/DMClient/Provider/${server.config.providerId}/Unenroll`), 'Unenroll sent');
      assert.equal(erin.device.unenrolledByServer?.providerId, server.config.providerId);
      const ended = await app().store.getEnrollment(erin.enrollmentId);
      assert.deepEqual([ended?.state, ended?.unenrollReason, ended?.managementState], ['unenrolled', 'compliance', 'retireIssued']);

      // Retire after an hour: Frank's firewall goes off, then on again before the hour is over: never retired.
      assert.equal((await call('PATCH', `${POLICIES}/${policyId}`, { scheduledActionsForRule: blockAndRetire(1) })).status, 200);
      await app().compliance.settled();
      frank.device.setDeviceStatus('Firewall/Status', '1');
      await reportAgain(frank.device, frank.enrollmentId);
      assert.equal(await complianceOf(frank.enrollmentId), 'noncompliant');
      const [failing] = await app().store.compliance.compliancePolicyStatesOf(frank.enrollmentId);
      assert.equal(failing!.retireAt, failing!.nonCompliantSince! + HOUR);
      assert.equal(await app().compliance.sweepRetires(), 0, 'not due yet');
      assert.deepEqual((await app().store.compliance.dueComplianceRetires(Date.now() + 2 * HOUR, 10)).map((d) => d.enrollmentId), [frank.enrollmentId], 'due in an hour');
      frank.device.setDeviceStatus('Firewall/Status', '0');
      await reportAgain(frank.device, frank.enrollmentId);
      assert.equal(await complianceOf(frank.enrollmentId), 'compliant');
      const [fixed] = await app().store.compliance.compliancePolicyStatesOf(frank.enrollmentId);
      assert.deepEqual([fixed!.nonCompliantSince, fixed!.retireAt], [null, null]);
      assert.deepEqual(await app().store.compliance.dueComplianceRetires(Date.now() + 2 * HOUR, 10), [], 'nothing due, ever');
      assert.equal((await app().store.getEnrollment(frank.enrollmentId))?.managementState, 'managed');
      assert.equal((await call('DELETE', `${POLICIES}/${policyId}`)).status, 204);
      await app().compliance.settled();
    });

    it('tenant settings secureByDefault and deviceComplianceCheckinThresholdDays: refused when wrong, shown, and the tenant judged again when they change', async () => {
      refused(await call('PATCH', SETTINGS, { secureByDefault: 'yes' }), /^secureByDefault: /);
      refused(await call('PATCH', SETTINGS, { deviceComplianceCheckinThresholdDays: 0 }), /^deviceComplianceCheckinThresholdDays: /);
      refused(await call('PATCH', SETTINGS, { deviceComplianceCheckinThresholdDays: 121 }), /^deviceComplianceCheckinThresholdDays: /);
      refused(await call('PATCH', SETTINGS, { deviceComplianceCheckinThresholdDays: null }), /^deviceComplianceCheckinThresholdDays: /);
      const shown = await call('GET', SETTINGS);
      assert.deepEqual([shown.body['secureByDefault'], shown.body['deviceComplianceCheckinThresholdDays']], [null, 30], 'never set: unknown, 30 days');
      const gina = await enrolled('gina@contoso.example');
      assert.equal(await complianceOf(gina.enrollmentId), 'unknown', 'no policy: unknown');
      for (const [secure, expected] of [[true, 'noncompliant'], [false, 'compliant'], [null, 'unknown']] as const) {
        const set = await call('PATCH', SETTINGS, { secureByDefault: secure });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        assert.equal(set.body['secureByDefault'], secure);
        await app().compliance.settled();
        assert.equal(await complianceOf(gina.enrollmentId), expected, `secureByDefault ${String(secure)}`);
      }
      assert.equal((await call('PATCH', SETTINGS, { secureByDefault: false, deviceComplianceCheckinThresholdDays: 1 })).body['deviceComplianceCheckinThresholdDays'], 1);
      await app().compliance.settled();
      assert.equal(await complianceOf(gina.enrollmentId), 'compliant');
      // Two days later with no check-in: noncompliant whatever its policies say; once it checks in, judged on them again.
      assert.ok((await app().compliance.sweepCheckins(Date.now() + 2 * DAY)) >= 1);
      assert.equal(await complianceOf(gina.enrollmentId), 'noncompliant');
      assert.equal(await app().compliance.sweepCheckins(Date.now() + 2 * DAY), 0, 'judged once');
      assert.ok((await app().compliance.sweepCheckins(Date.now())) >= 1);
      assert.equal(await complianceOf(gina.enrollmentId), 'compliant');
      assert.equal((await call('PATCH', SETTINGS, { secureByDefault: null, deviceComplianceCheckinThresholdDays: 30 })).status, 200);
      await app().compliance.settled();
      assert.equal(await complianceOf(gina.enrollmentId), 'unknown');
    });
  });
}
