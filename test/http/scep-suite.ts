import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { scepProfile } from '../policy/certificate-fixtures.ts';
import { DeviceSimulator, type SessionTranscript, type SimulatorOptions } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * SCEP certificate profiles end to end: an admin authors a windows81SCEPCertificateProfile through the admin API,
 * assigns it to a group, and a member's MAM device (the simulator, over HTTPS) receives the ClientCertificateInstall
 * SCEP Install values and then `Exec` of `Install/Enroll`, in one Atomic; the per-device status follows the device's
 * answers; a changed profile enrolls again; a deleted one removes the node. Also the engine's exec settings on their
 * own, through a configuration set. Run per store backend.
 */
const CONFIGURATIONS = '/graph/beta/deviceManagement/deviceConfigurations';
const SCEP_ROOT = './User/Vendor/MSFT/ClientCertificateInstall/SCEP/';

interface GraphResponse {
  status: number;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

/** The server's commands other than inventory Gets, as `Verb LocURI`, with the Atomic they were in. */
function sent(transcript: SessionTranscript): string[] {
  return transcript.commands.filter((c) => c.verb !== 'Get').map((c) => `${c.verb} ${c.locUri}`.trim());
}

export function scepEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`SCEP certificate profiles over OMA-DM (${backend})`, { skip: skip ?? false }, () => {
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

    const call = async (method: string, path: string, body?: unknown): Promise<GraphResponse> => (await server.json(method, path, admin, body)) as GraphResponse;
    async function groupWith(upn: string): Promise<string> {
      const group = await call('POST', '/graph/v1.0/groups', { displayName: `group-${randomUUID().slice(0, 6)}` });
      const member = await call('POST', `/graph/v1.0/groups/${String(group.body['id'])}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, upn)}`,
      });
      assert.equal(member.status, 204);
      return String(group.body['id']);
    }
    async function device(upn: string, options: Partial<SimulatorOptions> = {}): Promise<DeviceSimulator> {
      const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn, deviceId: randomUUID() }), ...options });
      devices.push(simulator);
      await simulator.enroll();
      return simulator;
    }
    async function assignedProfile(groupId: string, change: Record<string, unknown> = {}): Promise<string> {
      const created = await call('POST', CONFIGURATIONS, scepProfile({ displayName: `SCEP ${randomUUID().slice(0, 6)}`, ...change }));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = String(created.body['id']);
      const assigned = await call('POST', `${CONFIGURATIONS}/${id}/assign`, { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId } }] });
      assert.equal(assigned.status, 200);
      return id;
    }
    const statusesOf = async (id: string) => (await call('GET', `${CONFIGURATIONS}/${id}/deviceStatuses`)).body.value?.map((s) => [s['@openmam.status'], s['statusCode']]);
    /** The UniqueID node a transcript's Atomic installed. */
    const scepNodeOf = (transcript: SessionTranscript) => transcript.commands.find((c) => c.verb === 'Add' && c.format === 'node')?.locUri ?? '';

    it('installs the SCEP values and then executes Enroll in one Atomic; the profile is applied; a steady check-in sends nothing', async () => {
      const upn = `scep-${randomUUID().slice(0, 6)}@contoso.example`;
      const id = await assignedProfile(await groupWith(upn));
      const read = await call('GET', `${CONFIGURATIONS}/${id}`);
      assert.equal(read.body['@odata.type'], '#microsoft.graph.windows81SCEPCertificateProfile');
      assert.equal(read.body['challenge'], undefined, 'the challenge is write-only');
      assert.equal(read.body['@openmam.notApplicableSettings'], undefined);

      const member = await device(upn);
      const transcript = await member.sync();
      const node = scepNodeOf(transcript);
      assert.match(node, /^\.\/User\/Vendor\/MSFT\/ClientCertificateInstall\/SCEP\/OpenMAM-[0-9a-f-]+-[0-9a-f]{12}$/);
      const commands = transcript.commands.filter((c) => c.locUri.startsWith(SCEP_ROOT) || c.verb === 'Atomic');
      assert.equal(commands[0]?.verb, 'Atomic');
      const atomic = commands[0]!;
      const inner = commands.slice(1);
      assert.ok(inner.every((c) => c.inAtomic === atomic.cmdId), 'everything in the one Atomic');
      assert.deepEqual(inner.map((c) => c.verb), [...Array<string>(inner.length - 1).fill('Add'), 'Exec'], 'the Install Adds, then Exec');
      assert.deepEqual(inner.slice(1, -1).map((c) => c.locUri.slice(node.length)), [
        '/Install/ServerURL', '/Install/Challenge', '/Install/EKUMapping', '/Install/KeyUsage', '/Install/SubjectName', '/Install/SubjectAlternativeNames',
        '/Install/KeyProtection', '/Install/RetryDelay', '/Install/RetryCount', '/Install/TemplateName', '/Install/KeyLength', '/Install/HashAlgorithm',
        '/Install/CAThumbprint', '/Install/ValidPeriod', '/Install/ValidPeriodUnits',
      ]);
      assert.equal(inner.at(-1)?.locUri, `${node}/Install/Enroll`);
      assert.equal(inner.at(-1)?.data, undefined, 'Exec carries no Data');
      assert.ok([atomic, ...inner].every((c) => c.statusSent === '200'));
      assert.equal(member.nodes.get(`${node}/Install/ServerURL`)?.value, 'https://scep.contoso.example/certsrv/mscep/mscep.dll;http://scep2.contoso.example/scep/pkiclient.exe');
      assert.equal(member.nodes.get(`${node}/Install/KeyUsage`)?.value, '160');

      assert.deepEqual(await statusesOf(id), [['applied', null]]);
      assert.deepEqual(sent(await member.sync()), [], 'steady: no Exec again');
    });

    it('enrolls again when the profile changes: a new UniqueID with its Install values and Exec, then Delete of the old node', async () => {
      const upn = `scep-change-${randomUUID().slice(0, 6)}@contoso.example`;
      const id = await assignedProfile(await groupWith(upn));
      const member = await device(upn);
      const old = scepNodeOf(await member.sync());

      const patched = await call('PATCH', `${CONFIGURATIONS}/${id}`, { subjectNameFormatString: 'CN=Contoso MAM user 2' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(await statusesOf(id), [['pending', null]], 'pending until the device answers');
      const transcript = await member.sync();
      const next = scepNodeOf(transcript);
      assert.ok(next !== '' && next !== old, 'a new enrollment request has a UniqueID of its own');
      const commands = sent(transcript);
      assert.equal(commands.filter((c) => c === `Exec ${next}/Install/Enroll`).length, 1, 'Exec sent again');
      assert.ok(commands.indexOf(`Exec ${next}/Install/Enroll`) < commands.indexOf(`Delete ${old}`), `new certificate first, then the old one goes: ${commands.join(', ')}`);
      assert.ok(commands.every((c) => !c.startsWith(`Delete ${old}/`)), 'one Delete covers the old node');
      assert.equal(member.nodes.get(`${next}/Install/SubjectName`)?.value, 'CN=Contoso MAM user 2');
      assert.equal([...member.nodes.keys()].some((k) => k.startsWith(old)), false, 'the old node and its certificate are gone');

      const enrollment = await server.runtime.app.store.getActiveEnrollmentByDevId(member.devId);
      const states = await server.runtime.app.store.getNodeStates(enrollment!.id);
      assert.ok(states.every((s) => !s.locUri.startsWith(old)), 'what the old node covered is forgotten');
      assert.equal(states.find((s) => s.locUri === `${next}/Install/Enroll`)?.status, 'applied');
      assert.deepEqual(await statusesOf(id), [['applied', null]]);
      assert.deepEqual(sent(await member.sync()), []);
    });

    it('records a refused Exec as failed with its code, and does not resend it every session', async () => {
      const upn = `scep-refused-${randomUUID().slice(0, 6)}@contoso.example`;
      const id = await assignedProfile(await groupWith(upn));
      const member = await device(upn, { statusFor: (c) => (c.verb === 'Exec' ? '500' : '200') });
      const transcript = await member.sync();
      assert.equal(transcript.commands.find((c) => c.verb === 'Atomic')?.statusSent, '507');
      assert.equal(transcript.commands.find((c) => c.verb === 'Exec')?.statusSent, '500');
      assert.deepEqual(await statusesOf(id), [['failed', '500']], 'the cause, not the rollback (216) of the others');
      assert.deepEqual(sent(await member.sync()), []);
    });

    it('removes the profile with one Delete of its SCEP node when it is deleted', async () => {
      const upn = `scep-delete-${randomUUID().slice(0, 6)}@contoso.example`;
      const id = await assignedProfile(await groupWith(upn), { certificateStore: 'machine' });
      const member = await device(upn);
      const node = (await member.sync()).commands.find((c) => c.verb === 'Add' && c.format === 'node')?.locUri ?? '';
      assert.match(node, /^\.\/Vendor\/MSFT\/ClientCertificateInstall\/SCEP\//, 'the machine store is device-scoped');
      assert.equal((await call('DELETE', `${CONFIGURATIONS}/${id}`)).status, 204);
      assert.deepEqual(sent(await member.sync()), [`Delete ${node}`]);
      assert.equal([...member.nodes.keys()].some((k) => k.includes('/ClientCertificateInstall/')), false);
      const enrollment = await server.runtime.app.store.getActiveEnrollmentByDevId(member.devId);
      assert.deepEqual((await server.runtime.app.store.getNodeStates(enrollment!.id)).filter((s) => s.locUri.includes('/ClientCertificateInstall/')), []);
    });

    it('refuses a profile a MAM device cannot use, naming the field', async () => {
      const refused = await call('POST', CONFIGURATIONS, scepProfile({ keyStorageProvider: 'usePassportForWorkKspOtherwiseFail' }));
      assert.equal(refused.status, 400);
      assert.match(refused.body.error?.message ?? '', /^keyStorageProvider: /);
      const variables = await call('POST', CONFIGURATIONS, scepProfile({ subjectNameFormatString: 'CN={{UserPrincipalName}}' }));
      assert.equal(variables.status, 400);
      assert.match(variables.body.error?.message ?? '', /^subjectNameFormatString: /);
    });

    it('the engine: an exec setting of a configuration set goes once per version of its group, after its values', async () => {
      const member = await device(`exec-${randomUUID().slice(0, 6)}@contoso.example`);
      await member.sync();
      const node = `${SCEP_ROOT}engine-${randomUUID().slice(0, 8)}`;
      const group = 'engine';
      const settings = (keyLength: string) => [
        { locUri: `${node}/Install/KeyLength`, format: 'int', value: keyLength, atomicGroup: group },
        { locUri: `${node}/Install/Enroll`, format: 'null', value: '', atomicGroup: group, exec: true },
      ];
      const put = (keyLength: string) =>
        server.runtime.app.configuration.putSet({ tenantId: server.tenantId, id: `exec-${member.devId}`, name: 'exec', target: { kind: 'device', devId: member.devId }, settings: settings(keyLength) });
      await put('2048');
      assert.deepEqual(sent(await member.sync()), ['Atomic', `Add ${node}/Install/KeyLength`, `Exec ${node}/Install/Enroll`]);
      assert.deepEqual(sent(await member.sync()), []);
      await put('2048');
      assert.deepEqual(sent(await member.sync()), [], 'the same group again: no Exec');
      await put('4096');
      assert.deepEqual(sent(await member.sync()), ['Atomic', `Replace ${node}/Install/KeyLength`, `Exec ${node}/Install/Enroll`], 'a changed group: Exec again');
    });
  });
}
