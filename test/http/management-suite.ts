import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DeviceSimulator, type SimulatorOptions } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { operatorContext } from '../../src/core/audit/audit-trail.ts';

/**
 * OMA-DM management end to end: the device simulator (its own XML, not the server's codec) enrolls over HTTPS and
 * syncs against a real server and store. Run once per store backend.
 */
const FIRST_PACKAGE = readFileSync(new URL('../fixtures/syncml/client-first-package.xml', import.meta.url), 'utf8');
const FIXTURE_DEV_ID = '6B29FC40CA471067B31D00DD010662DA';
const DEVICE_LOCK = './Vendor/MSFT/Policy/Config/DeviceLock';
const EDP = './Vendor/MSFT/EnterpriseDataProtection/Settings';

/** The fixture's first package as a given device would send it, optionally with extra commands before Final. */
function firstPackage(devId: string, options: { sessionId?: string; msgId?: string; extra?: string; final?: boolean } = {}): string {
  let xml = FIRST_PACKAGE.replaceAll(FIXTURE_DEV_ID, devId)
    .replace(/<SessionID>[^<]*<\/SessionID>/, `<SessionID>${options.sessionId ?? '1A'}</SessionID>`)
    .replace(/<MsgID>[^<]*<\/MsgID>/, `<MsgID>${options.msgId ?? '1'}</MsgID>`);
  if (options.extra) xml = xml.replace(/<Final\s*\/>/, `${options.extra}<Final/>`);
  if (options.final === false) xml = xml.replace(/<Final\s*\/>/, '');
  return xml;
}

function headerStatusOf(body: string): string | undefined {
  return /<Status>\s*<CmdID>[^<]*<\/CmdID>\s*<MsgRef>[^<]*<\/MsgRef>\s*<CmdRef>0<\/CmdRef>\s*<Cmd>SyncHdr<\/Cmd>\s*<Data>(\d+)<\/Data>/.exec(body)?.[1];
}

function statusFor(body: string, cmdRef: string): string | undefined {
  return new RegExp(`<Status>\\s*<CmdID>[^<]*</CmdID>\\s*<MsgRef>[^<]*</MsgRef>\\s*<CmdRef>${cmdRef}</CmdRef>\\s*<Cmd>[^<]*</Cmd>\\s*<Data>(\\d+)</Data>`).exec(body)?.[1];
}

