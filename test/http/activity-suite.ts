import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { ACTIVITY_COUNTERS, type ActivityCounts } from '../../src/store/records.ts';
import { allHomeRequests, HOME_RANGES, homeRequests } from '../../web/src/pages/home/home-requests.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The activity rollups end to end over real HTTPS: app registrations and check-ins (`/mam/v1`), OMA-DM sessions of
 * simulated devices and access decisions (`/access/v1/evaluate`) are counted per tenant and hour and read by an Admin
 * or a Reader at `deviceManagement/openMamActivityHours` (beta), filtered and ordered by hourStart; refusals are
 * Graph's. Run per store backend.
 */
const HOURS = '/graph/beta/deviceManagement/openMamActivityHours';
const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const EDGE = 'com.microsoft.edge';
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const EXCHANGE_URI = 'https://outlook.office365.com';
const CURRENT_BUILD = '10.0.22631.3155';
const OLD_BUILD = '10.0.19045.3636';
const HOUR = 3_600_000;

type Hour = Record<string, unknown> & { hourStart: string } & ActivityCounts;

function zero(): ActivityCounts {
  return Object.fromEntries(ACTIVITY_COUNTERS.map((c) => [c, 0])) as ActivityCounts;
}

export function activityEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: activity rollups (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    const devices: DeviceSimulator[] = [];
    /** What the server answered, tallied as the rollups must count it. */
    const expected = zero();
    let policyId: string;
    let alice: { upn: string; id: string; device: string; deviceTag: string };

    before(async () => {
      server = await startTestServer(backend);
      ({ admin, reader, intruder } = await adminTokens(server));
      const call = (method: string, path: string, body: unknown, token: string): Promise<JsonResponse> => server.json(method, path, token, body);

      // A Level 2 policy for Edge, for every licensed user, that requires the current OS build.
      const template = await call('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=${CURRENT_BUILD}`, undefined, admin);
      assert.equal(template.status, 200, JSON.stringify(template.body));
      const body = Object.fromEntries(Object.entries(template.body).filter(([name]) => !name.startsWith('@odata')));
      const created = await call('POST', PROTECTIONS, { ...body, displayName: 'Level 2' }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      policyId = String(created.body['id']);
      const apps = { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: EDGE } }] };
      assert.equal((await call('POST', `${PROTECTIONS}/${policyId}/targetApps`, apps, admin)).status, 204);
      const assignments = { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] };
      assert.equal((await call('POST', `${PROTECTIONS}/${policyId}/assign`, assignments, admin)).status, 204);
      const principal = await call('POST', '/graph/v1.0/servicePrincipals', { displayName: 'Exchange Online', appId: EXCHANGE, servicePrincipalNames: [EXCHANGE_URI] }, admin);
      assert.equal(principal.status, 201, JSON.stringify(principal.body));
      const access = await call('POST', '/graph/v1.0/identity/conditionalAccess/policies', {
        displayName: 'Exchange Online only from protected apps',
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE] }, users: { includeUsers: ['All'] } },
        grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
      }, admin);
      assert.equal(access.status, 201, JSON.stringify(access.body));
      const gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });

      const tally = (answer: JsonResponse): void => {
        assert.ok(answer.status === 200 || answer.status === 201, JSON.stringify(answer.body));
        expected.appCheckIns++;
        if (answer.body['complianceState'] === 'compliant') expected.compliantCheckIns++;
        if (answer.body['complianceState'] === 'notCompliant') expected.noncompliantCheckIns++;
      };
      // Alice on a current build (compliant) registers and checks in twice; Bob on an old build (not compliant) registers.
      const registrations: { upn: string; id: string; device: string; deviceTag: string }[] = [];
      for (const [upn, osVersion, checkIns] of [['alice@contoso.example', CURRENT_BUILD, 2], ['bob@contoso.example', OLD_BUILD, 0]] as const) {
        const device = randomUUID();
        const deviceTag = randomUUID();
        const token = await server.mint({ upn, clientId: EDGE_CLIENT, deviceId: device });
        const registered = await call('POST', '/mam/v1/registrations', { appId: EDGE, appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion, deviceName: 'LAPTOP', deviceModel: 'Surface Laptop 5', deviceManufacturer: 'Microsoft', deviceTag, azureAdDeviceId: device }, token);
        tally(registered);
        const id = String(registered.body['registrationId']);
        registrations.push({ upn, id, device, deviceTag });
        const policyVersion = (registered.body['policy'] as { version: string } | null | undefined)?.version ?? null;
        for (let i = 0; i < checkIns; i++) {
          tally(await call('POST', `/mam/v1/registrations/${id}/checkin`, { appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion, configurationVersion: null, policyVersion }, token));
        }
      }
      assert.ok(expected.compliantCheckIns > 0 && expected.noncompliantCheckIns > 0, `both verdicts seen: ${JSON.stringify(expected)}`);
      // One access decision per registration, by the gateway, with each user's token for Exchange, and one for a user
      // whose app never registered (denied).
      alice = registrations[0]!;
      registrations.push({ upn: 'carol@contoso.example', id: randomUUID(), device: randomUUID(), deviceTag: randomUUID() });
      for (const registration of registrations) {
        const userToken = await server.mint({ upn: registration.upn, clientId: EDGE_CLIENT, deviceId: registration.device, audience: EXCHANGE_URI });
        const decision = await call('POST', '/access/v1/evaluate', { userToken, resource: EXCHANGE, registrationId: registration.id }, gateway);
        assert.equal(decision.status, 200, JSON.stringify(decision.body));
        if (decision.body['decision'] === 'allow') expected.accessAllowed++;
        else expected.accessDenied++;
      }
      assert.ok(expected.accessAllowed > 0 && expected.accessDenied > 0, `both decisions seen: ${JSON.stringify(expected)}`);
      // Two devices: the first syncs twice (its first session spans several messages), the second once: 3 sessions.
      for (const syncs of [2, 1]) {
        const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: `user${syncs}@contoso.example` }) });
        devices.push(device);
        await device.enroll();
        for (let i = 0; i < syncs; i++) assert.equal((await device.sync()).headerStatus, '200');
        expected.omaDmSessions += syncs;
      }
      await server.runtime.app.activity.flush();
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const read = async (path: string, token: string | undefined = reader): Promise<JsonResponse> => server.json('GET', path, token);
    const hoursOf = (response: JsonResponse): Hour[] => (response.body['value'] as Hour[] | undefined) ?? [];
    const sum = (hours: readonly Hour[]): ActivityCounts => {
      const total = zero();
      for (const hour of hours) for (const counter of ACTIVITY_COUNTERS) total[counter] += hour[counter];
      return total;
    };

    it('counts check-ins with their verdicts, every OMA-DM session once and decisions by result, for a Reader and an Admin', async () => {
      const response = await read(HOURS);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.match(String(response.body['@odata.context']), /\/graph\/beta\/\$metadata#deviceManagement\/openMamActivityHours$/);
      const hours = hoursOf(response);
      // Everything happened within a minute or so: one hour, or two across an hour boundary; the totals hold either way.
      assert.ok(hours.length >= 1 && hours.length <= 2, JSON.stringify(hours));
      assert.deepEqual(sum(hours), expected);
      for (const hour of hours) {
        assert.equal(hour['id'], hour.hourStart);
        assert.equal(Date.parse(hour.hourStart) % HOUR, 0, 'the start of an hour');
        assert.match(hour.hourStart, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
      }
      assert.deepEqual(sum(hoursOf(await read(HOURS, admin))), expected);
      // Declared in beta's $metadata (an open entity type, as OpenMAM's other additions), so @odata.context resolves.
      const metadata = await server.request('/graph/beta/$metadata');
      assert.match(metadata.body, /<NavigationProperty Name="openMamActivityHours" Type="Collection\(graph\.openMamActivityHour\)"/);
      assert.match(metadata.body, /<EntityType Name="openMamActivityHour" BaseType="graph\.entity" OpenType="true"\/>/);
      assert.doesNotMatch((await server.request('/graph/v1.0/$metadata')).body, /openMamActivityHour/);
    });

    it('filters and orders by hourStart, pages by $top, and takes $select', async () => {
      // Older hours of this tenant, as earlier flushes left them (within the 90 days kept).
      const base = Math.floor(Date.now() / HOUR) * HOUR - 72 * HOUR;
      await server.runtime.app.store.activity.addActivity(
        Array.from({ length: 12 }, (_, i) => ({ tenantId: server.tenantId, hourStart: base + i * HOUR, counts: { ...zero(), appCheckIns: i + 1 } })),
      );
      const from = new Date(base + 3 * HOUR).toISOString();
      const to = new Date(base + 8 * HOUR).toISOString();
      const filter = encodeURIComponent(`hourStart ge ${from} and hourStart lt ${to}`);
      const range = await read(`${HOURS}?$filter=${filter}`);
      assert.equal(range.status, 200, JSON.stringify(range.body));
      assert.deepEqual(hoursOf(range).map((h) => h.appCheckIns), [4, 5, 6, 7, 8]);
      const newest = await read(`${HOURS}?$filter=${filter}&$orderby=hourStart desc&$top=2&$select=hourStart,appCheckIns`);
      assert.deepEqual(hoursOf(newest), [
        { hourStart: new Date(base + 7 * HOUR).toISOString(), appCheckIns: 8 },
        { hourStart: new Date(base + 6 * HOUR).toISOString(), appCheckIns: 7 },
      ]);
      const next = String(newest.body['@odata.nextLink']);
      assert.match(next, /\$skiptoken=/);
      const second = await read(next.slice(server.config.publicUrl.length));
      assert.deepEqual(hoursOf(second).map((h) => h.appCheckIns), [6, 5]);
      assert.equal((await read(`${HOURS}?$top=1000`)).status, 200);
    });

    it("summarizes the tenant's registrations in the openMamSummary report: compliance, deployed users, threat states, pending wipes", async () => {
      const SUMMARY = '/graph/beta/deviceAppManagement/managedAppStatuses/openMamSummary';
      const before = await read(SUMMARY);
      assert.equal(before.status, 200, JSON.stringify(before.body));
      const content = before.body['content'] as { complianceStates: Record<string, number>; threatStates: Record<string, number>; pendingWipes: number; policies: { id: string; deployedUserCount: number }[] };
      assert.deepEqual(content.complianceStates, { compliant: 1, notCompliant: 1, unknown: 0 });
      assert.deepEqual(content.threatStates, { secured: 0, low: 0, medium: 0, high: 0 });
      assert.equal(content.pendingWipes, 0);
      assert.equal(content.policies.length, 1);
      assert.equal(content.policies[0]!.id, policyId);
      assert.ok(content.policies[0]!.deployedUserCount >= 1 && content.policies[0]!.deployedUserCount <= 2, JSON.stringify(content.policies));
      const aliceId = String((await read(`/graph/beta/users/${alice.upn}`, admin)).body['id']);
      const wipe = await server.json('POST', `/graph/beta/users/${aliceId}/wipeManagedAppRegistrationsByDeviceTag`, admin, { deviceTag: alice.deviceTag });
      assert.equal(wipe.status, 204, JSON.stringify(wipe.body));
      const after = (await read(SUMMARY)).body['content'] as typeof content;
      assert.equal(after.pendingWipes, 1);
      const list = await read('/graph/beta/deviceAppManagement/managedAppStatuses');
      assert.deepEqual((list.body['value'] as { id: string }[]).map((r) => r.id), ['windowsProtectionReport', 'openMamSummary']);
      assert.equal((await read(`${SUMMARY}?$top=1`)).status, 400);
      assert.equal((await read(SUMMARY, intruder)).status, 200);
      assert.deepEqual(((await read(SUMMARY, intruder)).body['content'] as typeof content).complianceStates, { compliant: 0, notCompliant: 0, unknown: 0 });
    });

    it("answers every call of the console's Home (web/src/pages/home/home-requests.ts) to a Reader, for every range", async () => {
      for (const { range, hours } of HOME_RANGES) {
        for (const path of allHomeRequests(range, Date.now())) {
          const response = await read(`/graph/beta${path}`);
          assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
        }
        const activity = await read(`/graph/beta${homeRequests(range, Date.now()).activity}`);
        const starts = hoursOf(activity).map((h) => Date.parse(h.hourStart));
        assert.ok(starts.every((t) => t > Date.now() - hours * HOUR), `${range}: only hours of the range`);
      }
      const counted = await read(`/graph/beta${homeRequests('24h', Date.now()).devices}`);
      assert.equal(counted.body['@odata.count'], 2, 'the two enrolled devices');
      assert.equal((await read(`/graph/beta${homeRequests('24h', Date.now()).registrations}`)).body['@odata.count'], 2);
    });

    it('refuses an unknown $filter property, a $top beyond 1,000, no token, and v1.0; another tenant sees nothing', async () => {
      const unknown = await read(`${HOURS}?$filter=${encodeURIComponent('appCheckIns gt 1')}`);
      assert.equal(unknown.status, 400);
      assert.equal((unknown.body['error'] as { code: string }).code, 'BadRequest');
      assert.match((unknown.body['error'] as { message: string }).message, /appCheckIns/);
      assert.equal((await read(`${HOURS}?$top=1001`)).status, 400);
      assert.equal((await read(`${HOURS}?$search=x`)).status, 400);
      const anonymous = await server.json('GET', HOURS, undefined);
      assert.equal(anonymous.status, 401);
      assert.equal((anonymous.body['error'] as { code: string }).code, 'InvalidAuthenticationToken');
      assert.equal((await read(HOURS, await server.mint({ upn: 'nobody@contoso.example' }))).status, 403);
      assert.equal((await read(HOURS.replace('/beta/', '/v1.0/'))).status, 404);
      const foreign = await read(HOURS, intruder);
      assert.equal(foreign.status, 200);
      assert.deepEqual(hoursOf(foreign), []);
    });
  });
}
