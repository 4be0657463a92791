import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { graphEnum, graphProperties } from '../../src/policy/graph-schema/index.ts';
import { GRAPH_MANAGEMENT_STATES, MANAGED_DEVICES } from '../../src/store/collections.ts';
import { DEVICE_COMPLIANCE_STATES } from '../../src/store/records.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * One device, one picture (issue 15, H5), end to end over HTTPS: MAM devices (the simulator) enroll and check in, a
 * managed app registers on the same Entra device, and an admin reads `managedDevices` as Graph's managedDevice (every
 * v1.0 property, enum values members of Graph's enums), filters, orders, selects and pages it, sees each enrollment
 * linked to its Entra device (from the enrollment token, or once from a session's verified user token, never
 * re-linked), and the app registrations on that device with their `managedDeviceId`. Run per store backend.
 */
const DEVICES = '/graph/v1.0/deviceManagement/managedDevices';
const REGISTRATIONS = '/graph/beta/deviceAppManagement/managedAppRegistrations';
/** Microsoft Edge's first-party client id (a built-in catalogue entry). */
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
const EDGE = 'com.microsoft.edge';

type Entity = Record<string, unknown>;

export function devicePictureEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: managedDevices as Graph has them, linked to their Entra device and apps (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    const tag = randomUUID().slice(0, 6);
    const linkedUpn = `Linked.${tag}@contoso.example`;
    const lateUpn = `late-${tag}@contoso.example`;
    const linkedDeviceId = randomUUID();
    const lateDeviceId = randomUUID();
    const devices: DeviceSimulator[] = [];
    let linked: DeviceSimulator;
    let late: DeviceSimulator;

    const get = (path: string, token = reader): Promise<JsonResponse> => server.json('GET', path, token);
    const values = (response: JsonResponse): Entity[] => (response.body['value'] ?? []) as Entity[];
    const byDevId = async (devId: string): Promise<Entity> => {
      const listed = values(await get(`${DEVICES}?$filter=${encodeURIComponent(`startswith(userPrincipalName,'${tag}') or startswith(userPrincipalName,'linked.${tag}') or startswith(userPrincipalName,'late-${tag}')`)}`));
      const found = listed.find((d) => d['@openmam.devId'] === devId);
      assert.ok(found, `device ${devId} listed`);
      return found;
    };
    const registration = (deviceTag: string, azureAdDeviceId: string | null) => ({
      appId: EDGE,
      appVersion: '120.0.2210.91',
      sdkVersion: '1.0.0',
      osVersion: '10.0.22631.3155',
      deviceName: 'LAPTOP',
      deviceModel: 'Surface Laptop 5',
      deviceManufacturer: 'Microsoft',
      deviceTag,
      ...(azureAdDeviceId === null ? {} : { azureAdDeviceId }),
    });

    before(async () => {
      server = await startTestServer(backend);
      ({ admin, reader, intruder } = await adminTokens(server));
      // Linked at enrollment (its token carries deviceid), then checks in once (DevInfo, DeviceStatus inventory).
      linked = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: linkedUpn, deviceId: linkedDeviceId }), devInfo: { Man: 'Contoso Devices', Mod: 'Surface Laptop 7' } });
      devices.push(linked);
      await linked.enroll();
      await linked.sync();
      // Enrolled with a token without deviceid: not linked until a session's user token proves the device.
      late = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: lateUpn }) });
      devices.push(late);
      await late.enroll();
      for (let i = 0; i < 3; i += 1) {
        const other = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: `${tag}-${i}@contoso.example`, deviceId: randomUUID() }) });
        devices.push(other);
        await other.enroll();
      }
      await server.runtime.app.checkins.flush();
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    it('answers every v1.0 managedDevice property, each enum value a member of Graph\'s enum, from what the device and its tokens stated', async () => {
      const graph = graphProperties('managedDevice');
      assert.ok(graph, 'the Graph tables describe managedDevice');
      const device = await byDevId(linked.devId);
      const one = await get(`${DEVICES}/${String(device['id'])}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      for (const entity of [device, one.body]) {
        for (const [name, property] of Object.entries(graph)) {
          assert.ok(Object.hasOwn(entity, name), `${name} answered`);
          const members = graphEnum(property.type)?.members;
          if (members !== undefined) assert.ok(members.includes(String(entity[name])), `${name}: ${String(entity[name])} is a member of ${property.type} (${members.join(', ')})`);
        }
      }
      assert.deepEqual(
        Object.fromEntries(['operatingSystem', 'managedDeviceOwnerType', 'managementAgent', 'deviceEnrollmentType', 'complianceState', 'managementState', 'deviceRegistrationState', 'azureADRegistered', 'azureADDeviceId', 'manufacturer', 'model', 'isEncrypted', 'userPrincipalName', 'userDisplayName', 'userId', 'exchangeAccessState', 'partnerReportedThreatState', 'complianceGracePeriodExpirationDateTime', 'deviceHealthAttestationState'].map((name) => [name, device[name]])),
        {
          operatingSystem: 'Windows',
          managedDeviceOwnerType: 'personal',
          managementAgent: 'mdm',
          deviceEnrollmentType: 'userEnrollment',
          complianceState: 'unknown',
          managementState: 'managed',
          deviceRegistrationState: 'registered',
          azureADRegistered: true,
          azureADDeviceId: linkedDeviceId,
          manufacturer: 'Contoso Devices',
          model: 'Surface Laptop 7',
          // DeviceStatus Compliance/EncryptionCompliance 1, read by the first session's inventory.
          isEncrypted: true,
          userPrincipalName: linkedUpn,
          userDisplayName: `Linked.${tag}`,
          userId: stableObjectId(server.tenantId, linkedUpn),
          exchangeAccessState: 'none',
          partnerReportedThreatState: 'unknown',
          complianceGracePeriodExpirationDateTime: null,
          deviceHealthAttestationState: null,
        },
      );
      assert.deepEqual(device['deviceActionResults'], []);
      assert.equal(typeof device['@openmam.deviceStatusReportedDateTime'], 'string');
      assert.equal(device['@openmam.managementAgent'], 'mam');
      // What a MAM device cannot tell is Graph's default, never made up.
      for (const name of ['imei', 'serialNumber', 'phoneNumber', 'wiFiMacAddress', 'emailAddress', 'jailBroken', 'easDeviceId', 'managedDeviceName', 'udid']) assert.equal(device[name], null, name);
      for (const name of ['totalStorageSpaceInBytes', 'freeStorageSpaceInBytes', 'physicalMemoryInBytes']) assert.equal(device[name], 0, name);
      for (const name of ['easActivated', 'isSupervised']) assert.equal(device[name], false, name);
      // Not synced yet: no last sync, no DeviceStatus, no DevInfo; no Entra device known.
      const unlinked = await byDevId(late.devId);
      assert.deepEqual([unlinked['lastSyncDateTime'], unlinked['isEncrypted'], unlinked['@openmam.deviceStatusReportedDateTime'], unlinked['manufacturer'], unlinked['azureADDeviceId'], unlinked['azureADRegistered'], unlinked['deviceRegistrationState']], [null, false, null, null, null, null, 'unknown']);
      // The beta root and a user's managedDevices answer the same entity.
      const beta = await get(`/graph/beta/deviceManagement/managedDevices/${String(device['id'])}`);
      assert.deepEqual(Object.keys(beta.body).filter((k) => k !== '@odata.context').sort(), Object.keys(device).sort());
      const ofUser = values(await get(`/graph/v1.0/users/${String(device['userId'])}/managedDevices`));
      assert.deepEqual(ofUser, [device]);
    });

    it('declares the filterable enums with Graph\'s members (the schema tables), and refuses any other value with 400', async () => {
      assert.deepEqual(MANAGED_DEVICES.fields['complianceState']!.members, graphEnum('complianceState')!.members);
      assert.deepEqual(DEVICE_COMPLIANCE_STATES, graphEnum('complianceState')!.members);
      assert.deepEqual(MANAGED_DEVICES.fields['managementState']!.members, graphEnum('managementState')!.members);
      assert.deepEqual([...GRAPH_MANAGEMENT_STATES], graphEnum('managementState')!.members);
      for (const [clause, member] of [["complianceState eq 'healthy'", 'compliant'], ["managementState eq 'retired'", 'retirePending']] as const) {
        const refused = await get(`${DEVICES}?$filter=${encodeURIComponent(clause)}`);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        const message = String((refused.body['error'] as { message: string }).message);
        assert.match(message, /is not a member of the enum/);
        assert.ok(message.includes(member), message);
      }
    });

    it('filters on compliance and management state, manufacturer and model, the grace end; orders on indexed fields only; $select', async () => {
      const mine = `(startswith(userPrincipalName,'${tag}') or startswith(userPrincipalName,'linked.${tag}') or startswith(userPrincipalName,'late-${tag}'))`;
      const count = async (clause: string): Promise<number> => {
        const response = await get(`${DEVICES}?$filter=${encodeURIComponent(`${mine} and ${clause}`)}`);
        assert.equal(response.status, 200, `${clause}: ${JSON.stringify(response.body)}`);
        return values(response).length;
      };
      assert.equal(await count("complianceState eq 'unknown'"), 5);
      assert.equal(await count("complianceState in ('compliant','inGracePeriod')"), 0);
      assert.equal(await count("managementState eq 'managed'"), 5);
      // A Graph member OpenMAM never sets matches nothing (not a refusal).
      assert.equal(await count("managementState eq 'unhealthy'"), 0);
      assert.equal(await count("manufacturer eq 'Contoso Devices' and model eq 'Surface Laptop 7'"), 1);
      assert.equal(await count("startswith(manufacturer,'Contoso')"), 1);
      assert.equal(await count('complianceGracePeriodExpirationDateTime eq null'), 5);
      assert.equal(await count(`azureADDeviceId eq '${linkedDeviceId.toUpperCase()}'`), 1);

      const ordered = await get(`${DEVICES}?$filter=${encodeURIComponent(mine)}&$orderby=${encodeURIComponent('complianceState,managementState desc,userPrincipalName')}&$top=2&$select=complianceState,managementState,userPrincipalName`);
      assert.equal(ordered.status, 200, JSON.stringify(ordered.body));
      assert.deepEqual(values(ordered).map((d) => Object.keys(d).filter((k) => !k.startsWith('@')).sort()), [['complianceState', 'managementState', 'userPrincipalName'], ['complianceState', 'managementState', 'userPrincipalName']]);
      const seen = values(ordered).map((d) => d['userPrincipalName']);
      let next = ordered.body['@odata.nextLink'];
      while (typeof next === 'string') {
        const page = await get(next.slice(next.indexOf('/graph/')));
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...values(page).map((d) => d['userPrincipalName']));
        next = page.body['@odata.nextLink'];
      }
      assert.deepEqual(seen, [...seen].sort((a, b) => String(a).toLowerCase().localeCompare(String(b).toLowerCase())), 'every state equal: by user principal name');
      assert.equal(seen.length, 5);

      for (const [query, pattern] of [
        ['$orderby=manufacturer', /cannot be sorted on here/],
        ['$orderby=model desc', /cannot be sorted on here/],
        ['$orderby=complianceGracePeriodExpirationDateTime', /cannot be sorted on here/],
        [`$filter=${encodeURIComponent("lastSyncDateTime gt 2026-01-01T00:00:00Z")}`, /lastSyncDateTime/],
        [`$filter=${encodeURIComponent("operatingSystem eq 'Windows'")}`, /operatingSystem/],
        [`$filter=${encodeURIComponent("complianceState eq 3")}`, /complianceState/],
        ['$select=complianceState,surprise', /surprise/],
      ] as const) {
        const refused = await get(`${DEVICES}?${query}`);
        assert.equal(refused.status, 400, `${query}: ${JSON.stringify(refused.body)}`);
        assert.match(String((refused.body['error'] as { message: string }).message), pattern);
      }
    });

    it('is scoped to the caller\'s tenant: another tenant\'s device is not found, nor its app registrations', async () => {
      const device = await byDevId(linked.devId);
      for (const path of [`${DEVICES}/${String(device['id'])}`, `${DEVICES}/${String(device['id'])}/openMamAppRegistrations`]) {
        const response = await get(path, intruder);
        assert.equal(response.status, 404, JSON.stringify(response.body));
        assert.equal((response.body['error'] as { code: string }).code, 'ResourceNotFound');
      }
      assert.deepEqual(values(await get(`${DEVICES}?$filter=${encodeURIComponent(`azureADDeviceId eq '${linkedDeviceId}'`)}`, intruder)), []);
      assert.equal((await get(`${DEVICES}/${randomUUID()}`)).status, 404);
    });

    it('links an unlinked enrollment once, from a session\'s verified user token; another device id never re-links it', async () => {
      assert.equal((await byDevId(late.devId))['azureADDeviceId'], null);
      // A device token (no user) of an unlinked enrollment is not the enrollment's: refused, links nothing.
      late.useToken(await server.mint({ deviceId: lateDeviceId }));
      const refused = await late.sync();
      assert.notEqual(refused.headerStatus, '200', 'a device token does not authenticate an unlinked enrollment');
      assert.equal((await byDevId(late.devId))['azureADDeviceId'], null);
      // The user's own token carrying deviceid: linked, in the session's transaction.
      late.useToken(await server.mint({ upn: lateUpn, deviceId: lateDeviceId.toUpperCase() }));
      await late.sync();
      const linkedNow = await byDevId(late.devId);
      assert.equal(linkedNow['azureADDeviceId'], lateDeviceId, 'stored lower-case');
      assert.equal(linkedNow['deviceRegistrationState'], 'registered');
      // Another device id in the same user's token: the session is served, the link is kept, and it is logged.
      const other = randomUUID();
      late.useToken(await server.mint({ upn: lateUpn, deviceId: other }));
      await late.sync();
      assert.equal((await byDevId(late.devId))['azureADDeviceId'], lateDeviceId, 'never re-linked by a token');
      assert.ok(server.logs.some((line) => line['tokenDeviceId'] === other && line['enrollmentDeviceId'] === lateDeviceId && line['level'] === 40), 'the refused link is logged as a warning');
      // Another user's token naming the device links nothing (and is not the enrollment's user).
      assert.equal((await byDevId(linked.devId))['azureADDeviceId'], linkedDeviceId);
    });

    it('gives app registrations on a linked device its managedDeviceId (token-proven only), and lists them on the device', async () => {
      const device = await byDevId(linked.devId);
      const managedDeviceId = String(device['id']);
      // Edge registers on the linked device with a token proving it; another user's app only claims the device id.
      const proven = await server.json('POST', '/mam/v1/registrations', await server.mint({ upn: linkedUpn, clientId: EDGE_CLIENT, deviceId: linkedDeviceId }), registration(randomUUID(), linkedDeviceId));
      assert.equal(proven.status, 201, JSON.stringify(proven.body));
      const claimed = await server.json('POST', '/mam/v1/registrations', await server.mint({ upn: `claim-${tag}@contoso.example`, clientId: EDGE_CLIENT }), registration(randomUUID(), linkedDeviceId));
      assert.equal(claimed.status, 201, JSON.stringify(claimed.body));
      const provenId = String(proven.body['registrationId']);
      const claimedId = String(claimed.body['registrationId']);

      const one = await get(`${REGISTRATIONS}/${provenId}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body['managedDeviceId'], managedDeviceId);
      assert.equal((await get(`${REGISTRATIONS}/${claimedId}`)).body['managedDeviceId'], null, 'an app\'s own claim links nothing');
      const listed = values(await get(`${REGISTRATIONS}?$filter=${encodeURIComponent(`azureADDeviceId eq '${linkedDeviceId}'`)}`));
      assert.deepEqual(new Map(listed.map((r) => [r['id'], r['managedDeviceId']])), new Map([[provenId, managedDeviceId], [claimedId, null]]));
      const ofUser = values(await get(`/graph/beta/users/${stableObjectId(server.tenantId, linkedUpn)}/managedAppRegistrations`));
      assert.deepEqual(ofUser.map((r) => r['managedDeviceId']), [managedDeviceId]);

      const onDevice = await get(`${DEVICES}/${managedDeviceId}/openMamAppRegistrations`);
      assert.equal(onDevice.status, 200, JSON.stringify(onDevice.body));
      assert.deepEqual(values(onDevice).map((r) => [r['id'], r['managedDeviceId']]), [[provenId, managedDeviceId]]);
      // An unlinked device has none; an Admin of another tenant was refused above.
      const others = values(await get(`${DEVICES}?$filter=${encodeURIComponent(`startswith(userPrincipalName,'${tag}-0')`)}`));
      assert.equal(others.length, 1);
      assert.deepEqual(values(await get(`${DEVICES}/${String(others[0]!['id'])}/openMamAppRegistrations`)), []);
      assert.equal((await server.json('GET', `${DEVICES}/${managedDeviceId}/openMamAppRegistrations?$top=1`, admin)).status, 400, 'no query option it does not read');
    });
  });
}
