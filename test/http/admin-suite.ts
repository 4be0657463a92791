import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { sha1Thumbprint, testCertificates } from '../policy/certificate-fixtures.ts';
import { fullMamPolicy } from '../policy/fixtures.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The admin API end to end: an admin authors policies through the Graph-shaped API, assigns them to groups, and MAM
 * devices of the members (the simulator, over HTTPS) receive exactly the compiled commands. Run per store backend.
 */
const WIP = '/graph/beta/deviceAppManagement/windowsInformationProtectionPolicies';
const CUSTOM = '/graph/beta/deviceManagement/deviceConfigurations';
const EDP = './Vendor/MSFT/EnterpriseDataProtection/Settings';

interface GraphResponse {
  status: number;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

const wipPolicy = {
  displayName: 'Contoso WIP',
  enforcementLevel: 'encryptAuditAndBlock',
  enterpriseDomain: 'contoso.com',
  enterpriseProtectedDomainNames: [{ displayName: 'Contoso', resources: ['contoso.com', 'contoso.net'] }],
  enterpriseIPRanges: [{ displayName: 'HQ', ranges: [{ '@odata.type': '#microsoft.graph.iPv4Range', lowerAddress: '10.0.0.1', upperAddress: '10.0.0.255' }] }],
  enterpriseNetworkDomainNames: [{ displayName: 'corp', resources: ['corp.contoso.com'] }],
  pinMinimumLength: 6,
  minutesOfInactivityBeforeDeviceLock: 5,
};

export function adminEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`Graph-shaped admin API and policy delivery (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin): Promise<GraphResponse> => (await server.json(method, path, token, body)) as GraphResponse;
    async function groupWith(upn: string): Promise<string> {
      const group = await call('POST', '/graph/v1.0/groups', { displayName: `group-${randomUUID().slice(0, 6)}` });
      assert.equal(group.status, 201);
      const member = await call('POST', `/graph/v1.0/groups/${String(group.body['id'])}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, upn)}`,
      });
      assert.equal(member.status, 204);
      return String(group.body['id']);
    }
    async function device(upn: string): Promise<DeviceSimulator> {
      const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: randomUUID() }) });
      devices.push(simulator);
      await simulator.enroll();
      return simulator;
    }
    const assign = (path: string, id: string, targets: Record<string, unknown>[]) =>
      call('POST', `${path}/${id}/assign`, { assignments: targets.map((target) => ({ target })) });
    const toGroup = (groupId: string) => ({ '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId });
    const sent = (transcript: Awaited<ReturnType<DeviceSimulator['sync']>>) =>
      transcript.commands.filter((c) => c.verb !== 'Get').map((c) => `${c.verb} ${c.locUri}`.trim());

    it('PATCHes a group as Graph does: 204, name, description and mail nickname only, a security group it stays', async () => {
      const created = await call('POST', '/graph/v1.0/groups', { displayName: `rename-${randomUUID().slice(0, 6)}`, description: 'before', mailEnabled: false, securityEnabled: true, mailNickname: 'before' });
      assert.equal(created.status, 201);
      const url = `/graph/v1.0/groups/${String(created.body['id'])}`;
      const patched = await call('PATCH', url, { displayName: ' Renamed ', description: null, mailNickname: 'after' });
      assert.equal(patched.status, 204, JSON.stringify(patched.body));
      const read = await call('GET', url, undefined, reader);
      assert.deepEqual([read.body['displayName'], read.body['description'], read.body['mailNickname'], read.body['securityEnabled']], ['Renamed', null, 'after', true]);
      for (const [body, pattern] of [
        [{ mailEnabled: true }, /mailEnabled/],
        [{ groupTypes: ['Unified'] }, /groupTypes/],
        [{ visibility: 'Private' }, /visibility is not a known property/],
        [{ displayName: '' }, /displayName/],
      ] as const) {
        const refused = await call('PATCH', url, body);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.match(String((refused.body['error'] as { message?: string }).message), pattern);
      }
      assert.equal((await call('GET', url)).body['displayName'], 'Renamed', 'nothing written by a refusal');
      assert.equal((await call('PATCH', url, { displayName: 'x' }, reader)).status, 403, 'a Reader cannot');
      assert.equal((await call('PATCH', `/graph/v1.0/groups/${randomUUID()}`, { displayName: 'x' })).status, 404);
    });

    it('lists managedDevices on the Graph layer: $filter, $orderby, keyset pages with @odata.nextLink, last sync in one read per page', async () => {
      const tag = randomUUID().slice(0, 6);
      const upns = [0, 1, 2].map((i) => `paged-${tag}-${i}@contoso.example`);
      const enrolled = [];
      for (const upn of upns) enrolled.push(await device(upn));
      await enrolled[1]!.sync();
      // Check-in times are written behind the request path (CheckinRecorder): flushed here rather than waited for.
      await server.runtime.app.checkins.flush();
      const filter = encodeURIComponent(`startswith(userPrincipalName,'PAGED-${tag}')`);
      const first = await call('GET', `/graph/v1.0/deviceManagement/managedDevices?$filter=${filter}&$orderby=userPrincipalName&$top=2`, undefined, reader);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body.value?.map((d) => d['userPrincipalName']), upns.slice(0, 2), 'ordered, ignoring case');
      const next = String(first.body['@odata.nextLink']);
      assert.match(next, /\$skiptoken=/);
      const second = await call('GET', next.slice(next.indexOf('/graph/')), undefined, reader);
      assert.deepEqual(second.body.value?.map((d) => d['userPrincipalName']), upns.slice(2));
      assert.equal(second.body['@odata.nextLink'], undefined);
      assert.ok(first.body.value?.[1]?.['lastSyncDateTime'], 'the synced device has its last sync');
      assert.equal(first.body.value?.[0]?.['lastSyncDateTime'], null, 'one that never synced has none');
      const byDevice = await call('GET', `/graph/v1.0/deviceManagement/managedDevices?$filter=${encodeURIComponent(`userId eq '${String(first.body.value?.[0]?.['userId']).toUpperCase()}'`)}&$select=id,deviceName`, undefined, reader);
      assert.deepEqual(byDevice.body.value?.map((d) => Object.keys(d).filter((k) => !k.startsWith('@')).sort()), [['deviceName', 'id']]);
      assert.equal((await call('GET', `/graph/v1.0/deviceManagement/managedDevices?$filter=${encodeURIComponent("managementAgent eq 'mdm'")}`, undefined, reader)).status, 400, 'a field it cannot filter on');
      assert.equal((await call('GET', '/graph/v1.0/deviceManagement/managedDevices?$top=1001', undefined, reader)).status, 400);
    });

    it('delivers a MAM WIP policy assigned to a group to a member device, and reports it applied', async () => {
      const upn = `member-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const created = await call('POST', WIP, wipPolicy);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.type'], '#microsoft.graph.windowsInformationProtectionPolicy');
      assert.equal(created.body['isAssigned'], false);
      const id = String(created.body['id']);
      assert.equal((await assign(WIP, id, [toGroup(groupId)])).status, 204);
      assert.deepEqual((await call('GET', `${WIP}/${id}/assignments`)).body.value?.map((a) => (a['target'] as { groupId: string }).groupId), [groupId]);

      const member = await device(upn);
      const outsider = await device(`outsider-${randomUUID().slice(0, 6)}@contoso.example`);
      const commands = sent(await member.sync());
      assert.ok(commands.includes(`Add ${EDP}/EDPEnforcementLevel`));
      assert.ok(commands.includes(`Add ${EDP}/EnterpriseProtectedDomainNames`));
      assert.ok(commands.includes('Add ./Vendor/MSFT/Policy/Config/NetworkIsolation/EnterpriseIPRange'));
      assert.ok(commands.includes('Atomic'), 'DeviceLock goes in an Atomic');
      assert.ok(commands.some((c) => c.includes('/PassportForWork/') && c.endsWith('/MinimumPINLength')));
      assert.equal(member.nodes.get(`${EDP}/EDPEnforcementLevel`)?.value, '3');
      assert.equal(member.nodes.get(`${EDP}/EnterpriseProtectedDomainNames`)?.value, 'contoso.com|contoso.net');
      assert.deepEqual(sent(await outsider.sync()), [], 'not a member: nothing');

      const statuses = await call('GET', `${WIP}/${id}/deviceStatuses`);
      assert.deepEqual(statuses.body.value?.map((s) => [s['deviceId'], s['@openmam.status']]), [[member.devId, 'applied']]);
      assert.deepEqual(statuses.body.value?.map((s) => s['status']), ['compliant'], "Graph's complianceStatus");

      // A change sends only the difference; unassigning sends Deletes.
      assert.equal((await call('PATCH', `${WIP}/${id}`, { enforcementLevel: 'encryptAuditAndPrompt' })).status, 200);
      assert.deepEqual(sent(await member.sync()), [`Replace ${EDP}/EDPEnforcementLevel`]);
      assert.equal(member.nodes.get(`${EDP}/EDPEnforcementLevel`)?.value, '2');
      assert.equal((await call('GET', `${WIP}/${id}`)).body['version'], '3');
      assert.equal((await assign(WIP, id, [])).status, 204);
      const removed = sent(await member.sync());
      assert.ok(removed.length >= 5 && removed.every((c) => c.startsWith('Delete ')), removed.join(', '));
      assert.equal(member.nodes.has(`${EDP}/EDPEnforcementLevel`), false);
    });

    it('sends a full WIP policy to the device exactly as the (golden-tested) compiler writes it, and shows it per device', async () => {
      const upn = `full-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const body = Object.fromEntries(Object.entries(fullMamPolicy()).filter(([name]) => name !== 'id'));
      const created = await call('POST', WIP, body);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = String(created.body['id']);
      await assign(WIP, id, [toGroup(groupId)]);
      const member = await device(upn);
      await member.sync();
      const policy = await server.runtime.app.policies.devicePolicy(server.tenantId, 'windowsInformationProtectionPolicy', id);
      const compiled = server.runtime.app.policies.compile(policy).settings;
      assert.ok(compiled.some((s) => s.locUri.includes('/AppLocker/')) && compiled.some((s) => s.locUri.includes('/PassportForWork/')));
      for (const setting of compiled) {
        const locUri = setting.locUri.replace(/^\.\/Device\//, './');
        assert.deepEqual(member.nodes.get(locUri), { format: setting.format, value: setting.value }, locUri);
      }
      const managed = (await call('GET', '/graph/beta/deviceManagement/managedDevices')).body.value?.find((d) => d['@openmam.devId'] === member.devId);
      const states = await call('GET', `/graph/beta/deviceManagement/managedDevices/${String(managed?.['id'])}/policyStates`);
      assert.deepEqual(states.body.value?.map((s) => [s['id'], s['status']]), [[id, 'applied']]);
      await call('DELETE', `${WIP}/${id}`);
    });

    it('never sends a custom BitLocker setting to a MAM device, and shows it as not applicable', async () => {
      const upn = `bitlocker-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const created = await call('POST', CUSTOM, {
        '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
        displayName: 'BitLocker',
        omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingInteger', displayName: 'Require encryption', omaUri: './Device/Vendor/MSFT/BitLocker/RequireDeviceEncryption', value: 1 }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.ok(JSON.stringify(created.body['@openmam.notApplicableSettings']).includes('BitLocker'), 'the admin is told');
      const id = String(created.body['id']);
      // deviceConfiguration's assign answers 200 with the assignments (Graph), where WIP's answers 204.
      const assignedCustom = await assign(CUSTOM, id, [toGroup(groupId)]);
      assert.equal(assignedCustom.status, 200, JSON.stringify(assignedCustom.body));
      const assignments = assignedCustom.body['value'] as { id: string; target: { groupId: string } }[];
      assert.deepEqual(assignments.map((a) => a.target.groupId), [groupId]);
      const one = await call('GET', `${CUSTOM}/${id}/assignments/${assignments[0]!.id}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body['id'], assignments[0]!.id);
      assert.equal((await call('GET', `${CUSTOM}/${id}/assignments/${randomUUID()}`)).status, 404);
      const member = await device(upn);
      const transcript = await member.sync();
      assert.ok(transcript.messages.every((m) => !m.response.includes('BitLocker')), 'never on the wire');
      const statuses = await call('GET', `${CUSTOM}/${id}/deviceStatuses`);
      assert.deepEqual(statuses.body.value?.map((s) => s['@openmam.status']), ['notApplicable']);
    });

    it('delivers a trusted root certificate profile from deviceConfigurations to the Root store of a member device', async () => {
      const { root } = await testCertificates();
      const upn = `root-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const created = await call('POST', CUSTOM, {
        '@odata.type': '#microsoft.graph.windows81TrustedRootCertificate',
        displayName: 'Contoso Root',
        trustedRootCertificate: root,
        certFileName: 'contoso-root.cer',
        destinationStore: 'computerCertStoreRoot',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.type'], '#microsoft.graph.windows81TrustedRootCertificate');
      assert.equal(created.body['@openmam.notApplicableSettings'], undefined);
      const id = String(created.body['id']);
      assert.ok((await call('GET', CUSTOM)).body.value?.some((p) => p['id'] === id && p['@odata.type'] === '#microsoft.graph.windows81TrustedRootCertificate'));
      assert.equal((await call('GET', `${CUSTOM}/${id}`)).status, 200);
      assert.equal((await assign(CUSTOM, id, [toGroup(groupId)])).status, 200);

      const member = await device(upn);
      const locUri = `./Vendor/MSFT/RootCATrustedCertificates/Root/${sha1Thumbprint(root)}/EncodedCertificate`;
      assert.ok(sent(await member.sync()).includes(`Add ${locUri}`));
      assert.deepEqual(member.nodes.get(locUri), { format: 'b64', value: root });
      const statuses = await call('GET', `${CUSTOM}/${id}/deviceStatuses`);
      assert.deepEqual(statuses.body.value?.map((s) => s['@openmam.status']), ['applied']);

      const refused = await call('PATCH', `${CUSTOM}/${id}`, { trustedRootCertificate: Buffer.from('garbage').toString('base64') });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error?.message ?? '', /^trustedRootCertificate: /);
      assert.equal((await call('DELETE', `${CUSTOM}/${id}`)).status, 204);
      assert.equal((await call('GET', `${CUSTOM}/${id}`)).status, 404);
    });

    it('lets exclusion win over inclusion and allLicensedUsers', async () => {
      const upn = `excluded-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const created = await call('POST', CUSTOM, {
        '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
        displayName: 'Poll',
        omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'neutral', omaUri: './Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources', value: 'login.example.com' }],
      });
      const id = String(created.body['id']);
      await assign(CUSTOM, id, [{ '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' }, { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId }]);
      assert.deepEqual(sent(await (await device(upn)).sync()), []);
      assert.deepEqual(sent(await (await device(`anyone-${randomUUID().slice(0, 6)}@contoso.example`)).sync()), ['Add ./Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources']);
      await call('DELETE', `${CUSTOM}/${id}`);
    });

    it("retrieves a device's WIP logs at its next check-in through the Reporting CSP, and lists them parsed", async () => {
      const upn = `logs-${randomUUID().slice(0, 6)}@contoso.example`;
      const member = await device(upn);
      await member.sync();
      const base = './Vendor/MSFT/Reporting/EnterpriseDataProtection/RetrieveByTimeRange';
      for (const name of ['Type', 'StartTime', 'StopTime']) member.nodes.set(`${base}/${name}`, { format: 'chr', value: '' });
      const logXml =
        '<Reporting Version="1.0"><Log ProviderType="EnterpriseDataProtection" Version="1.0">' +
        '<Event><Timestamp>2026-11-20T10:00:00Z</Timestamp><Application>NOTEPAD.EXE</Application><Action>Decrypt</Action></Event>' +
        '<Event><Timestamp>2026-11-20T11:00:00Z</Timestamp><Application>WINWORD.EXE</Application><Action>CopyToPersonal</Action></Event>' +
        '</Log></Reporting>';
      member.nodes.set(`${base}/Logs`, { format: 'xml', value: logXml });
      const devices = await call('GET', '/graph/beta/deviceManagement/managedDevices');
      const managed = devices.body.value?.find((d) => d['@openmam.devId'] === member.devId);
      assert.ok(managed, 'the device is listed');
      const requested = await call('POST', `/graph/beta/deviceManagement/managedDevices/${String(managed['id'])}/retrieveWipLogs`, {
        byTimeRange: { startDateTime: '2026-11-01T00:00:00Z', endDateTime: '2026-11-21T00:00:00Z' },
      });
      assert.equal(requested.status, 202, JSON.stringify(requested.body));
      assert.equal(requested.body['status'], 'pending');

      const transcript = await member.sync();
      assert.deepEqual(
        transcript.commands.filter((c) => c.locUri.startsWith(base)).map((c) => `${c.verb} ${c.locUri.slice(base.length + 1)}`),
        ['Replace Type', 'Replace StartTime', 'Replace StopTime', 'Get Logs'],
      );
      assert.equal(member.nodes.get(`${base}/StartTime`)?.value, '2026-11-01T00:00:00Z');
      const listed = await call('GET', `/graph/beta/deviceManagement/managedDevices/${String(managed['id'])}/wipLogRequests`);
      const done = listed.body.value?.[0];
      assert.equal(done?.['status'], 'completed');
      assert.deepEqual(done?.['entries'], [
        { Timestamp: '2026-11-20T10:00:00Z', Application: 'NOTEPAD.EXE', Action: 'Decrypt' },
        { Timestamp: '2026-11-20T11:00:00Z', Application: 'WINWORD.EXE', Action: 'CopyToPersonal' },
      ]);
      assert.equal((await member.sync()).commands.length, 0, 'retrieved once');

      const bad = await call('POST', `/graph/beta/deviceManagement/managedDevices/${String(managed['id'])}/retrieveWipLogs`, { byTimeRange: { startDateTime: 'yesterday' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error?.message ?? '', /^byTimeRange\.startDateTime/);
    });

    it("shows a device's settings with the SyncML code of a failure, its inventory, and its raw messages while an admin keeps them", async () => {
      const upn = `troubled-${randomUUID().slice(0, 6)}@contoso.example`;
      const groupId = await groupWith(upn);
      const failing = './Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources';
      const created = await call('POST', CUSTOM, {
        '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
        displayName: 'Refused by the device',
        omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'neutral', omaUri: failing, value: 'login.example.com' }],
      });
      const policyId = String(created.body['id']);
      await assign(CUSTOM, policyId, [toGroup(groupId)]);
      const member = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: randomUUID() }), statusFor: (c) => (c.locUri === failing ? '405' : '200') });
      devices.push(member);
      await member.enroll();
      const managed = (await call('GET', '/graph/beta/deviceManagement/managedDevices')).body.value?.find((d) => d['@openmam.devId'] === member.devId);
      const base = `/graph/beta/deviceManagement/managedDevices/${String(managed?.['id'])}`;
      assert.equal(managed?.['@openmam.messageLogUntilDateTime'], null, 'not kept unless asked');

      // The log: Admin only, even to read (a message may carry a secret the policy API never answers).
      assert.equal((await call('POST', `${base}/setMessageLog`, { durationInMinutes: 60 }, reader)).status, 403);
      assert.equal((await call('GET', `${base}/openMamMessages`, undefined, reader)).status, 403);
      for (const wrong of [{ durationInMinutes: 10081 }, { durationInMinutes: -1 }, { durationInMinutes: '60' }, { durationInMinutes: 1.5 }, {}, { durationInMinutes: 5, extra: 1 }]) {
        const refused = await call('POST', `${base}/setMessageLog`, wrong);
        assert.equal(refused.status, 400, JSON.stringify(wrong));
      }
      const before = Date.now();
      assert.equal((await call('POST', `${base}/setMessageLog`, { durationInMinutes: 60 })).status, 204);
      const until = Date.parse(String((await call('GET', base, undefined, reader)).body['@openmam.messageLogUntilDateTime']));
      assert.ok(until >= before + 3_600_000 && until <= Date.now() + 3_600_000, 'kept for the hour asked');
      assert.equal((await call('GET', `${base}/openMamMessages`)).body.value?.length, 0, 'nothing kept before the switch');

      await member.sync();
      const states = await call('GET', `${base}/policyStates`, undefined, reader);
      assert.deepEqual(states.body.value?.map((p) => [p['id'], p['status'], p['statusCode']]), [[policyId, 'failed', '405']]);
      const nodes = await call('GET', `${base}/openMamNodeStates`, undefined, reader);
      assert.equal(nodes.status, 200, JSON.stringify(nodes.body));
      const node = nodes.body.value?.find((n) => n['locUri'] === failing);
      assert.deepEqual([node?.['status'], node?.['statusCode'], node?.['value']], ['failed', '405', undefined], 'the state and code, never the value');
      const inventory = await call('GET', `${base}/openMamInventory`, undefined, reader);
      assert.equal(inventory.status, 200, JSON.stringify(inventory.body));
      assert.ok((inventory.body.value ?? []).length > 0 && inventory.body.value!.every((v) => typeof v['locUri'] === 'string' && typeof v['value'] === 'string'), JSON.stringify(inventory.body));

      const messages = await call('GET', `${base}/openMamMessages?$top=2`);
      assert.equal(messages.status, 200, JSON.stringify(messages.body));
      assert.deepEqual(messages.body.value?.map((m) => m['direction']).sort(), ['deviceToServer', 'serverToDevice']);
      assert.ok(messages.body.value!.every((m) => String(m['syncML']).includes('<SyncML')), 'decompressed SyncML');
      const all = (await call('GET', `${base}/openMamMessages?$top=200`)).body.value ?? [];
      assert.ok(all.length >= 2 && all.some((m) => m['direction'] === 'serverToDevice' && String(m['syncML']).includes(failing)), 'what the server sent');
      assert.ok(all.every((m, i) => i === 0 || String(m['dateTime']) <= String(all[i - 1]!['dateTime'])), 'newest first');
      assert.equal((await call('GET', `${base}/openMamMessages?$top=201`)).status, 400);
      assert.equal((await call('GET', `${base}/openMamMessages?$filter=direction eq 'in'`)).status, 400);

      assert.equal((await call('POST', `${base}/setMessageLog`, { durationInMinutes: 0 })).status, 204);
      assert.equal((await call('GET', base)).body['@openmam.messageLogUntilDateTime'], null, 'stopped');
      const kept = (await call('GET', `${base}/openMamMessages?$top=200`)).body.value?.length;
      await member.sync();
      assert.equal((await call('GET', `${base}/openMamMessages?$top=200`)).body.value?.length, kept, 'nothing more kept once stopped');
      const unknown = `/graph/beta/deviceManagement/managedDevices/${randomUUID()}`;
      for (const path of [`${unknown}/openMamNodeStates`, `${unknown}/openMamInventory`, `${unknown}/openMamMessages`]) assert.equal((await call('GET', path)).status, 404, path);
      assert.equal((await call('POST', `${unknown}/setMessageLog`, { durationInMinutes: 5 })).status, 404);
      await call('DELETE', `${CUSTOM}/${policyId}`);
    });

    it('warns on a MAM policy whose upgrade to MDM would selectively wipe, and not once the conditions hold', async () => {
      const risky = await call('POST', WIP, { ...wipPolicy, displayName: 'upgradable', mdmEnrollmentUrl: 'https://enterpriseenrollment.contoso.com/EnrollmentServer/Discovery.svc' });
      assert.equal(risky.status, 201, JSON.stringify(risky.body));
      assert.ok(Array.isArray(risky.body['@openmam.warnings']) && (risky.body['@openmam.warnings'] as string[]).length > 0, 'warned: no MDM WIP policy, RevokeOnMDMHandoff on');
      const mdm = await call('POST', '/graph/beta/deviceAppManagement/mdmWindowsInformationProtectionPolicies', { ...Object.fromEntries(Object.entries(wipPolicy).filter(([k]) => !k.startsWith('pin') && !k.startsWith('minutes'))), displayName: 'mdm' });
      assert.equal(mdm.status, 201, JSON.stringify(mdm.body));
      const safe = await call('PATCH', `${WIP}/${String(risky.body['id'])}`, { revokeOnMdmHandoffDisabled: true });
      assert.equal(safe.status, 200);
      assert.equal(safe.body['@openmam.warnings'], undefined);
      await call('DELETE', `${WIP}/${String(risky.body['id'])}`);
      await call('DELETE', `/graph/beta/deviceAppManagement/mdmWindowsInformationProtectionPolicies/${String(mdm.body['id'])}`);
    });

    it('keeps a PFX password write-only: delivered to the device, never read back', async () => {
      const pfx = readFileSync(new URL('../fixtures/certificates/client.pfx', import.meta.url)).toString('base64');
      const created = await call('POST', CUSTOM, { '@odata.type': '#microsoft.graph.windows10ImportedPFXCertificateProfile', displayName: 'VPN client certificate', pfxCertificate: pfx, password: 'OpenMAM-test' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['password'], undefined);
      const read = await call('GET', `${CUSTOM}/${String(created.body['id'])}`);
      assert.equal(read.status, 200);
      assert.ok(!JSON.stringify(read.body).includes('OpenMAM-test'), 'the password is not returned');
      await call('DELETE', `${CUSTOM}/${String(created.body['id'])}`);
    });

    describe('optimistic concurrency: entity tags, If-Match, racing writers', () => {
      /** A call with extra headers (If-Match), through real HTTPS. */
      async function callWith(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<GraphResponse & { etag: string | undefined }> {
        const response = await server.json(method, path, admin, body, headers);
        const etag = response.headers['etag'];
        return { status: response.status, etag: typeof etag === 'string' ? etag : undefined, body: response.body as GraphResponse['body'] };
      }
      const newWip = async (displayName = `occ-${randomUUID().slice(0, 6)}`): Promise<{ id: string; etag: string }> => {
        const created = await callWith('POST', WIP, {}, { ...wipPolicy, displayName });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        return { id: String(created.body['id']), etag: created.etag! };
      };

      it('every entity carries its weak ETag (header and @odata.etag, in collections too), and every write moves it', async () => {
        const created = await callWith('POST', WIP, {}, wipPolicy);
        assert.equal(created.status, 201);
        assert.equal(created.etag, 'W/"1"');
        assert.equal(created.body['@odata.etag'], 'W/"1"');
        const id = String(created.body['id']);
        const read = await callWith('GET', `${WIP}/${id}`, {});
        assert.equal(read.etag, 'W/"1"');
        assert.equal(read.body['@odata.etag'], 'W/"1"');
        const patched = await callWith('PATCH', `${WIP}/${id}`, {}, { description: 'tagged' });
        assert.equal(patched.status, 200);
        assert.equal(patched.etag, 'W/"2"');
        assert.equal(patched.body['@odata.etag'], 'W/"2"');
        const assigned = await callWith('POST', `${WIP}/${id}/assign`, {}, { assignments: [] });
        assert.equal(assigned.status, 204);
        assert.equal(assigned.etag, 'W/"3"');
        const listed = await callWith('GET', WIP, {});
        assert.equal(listed.etag, undefined, 'a collection has no tag of its own');
        assert.equal(listed.body.value?.find((p) => p['id'] === id)?.['@odata.etag'], 'W/"3"');
        assert.ok(listed.body.value?.every((p) => typeof p['@odata.etag'] === 'string'));
        // A GET body (with its @odata.etag) can be sent back as a PATCH: the annotation is ignored like other read-only properties.
        const roundTrip = await callWith('PATCH', `${WIP}/${id}`, { 'if-match': listed.body.value?.find((p) => p['id'] === id)?.['@odata.etag'] as string }, (await callWith('GET', `${WIP}/${id}`, {})).body);
        assert.equal(roundTrip.status, 200, JSON.stringify(roundTrip.body));
        assert.equal(roundTrip.etag, 'W/"4"');
        const config = await callWith('POST', CUSTOM, {}, { '@odata.type': '#microsoft.graph.windows10CustomConfiguration', displayName: 'Tagged', omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'neutral', omaUri: './Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources', value: 'tagged.example.com' }] });
        assert.equal(config.status, 201, JSON.stringify(config.body));
        assert.equal(config.etag, 'W/"1"');
      });

      it('If-Match: a current tag (or one of a list, or *) writes; a stale one is 412 and writes nothing; a malformed one is 400', async () => {
        const { id, etag } = await newWip();
        const ok = await callWith('PATCH', `${WIP}/${id}`, { 'if-match': etag }, { description: 'first' });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.etag, 'W/"2"');
        const stale = await callWith('PATCH', `${WIP}/${id}`, { 'if-match': etag }, { description: 'lost' });
        assert.equal(stale.status, 412);
        assert.equal(stale.body.error?.code, 'preconditionFailed');
        assert.equal(stale.etag, undefined);
        const staleAssign = await callWith('POST', `${WIP}/${id}/assign`, { 'if-match': etag }, { assignments: [{ target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }] });
        assert.equal(staleAssign.status, 412);
        const after = await callWith('GET', `${WIP}/${id}`, {});
        assert.equal(after.body['description'], 'first', 'the stale PATCH wrote nothing');
        assert.equal(after.body['isAssigned'], false, 'the stale assign wrote nothing');
        assert.equal(after.etag, 'W/"2"');
        // Strong and weak forms of the same tag match (weak comparison), as does any tag of a list, and *.
        assert.equal((await callWith('PATCH', `${WIP}/${id}`, { 'if-match': 'W/"9", "2"' }, { description: 'second' })).status, 200);
        assert.equal((await callWith('PATCH', `${WIP}/${id}`, { 'if-match': '*' }, { description: 'third' })).status, 200);
        assert.equal((await callWith('POST', `${WIP}/${id}/assign`, { 'if-match': 'W/"4"' }, { assignments: [] })).status, 204);
        assert.equal((await callWith('PATCH', `${WIP}/${id}`, { 'if-match': '"not-ours"' }, { description: 'never' })).status, 412);
        for (const malformed of ['W/5', 'abc', ',', 'W/"5" W/"6"', '*, W/"5"']) {
          const refused = await callWith('PATCH', `${WIP}/${id}`, { 'if-match': malformed }, { description: 'never' });
          assert.equal(refused.status, 400, malformed);
          assert.equal(refused.body.error?.code, 'BadRequest');
        }
        const final = await callWith('GET', `${WIP}/${id}`, {});
        assert.equal(final.body['description'], 'third');
        assert.equal(final.etag, 'W/"5"');
        // * on something that is not there is still 404: PATCH never creates.
        assert.equal((await callWith('PATCH', `${WIP}/${randomUUID()}`, { 'if-match': '*' }, { description: 'x' })).status, 404);
      });

      it('DELETE with a stale If-Match is 412 and deletes nothing; with the current one it deletes', async () => {
        const { id, etag } = await newWip();
        assert.equal((await callWith('PATCH', `${WIP}/${id}`, {}, { description: 'moved on' })).status, 200);
        const stale = await callWith('DELETE', `${WIP}/${id}`, { 'if-match': etag });
        assert.equal(stale.status, 412);
        assert.equal(stale.body.error?.code, 'preconditionFailed');
        assert.equal((await callWith('GET', `${WIP}/${id}`, {})).status, 200);
        assert.equal((await callWith('DELETE', `${WIP}/${id}`, { 'if-match': 'bad' })).status, 400);
        assert.equal((await callWith('DELETE', `${WIP}/${id}`, { 'if-match': 'W/"2"' })).status, 204);
        assert.equal((await callWith('GET', `${WIP}/${id}`, {})).status, 404);
        assert.equal((await callWith('DELETE', `${WIP}/${id}`, { 'if-match': '*' })).status, 404);
      });

      it('20 concurrent PATCHes of different fields all land, each at its own version', async () => {
        const { id } = await newWip();
        const changes: Record<string, unknown>[] = [
          { displayName: 'Concurrent' },
          { description: 'set concurrently' },
          { enforcementLevel: 'encryptAuditAndPrompt' },
          { enterpriseIPRangesAreAuthoritative: true },
          { enterpriseProxyServersAreAuthoritative: true },
          { revokeOnUnenrollDisabled: true },
          { azureRightsManagementServicesAllowed: true },
          { iconsVisible: true },
          { revokeOnMdmHandoffDisabled: true },
          { pinMinimumLength: 8 },
          { pinUppercaseLetters: 'requireAtLeastOne' },
          { pinLowercaseLetters: 'allow' },
          { pinSpecialCharacters: 'notAllow' },
          { pinExpirationDays: 30 },
          { numberOfPastPinsRemembered: 5 },
          { passwordMaximumAttemptCount: 10 },
          { minutesOfInactivityBeforeDeviceLock: 15 },
          { daysWithoutContactBeforeUnenroll: 90 },
          { rightsManagementServicesTemplateId: '6d1ce5d2-6c7a-4c5c-9b0a-1f6b2a3c4d5e' },
          { mdmEnrollmentUrl: 'https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc' },
        ];
        const responses = await Promise.all(changes.map((change) => callWith('PATCH', `${WIP}/${id}`, {}, change)));
        assert.deepEqual(responses.map((r) => r.status), changes.map(() => 200), JSON.stringify(responses.filter((r) => r.status !== 200).map((r) => r.body)));
        const versions = responses.map((r) => r.body['version']);
        assert.equal(new Set(versions).size, changes.length, `distinct versions: ${versions.join(', ')}`);
        assert.equal(new Set(responses.map((r) => r.etag)).size, changes.length);
        const final = await callWith('GET', `${WIP}/${id}`, {});
        for (const change of changes) for (const [name, value] of Object.entries(change)) assert.deepEqual(final.body[name], value, name);
        assert.equal(final.body['version'], String(1 + changes.length));
      });

      it('an assign racing a PATCH keeps both, and the device gets the patched policy', async () => {
        for (let round = 0; round < 8; round++) {
          const { id } = await newWip();
          const groupId = randomUUID();
          const [assigned, patched] = await Promise.all([
            callWith('POST', `${WIP}/${id}/assign`, {}, { assignments: [{ target: toGroup(groupId) }] }),
            callWith('PATCH', `${WIP}/${id}`, {}, { description: `round ${round}` }),
          ]);
          assert.equal(assigned.status, 204);
          assert.equal(patched.status, 200);
          assert.notEqual(assigned.etag, patched.etag);
          const final = await callWith('GET', `${WIP}/${id}`, {});
          assert.equal(final.body['description'], `round ${round}`);
          assert.equal(final.body['version'], '3');
          assert.deepEqual((await call('GET', `${WIP}/${id}/assignments`)).body.value?.map((a) => (a['target'] as { groupId: string }).groupId), [groupId]);
          const set = await server.runtime.app.store.getConfigurationSet(server.tenantId, id);
          assert.deepEqual(set?.target, { kind: 'groups', include: [groupId], exclude: [], allUsers: false }, 'the compiled set carries the assignment');
        }
      });

      it('a PATCH racing a DELETE: the policy and its configuration set are gone, never resurrected', async () => {
        const upn = `race-${randomUUID().slice(0, 6)}@contoso.example`;
        const groupId = await groupWith(upn);
        const member = await device(upn);
        for (let round = 0; round < 20; round++) {
          const { id } = await newWip();
          assert.equal((await assign(WIP, id, [toGroup(groupId)])).status, 204);
          await member.sync();
          assert.equal(member.nodes.has(`${EDP}/EDPEnforcementLevel`), true, 'the device has the policy before the race');
          // Which one reaches the store first varies with the round: either is sent first, the other 0 to 4 ms later.
          const patch = () => callWith('PATCH', `${WIP}/${id}`, {}, { description: `round ${round}` });
          const remove = () => callWith('DELETE', `${WIP}/${id}`, {});
          const later = <T>(send: () => Promise<T>): Promise<T> => new Promise((resolve) => setTimeout(resolve, (round >> 1) % 5)).then(send);
          const [patched, deleted] = round % 2 === 0 ? await Promise.all([patch(), later(remove)]) : await Promise.all([later(patch), remove()]);
          assert.equal(deleted.status, 204);
          assert.ok(patched.status === 200 || patched.status === 404, `PATCH answered ${patched.status}`);
          assert.equal((await callWith('GET', `${WIP}/${id}`, {})).status, 404);
          assert.equal(await server.runtime.app.store.getConfigurationSet(server.tenantId, id), undefined, 'the compiled set is gone too');
          // The device gets the Deletes.
          await member.sync();
          assert.equal(member.nodes.has(`${EDP}/EDPEnforcementLevel`), false, `round ${round}: the device still has the policy`);
        }
      });
    });

    describe('refuses bad input with a 4xx naming the field, and writes nothing', () => {
      it('invalid domains, ranges and enums', async () => {
        const cases: [Record<string, unknown>, RegExp][] = [
          [{ ...wipPolicy, enterpriseDomain: 'Contoso..com' }, /^enterpriseDomain/],
          [{ ...wipPolicy, enforcementLevel: 'maximum' }, /^enforcementLevel/],
          [{ ...wipPolicy, enterpriseIPRanges: [{ displayName: 'x', ranges: [{ '@odata.type': '#microsoft.graph.iPv4Range', lowerAddress: '10.0.0.9', upperAddress: '10.0.0.1' }] }] }, /^enterpriseIPRanges\[0\]\.ranges\[0\]/],
          [{ ...wipPolicy, pinMinimumLength: 2 }, /^pinMinimumLength/],
          [{ ...wipPolicy, surprise: true }, /^surprise/],
        ];
        const before = (await call('GET', WIP)).body.value?.length;
        for (const [body, field] of cases) {
          const response = await call('POST', WIP, body);
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.error?.code, 'BadRequest');
          assert.match(response.body.error?.message ?? '', field);
        }
        assert.equal((await call('GET', WIP)).body.value?.length, before, 'nothing written');
      });

      it('an omaUri that is not a LocURI, a value that does not match its type, malformed JSON', async () => {
        const bad = await call('POST', CUSTOM, {
          '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
          displayName: 'bad',
          omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingInteger', displayName: 'x', omaUri: '/Vendor/MSFT/X', value: 1 }],
        });
        assert.equal(bad.status, 400);
        assert.match(bad.body.error?.message ?? '', /^omaSettings\[0\]\.omaUri/);
        const mistyped = await call('POST', CUSTOM, {
          '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
          displayName: 'bad',
          omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingInteger', displayName: 'x', omaUri: './Vendor/MSFT/DMClient/X', value: 'five' }],
        });
        assert.equal(mistyped.status, 400);
        assert.match(mistyped.body.error?.message ?? '', /^omaSettings\[0\]\.value/);
        const broken = await call('POST', CUSTOM, '{"displayName": ');
        assert.equal(broken.status, 400);
        assert.equal(broken.body.error?.code, 'BadRequest');
      });

      it('a Reader may read but not write; no token or no role is refused', async () => {
        assert.equal((await call('GET', WIP, undefined, reader)).status, 200);
        const write = await call('POST', WIP, wipPolicy, reader);
        assert.equal(write.status, 403);
        assert.equal(write.body.error?.code, 'Authorization_RequestDenied');
        const nobody = await server.mint({ upn: 'nobody@contoso.example' });
        assert.equal((await call('GET', WIP, undefined, nobody)).status, 403);
        assert.equal((await server.request(WIP)).status, 401);
      });

      it("another tenant's policy by id is not found, and stays untouched", async () => {
        const mine = await call('POST', WIP, { ...wipPolicy, displayName: 'mine' });
        const id = String(mine.body['id']);
        const otherTenant = randomUUID();
        await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
        const intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
        assert.equal((await call('GET', `${WIP}/${id}`, undefined, intruder)).status, 404);
        assert.equal((await call('PATCH', `${WIP}/${id}`, { displayName: 'pwned' }, intruder)).status, 404);
        assert.equal((await call('DELETE', `${WIP}/${id}`, undefined, intruder)).status, 404);
        assert.equal((await call('GET', `${WIP}/${id}`)).body['displayName'], 'mine');
        assert.equal((await call('GET', WIP, undefined, intruder)).body.value?.length, 0);
      });
    });
  });
}
