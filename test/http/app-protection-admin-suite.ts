import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AppRegistrationRecord } from '../../src/store/app-protection-records.ts';
import { registrationRecord } from '../support/registrations.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { patchedThenRead as patchedThenReadWith } from '../support/graph-calls.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The app protection service's admin API end to end (docs/app-protection.md "Admin API"): app protection and app
 * configuration policies (CRUD, targetApps, assign, apps, assignments, deployment summary, framework templates),
 * threat defense connectors and conditional access policies, over real HTTPS with tokens of the built-in identity
 * provider. Run per store backend.
 */
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const CONFIGURATIONS = '/graph/beta/deviceAppManagement/targetedManagedAppConfigurations';
const CONNECTORS = '/graph/beta/deviceManagement/mobileThreatDefenseConnectors';
const CA_BETA = '/graph/beta/identity/conditionalAccess/policies';
const CA_V1 = '/graph/v1.0/identity/conditionalAccess/policies';

interface GraphResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

const windowsApp = (windowsAppId: string, version?: string) => ({
  mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId },
  ...(version === undefined ? {} : { version }),
});
/** Resources are named by the appIds of service principals (Exchange Online's and SharePoint Online's, as Entra lists them). */
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const SHAREPOINT = '00000003-0000-0ff1-ce00-000000000000';
const toGroup = (groupId: string) => ({ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId } });

export function appProtectionAdminEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`app protection admin API (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
      const otherTenant = randomUUID();
      await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
      intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
    });
    after(async () => {
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin): Promise<GraphResponse> => (await server.json(method, path, token, body)) as GraphResponse;
    const patchedThenRead = (url: string, body: unknown): Promise<GraphResponse> => patchedThenReadWith(call, url, body);
    async function created(path: string, body: unknown): Promise<Record<string, unknown>> {
      const response = await call('POST', path, body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body;
    }
    function assertBadRequest(response: GraphResponse, field: RegExp): void {
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error?.code, 'BadRequest');
      assert.match(response.body.error?.message ?? '', field);
    }
    async function registration(change: Partial<AppRegistrationRecord>): Promise<void> {
      const record = registrationRecord(server.tenantId, change);
      await server.runtime.app.store.appProtection.upsertRegistration(record);
    }

    describe('windowsManagedAppProtections', () => {
      it('creates with defaults, reads, lists, PATCHes (null clears), deletes', async () => {
        const policy = await created(PROTECTIONS, { displayName: 'Contoso notes', description: 'for notes', minimumRequiredOsVersion: '10.0.22631', pinRequired: true });
        const id = String(policy['id']);
        assert.equal(policy['@odata.type'], '#microsoft.graph.windowsManagedAppProtection');
        assert.equal(policy['version'], '1');
        assert.equal(policy['isAssigned'], false);
        assert.equal(policy['deployedAppCount'], 0);
        assert.equal(policy['periodOfflineBeforeAccessCheck'], 'PT720M');
        assert.equal(policy['periodOfflineBeforeWipeIsEnforced'], 'P90D');
        assert.equal(policy['mobileThreatDefenseRemediationAction'], 'block');
        assert.equal(policy['maximumAllowedDeviceThreatLevel'], 'notConfigured');
        assert.equal(policy['encryptAppData'], true);
        assert.equal(policy['minimumPinLength'], 4);
        assert.equal(typeof policy['createdDateTime'], 'string');

        const read = await call('GET', `${PROTECTIONS}/${id}`, undefined, reader);
        assert.equal(read.status, 200);
        assert.deepEqual(read.body, policy);
        const listed = await call('GET', PROTECTIONS, undefined, reader);
        assert.match(String(listed.body['@odata.context']), /\$metadata#deviceAppManagement\/windowsManagedAppProtections$/);
        assert.ok(listed.body.value?.some((p) => p['id'] === id));

        const patched = await call('PATCH', `${PROTECTIONS}/${id}`, { description: null, minimumRequiredOsVersion: null, printBlocked: true, version: '99' });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.equal(patched.body['description'], null);
        assert.equal(patched.body['minimumRequiredOsVersion'], null);
        assert.equal(patched.body['printBlocked'], true);
        assert.equal(patched.body['pinRequired'], true, 'untouched');
        assert.equal(patched.body['version'], '2');

        // A GET body can be sent back as a PATCH (read-only properties are ignored).
        const roundTrip = await call('PATCH', `${PROTECTIONS}/${id}`, (await call('GET', `${PROTECTIONS}/${id}`)).body);
        assert.equal(roundTrip.status, 200, JSON.stringify(roundTrip.body));

        assert.equal((await call('DELETE', `${PROTECTIONS}/${id}`)).status, 204);
        assert.equal((await call('GET', `${PROTECTIONS}/${id}`)).status, 404);
        assert.equal((await call('DELETE', `${PROTECTIONS}/${id}`)).status, 404);
      });

      it('targets apps, assigns to a group, lists apps and assignments', async () => {
        const id = String((await created(PROTECTIONS, { displayName: 'targeted' }))['id']);
        const groupId = String((await created('/graph/v1.0/groups', { displayName: `mam-${randomUUID().slice(0, 6)}` }))['id']);
        assert.equal((await call('POST', `${PROTECTIONS}/${id}/targetApps`, { apps: [windowsApp('Com.Contoso.Notes', '4.2'), windowsApp('com.microsoft.edge')] })).status, 204);
        const apps = await call('GET', `${PROTECTIONS}/${id}/apps`, undefined, reader);
        assert.deepEqual(
          apps.body.value?.map((a) => [(a['mobileAppIdentifier'] as { windowsAppId: string }).windowsAppId, a['version']]),
          [['com.contoso.notes', '4.2'], ['com.microsoft.edge', null]],
        );
        assert.equal((await call('POST', `${PROTECTIONS}/${id}/assign`, { assignments: [toGroup(groupId)] })).status, 204);
        const assignments = await call('GET', `${PROTECTIONS}/${id}/assignments`, undefined, reader);
        assert.deepEqual(assignments.body.value?.map((a) => [a['@odata.type'], a['target']]), [
          ['#microsoft.graph.targetedManagedAppPolicyAssignment', { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId }],
        ]);
        const policy = (await call('GET', `${PROTECTIONS}/${id}`)).body;
        assert.equal(policy['isAssigned'], true);
        assert.equal(policy['deployedAppCount'], 2);
        assert.equal(policy['version'], '3');

        // The store sees exactly what the admin set, and the tenant's app configuration version moved.
        const stored = await server.runtime.app.store.appProtection.getAppPolicy(server.tenantId, id);
        assert.deepEqual(stored?.apps.map((a) => a.appId), ['com.contoso.notes', 'com.microsoft.edge']);
        assert.ok((await server.runtime.app.store.appProtection.getAppConfigVersion(server.tenantId)) > 0);

        const duplicate = await call('POST', `${PROTECTIONS}/${id}/targetApps`, { apps: [windowsApp('com.a'), windowsApp('COM.A')] });
        assertBadRequest(duplicate, /^apps\[1\]\.mobileAppIdentifier\.windowsAppId: /);
        assertBadRequest(await call('POST', `${PROTECTIONS}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'sales' } }] }), /^assignments\[0\]\.target\.groupId: /);
        assert.equal((await call('POST', `${PROTECTIONS}/${id}/assign`, { assignments: [] })).status, 204);
        assert.equal((await call('GET', `${PROTECTIONS}/${id}`)).body['isAssigned'], false);
      });

      it('summarises deployment from the registrations that hold the policy', async () => {
        const id = String((await created(PROTECTIONS, { displayName: 'deployed' }))['id']);
        await call('POST', `${PROTECTIONS}/${id}/targetApps`, { apps: [windowsApp('com.contoso.notes'), windowsApp('com.microsoft.edge')] });
        const [alice, bob] = [randomUUID(), randomUUID()];
        await registration({ userId: alice, appId: 'com.contoso.notes', appliedPolicyId: id, appliedPolicyVersion: 2 });
        await registration({ userId: alice, appId: 'com.contoso.notes', appliedPolicyId: id, appliedPolicyVersion: 2 });
        await registration({ userId: bob, appId: 'com.contoso.notes', appliedPolicyId: id, appliedPolicyVersion: 2 });
        await registration({ userId: bob, appId: 'com.contoso.legacy', appliedPolicyId: id, appliedPolicyVersion: 1 });
        await registration({ userId: randomUUID(), appId: 'com.microsoft.edge', appliedPolicyId: null });
        const summary = await call('GET', `${PROTECTIONS}/${id}/deploymentSummary`, undefined, reader);
        assert.equal(summary.status, 200, JSON.stringify(summary.body));
        assert.equal(summary.body['displayName'], 'deployed');
        assert.equal(summary.body['configurationDeployedUserCount'], 2);
        assert.equal(typeof summary.body['lastRefreshTime'], 'string');
        const perApp = summary.body['configurationDeploymentSummaryPerApp'] as { mobileAppIdentifier: { windowsAppId: string }; configurationAppliedUserCount: number }[];
        assert.deepEqual(perApp.map((a) => [a.mobileAppIdentifier.windowsAppId, a.configurationAppliedUserCount]), [
          ['com.contoso.notes', 2],
          ['com.microsoft.edge', 0],
          ['com.contoso.legacy', 1],
        ]);
      });

      it('serves the data protection framework levels as templates to POST', async () => {
        const level3 = await call('GET', `${PROTECTIONS}/templates/level3?minimumOsVersion=10.0.22631&maximumOsVersion=10.0.26100`, undefined, reader);
        assert.equal(level3.status, 200, JSON.stringify(level3.body));
        assert.equal(level3.body['@odata.type'], '#microsoft.graph.windowsManagedAppProtection');
        assert.equal(level3.body['printBlocked'], true);
        assert.equal(level3.body['maximumAllowedDeviceThreatLevel'], 'secured');
        assert.equal(level3.body['minimumRequiredOsVersion'], '10.0.22631');
        assert.equal(level3.body['maximumRequiredOsVersion'], '10.0.26100');
        const level1 = await call('GET', `${PROTECTIONS}/templates/level1`);
        assert.equal(level1.body['allowedOutboundDataTransferDestinations'], 'allApps');
        assert.equal(level1.body['periodOfflineBeforeWipeIsEnforced'], 'P90D');
        const level2 = await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=10.0.22631`);
        assert.equal(level2.body['appActionIfUnableToAuthenticateUser'], 'block');
        const posted = await created(PROTECTIONS, level2.body);
        assert.equal(posted['minimumRequiredOsVersion'], '10.0.22631');
        await call('DELETE', `${PROTECTIONS}/${String(posted['id'])}`);
        assertBadRequest(await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=latest`), /^minimumOsVersion: /);
        assert.equal((await call('GET', `${PROTECTIONS}/templates/level4`)).status, 404);
      });

      it('refuses bad enums, durations, versions and unknown properties with a 400 naming the field, and writes nothing', async () => {
        const cases: [Record<string, unknown>, RegExp][] = [
          [{ displayName: 'x', allowedOutboundClipboardSharingLevel: 'sometimes' }, /^allowedOutboundClipboardSharingLevel: /],
          [{ displayName: 'x', mobileThreatDefenseRemediationAction: 'warn' }, /^mobileThreatDefenseRemediationAction: warn is not supported/],
          [{ displayName: 'x', periodOfflineBeforeWipeIsEnforced: 'P3M' }, /^periodOfflineBeforeWipeIsEnforced: .*years and months/],
          [{ displayName: 'x', periodOfflineBeforeAccessCheck: '12 hours' }, /^periodOfflineBeforeAccessCheck: /],
          [{ displayName: 'x', minimumRequiredOsVersion: '10.0.x' }, /^minimumRequiredOsVersion: /],
          [{ displayName: 'x', minimumRequiredOsVersion: '10.0.26100', maximumRequiredOsVersion: '10.0.22631' }, /^maximumRequiredOsVersion: /],
          [{ displayName: 'x', minimumPinLength: 2 }, /^minimumPinLength: /],
          [{ displayName: 'x', surprise: true }, /^surprise: /],
          [{ description: 'no name' }, /^displayName: is required/],
        ];
        const before = (await call('GET', PROTECTIONS)).body.value?.length;
        for (const [body, field] of cases) assertBadRequest(await call('POST', PROTECTIONS, body), field);
        assertBadRequest(await call('POST', PROTECTIONS, '{"displayName": '), /JSON/);
        assert.equal((await call('GET', PROTECTIONS)).body.value?.length, before, 'nothing written');

        const id = String((await created(PROTECTIONS, { displayName: 'patched badly', minimumRequiredOsVersion: '10.0.22631' }))['id']);
        assertBadRequest(await call('PATCH', `${PROTECTIONS}/${id}`, { maximumRequiredOsVersion: '10.0.19045' }), /^maximumRequiredOsVersion: /);
        assertBadRequest(await call('PATCH', `${PROTECTIONS}/${id}`, { displayName: null }), /^displayName: must not be null/);
        assert.equal((await call('GET', `${PROTECTIONS}/${id}`)).body['version'], '1', 'unchanged');
        await call('DELETE', `${PROTECTIONS}/${id}`);
      });
    });

    describe('targetedManagedAppConfigurations', () => {
      it('CRUD, targetApps with appGroupType, assign; a protection id is not a configuration', async () => {
        const config = await created(CONFIGURATIONS, {
          displayName: 'Notes server',
          customSettings: [{ name: 'com.contoso.server', value: 'https://notes.contoso.com/{{userprincipalname}}' }],
        });
        const id = String(config['id']);
        assert.equal(config['@odata.type'], '#microsoft.graph.targetedManagedAppConfiguration');
        assert.equal(config['appGroupType'], 'selectedPublicApps');
        assert.equal(config['targetedAppManagementLevels'], 'unmanaged');
        assert.equal((await call('POST', `${CONFIGURATIONS}/${id}/targetApps`, { apps: [windowsApp('com.contoso.notes')], appGroupType: 'allApps' })).status, 204);
        const read = (await call('GET', `${CONFIGURATIONS}/${id}`)).body;
        assert.equal(read['appGroupType'], 'allApps');
        assert.equal(read['deployedAppCount'], 1);
        const groupId = randomUUID();
        assert.equal((await call('POST', `${CONFIGURATIONS}/${id}/assign`, { assignments: [toGroup(groupId)] })).status, 204);
        assert.deepEqual((await call('GET', `${CONFIGURATIONS}/${id}/assignments`)).body.value?.map((a) => (a['target'] as { groupId: string }).groupId), [groupId]);
        const patched = await call('PATCH', `${CONFIGURATIONS}/${id}`, { customSettings: [], description: 'cleared' });
        assert.deepEqual(patched.body['customSettings'], []);
        assertBadRequest(await call('PATCH', `${CONFIGURATIONS}/${id}`, { customSettings: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }), /^customSettings\[1\]\.name: /);
        assertBadRequest(await call('PATCH', `${CONFIGURATIONS}/${id}`, { targetedAppManagementLevels: 'mdm' }), /^targetedAppManagementLevels: /);

        const protection = String((await created(PROTECTIONS, { displayName: 'not a configuration' }))['id']);
        assert.equal((await call('GET', `${CONFIGURATIONS}/${protection}`)).status, 404);
        assert.equal((await call('GET', `${PROTECTIONS}/${id}`)).status, 404);
        assert.equal((await call('GET', `${PROTECTIONS}/${id}/deploymentSummary`)).status, 404);
        assert.equal((await call('DELETE', `${CONFIGURATIONS}/${id}`)).status, 204);
        await call('DELETE', `${PROTECTIONS}/${protection}`);
      });
    });

    describe('mobileThreatDefenseConnectors', () => {
      it('CRUD with defaults', async () => {
        const connector = await created(CONNECTORS, { partnerUnresponsivenessThresholdInDays: 3 });
        const id = String(connector['id']);
        assert.equal(connector['@odata.type'], '#microsoft.graph.mobileThreatDefenseConnector');
        assert.equal(connector['partnerState'], 'enabled');
        assert.equal(connector['windowsMobileApplicationManagementEnabled'], true);
        assert.equal(connector['lastHeartbeatDateTime'], null);
        assert.equal(connector['partnerUnresponsivenessThresholdInDays'], 3);
        assert.ok((await call('GET', CONNECTORS, undefined, reader)).body.value?.some((c) => c['id'] === id));
        const patched = await call('PATCH', `${CONNECTORS}/${id}`, { windowsDeviceBlockedOnMissingPartnerData: true });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.equal(patched.body['windowsDeviceBlockedOnMissingPartnerData'], true);
        assert.equal(patched.body['partnerUnresponsivenessThresholdInDays'], 3);
        assertBadRequest(await call('PATCH', `${CONNECTORS}/${id}`, { partnerUnresponsivenessThresholdInDays: 0 }), /^partnerUnresponsivenessThresholdInDays: /);
        assertBadRequest(await call('POST', CONNECTORS, { partnerState: 'on' }), /^partnerState: /);
        assert.equal((await call('DELETE', `${CONNECTORS}/${id}`)).status, 204);
        assert.equal((await call('GET', `${CONNECTORS}/${id}`)).status, 404);
      });

      it("stores the other platforms' flags and shows them as not applicable", async () => {
        const connector = await created(CONNECTORS, { windowsEnabled: true, androidEnabled: false });
        const id = String(connector['id']);
        assert.deepEqual([connector['windowsEnabled'], connector['androidEnabled'], connector['@openmam.notApplicableProperties']], [true, false, ['windowsEnabled', 'androidEnabled']]);
        const read = await call('GET', `${CONNECTORS}/${id}`, undefined, reader);
        assert.deepEqual([read.body['windowsEnabled'], read.body['androidEnabled'], read.body['partnerState']], [true, false, 'enabled']);
        const patched = await call('PATCH', `${CONNECTORS}/${id}`, { iosEnabled: true, windowsEnabled: false });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.deepEqual([patched.body['windowsEnabled'], patched.body['androidEnabled'], patched.body['iosEnabled']], [false, false, true]);
        const stored = await server.runtime.app.store.appProtection.getConnector(server.tenantId, id);
        assert.deepEqual(stored?.graphExtras, { windowsEnabled: false, androidEnabled: false, iosEnabled: true });
        assertBadRequest(await call('PATCH', `${CONNECTORS}/${id}`, { windowsEnabled: 'yes' }), /^windowsEnabled: must be true or false/);
        assertBadRequest(await call('POST', CONNECTORS, { windowsOn: true }), /^windowsOn: is not a property of mobileThreatDefenseConnector/);
        const plain = await created(CONNECTORS, {});
        assert.equal(plain['@openmam.notApplicableProperties'], undefined, 'only when there are any');
        for (const c of [id, String(plain['id'])]) assert.equal((await call('DELETE', `${CONNECTORS}/${c}`)).status, 204);
      });
    });

    describe('conditional access policies', () => {
      const policy = {
        displayName: 'Exchange from approved apps',
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: ['approvedApplication', 'compliantApplication'] },
        approvedApplications: ['com.microsoft.outlook'],
      };

      it('CRUD in beta and v1.0, PATCH replacing conditions whole', async () => {
        const created1 = await created(CA_V1, policy);
        const id = String(created1['id']);
        assert.equal(created1['@odata.type'], '#microsoft.graph.conditionalAccessPolicy');
        assert.deepEqual(created1['conditions'], { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'], includeGroups: [], excludeGroups: [] } });
        assert.deepEqual(created1['approvedApplications'], ['com.microsoft.outlook']);
        assert.equal((await call('GET', `${CA_BETA}/${id}`, undefined, reader)).body['displayName'], 'Exchange from approved apps');
        assert.ok((await call('GET', CA_V1, undefined, reader)).body.value?.some((p) => p['id'] === id));

        const groupId = randomUUID();
        const patched = await patchedThenRead(`${CA_BETA}/${id}`, { state: 'disabled', conditions: { applications: { includeApplications: [EXCHANGE, SHAREPOINT.toUpperCase()] }, users: { includeGroups: [groupId] } } });
        assert.equal(patched.body['state'], 'disabled');
        assert.deepEqual(patched.body['conditions'], { applications: { includeApplications: [EXCHANGE, SHAREPOINT] }, users: { includeUsers: [], includeGroups: [groupId], excludeGroups: [] } });
        const stored = await server.runtime.app.store.appProtection.getAccessPolicy(server.tenantId, id);
        assert.deepEqual([stored?.resources, stored?.includeAllUsers, stored?.approvedApps], [[EXCHANGE, SHAREPOINT], false, ['com.microsoft.outlook']]);

        assertBadRequest(await call('PATCH', `${CA_V1}/${id}`, { grantControls: { operator: 'AND', builtInControls: ['compliantDevice'] } }), /^grantControls\.operator: /);
        assertBadRequest(await call('PATCH', `${CA_V1}/${id}`, { grantControls: { builtInControls: ['compliantDevice'] } }), /^approvedApplications: /);
        assertBadRequest(await call('POST', CA_V1, { ...policy, state: 'enabledForReportingButNotEnforced' }), /^state: /);
        assert.equal((await call('DELETE', `${CA_V1}/${id}`)).status, 204);
        assert.equal((await call('GET', `${CA_BETA}/${id}`)).status, 404);
      });

      it('stores the Graph properties it does not act on, answers them back and names them as not applicable', async () => {
        const excluded = randomUUID();
        const body = {
          ...policy,
          description: 'Mail from approved apps only',
          sessionControls: { signInFrequency: { value: 4, type: 'hours', isEnabled: true } },
          conditions: { ...policy.conditions, users: { includeUsers: ['All'], excludeUsers: [excluded] }, platforms: { includePlatforms: ['windows'] } },
        };
        const posted = await created(CA_V1, body);
        const id = String(posted['id']);
        const expectedConditions = {
          applications: { includeApplications: [EXCHANGE] },
          users: { includeUsers: ['All'], includeGroups: [], excludeGroups: [], excludeUsers: [excluded] },
          platforms: { includePlatforms: ['windows'] },
        };
        const notApplicable = ['conditions.users.excludeUsers', 'conditions.platforms', 'description', 'sessionControls'];
        for (const answer of [posted, (await call('GET', `${CA_BETA}/${id}`, undefined, reader)).body]) {
          assert.equal(answer['description'], 'Mail from approved apps only');
          assert.deepEqual(answer['sessionControls'], body.sessionControls);
          assert.deepEqual(answer['conditions'], expectedConditions);
          assert.deepEqual(answer['@openmam.notApplicableProperties'], notApplicable);
        }
        // The acted-on fields are the same as without the extras.
        const stored = await server.runtime.app.store.appProtection.getAccessPolicy(server.tenantId, id);
        assert.deepEqual([stored?.resources, stored?.includeAllUsers, stored?.includeGroups, stored?.excludeGroups], [[EXCHANGE], true, [], []]);

        const cleared = await patchedThenRead(`${CA_V1}/${id}`, { description: null });
        assert.equal(cleared.body['description'], undefined);
        assert.deepEqual(cleared.body['sessionControls'], body.sessionControls);
        assert.deepEqual(cleared.body['conditions'], expectedConditions);
        assert.deepEqual(cleared.body['@openmam.notApplicableProperties'], ['conditions.users.excludeUsers', 'conditions.platforms', 'sessionControls']);

        // conditions is replaced whole: the extras inside it follow the new conditions.
        const replaced = await patchedThenRead(`${CA_V1}/${id}`, { conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] }, locations: { includeLocations: ['All'] } } });
        assert.deepEqual(replaced.body['conditions'], { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'], includeGroups: [], excludeGroups: [] }, locations: { includeLocations: ['All'] } });
        assert.deepEqual(replaced.body['@openmam.notApplicableProperties'], ['conditions.locations', 'sessionControls']);

        assertBadRequest(await call('PATCH', `${CA_V1}/${id}`, { description: 5 }), /^description: must be a string/);
        assertBadRequest(await call('POST', CA_V1, { ...policy, conditions: { ...policy.conditions, users: { includeUsers: ['All'], excludeUsers: 'x' } } }), /^conditions\.users\.excludeUsers: must be an array/);
        assertBadRequest(await call('POST', CA_V1, { ...policy, riskLevel: 'high' }), /^riskLevel: is not a property of conditionalAccessPolicy/);
        assertBadRequest(await call('POST', CA_V1, { ...policy, conditions: { ...policy.conditions, users: { includeGroups: [randomUUID()], includeRoles: [randomUUID()] } } }), /^conditions\.users\.includeRoles: /);
        const plain = await created(CA_V1, policy);
        assert.equal(plain['@openmam.notApplicableProperties'], undefined, 'only when there are any');
        for (const p of [id, String(plain['id'])]) assert.equal((await call('DELETE', `${CA_V1}/${p}`)).status, 204);
      });

      it('windowsManagedAppProtections are beta only, as in Graph; app configurations and connectors are in v1.0 too', async () => {
        assert.equal((await call('GET', PROTECTIONS.replace('/beta/', '/v1.0/'))).status, 404);
        for (const path of [CONFIGURATIONS, CONNECTORS]) {
          const v1 = await call('GET', path.replace('/beta/', '/v1.0/'));
          assert.equal(v1.status, 200, `${path}: ${JSON.stringify(v1.body)}`);
          assert.deepEqual(v1.body.value, (await call('GET', path)).body.value);
        }
      });
    });

    describe('optimistic concurrency: entity tags and If-Match on every resource', () => {
      async function callWith(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<GraphResponse & { etag: string | undefined }> {
        const response = await server.json(method, path, admin, body, headers);
        const etag = response.headers['etag'];
        return { status: response.status, headers: response.headers, etag: typeof etag === 'string' ? etag : undefined, body: response.body as GraphResponse['body'] };
      }
      const caPolicy = {
        displayName: 'Tagged CA',
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: ['approvedApplication'] },
        approvedApplications: ['com.microsoft.outlook'],
      };
      const resources = [
        { name: 'app protection policy', path: PROTECTIONS, create: { displayName: 'tagged' }, first: { printBlocked: true }, lost: { pinRequired: true }, field: 'printBlocked', other: 'pinRequired' },
        { name: 'app configuration policy', path: CONFIGURATIONS, create: { displayName: 'tagged' }, first: { description: 'first' }, lost: { displayName: 'lost' }, field: 'description', other: 'displayName' },
        { name: 'threat defense connector', path: CONNECTORS, create: {}, first: { windowsDeviceBlockedOnMissingPartnerData: true }, lost: { partnerUnsupportedOsVersionBlocked: true }, field: 'windowsDeviceBlockedOnMissingPartnerData', other: 'partnerUnsupportedOsVersionBlocked' },
        // A conditional access policy's PATCH answers 204 (learn.microsoft.com/graph/api/conditionalaccesspolicy-update).
        { name: 'conditional access policy', path: CA_V1, create: caPolicy, first: { state: 'disabled' }, lost: { displayName: 'lost' }, field: 'state', other: 'displayName', patchStatus: 204 },
      ];
      for (const resource of resources) {
        it(`${resource.name}: ETag on every entity, If-Match current/list/* writes, stale is 412 (PATCH and DELETE), malformed 400`, async () => {
          const posted = await callWith('POST', resource.path, {}, resource.create);
          assert.equal(posted.status, 201, JSON.stringify(posted.body));
          assert.equal(posted.etag, 'W/"1"');
          assert.equal(posted.body['@odata.etag'], 'W/"1"');
          const id = String(posted.body['id']);
          const url = `${resource.path}/${id}`;
          const read = await callWith('GET', url, {});
          assert.equal(read.etag, 'W/"1"');
          const listed = await callWith('GET', resource.path, {});
          assert.equal(listed.body.value?.find((e) => e['id'] === id)?.['@odata.etag'], 'W/"1"');

          const patchStatus = 'patchStatus' in resource ? resource.patchStatus : 200;
          const first = await callWith('PATCH', url, { 'if-match': 'W/"1"' }, resource.first);
          assert.equal(first.status, patchStatus, JSON.stringify(first.body));
          assert.equal(first.etag, 'W/"2"');
          if (patchStatus === 200) assert.equal(first.body['@odata.etag'], 'W/"2"');
          const before = (await callWith('GET', url, {})).body[resource.other];
          const stale = await callWith('PATCH', url, { 'if-match': 'W/"1"' }, resource.lost);
          assert.equal(stale.status, 412);
          assert.equal(stale.body.error?.code, 'preconditionFailed');
          const after = await callWith('GET', url, {});
          assert.deepEqual(after.body[resource.other], before, 'the stale PATCH wrote nothing');
          assert.equal(after.etag, 'W/"2"');
          assert.equal((await callWith('PATCH', url, { 'if-match': 'W/"7", W/"2"' }, resource.first)).status, patchStatus);
          assert.equal((await callWith('PATCH', url, { 'if-match': '*' }, resource.first)).etag, 'W/"4"');
          const malformed = await callWith('PATCH', url, { 'if-match': 'W/4' }, resource.lost);
          assert.equal(malformed.status, 400);
          assert.equal(malformed.body.error?.code, 'BadRequest');

          const staleDelete = await callWith('DELETE', url, { 'if-match': 'W/"3"' });
          assert.equal(staleDelete.status, 412);
          assert.equal((await callWith('GET', url, {})).status, 200);
          assert.equal((await callWith('DELETE', url, { 'if-match': 'W/"4"' })).status, 204);
          assert.equal((await callWith('GET', url, {})).status, 404);
          assert.equal((await callWith('PATCH', url, {}, resource.first)).status, 404, 'a PATCH never re-creates');
        });
      }

      it('targetApps and assign answer the new ETag, honour If-Match, and race a PATCH without losing anything', async () => {
        const id = String((await created(PROTECTIONS, { displayName: 'racing' }))['id']);
        const url = `${PROTECTIONS}/${id}`;
        const targeted = await callWith('POST', `${url}/targetApps`, { 'if-match': 'W/"1"' }, { apps: [windowsApp('com.contoso.notes')] });
        assert.equal(targeted.status, 204);
        assert.equal(targeted.etag, 'W/"2"');
        const stale = await callWith('POST', `${url}/assign`, { 'if-match': 'W/"1"' }, { assignments: [toGroup(randomUUID())] });
        assert.equal(stale.status, 412);
        assert.equal((await callWith('GET', url, {})).body['isAssigned'], false);
        for (let round = 0; round < 6; round++) {
          const groupId = randomUUID();
          const appId = `com.contoso.app${round}`;
          const [assigned, retargeted, patched] = await Promise.all([
            callWith('POST', `${url}/assign`, {}, { assignments: [toGroup(groupId)] }),
            callWith('POST', `${url}/targetApps`, {}, { apps: [windowsApp(appId)] }),
            callWith('PATCH', url, {}, { description: `round ${round}` }),
          ]);
          assert.deepEqual([assigned.status, retargeted.status, patched.status], [204, 204, 200]);
          assert.equal(new Set([assigned.etag, retargeted.etag, patched.etag]).size, 3);
          const policy = await server.runtime.app.store.appProtection.getAppPolicy(server.tenantId, id);
          assert.equal(policy?.body['description'], `round ${round}`);
          assert.deepEqual(policy?.assignments.map((a) => (a.target as { groupId?: string }).groupId), [groupId]);
          assert.deepEqual(policy?.apps.map((a) => a.appId), [appId]);
        }
      });

      it('a connector heartbeat never undoes an admin change of its settings', async () => {
        const id = String((await created(CONNECTORS, { partnerState: 'available' }))['id']);
        for (let round = 0; round < 5; round++) {
          const blocked = round % 2 === 0;
          await Promise.all([
            callWith('PATCH', `${CONNECTORS}/${id}`, {}, { windowsDeviceBlockedOnMissingPartnerData: blocked }),
            server.runtime.app.appProtection.threats.heartbeat(server.tenantId, id),
          ]);
          const stored = await server.runtime.app.store.appProtection.getConnector(server.tenantId, id);
          assert.equal(stored?.windowsDeviceBlockedOnMissingPartnerData, blocked);
          assert.equal(stored?.partnerState, 'enabled');
          assert.notEqual(stored?.lastHeartbeatAt, null);
        }
      });
    });

    describe('authorization and tenants', () => {
      it('a Reader reads but cannot write (403); no token is 401', async () => {
        const id = String((await created(PROTECTIONS, { displayName: 'read only' }))['id']);
        const writes: [string, string, unknown][] = [
          ['POST', PROTECTIONS, { displayName: 'x' }],
          ['PATCH', `${PROTECTIONS}/${id}`, { displayName: 'x' }],
          ['DELETE', `${PROTECTIONS}/${id}`, undefined],
          ['POST', `${PROTECTIONS}/${id}/targetApps`, { apps: [] }],
          ['POST', `${PROTECTIONS}/${id}/assign`, { assignments: [] }],
          ['POST', CONFIGURATIONS, { displayName: 'x' }],
          ['POST', CONNECTORS, {}],
          ['POST', CA_V1, {}],
        ];
        for (const [method, path, body] of writes) {
          const response = await call(method, path, body, reader);
          assert.equal(response.status, 403, `${method} ${path}`);
          assert.equal(response.body.error?.code, 'Authorization_RequestDenied');
        }
        for (const path of [PROTECTIONS, `${PROTECTIONS}/${id}`, `${PROTECTIONS}/${id}/apps`, `${PROTECTIONS}/${id}/assignments`, `${PROTECTIONS}/${id}/deploymentSummary`, CONFIGURATIONS, CONNECTORS, CA_BETA]) {
          assert.equal((await call('GET', path, undefined, reader)).status, 200, path);
        }
        assert.equal((await server.request(PROTECTIONS)).status, 401);
        await call('DELETE', `${PROTECTIONS}/${id}`);
      });

      it("another tenant's ids are 404 and stay untouched; its lists are empty", async () => {
        const protection = String((await created(PROTECTIONS, { displayName: 'mine' }))['id']);
        const configuration = String((await created(CONFIGURATIONS, { displayName: 'mine' }))['id']);
        const connector = String((await created(CONNECTORS, {}))['id']);
        const access = String(
          (await created(CA_V1, { displayName: 'mine', state: 'enabled', conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] } }, grantControls: { builtInControls: ['compliantDevice'] } }))['id'],
        );
        const attempts: [string, string, unknown][] = [
          ['GET', `${PROTECTIONS}/${protection}`, undefined],
          ['PATCH', `${PROTECTIONS}/${protection}`, { displayName: 'pwned' }],
          ['POST', `${PROTECTIONS}/${protection}/targetApps`, { apps: [] }],
          ['POST', `${PROTECTIONS}/${protection}/assign`, { assignments: [] }],
          ['GET', `${PROTECTIONS}/${protection}/assignments`, undefined],
          ['GET', `${PROTECTIONS}/${protection}/apps`, undefined],
          ['GET', `${PROTECTIONS}/${protection}/deploymentSummary`, undefined],
          ['DELETE', `${PROTECTIONS}/${protection}`, undefined],
          ['GET', `${CONFIGURATIONS}/${configuration}`, undefined],
          ['DELETE', `${CONFIGURATIONS}/${configuration}`, undefined],
          ['PATCH', `${CONNECTORS}/${connector}`, { partnerState: 'error' }],
          ['DELETE', `${CONNECTORS}/${connector}`, undefined],
          ['PATCH', `${CA_V1}/${access}`, { state: 'disabled' }],
          ['DELETE', `${CA_BETA}/${access}`, undefined],
        ];
        for (const [method, path, body] of attempts) assert.equal((await call(method, path, body, intruder)).status, 404, `${method} ${path}`);
        for (const path of [PROTECTIONS, CONFIGURATIONS, CONNECTORS, CA_V1]) assert.deepEqual((await call('GET', path, undefined, intruder)).body.value, [], path);
        assert.equal((await call('GET', `${PROTECTIONS}/${protection}`)).body['displayName'], 'mine');
        assert.equal((await call('GET', `${PROTECTIONS}/${protection}`)).body['version'], '1');
        assert.equal((await call('GET', `${CONNECTORS}/${connector}`)).body['partnerState'], 'enabled');
        assert.equal((await call('GET', `${CA_V1}/${access}`)).body['state'], 'enabled');
      });
    });
  });
}
