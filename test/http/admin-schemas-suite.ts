import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { graphProperties } from '../../src/policy/graph-schema/index.ts';
import type { AppRegistrationRecord } from '../../src/store/app-protection-records.ts';
import { fullMamPolicy } from '../policy/fixtures.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { registrationRecord } from '../support/registrations.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The admin routes' request and response schemas, end to end on a store: ids that cannot name anything (a NUL, a
 * lone surrogate, too long) are a 400 or a 404 and never reach the database as a 500 (PostgreSQL refuses a NUL in
 * text); action bodies are refused whole when they are not the object the action takes (unknown properties named,
 * wrong types, deep values where a scalar belongs, arrays, strings, null); and answers with a response schema still
 * carry every property their presenter writes (fast-json-stringify writes only what a schema lists).
 */
const BETA = '/graph/beta';
const WIP = `${BETA}/deviceAppManagement/windowsInformationProtectionPolicies`;
const MDM_WIP = `${BETA}/deviceAppManagement/mdmWindowsInformationProtectionPolicies`;
const CONFIGURATIONS = `${BETA}/deviceManagement/deviceConfigurations`;
const PROTECTIONS = `${BETA}/deviceAppManagement/windowsManagedAppProtections`;
const APP_CONFIGURATIONS = `${BETA}/deviceAppManagement/targetedManagedAppConfigurations`;
const CONNECTORS = `${BETA}/deviceManagement/mobileThreatDefenseConnectors`;
const ACCESS_POLICIES = `${BETA}/identity/conditionalAccess/policies`;
const SERVICE_PRINCIPALS = `${BETA}/servicePrincipals`;
const MANAGED_APPS = `${BETA}/deviceAppManagement/openMamManagedApps`;
const DEVICES = `${BETA}/deviceManagement/managedDevices`;
const REGISTRATIONS = `${BETA}/deviceAppManagement/managedAppRegistrations`;
const STATUSES = `${BETA}/deviceAppManagement/managedAppStatuses`;
const USERS = `${BETA}/users`;
const GROUPS = `${BETA}/groups`;
const SETTINGS = `${BETA}/deviceManagement/openMamTenantSettings`;

/** Ids that name nothing: a NUL, a lone surrogate (its UTF-8-like bytes; no valid UTF-8 encodes one), 65 characters. */
const BAD_IDS: readonly [string, string][] = [
  ['a NUL', 'abc%00def'],
  ['a lone NUL', '%00'],
  ['a lone surrogate', '%ED%A0%80'],
  ['a NUL in a GUID', '00000000-0000-0000-0000-00000000000%00'],
  ['65 characters', 'a'.repeat(65)],
];

/** `{"<name>": [[[...10,000 levels...["x"]...]]]}`, as raw JSON: a deep value where a scalar belongs. */
const deep = (name: string): string => `{"${name}":` + '['.repeat(10_000) + '"x"' + ']'.repeat(10_000) + '}';

