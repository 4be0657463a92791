import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { freePort } from '../support/free-port.ts';
import { graphClient, trustTestCa } from '../support/graph-client.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { signInRecord } from '../support/sign-ins.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * `/users` end to end (issue 13): users come from real MAM enrollments, app registrations, sign-ins and group
 * memberships made through the public endpoints; an admin lists, filters, orders and pages them, reads one by id or
 * by UPN in any case, follows its navigations, and every refusal answers Graph's error. Run per store backend.
 */
interface User {
  id: string;
  userPrincipalName: string | null;
  displayName: string | null;
}

const USERS = '/graph/v1.0/users';
/** Microsoft Edge's first-party client id (a built-in catalogue entry). */
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
const EDGE = 'com.microsoft.edge';
const ALICE = 'Alice.Smith@contoso.example';
const BOB = 'bob@contoso.example';
/** Users put in by the store's upsert, for volume: 'user-000@volume.example' .. 'user-149@volume.example'. */
const VOLUME = 150;

export function usersEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: users (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    let aliceId: string;
    let bobId: string;
    /** Known only as a group member: an id an admin referenced, never seen in a token. */
    const ghostId = randomUUID();
    /** Known only from the sign-in log. */
    const signerId = randomUUID();
    let groupId: string;
    let aliceDevice: DeviceSimulator;
    let registrationId: string;
    let volume: User[];

    const get = (path: string, token = reader, headers?: Record<string, string>): Promise<JsonResponse> => server.json('GET', path, token, undefined, headers);
    const values = <T = User>(response: JsonResponse): T[] => (response.body['value'] ?? []) as T[];
    const upns = (response: JsonResponse): (string | null)[] => values(response).map((u) => u.userPrincipalName);

    before(async () => {
      const port = await freePort();
      server = await startTestServer(backend, { OPENMAM_PORT: String(port), OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}` });
      ({ admin, reader, intruder } = await adminTokens(server));
      aliceId = stableObjectId(server.tenantId, ALICE);
      bobId = stableObjectId(server.tenantId, BOB);

      // Alice enrolls a device for MAM and registers Edge on it; Bob only registers Edge on another device.
      const deviceId = randomUUID();
      aliceDevice = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: ALICE, deviceId }) });
      await aliceDevice.enroll();
      const registration = (device: string) => ({
        appId: EDGE,
        appVersion: '120.0.2210.91',
        sdkVersion: '1.0.0',
        osVersion: '10.0.22631.3155',
        deviceName: 'LAPTOP',
        deviceModel: 'Surface Laptop 5',
        deviceManufacturer: 'Microsoft',
        deviceTag: randomUUID(),
        azureAdDeviceId: device,
      });
      const registered = await server.json('POST', '/mam/v1/registrations', await server.mint({ upn: ALICE, clientId: EDGE_CLIENT, deviceId }), registration(deviceId));
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      registrationId = String(registered.body['registrationId']);
      const bobDevice = randomUUID();
      const bobRegistered = await server.json('POST', '/mam/v1/registrations', await server.mint({ upn: BOB, clientId: EDGE_CLIENT, deviceId: bobDevice }), registration(bobDevice));
      assert.equal(bobRegistered.status, 201, JSON.stringify(bobRegistered.body));

      // A group with Alice and a member OpenMAM never saw in a token.
      const group = await server.json('POST', '/graph/v1.0/groups', admin, { displayName: 'Finance' });
      assert.equal(group.status, 201, JSON.stringify(group.body));
      groupId = String(group.body['id']);
      for (const member of [aliceId, ghostId]) {
        const added = await server.json('POST', `/graph/v1.0/groups/${groupId}/members/$ref`, admin, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${member}` });
        assert.equal(added.status, 204, JSON.stringify(added.body));
      }
      // An access decision's user, as the sign-in log writes it behind the request path.
      await server.runtime.app.store.signIns.appendSignIns([signInRecord(server.tenantId, { userId: signerId, userPrincipalName: 'Signer@contoso.example' })]);

      volume = Array.from({ length: VOLUME }, (_, i) => ({ id: randomUUID(), userPrincipalName: `user-${String(i).padStart(3, '0')}@volume.example`, displayName: i % 2 === 0 ? `Volume ${String(i).padStart(3, '0')}` : null }));
      await server.runtime.app.store.recordUsers(volume.map((u, i) => ({ tenantId: server.tenantId, ...u, at: 1_000_000 + i })));
    });
    after(async () => {
      await aliceDevice?.close();
      await server?.close();
    });

    it('lists the users seen in tokens and as group members, with what tokens proved and null for what none did', async () => {
      const response = await get(`${USERS}?$filter=${encodeURIComponent("(not startswith(userPrincipalName,'user-')) or userPrincipalName eq null")}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body['@odata.context'], `${server.url}/graph/v1.0/$metadata#users`);
      const byId = new Map(values(response).map((u) => [u.id, u]));
      assert.deepEqual(byId.get(aliceId), { id: aliceId, userPrincipalName: ALICE, displayName: 'Alice.Smith' });
      assert.deepEqual(byId.get(bobId), { id: bobId, userPrincipalName: BOB, displayName: 'bob' });
      assert.deepEqual(byId.get(ghostId), { id: ghostId, userPrincipalName: null, displayName: null });
      assert.deepEqual(byId.get(signerId), { id: signerId, userPrincipalName: 'Signer@contoso.example', displayName: null });
      // The admins' own tokens on the admin API are not sightings; nothing of another tenant shows.
      assert.deepEqual([...byId.keys()].sort(), [aliceId, bobId, ghostId, signerId].sort());
      // The beta root serves the same collection.
      const beta = await get(`/graph/beta/users?$filter=${encodeURIComponent(`id eq '${aliceId}'`)}`);
      assert.equal(beta.status, 200, JSON.stringify(beta.body));
      assert.deepEqual(upns(beta), [ALICE]);
    });

    it('gets a user by object id, by userPrincipalName in another case, and in OData key form', async () => {
      for (const key of [aliceId, aliceId.toUpperCase(), ALICE.toUpperCase(), 'alice.smith@CONTOSO.example', encodeURIComponent(ALICE)]) {
        const response = await get(`${USERS}/${key}`);
        assert.equal(response.status, 200, `${key}: ${JSON.stringify(response.body)}`);
        assert.deepEqual(response.body, { '@odata.context': `${server.url}/graph/v1.0/$metadata#users/$entity`, id: aliceId, userPrincipalName: ALICE, displayName: 'Alice.Smith' });
      }
      assert.equal((await get(`${USERS}('${ALICE.toLowerCase()}')`)).body['id'], aliceId);
      assert.equal((await get(`/graph/beta/users/${bobId}?$select=userPrincipalName`)).body['userPrincipalName'], BOB);
      assert.deepEqual(Object.keys((await get(`${USERS}/${bobId}?$select=displayName`)).body).sort(), ['@odata.context', 'displayName']);
    });

    it("follows a user's navigations: managedAppRegistrations, managedDevices and memberOf", async () => {
      for (const root of ['/graph/v1.0', '/graph/beta']) {
        const registrations = await get(`${root}/users/${ALICE.toLowerCase()}/managedAppRegistrations`);
        assert.equal(registrations.status, 200, JSON.stringify(registrations.body));
        assert.equal(registrations.body['@odata.context'], `${server.url}${root}/$metadata#users('${aliceId}')/managedAppRegistrations`);
        const [registration] = values<Record<string, unknown>>(registrations);
        assert.equal(values(registrations).length, 1);
        assert.equal(registration!['id'], registrationId);
        assert.equal(registration!['userId'], aliceId);
        assert.deepEqual(registration!['appIdentifier'], { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: EDGE });

        const devices = await get(`${root}/users/${aliceId}/managedDevices`);
        assert.equal(devices.status, 200, JSON.stringify(devices.body));
        assert.equal(devices.body['@odata.context'], `${server.url}${root}/$metadata#users('${aliceId}')/managedDevices`);
        const [device] = values<Record<string, unknown>>(devices);
        assert.equal(values(devices).length, 1);
        assert.equal(device!['@odata.type'], '#microsoft.graph.managedDevice');
        assert.equal(device!['userPrincipalName'], ALICE);
        assert.equal(device!['@openmam.devId'], aliceDevice.devId);
        // The same entity as deviceManagement/managedDevices answers (one presenter); the entity alone adds its context.
        const one = (await get(`${root}/deviceManagement/managedDevices/${String(device!['id'])}`)).body;
        assert.equal(one['@odata.context'], `${server.url}${root}/$metadata#deviceManagement/managedDevices/$entity`);
        assert.deepEqual(device, Object.fromEntries(Object.entries(one).filter(([name]) => name !== '@odata.context')));

        const groups = await get(`${root}/users/${aliceId}/memberOf`);
        assert.equal(groups.status, 200, JSON.stringify(groups.body));
        assert.equal(groups.body['@odata.context'], `${server.url}${root}/$metadata#directoryObjects`);
        assert.deepEqual(
          values<Record<string, unknown>>(groups).map((g) => [g['@odata.type'], g['id'], g['displayName']]),
          [['#microsoft.graph.group', groupId, 'Finance']],
        );
      }
      // Bob has a registration, no device and no group; the member never seen has nothing but the group.
      assert.equal(values(await get(`${USERS}/${bobId}/managedAppRegistrations`)).length, 1);
      assert.deepEqual(values(await get(`${USERS}/${bobId}/managedDevices`)), []);
      assert.deepEqual(values(await get(`${USERS}/${bobId}/memberOf`)), []);
      assert.deepEqual(values(await get(`${USERS}/${ghostId}/managedAppRegistrations`)), []);
      assert.equal(values(await get(`${USERS}/${ghostId}/memberOf`)).length, 1);
    });

    it('filters in the database: id, userPrincipalName ignoring case, displayName, with eq, ne, startswith', async () => {
      const all = [...volume];
      const cases: [string, (u: User) => boolean][] = [
        ["userPrincipalName eq 'USER-007@Volume.Example'", (u) => u.userPrincipalName === 'user-007@volume.example'],
        ["startswith(userPrincipalName,'USER-01')", (u) => u.userPrincipalName!.startsWith('user-01')],
        ["startswith(displayName,'Volume 01')", (u) => u.displayName?.startsWith('Volume 01') === true],
        ["startswith(userPrincipalName,'user-0') and displayName eq null", (u) => u.userPrincipalName!.startsWith('user-0') && u.displayName === null],
        ["startswith(userPrincipalName,'user-00') and displayName ne 'Volume 002'", (u) => u.userPrincipalName!.startsWith('user-00') && u.displayName !== 'Volume 002'],
        [`id eq '${volume[42]!.id}'`, (u) => u.id === volume[42]!.id],
        [`id eq ${volume[43]!.id.toUpperCase()}`, (u) => u.id === volume[43]!.id],
      ];
      for (const [filter, keep] of cases) {
        const response = await get(`${USERS}?$filter=${encodeURIComponent(filter)}&$orderby=userPrincipalName`);
        assert.equal(response.status, 200, `${filter}: ${JSON.stringify(response.body)}`);
        assert.deepEqual(upns(response), all.filter(keep).map((u) => u.userPrincipalName), filter);
      }
    });

    it('orders, counts with ConsistencyLevel: eventual, and pages by keyset over more than 100 users', async () => {
      const expected = volume.map((u) => u.userPrincipalName).reverse();
      const seen: (string | null)[] = [];
      let next: string | undefined = `${USERS}?$filter=${encodeURIComponent("startswith(userPrincipalName,'user-')")}&$orderby=userPrincipalName desc&$top=40&$count=true`;
      let pages = 0;
      while (next !== undefined) {
        const response = await get(next.replace(server.url, ''), reader, { ConsistencyLevel: 'eventual' });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        if (pages === 0) assert.equal(response.body['@odata.count'], VOLUME);
        seen.push(...upns(response));
        next = response.body['@odata.nextLink'] as string | undefined;
        pages++;
      }
      assert.equal(pages, 4);
      assert.deepEqual(seen, expected);
      // Without $top: pages of 100 in the id's order, the whole tenant once.
      const first = await get(USERS);
      assert.equal(values(first).length, 100);
      const second = await get(String(first.body['@odata.nextLink']).replace(server.url, ''));
      const ids = [...values(first), ...values(second)].map((u) => u.id);
      assert.equal(second.body['@odata.nextLink'], undefined);
      assert.equal(ids.length, VOLUME + 4);
      assert.deepEqual(ids, [...ids].sort());
      // $top's bound is Graph's 999.
      assert.equal((await get(`${USERS}?$top=999`)).status, 200);
    });

    it("reads users through Microsoft's Graph client: PageIterator follows the nextLinks, a user by UPN", async () => {
      const untrust = trustTestCa(server.ca);
      try {
        const client = graphClient(server.url, reader, 'v1.0');
        const first = (await client.api('/users').filter("startswith(userPrincipalName,'user-1')").orderby('userPrincipalName').top(15).get()) as PageCollection;
        const seen: string[] = [];
        await new PageIterator(client, first, (user: User) => {
          seen.push(user.userPrincipalName!);
          return true;
        }).iterate();
        assert.deepEqual(seen, volume.map((u) => u.userPrincipalName!).filter((upn) => upn.startsWith('user-1')));
        const alice = (await client.api(`/users/${ALICE}`).select('id,displayName').get()) as Record<string, unknown>;
        assert.equal(alice['id'], aliceId);
        assert.equal(alice['displayName'], 'Alice.Smith');
      } finally {
        untrust();
      }
    });

    it("refuses with Graph's errors: unknown properties, $count without ConsistencyLevel, writes (405), another tenant's user, no token, no role", async () => {
      const badRequest = async (path: string, headers?: Record<string, string>, mention?: string) => {
        const response = await get(path, reader, headers);
        assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
        const error = response.body['error'] as { code: string; message: string };
        assert.equal(error.code, 'BadRequest', path);
        if (mention !== undefined) assert.match(error.message, new RegExp(mention), path);
      };
      await badRequest(`${USERS}?$filter=${encodeURIComponent("mail eq 'a@b.c'")}`, undefined, 'mail cannot be filtered on');
      await badRequest(`${USERS}?$orderby=createdDateTime`, undefined, 'cannot be sorted on');
      await badRequest(`${USERS}?$count=true`, undefined, 'ConsistencyLevel');
      await badRequest(`${USERS}?$select=mail`, undefined, 'is not a property');
      await badRequest(`${USERS}?$expand=memberOf`, undefined, 'navigation property');
      await badRequest(`${USERS}?$top=1000`, undefined, '\\$top');
      await badRequest(`${USERS}/${aliceId}?$filter=${encodeURIComponent("id eq 'x'")}`, undefined, 'not supported');

      for (const [method, path] of [['POST', USERS], ['PATCH', `${USERS}/${aliceId}`], ['DELETE', `${USERS}/${aliceId}`], ['PUT', `${USERS}/${aliceId}`], ['POST', `${USERS}/${aliceId}/memberOf`]] as const) {
        const response = await server.json(method, path, admin, method === 'DELETE' ? undefined : { displayName: 'x' });
        assert.equal(response.status, 405, `${method} ${path}: ${JSON.stringify(response.body)}`);
        assert.equal(response.headers['allow'], 'GET', `${method} ${path}`);
        assert.equal((response.body['error'] as { code: string }).code, 'Request_BadRequest');
      }

      const notFound = async (path: string, token = reader) => {
        const response = await get(path, token);
        assert.equal(response.status, 404, `${path}: ${JSON.stringify(response.body)}`);
        const error = response.body['error'] as { code: string; innerError: Record<string, string> };
        assert.equal(error.code, 'Request_ResourceNotFound', path);
        assert.ok(error.innerError['request-id'], path);
      };
      for (const key of [randomUUID(), 'nobody@contoso.example', 'not-a-user-key']) await notFound(`${USERS}/${encodeURIComponent(key)}`);
      // Another tenant's admin: Alice is simply not found there, by id, by UPN, or through a navigation.
      for (const path of [`${USERS}/${aliceId}`, `${USERS}/${ALICE}`, `${USERS}/${aliceId}/managedDevices`, `${USERS}/${aliceId}/memberOf`, `${USERS}/${aliceId}/managedAppRegistrations`]) await notFound(path, intruder);
      const theirs = await get(USERS, intruder);
      assert.equal(theirs.status, 200);
      assert.deepEqual(values(theirs), []);

      const anonymous = await server.json('GET', USERS, undefined);
      assert.equal(anonymous.status, 401);
      assert.equal((anonymous.body['error'] as { code: string }).code, 'InvalidAuthenticationToken');
      const noRole = await server.json('GET', `${USERS}/${aliceId}`, await server.mint({ upn: ALICE }));
      assert.equal(noRole.status, 403);
      assert.equal((noRole.body['error'] as { code: string }).code, 'Authorization_RequestDenied');
    });
  });
}