export function managementEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`OMA-DM management over HTTPS (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const app = () => server.runtime.app;
    const tokens = new Map<DeviceSimulator, string>();
    async function enrolledDevice(options: Partial<SimulatorOptions> & { upn?: string } = {}): Promise<DeviceSimulator> {
      const token = await server.mint({ upn: options.upn ?? `user-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token, ...options });
      devices.push(device);
      tokens.set(device, token);
      await device.enroll();
      return device;
    }
    const enrollmentOf = async (device: DeviceSimulator) => (await app().store.getActiveEnrollmentByDevId(device.devId))!;
    const nodeStates = async (device: DeviceSimulator) => new Map((await app().store.getNodeStates((await enrollmentOf(device)).id)).map((s) => [s.locUri, s]));
    const onlyFor = (device: DeviceSimulator, name: string, settings: Parameters<ReturnType<typeof app>['configuration']['putSet']>[0]['settings'], id?: string) =>
      app().configuration.putSet({ tenantId: server.tenantId, ...(id ? { id } : {}), name, target: { kind: 'device', devId: device.devId }, settings });

    it('collects inventory at the first sync, then a steady-state check-in is one message with nothing to do', async () => {
      const device = await enrolledDevice();
      const first = await device.sync();
      assert.equal(first.headerStatus, '200');
      const gets = first.commands.filter((c) => c.verb === 'Get');
      assert.ok(gets.length >= 5, 'DeviceStatus inventory is read');
      assert.ok(gets.every((c) => c.locUri.startsWith('./Vendor/MSFT/DeviceStatus/')));
      const enrollment = await enrollmentOf(device);
      const inventory = new Map((await app().store.listInventory(enrollment.id)).map((v) => [v.locUri, v.value]));
      assert.equal(inventory.get('./DevInfo/Man'), device.nodes.get('./DevInfo/Man')?.value, 'DevInfo reported in package 1 is kept');
      assert.equal(inventory.get('./Vendor/MSFT/DeviceStatus/OS/Edition'), device.nodes.get('./Vendor/MSFT/DeviceStatus/OS/Edition')?.value);

      const second = await device.sync();
      assert.equal(second.messages.length, 1, 'one round trip');
      assert.equal(second.commands.length, 0, 'nothing sent');
      await app().checkins.flush();
      const managed = await app().store.getManagedDevice(device.devId);
      assert.ok(managed?.management.lastCheckinAt && managed.management.lastCheckinAt > Date.now() - 60_000);
    });

    it('sends only the difference: Add for new, Replace for changed, Delete for removed, nothing for unchanged', async () => {
      const device = await enrolledDevice();
      await device.sync();
      const setId = `set-${randomUUID()}`;
      await onlyFor(device, 'lock', [
        { locUri: `${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`, format: 'int', value: '5' },
        { locUri: `${DEVICE_LOCK}/DevicePasswordEnabled`, format: 'int', value: '0' },
        { locUri: `${EDP}/RequireProtectionUnderLockConfig`, format: 'int', value: '1' },
      ], setId);
      const added = await device.sync();
      assert.deepEqual(
        added.commands.map((c) => `${c.verb} ${c.locUri}`).sort(),
        [`Add ${DEVICE_LOCK}/DevicePasswordEnabled`, `Add ${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`, `Add ${EDP}/RequireProtectionUnderLockConfig`].sort(),
      );
      assert.equal(device.nodes.get(`${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`)?.value, '5');

      await onlyFor(device, 'lock', [
        { locUri: `./Device${DEVICE_LOCK.slice(1)}/MaxInactivityTimeDeviceLock`, format: 'int', value: '10' },
        { locUri: `${DEVICE_LOCK}/DevicePasswordEnabled`, format: 'int', value: '0' },
      ], setId);
      const changed = await device.sync();
      assert.deepEqual(changed.commands.map((c) => `${c.verb} ${c.locUri}`).sort(), [`Delete ${EDP}/RequireProtectionUnderLockConfig`, `Replace ${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`]);
      assert.equal(device.nodes.get(`${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`)?.value, '10');
      assert.equal(device.nodes.has(`${EDP}/RequireProtectionUnderLockConfig`), false);
      const states = await nodeStates(device);
      assert.equal(states.get(`${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`)?.value, '10');
      assert.equal(states.has(`${EDP}/RequireProtectionUnderLockConfig`), false);
      assert.equal((await device.sync()).commands.length, 0, 'settled');
    });

    it('starts management over when the same user enrolls the device again', async () => {
      const device = await enrolledDevice();
      await device.sync();
      await onlyFor(device, 'edp', [{ locUri: `${EDP}/AllowAzureRMSForEDP`, format: 'int', value: '1' }]);
      assert.deepEqual((await device.sync()).commands.map((c) => c.verb), ['Add']);
      await device.enroll();
      device.nodes.delete(`${EDP}/AllowAzureRMSForEDP`);
      const again = await device.sync();
      assert.ok(again.commands.some((c) => c.verb === 'Add' && c.locUri === `${EDP}/AllowAzureRMSForEDP`), 'desired state sent again');
      assert.ok(again.commands.some((c) => c.verb === 'Get'), 'inventory read again');
    });

    it('keeps a node another set still wants when one set is removed', async () => {
      const device = await enrolledDevice();
      await device.sync();
      const node = { locUri: `${EDP}/AllowUserDecryption`, format: 'int', value: '0' };
      const a = await onlyFor(device, 'a', [node]);
      await onlyFor(device, 'b', [node]);
      assert.deepEqual((await device.sync()).commands.map((c) => c.verb), ['Add']);
      await app().configuration.deleteSet(server.tenantId, a.set.id);
      assert.equal((await device.sync()).commands.length, 0, 'still wanted by b: no Delete');
    });

    it('records failures with their code and does not resend them until the value changes; resends Add as Replace on 418', async () => {
      const failing = `${EDP}/EDPEnforcementLevel`;
      const existing = `${EDP}/DataRecoveryCertificate`;
      const device = await enrolledDevice({ statusFor: (c) => (c.locUri === failing && c.data === '3' ? '500' : '200') });
      device.nodes.set(existing, { format: 'chr', value: 'old' });
      await device.sync();
      await onlyFor(device, 'edp', [
        { locUri: failing, format: 'int', value: '3' },
        { locUri: existing, format: 'chr', value: 'new' },
      ]);
      const transcript = await device.sync();
      const verbs = transcript.commands.map((c) => `${c.verb} ${c.locUri} ${c.statusSent}`);
      assert.ok(verbs.includes(`Add ${failing} 500`));
      assert.ok(verbs.includes(`Add ${existing} 418`));
      assert.ok(verbs.includes(`Replace ${existing} 200`), `418 is resent as Replace: ${verbs.join(', ')}`);
      assert.equal(device.nodes.get(existing)?.value, 'new');
      const states = await nodeStates(device);
      assert.equal(states.get(failing)?.status, 'failed');
      assert.equal(states.get(failing)?.statusCode, '500');
      assert.equal(states.get(existing)?.status, 'applied');
      assert.equal((await device.sync()).commands.length, 0, 'a failed value is not resent every session');
    });

    it('sends an atomic group all-or-nothing and records the rollback', async () => {
      const device = await enrolledDevice({ statusFor: (c) => (c.locUri.endsWith('/MinDevicePasswordLength') ? '500' : '200') });
      await device.sync();
      await onlyFor(device, 'lock', [
        { locUri: `${DEVICE_LOCK}/DevicePasswordEnabled`, format: 'int', value: '0', atomicGroup: 'DeviceLock' },
        { locUri: `${DEVICE_LOCK}/MinDevicePasswordLength`, format: 'int', value: '6', atomicGroup: 'DeviceLock' },
      ]);
      const transcript = await device.sync();
      const atomic = transcript.commands.find((c) => c.verb === 'Atomic');
      assert.ok(atomic, 'one Atomic');
      assert.equal(atomic.statusSent, '507');
      const inner = transcript.commands.filter((c) => c.inAtomic === atomic.cmdId);
      assert.equal(inner.length, 2);
      assert.equal(device.nodes.has(`${DEVICE_LOCK}/DevicePasswordEnabled`), false, 'rolled back on the device');
      const states = await nodeStates(device);
      assert.equal(states.get(`${DEVICE_LOCK}/DevicePasswordEnabled`)?.statusCode, '216');
      assert.equal(states.get(`${DEVICE_LOCK}/MinDevicePasswordLength`)?.statusCode, '500');
      assert.ok([...states.values()].every((s) => s.status === 'failed'));
    });

    /** Three DeviceLock values in one Atomic, as a DeviceLock policy compiles. */
    const lockGroup = [
      { locUri: `${DEVICE_LOCK}/DevicePasswordEnabled`, format: 'int', value: '0', atomicGroup: 'DeviceLock' },
      { locUri: `${DEVICE_LOCK}/MinDevicePasswordLength`, format: 'int', value: '6', atomicGroup: 'DeviceLock' },
      { locUri: `${DEVICE_LOCK}/AllowSimpleDevicePassword`, format: 'int', value: '0', atomicGroup: 'DeviceLock' },
    ];
    /** Sessions until one ends in a single message with nothing sent (bounded: a device that never converges fails). */
    async function sessionsUntilSettled(device: DeviceSimulator, most: number): Promise<string[][]> {
      const sessions: string[][] = [];
      for (let i = 0; i < most; i++) {
        const transcript = await device.sync();
        if (transcript.commands.length === 0) return sessions;
        sessions.push(transcript.commands.map((c) => `${c.verb}${c.locUri === '' ? '' : ` ${c.locUri.slice(DEVICE_LOCK.length + 1)}`} ${c.statusSent}`));
      }
      assert.fail(`not settled after ${most} sessions: ${JSON.stringify(sessions)}`);
    }

    it('an Atomic whose earlier copy was applied but never acknowledged converges in one more session (418 + 216s, then Replace all)', async () => {
      const device = await enrolledDevice();
      await device.sync();
      // What a lost acknowledgement leaves: the device applied the group, the server never heard of it.
      for (const setting of lockGroup) device.nodes.set(setting.locUri, { format: setting.format, value: 'older' });
      await onlyFor(device, 'lock', lockGroup);
      const sessions = await sessionsUntilSettled(device, 4);
      assert.deepEqual(sessions, [
        ['Atomic 507', 'Add DevicePasswordEnabled 418', 'Add MinDevicePasswordLength 216', 'Add AllowSimpleDevicePassword 216'],
        ['Atomic 200', 'Replace DevicePasswordEnabled 200', 'Replace MinDevicePasswordLength 200', 'Replace AllowSimpleDevicePassword 200'],
      ]);
      for (const setting of lockGroup) assert.equal(device.nodes.get(setting.locUri)?.value, setting.value);
      assert.ok([...(await nodeStates(device)).values()].every((s) => s.status === 'applied'));
    });

    it('an Atomic that meets some members already there and others not converges, and never forgets a member it found', async () => {
      // Only the second member is on the device: the Add of the first succeeds and is rolled back (216), the second
      // answers 418; the guess that the first exists too is then right or corrected, never undone by a rollback.
      const device = await enrolledDevice();
      await device.sync();
      device.nodes.set(lockGroup[1]!.locUri, { format: 'int', value: '4' });
      await onlyFor(device, 'lock', lockGroup);
      const sessions = await sessionsUntilSettled(device, 4);
      assert.ok(sessions.length <= 2, `converged in ${sessions.length} sessions: ${JSON.stringify(sessions)}`);
      assert.deepEqual(sessions[0], ['Atomic 507', 'Add DevicePasswordEnabled 216', 'Add MinDevicePasswordLength 418', 'Add AllowSimpleDevicePassword 216']);
      for (const setting of lockGroup) assert.equal(device.nodes.get(setting.locUri)?.value, setting.value);
    });

    it("splits commands across messages to honour the device's MaxMsgSize", async () => {
      const device = await enrolledDevice({ maxMsgSize: 6000 });
      await device.sync();
      const settings = Array.from({ length: 40 }, (_, i) => ({ locUri: `./Vendor/MSFT/VPNv2/Profile${i}/ProfileXML`, format: 'chr', value: `<VPNProfile><Name>P${i}</Name>${'x'.repeat(300)}</VPNProfile>` }));
      await onlyFor(device, 'vpn', settings);
      const transcript = await device.sync();
      assert.ok(transcript.messages.length > 3, `split into ${transcript.messages.length} messages`);
      assert.ok(transcript.messages.every((m) => Buffer.byteLength(m.response) <= 6000), 'every message within MaxMsgSize');
      assert.equal(transcript.commands.filter((c) => c.verb === 'Add' && c.statusSent === '200').length, 40);
      assert.equal(device.nodes.get('./Vendor/MSFT/VPNv2/Profile7/ProfileXML')?.value, settings[7]!.value, 'data arrives intact, escaped and unescaped');
      assert.equal((await device.sync()).commands.length, 0);
    });

    it('never sends a node outside the MAM allow-list and shows it as not applicable', async () => {
      const device = await enrolledDevice();
      await device.sync();
      const result = await onlyFor(device, 'mixed', [
        { locUri: './Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' },
        { locUri: './Vendor/MSFT/BitLocker/RequireDeviceEncryption', format: 'int', value: '1' },
        { locUri: `${DEVICE_LOCK}/AllowSimpleDevicePassword`, format: 'int', value: '0' },
      ]);
      assert.deepEqual(result.refused.map((r) => r.locUri).sort(), ['./Vendor/MSFT/BitLocker/RequireDeviceEncryption', './Vendor/MSFT/Policy/Config/Camera/AllowCamera']);
      const transcript = await device.sync();
      assert.deepEqual(transcript.commands.map((c) => c.locUri), [`${DEVICE_LOCK}/AllowSimpleDevicePassword`]);
      assert.ok(transcript.messages.every((m) => !m.response.includes('Camera') && !m.response.includes('BitLocker')), 'never on the wire');
      const states = await nodeStates(device);
      assert.equal(states.get('./Vendor/MSFT/BitLocker/RequireDeviceEncryption')?.status, 'not_applicable');
    });

    it('holds ./User settings until a user is signed in', async () => {
      const device = await enrolledDevice({ loginStatus: 'others' });
      await device.sync();
      await onlyFor(device, 'user', [{ locUri: './User/Vendor/MSFT/PassportForWork/00000000-0000-0000-0000-000000000000/Policies/UsePassportForWork', format: 'bool', value: 'true' }]);
      assert.equal((await device.sync()).commands.length, 0, 'held while nobody is signed in');
      const signedIn = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: tokens.get(device)!, devId: device.devId, loginStatus: 'user' });
      devices.push(signedIn);
      const transcript = await signedIn.sync();
      assert.deepEqual(transcript.commands.map((c) => `${c.verb} ${c.statusSent}`), ['Add 200'], 'sent once the user signs in');
      assert.equal((await signedIn.sync()).commands.length, 0);
    });

    it('stops managing a device whose user removes the work account', async () => {
      const device = await enrolledDevice();
      await device.sync();
      await device.unenroll();
      assert.equal(await app().store.getActiveEnrollmentByDevId(device.devId), undefined);
      await onlyFor(device, 'late', [{ locUri: `${EDP}/AllowUserDecryption`, format: 'int', value: '1' }]);
      const after = await device.sync();
      assert.equal(after.headerStatus, '401');
      assert.equal(after.commands.length, 0);
    });

    it("accepts the device's own token when no user is signed in (AADSendDeviceToken), not another device's", async () => {
      const entraDeviceId = randomUUID();
      const owner = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: 'owner@contoso.example', deviceId: entraDeviceId }) });
      devices.push(owner);
      await owner.enroll();
      const asDevice = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ deviceId: entraDeviceId }), devId: owner.devId, loginStatus: 'none' });
      devices.push(asDevice);
      assert.equal((await asDevice.sync()).headerStatus, '200');
      const impostor = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ deviceId: randomUUID() }), devId: owner.devId, loginStatus: 'none' });
      devices.push(impostor);
      const refused = await impostor.sync();
      assert.equal(refused.headerStatus, '401');
      assert.equal(refused.commands.length, 0);
    });

    it('records a HealthAttestation result alert for compliance', async () => {
      const device = await enrolledDevice();
      await device.sync();
      const alert =
        '<Alert><CmdID>30</CmdID><Data>1226</Data><Item><Source><LocURI>./Vendor/MSFT/HealthAttestation/VerifyHealth</LocURI></Source>' +
        '<Meta><Type xmlns="syncml:metinf">com.microsoft.mdm:HealthAttestation.Result</Type><Format xmlns="syncml:metinf">int</Format></Meta><Data>3</Data></Item></Alert>';
      const response = await device.post(firstPackage(device.devId, { sessionId: 'AB', extra: alert }));
      assert.equal(statusFor(response.body, '30'), '200');
      const inventory = await app().store.listInventory((await enrollmentOf(device)).id);
      assert.equal(inventory.find((v) => v.locUri === './Vendor/MSFT/HealthAttestation/Result')?.value, '3');
    });

    it("keeps a device's raw messages, compressed, only while an admin asks for it", async () => {
      const device = await enrolledDevice();
      const quiet = await enrolledDevice();
      const enrollment = await enrollmentOf(device);
      await app().messageLog.enable(enrollment.id, 3600_000);
      await device.sync();
      await quiet.sync();
      const log = await app().store.listMessageLog(enrollment.id, 100);
      assert.ok(log.length >= 4, `both directions of every message (${log.length})`);
      const texts = log.map((record) => gunzipSync(record.body).toString('utf8'));
      assert.ok(texts.every((text) => text.includes('<SyncML')));
      assert.ok(log.some((r) => r.direction === 'in') && log.some((r) => r.direction === 'out'));
      assert.ok(log[0]!.body.length < Buffer.byteLength(texts[0]!), 'compressed');
      assert.deepEqual(await app().store.listMessageLog((await enrollmentOf(quiet)).id, 100), [], 'off by default');
      await app().messageLog.enable(enrollment.id, 0);
      await device.sync();
      assert.equal((await app().store.listMessageLog(enrollment.id, 100)).length, log.length, 'off again');
    });

    describe('refuses bad input with the right status, and loses nothing', () => {
      let device: DeviceSimulator;
      before(async () => {
        device = await enrolledDevice();
        await device.sync();
      });

      it('malformed XML and XXE: HTTP 400, no SyncML processed', async () => {
        assert.equal((await device.post('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr></SyncML>')).status, 400);
        const xxe = `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${firstPackage(device.devId).replace('<Data>user</Data>', '<Data>&x;</Data>')}`;
        const response = await device.post(xxe);
        assert.equal(response.status, 400);
        assert.match(response.body, /DOCTYPE/);
      });

      it('a DevId that is not enrolled: SyncHdr 401 and no commands', async () => {
        const response = await device.post(firstPackage('UNKNOWNDEVICE0000000000000000000'));
        assert.equal(response.status, 200);
        assert.equal(headerStatusOf(response.body), '401');
        assert.doesNotMatch(response.body, /<(Add|Replace|Get|Delete|Exec|Atomic)>/);
      });

      it("another user's or tenant's token: 401; no token: 407", async () => {
        const other = await server.mint({ upn: 'mallory@contoso.example' });
        assert.equal(headerStatusOf((await device.post(firstPackage(device.devId), { authorization: `Bearer ${other}` })).body), '401');
        const foreign = await server.mint({ upn: 'eve@fabrikam.example', tenantId: randomUUID() });
        assert.equal(headerStatusOf((await device.post(firstPackage(device.devId), { authorization: `Bearer ${foreign}` })).body), '401');
        assert.equal(headerStatusOf((await device.post(firstPackage(device.devId), { authorization: '' })).body), '407');
      });

      it('a replayed MsgID or a message out of sequence: 400', async () => {
        assert.equal(headerStatusOf((await device.post(firstPackage(device.devId, { sessionId: 'FF', msgId: '2' }))).body), '400');
        const start = await device.post(firstPackage(device.devId, { sessionId: 'EE', final: false }));
        assert.equal(headerStatusOf(start.body), '200');
        assert.match(start.body, /<Data>1222<\/Data>/, 'asks for the rest of the package');
        const replay = await device.post(firstPackage(device.devId, { sessionId: 'EE', final: false }));
        assert.equal(headerStatusOf(replay.body), '400', 'MsgID 1 again in a live session');
        assert.equal(headerStatusOf((await device.post(firstPackage(device.devId, { sessionId: 'EE', msgId: '3' }))).body), '400', 'skips MsgID 2');
      });

      it("continues a package the device sends in two messages (1222), then sends its own commands", async () => {
        await onlyFor(device, 'split', [{ locUri: `${EDP}/NeutralResources`, format: 'chr', value: 'contoso.sharepoint.com' }]);
        const first = await device.post(firstPackage(device.devId, { sessionId: 'BB', final: false }));
        assert.match(first.body, /<Data>1222<\/Data>/);
        assert.doesNotMatch(first.body, /<Add>/, 'nothing of ours before the device has finished');
        const second = await device.post(
          firstPackage(device.devId, { sessionId: 'BB', msgId: '2' }).replace(/<SyncBody>[\s\S]*<\/SyncBody>/, '<SyncBody><Alert><CmdID>1</CmdID><Data>1222</Data></Alert><Final/></SyncBody>'),
        );
        assert.equal(headerStatusOf(second.body), '200');
        assert.match(second.body, /<Add>[\s\S]*NeutralResources[\s\S]*<\/Add>/);
        assert.match(second.body, /<MsgID>2<\/MsgID>/, 'our MsgIDs count up within the session');
      });

      it('a Status for a CmdRef the server never sent changes nothing', async () => {
        const before = await nodeStates(device);
        const bogus = '<Status><CmdID>9</CmdID><MsgRef>1</MsgRef><CmdRef>77</CmdRef><Cmd>Add</Cmd><Data>200</Data></Status>';
        const response = await device.post(firstPackage(device.devId, { sessionId: 'DD', extra: bogus }));
        assert.equal(headerStatusOf(response.body), '200');
        assert.deepEqual(await nodeStates(device), before);
      });

      it('a message over the size limit: HTTP 413', async () => {
        const big = firstPackage(device.devId, { extra: `<Alert><CmdID>99</CmdID><Data>1224</Data><Item><Data>${'x'.repeat(1_100_000)}</Data></Item></Alert>` });
        assert.equal((await device.post(big)).status, 413);
      });

      it('commands a device may not send (Delete, Exec) get 405; unknown alerts 406', async () => {
        const extra =
          '<Delete><CmdID>20</CmdID><Item><Target><LocURI>./Vendor/MSFT/DMClient</LocURI></Target></Item></Delete>' +
          '<Exec><CmdID>21</CmdID><Item><Target><LocURI>./Vendor/MSFT/Reboot/RebootNow</LocURI></Target></Item></Exec>' +
          '<Alert><CmdID>22</CmdID><Data>9999</Data></Alert>';
        const response = await device.post(firstPackage(device.devId, { sessionId: 'CC', extra }));
        assert.equal(statusFor(response.body, '20'), '405');
        assert.equal(statusFor(response.body, '21'), '405');
        assert.equal(statusFor(response.body, '22'), '406');
        assert.equal(await app().store.getActiveEnrollmentByDevId(device.devId).then((e) => e?.state), 'enrolled');
      });

      it('WBXML: HTTP 415', async () => {
        const response = await device.post(firstPackage(device.devId), { 'content-type': 'application/vnd.syncml.dm+wbxml' });
        assert.equal(response.status, 415);
        assert.match(response.body, /WBXML/);
      });
    });

    // Last: it changes what every device of the tenant gets.
    it("sends a tenant's changed poll schedule to enrolled devices, within Microsoft's guidance", async () => {
      const device = await enrolledDevice();
      await device.sync();
      await assert.rejects(app().tenantSettings.update(operatorContext(server.tenantId, 'test'), { pollSchedule: { intervalForRemainingScheduledRetries: 60 } }), /1440/);
      await app().tenantSettings.update(operatorContext(server.tenantId, 'test'), { pollSchedule: { intervalForRemainingScheduledRetries: 2880 } });
      const transcript = await device.sync();
      const node = './Vendor/MSFT/DMClient/Provider/OpenMAM/Poll/IntervalForRemainingScheduledRetries';
      assert.ok(transcript.commands.some((c) => c.locUri === node && c.statusSent === '200'), transcript.commands.map((c) => `${c.verb} ${c.locUri}`).join(', '));
      assert.equal(device.nodes.get(node)?.value, '2880');
      assert.equal((await app().tenants.get(server.tenantId))?.settings.pollSchedule.intervalForRemainingScheduledRetries, 2880, 'new enrollments get it too');
      await app().configuration.deleteSet(server.tenantId, 'openmam-tenant-poll-schedule');
    });
  });
}