export function adminSchemasEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: request and response schemas (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const call = (method: string, path: string, body?: unknown): Promise<JsonResponse> => server.json(method, path, admin, body);
    const message = (response: JsonResponse): string => String((response.body['error'] as { message?: unknown } | undefined)?.message ?? '');
    function assertBadRequest(response: JsonResponse, pattern: RegExp, what: string): void {
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body).slice(0, 300)}`);
      assert.equal((response.body['error'] as { code?: unknown }).code, 'BadRequest', what);
      assert.match(message(response), pattern, what);
    }
    async function created(path: string, body: unknown): Promise<Record<string, unknown>> {
      const response = await call('POST', path, body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body;
    }
    async function registration(change: Partial<AppRegistrationRecord>): Promise<AppRegistrationRecord> {
      const record = registrationRecord(server.tenantId, { deviceName: 'Laptop 7', deviceModel: 'Surface', deviceManufacturer: 'Microsoft', azureAdDeviceId: randomUUID(), azureAdDeviceIdVerified: true, ...change });
      await server.runtime.app.store.appProtection.upsertRegistration(record);
      return record;
    }
    const keys = (value: unknown): string[] => Object.keys(value as Record<string, unknown>).sort();
    const first = (response: JsonResponse): Record<string, unknown> => {
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const value = response.body['value'] as Record<string, unknown>[];
      assert.ok(value.length > 0, 'an entity to look at');
      return value[0]!;
    };

    it('publishes every /graph route with a response schema for its success and Graph error, and a request schema for every body it reads', async () => {
      const response = await server.request('/openapi.json');
      const document = JSON.parse(response.body) as { paths: Record<string, Record<string, { responses?: Record<string, { content?: unknown }>; requestBody?: unknown }>> };
      const operations = Object.entries(document.paths).filter(([path]) => path.startsWith('/graph/')).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ what: `${method.toUpperCase()} ${path}`, method, operation })));
      assert.ok(operations.length > 150, `every Graph route is published (${operations.length})`);
      for (const { what, method, operation } of operations) {
        const responses = operation.responses ?? {};
        const success = Object.keys(responses).filter((code) => /^2\d\d$/.test(code));
        assert.ok(success.length > 0, `${what}: a success response`);
        // 204 has no body; every other success names what its body holds (swagger's placeholder has no content).
        for (const code of success) if (code !== '204') assert.ok(responses[code]!.content !== undefined, `${what}: the ${code} body has a schema`);
        if (!what.endsWith('/$metadata')) assert.ok(responses['4XX'] !== undefined && responses['5XX'] !== undefined, `${what}: Graph's error body`);
        if (method === 'patch' || (method === 'post' && !/wipeAndBlockManagedApps|unblockManagedApps/.test(what))) assert.ok(operation.requestBody !== undefined, `${what}: a request body schema`);
      }
    });

    it('answers an id with a NUL, a lone surrogate or 65 characters with 400 or 404 on every route, never 500', async () => {
      const wipId = String((await created(WIP, fullMamPolicy()))['id']);
      const reads = [
        `${WIP}/{id}`, `${WIP}/{id}/assignments`, `${WIP}/${wipId}/assignments/{id}`, `${WIP}/{id}/deviceStatuses`, `${WIP}/{id}/mdmHandoffCheck`,
        `${MDM_WIP}/{id}`, `${CONFIGURATIONS}/{id}`, `${CONFIGURATIONS}/{id}/assignments/{id}`,
        `${PROTECTIONS}/{id}`, `${PROTECTIONS}/{id}/apps`, `${PROTECTIONS}/{id}/assignments`, `${PROTECTIONS}/{id}/deploymentSummary`, `${PROTECTIONS}/templates/{id}`,
        `${APP_CONFIGURATIONS}/{id}`, `${CONNECTORS}/{id}`, `${ACCESS_POLICIES}/{id}`, `${SERVICE_PRINCIPALS}/{id}`, `${MANAGED_APPS}/{id}`,
        `${DEVICES}/{id}`, `${DEVICES}/{id}/policyStates`, `${DEVICES}/{id}/wipLogRequests`, `${DEVICES}/{id}/openMamNodeStates`, `${DEVICES}/{id}/openMamInventory`, `${DEVICES}/{id}/openMamMessages`, `${DEVICES}/{id}/openMamAppRegistrations`,
        `${REGISTRATIONS}/{id}`, `${REGISTRATIONS}/{id}/appliedPolicies`, `${REGISTRATIONS}/{id}/intendedPolicies`, `${REGISTRATIONS}/{id}/operations`, `${STATUSES}/{id}`,
        `${USERS}/{id}`, `${USERS}/{id}/managedAppRegistrations`, `${USERS}/{id}/managedDevices`, `${USERS}/{id}/memberOf`, `${USERS}/{id}/isManagedAppUserBlocked`,
        `${GROUPS}/{id}`, `${GROUPS}/{id}/members`,
      ];
      const writes: [string, string, unknown][] = [
        ...[WIP, MDM_WIP, CONFIGURATIONS, PROTECTIONS, APP_CONFIGURATIONS, CONNECTORS, ACCESS_POLICIES, SERVICE_PRINCIPALS, MANAGED_APPS].flatMap((path): [string, string, unknown][] => [
          ['PATCH', `${path}/{id}`, { displayName: 'x' }],
          ['DELETE', `${path}/{id}`, undefined],
        ]),
        ...[WIP, CONFIGURATIONS, PROTECTIONS, APP_CONFIGURATIONS].map((path): [string, string, unknown] => ['POST', `${path}/{id}/assign`, { assignments: [] }]),
        ['POST', `${PROTECTIONS}/{id}/targetApps`, { apps: [] }],
        ['POST', `${WIP}/{id}/evaluateEasCompliance`, { easPolicy: {} }],
        ['POST', `${DEVICES}/{id}/retrieveWipLogs`, { byCount: { count: 1 } }],
        ['POST', `${DEVICES}/{id}/setMessageLog`, { durationInMinutes: 5 }],
        ['POST', `${DEVICES}/{id}/retire`, undefined],
        ['POST', `${DEVICES}/{id}/wipe`, {}],
        ['POST', `${DEVICES}/{id}/syncDevice`, undefined],
        ['POST', `${USERS}/{id}/wipeManagedAppRegistrationsByDeviceTag`, { deviceTag: 'tag' }],
        ['POST', `${USERS}/{id}/wipeManagedAppRegistrationsByAzureAdDeviceId`, { azureAdDeviceId: randomUUID() }],
        ['POST', `${USERS}/{id}/wipeAndBlockManagedApps`, undefined],
        ['POST', `${USERS}/{id}/unblockManagedApps`, undefined],
        ['POST', `${GROUPS}/{id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${randomUUID()}` }],
      ];
      const calls: [string, string, unknown][] = [...reads.map((path): [string, string, unknown] => ['GET', path, undefined]), ...writes];
      for (const [what, id] of BAD_IDS) {
        for (const [method, path, body] of calls) {
          const url = path.replaceAll('{id}', id);
          const response = await call(method, url, body);
          assert.ok([400, 404].includes(response.status), `${what}: ${method} ${url}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
          // A path that is not UTF-8 is refused by Fastify's router before any route (FST_ERR_BAD_URL, its own body).
          const error = response.body['error'];
          if (response.body['code'] === 'FST_ERR_BAD_URL') assert.equal(response.status, 400);
          else assert.equal(typeof (error as { code?: unknown } | undefined)?.code, 'string', `${what}: ${method} ${url}: Graph's error body`);
        }
      }
      // The schema, not the store, refuses a NUL (the answer names the path parameter).
      assertBadRequest(await call('GET', `${WIP}/abc%00def`), /^params\/id must not contain NUL characters or unpaired UTF-16 surrogates$/, 'NUL in a policy id');
      assertBadRequest(await call('GET', `${DEVICES}/abc%00def`), /^params\/id must not contain NUL/, 'NUL in a device id');
      assertBadRequest(await call('GET', `${STATUSES}/abc%00def`), /^params\/id must not contain NUL/, 'NUL in the report id');
      assertBadRequest(await call('GET', `${CONNECTORS}/${'a'.repeat(65)}`), /^params\/id must NOT have more than 64 characters/, 'a long connector id');
      assertBadRequest(await call('POST', `${USERS}/not-a-guid/unblockManagedApps`), /^params\/id must be a GUID$/, 'a user action takes the object id');
    });

    // group-routes.ts (another branch's file) bounds memberId with an inline Type.String, not SafeString.
    it('answers a member id with a NUL with 400 or 404, never 500', async () => {
      for (const [what, id] of BAD_IDS) {
        const response = await call('DELETE', `${GROUPS}/${randomUUID()}/members/${id}/$ref`);
        assert.ok([400, 404].includes(response.status), `${what}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      }
    });

    /** Every action with a body: where it is, a valid body, a property where a scalar belongs, and wrong types. */
    const actions = (ids: { wip: string; configuration: string; protection: string; appConfiguration: string; device: string; user: string }) => {
      const list: { name: string; path: string; valid: Record<string, unknown>; scalar: string; wrong: Record<string, unknown>[] }[] = [
        { name: 'WIP assign', path: `${WIP}/${ids.wip}/assign`, valid: { assignments: [] }, scalar: 'assignments', wrong: [{ assignments: {} }, { assignments: ['x'] }, { assignments: Array.from({ length: 101 }, () => ({})) }] },
        { name: 'deviceConfiguration assign', path: `${CONFIGURATIONS}/${ids.configuration}/assign`, valid: { assignments: [] }, scalar: 'assignments', wrong: [{ assignments: 'x' }, { assignments: [null] }] },
        { name: 'app protection assign', path: `${PROTECTIONS}/${ids.protection}/assign`, valid: { assignments: [] }, scalar: 'assignments', wrong: [{ assignments: 1 }, { assignments: [[]] }] },
        { name: 'app configuration assign', path: `${APP_CONFIGURATIONS}/${ids.appConfiguration}/assign`, valid: { assignments: [] }, scalar: 'assignments', wrong: [{ assignments: null }] },
        { name: 'targetApps', path: `${PROTECTIONS}/${ids.protection}/targetApps`, valid: { apps: [] }, scalar: 'apps', wrong: [{ apps: 'x' }, { apps: [1] }, { apps: Array.from({ length: 501 }, () => ({})) }, { apps: [], appGroupType: 7 }] },
        { name: 'evaluateEasCompliance', path: `${WIP}/${ids.wip}/evaluateEasCompliance`, valid: { easPolicy: {} }, scalar: 'easPolicy', wrong: [{ easPolicy: 'x' }, { easPolicy: [] }, {}] },
        { name: 'retrieveWipLogs', path: `${DEVICES}/${ids.device}/retrieveWipLogs`, valid: { byCount: { count: 1 } }, scalar: 'learningLogs', wrong: [{ byCount: { count: '1' } }, { byCount: { count: 1.5 } }, { byCount: { count: 1, extra: 1 } }, { learningLogs: 'yes', byCount: { count: 1 } }, { byTimeRange: { startDateTime: 5 } }] },
        { name: 'setMessageLog', path: `${DEVICES}/${ids.device}/setMessageLog`, valid: { durationInMinutes: 5 }, scalar: 'durationInMinutes', wrong: [{ durationInMinutes: '5' }, { durationInMinutes: 1.5 }, { durationInMinutes: -1 }, { durationInMinutes: 10081 }, {}] },
        { name: 'wipe by device tag', path: `${USERS}/${ids.user}/wipeManagedAppRegistrationsByDeviceTag`, valid: { deviceTag: 'tag' }, scalar: 'deviceTag', wrong: [{ deviceTag: 5 }, { deviceTag: '' }, { deviceTag: 'x'.repeat(257) }, { deviceTag: null }, {}] },
        { name: 'wipe by Entra device id', path: `${USERS}/${ids.user}/wipeManagedAppRegistrationsByAzureAdDeviceId`, valid: { azureAdDeviceId: randomUUID() }, scalar: 'azureAdDeviceId', wrong: [{ azureAdDeviceId: 'not-a-guid' }, { azureAdDeviceId: 1 }, {}] },
      ];
      return list;
    };
    async function actionIds(): Promise<Parameters<typeof actions>[0]> {
      const upn = `schemas-${randomUUID().slice(0, 6)}@contoso.example`;
      const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: randomUUID() }) });
      devices.push(simulator);
      await simulator.enroll();
      const device = first(await call('GET', DEVICES));
      return {
        wip: String((await created(WIP, fullMamPolicy()))['id']),
        configuration: String((await created(CONFIGURATIONS, { '@odata.type': '#microsoft.graph.windows10CustomConfiguration', displayName: 'c', omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 's', omaUri: './Device/Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack', value: '1' }] }))['id']),
        protection: String((await created(PROTECTIONS, { displayName: 'p' }))['id']),
        appConfiguration: String((await created(APP_CONFIGURATIONS, { displayName: 'c' }))['id']),
        device: String(device['id']),
        user: stableObjectId(server.tenantId, upn),
      };
    }

    it('refuses action bodies that are not the action\'s object: unknown properties named, wrong types, deep values, arrays, strings, null', async () => {
      for (const action of actions(await actionIds())) {
        // The valid body passes the schema (whatever the action then answers, it is not the schema's 400).
        const valid = await call('POST', action.path, action.valid);
        assert.ok(!/^body/.test(message(valid)), `${action.name}: a valid body passes the schema: ${JSON.stringify(valid.body)}`);
        assertBadRequest(await call('POST', action.path, { ...action.valid, surprise: 1 }), /^body\/surprise is not a known property$/, `${action.name}: unknown property`);
        const deepAnswer = await call('POST', action.path, deep(action.scalar));
        // evaluateEasCompliance bounds its body to 16 KiB, which 10,000 levels exceed: refused by size before parsing.
        if (action.name === 'evaluateEasCompliance') assert.equal(deepAnswer.status, 413, JSON.stringify(deepAnswer.body));
        else assertBadRequest(deepAnswer, /^body\//, `${action.name}: 10,000 levels in ${action.scalar}`);
        for (const wrong of action.wrong) assertBadRequest(await call('POST', action.path, wrong), /^body/, `${action.name}: ${JSON.stringify(wrong).slice(0, 80)}`);
        for (const raw of ['[]', '"x"', 'null', '1', 'true']) assertBadRequest(await call('POST', action.path, raw), /^body must be object/, `${action.name}: ${raw}`);
      }
      // A lone surrogate in a JSON string (valid JSON, not text PostgreSQL keeps) is refused where the route reads it.
      const user = randomUUID();
      assertBadRequest(await call('POST', `${USERS}/${user}/wipeManagedAppRegistrationsByDeviceTag`, '{"deviceTag":"a\\ud800b"}'), /^body\/deviceTag must not contain NUL characters or unpaired UTF-16 surrogates$/, 'lone surrogate');
      assertBadRequest(await call('POST', `${USERS}/${user}/wipeManagedAppRegistrationsByDeviceTag`, '{"deviceTag":"a\\u0000b"}'), /^body\/deviceTag must not contain NUL/, 'NUL');
    });

    it('refuses entity bodies that are not objects, and deep values, on every create and PATCH', async () => {
      const wip = String((await created(WIP, fullMamPolicy()))['id']);
      const protection = String((await created(PROTECTIONS, { displayName: 'p' }))['id']);
      const connector = String((await created(CONNECTORS, {}))['id']);
      const principal = String((await created(SERVICE_PRINCIPALS, { appId: randomUUID(), displayName: 'API', servicePrincipalNames: [`api://${randomUUID()}`] }))['id']);
      const targets: [string, string][] = [
        ['POST', WIP], ['PATCH', `${WIP}/${wip}`], ['POST', MDM_WIP], ['POST', CONFIGURATIONS], ['POST', PROTECTIONS], ['PATCH', `${PROTECTIONS}/${protection}`],
        ['POST', APP_CONFIGURATIONS], ['POST', CONNECTORS], ['PATCH', `${CONNECTORS}/${connector}`], ['POST', ACCESS_POLICIES], ['POST', SERVICE_PRINCIPALS],
        ['PATCH', `${SERVICE_PRINCIPALS}/${principal}`], ['POST', MANAGED_APPS], ['PATCH', SETTINGS],
      ];
      for (const [method, path] of targets) {
        for (const raw of ['[]', '"x"', 'null', '7']) assertBadRequest(await call(method, path, raw), /^body must be object/, `${method} ${path}: ${raw}`);
        // Past the schema, the model refuses a deep value where a scalar belongs (it names the field).
        const response = await call(method, path, deep('displayName'));
        assert.equal(response.status, 400, `${method} ${path}: deep displayName: ${JSON.stringify(response.body).slice(0, 200)}`);
      }
    });

    it('refuses a template query parameter that is not one short string', async () => {
      assert.equal((await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=10.0.19045`)).status, 200);
      assertBadRequest(await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=${'1'.repeat(65)}`), /^querystring\/minimumOsVersion must NOT have more than 64 characters/, 'long');
      assertBadRequest(await call('GET', `${PROTECTIONS}/templates/level2?maximumOsVersion=1&maximumOsVersion=2`), /^querystring\/maximumOsVersion must be string/, 'repeated');
      assertBadRequest(await call('GET', `${PROTECTIONS}/templates/level2?maximumOsVersion=a%00b`), /^querystring\/maximumOsVersion must not contain NUL/, 'NUL');
      assertBadRequest(await call('GET', `${BETA}/deviceAppManagement/windowsInformationProtectionPolicyTemplates/baseline?enterpriseDomain=${'a'.repeat(254)}`), /^querystring\/enterpriseDomain/, 'long domain');
    });

    it('answers with every property the presenters write, through the response schemas', async () => {
      const ids = await actionIds();
      const settings = await call('GET', SETTINGS);
      assert.deepEqual(keys(settings.body), ['@odata.context', '@odata.etag', 'auditEventRetentionDays', 'createdDateTime', 'deviceComplianceCheckinThresholdDays', 'displayName', 'enrollmentAllowed', 'healthAttestation', 'id', 'identityProvider', 'lastModifiedDateTime', 'mamUserScope', 'mamUserScopeGroupIds', 'pollSchedule', 'requireTermsOfUse', 'secureByDefault', 'staleDeviceRetireAfterDays', 'termsOfUseText']);
      assert.equal(keys(settings.body['pollSchedule']).length, 8, 'the whole poll schedule');

      const device = first(await call('GET', DEVICES));
      // Every v1.0 property of Graph's managedDevice (the schema tables), and OpenMAM's annotations.
      const deviceKeys = [
        '@odata.type', '@openmam.devId', '@openmam.deviceStatusReportedDateTime', '@openmam.enrollmentType', '@openmam.managementAgent', '@openmam.messageLogUntilDateTime',
        ...Object.keys(graphProperties('managedDevice')!),
      ].sort();
      assert.deepEqual(keys(device), deviceKeys);
      assert.deepEqual(keys((await call('GET', `${DEVICES}/${ids.device}`)).body), ['@odata.context', ...deviceKeys].sort());
      assert.deepEqual(keys(first(await call('GET', `${USERS}/${ids.user}/managedDevices`))), deviceKeys);

      const requested = await call('POST', `${DEVICES}/${ids.device}/retrieveWipLogs`, { byCount: { count: 5 }, learningLogs: true });
      assert.equal(requested.status, 202, JSON.stringify(requested.body));
      const wipLogKeys = ['completedDateTime', 'count', 'endDateTime', 'entries', 'id', 'learningLogs', 'mode', 'rawLogs', 'requestedDateTime', 'startDateTime', 'status', 'statusCode'];
      assert.deepEqual(keys(requested.body), wipLogKeys);
      assert.equal(requested.body['count'], 5);
      assert.equal(requested.body['learningLogs'], true);
      assert.deepEqual(keys(first(await call('GET', `${DEVICES}/${ids.device}/wipLogRequests`))), wipLogKeys);
      // The device actionIds enrolled, once it has synced (inventory) with its messages kept.
      const simulator = devices.at(-1)!;
      const synced = String(((await call('GET', DEVICES)).body['value'] as Record<string, unknown>[]).find((d) => d['@openmam.devId'] === simulator.devId)?.['id']);
      assert.equal((await call('POST', `${DEVICES}/${synced}/setMessageLog`, { durationInMinutes: 5 })).status, 204);
      await simulator.sync();
      assert.deepEqual(keys(first(await call('GET', `${DEVICES}/${synced}/openMamInventory`))), ['lastReportedDateTime', 'locUri', 'value']);
      assert.deepEqual(keys(first(await call('GET', `${DEVICES}/${synced}/openMamMessages`))), ['dateTime', 'direction', 'id', 'syncML']);

      const groupId = String((await created(GROUPS, { displayName: 'schemas' }))['id']);
      const target = { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId };
      assert.equal((await call('POST', `${WIP}/${ids.wip}/assign`, { assignments: [{ target }] })).status, 204);
      const assignment = first(await call('GET', `${WIP}/${ids.wip}/assignments`));
      // source and sourceId are beta's (policy sets), as in Graph's metadata.
      assert.deepEqual(keys(assignment), ['@odata.type', 'id', 'source', 'sourceId', 'target']);
      assert.deepEqual(assignment['target'], target, 'the target as written');
      assert.deepEqual(keys((await call('GET', `${WIP}/${ids.wip}/assignments/${String(assignment['id'])}`)).body), ['@odata.context', '@odata.type', 'id', 'source', 'sourceId', 'target']);
      assert.deepEqual(keys(first(await call('GET', `${WIP.replace('/beta/', '/v1.0/')}/${ids.wip}/assignments`))), ['@odata.type', 'id', 'target'], "v1.0's assignment has no source");
      assert.equal((await call('POST', `${PROTECTIONS}/${ids.protection}/assign`, { assignments: [{ target }] })).status, 204);
      assert.deepEqual(keys(first(await call('GET', `${PROTECTIONS}/${ids.protection}/assignments`))), ['@odata.type', 'id', 'source', 'sourceId', 'target']);
      const statuses = await call('GET', `${WIP}/${ids.wip}/deviceStatuses`);
      assert.equal(statuses.status, 200);
      assert.deepEqual(keys(statuses.body), ['@odata.context', 'value']);

      assert.equal((await call('POST', `${PROTECTIONS}/${ids.protection}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: 'com.contoso.notes' } }] })).status, 204);
      assert.deepEqual(keys(first(await call('GET', `${PROTECTIONS}/${ids.protection}/apps`))), ['@odata.type', 'id', 'mobileAppIdentifier', 'version']);
      const registered = await registration({ appliedPolicyId: ids.protection, appliedPolicyVersion: 3, complianceReasons: ['policyConflict'] });
      const summary = await call('GET', `${PROTECTIONS}/${ids.protection}/deploymentSummary`);
      assert.deepEqual(keys(summary.body), ['@odata.context', '@odata.type', 'configurationDeployedUserCount', 'configurationDeploymentSummaryPerApp', 'displayName', 'id', 'lastRefreshTime']);
      assert.equal(summary.body['configurationDeployedUserCount'], 1);
      assert.deepEqual(keys((summary.body['configurationDeploymentSummaryPerApp'] as unknown[])[0]), ['@odata.type', 'configurationAppliedUserCount', 'mobileAppIdentifier']);

      const registrationKeys = [
        '@odata.type', '@openmam.complianceReasons', '@openmam.complianceState', '@openmam.flaggedReasons', '@openmam.registrationState', 'appIdentifier', 'applicationVersion',
        'azureADDeviceId', 'createdDateTime', 'deviceManufacturer', 'deviceModel', 'deviceName', 'deviceTag', 'deviceType', 'flaggedReasons', 'id', 'lastSyncDateTime',
        'managedDeviceId', 'managementSdkVersion', 'platformVersion', 'userId', 'version',
      ];
      const read = await call('GET', `${REGISTRATIONS}/${registered.id}`);
      assert.deepEqual(keys(read.body), registrationKeys);
      assert.deepEqual(read.body['@openmam.flaggedReasons'], ['policyConflict']);
      assert.equal(read.body['version'], '3');
      assert.deepEqual(keys(first(await call('GET', `${USERS}/${registered.userId}/managedAppRegistrations`))), registrationKeys);
      assert.deepEqual(keys(first(await call('GET', `${REGISTRATIONS}/${registered.id}/appliedPolicies`))), ['@odata.type', 'description', 'displayName', 'id', 'lastModifiedDateTime', 'version']);

      const wipe = await call('POST', `${USERS}/${registered.userId}/wipeManagedAppRegistrationsByDeviceTag`, { deviceTag: registered.deviceTag });
      assert.equal(wipe.status, 204, JSON.stringify(wipe.body));
      assert.deepEqual(keys(first(await call('GET', `${REGISTRATIONS}/${registered.id}/operations`))), ['@odata.type', 'detail', 'displayName', 'id', 'lastModifiedDateTime', 'reason', 'state', 'version']);
      assert.deepEqual((await call('GET', `${USERS}/${registered.userId}/isManagedAppUserBlocked`)).body['value'], false);

      const report = await call('GET', `${STATUSES}/windowsProtectionReport`);
      assert.equal(report.status, 200, JSON.stringify(report.body));
      const content = report.body['content'] as { header: { name: string }[]; body: { values: unknown[] }[]; skipToken: unknown };
      assert.equal(content.header.length, 19);
      assert.ok(content.body.length > 0);
      for (const row of content.body) assert.equal(row.values.length, 19, 'a value per column');
      const row = content.body.find((r) => r.values[content.header.findIndex((h) => h.name === 'deviceTag')] === registered.deviceTag);
      assert.ok(row, 'the registration is in the report');
      assert.deepEqual(row.values[content.header.findIndex((h) => h.name === 'complianceReasons')], ['policyConflict'], 'a string collection stays an array');
      assert.deepEqual(keys(first(await call('GET', STATUSES))), ['@odata.type', 'displayName', 'id', 'version']);

      const principal = await created(SERVICE_PRINCIPALS, { appId: randomUUID(), displayName: 'API', servicePrincipalNames: [`api://${randomUUID()}`] });
      assert.deepEqual(keys(principal), ['@odata.context', '@odata.etag', '@odata.type', 'appId', 'displayName', 'id', 'servicePrincipalNames']);
      assert.deepEqual(keys(first(await call('GET', MANAGED_APPS))), ['@odata.etag', '@odata.type', 'clientIds', 'createdDateTime', 'displayName', 'id', 'isBuiltIn', 'lastModifiedDateTime', 'windowsAppId']);
    });
  });
}
