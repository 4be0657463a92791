import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { skippableSuite } from '../support/skippable-suite.ts';
import { MAX_ACTIVE_REGISTRATIONS_PER_USER, REGISTRATION_LIMIT_REACHED } from '../../src/core/app-protection/managed-apps.ts';
import { KNOWN_INVENTORY_NODES, MAX_INVENTORY_NODES_PER_DEVICE, MAX_INVENTORY_VALUE_LENGTH } from '../../src/core/management/inventory.ts';
import { DeviceSimulator, EnrollmentRefusedError } from '../support/device-simulator.ts';
import { DEVICE_CAP_REACHED, MAX_ACTIVE_ENROLLMENTS_PER_USER } from '../../src/core/enrollment.ts';
import { MAX_LIVE_SESSIONS_PER_DEVICE, MAX_WIP_LOG_REQUESTS_PER_DEVICE } from '../../src/store/roles.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';

/**
 * Part 5 of issue 16, "bounded by construction", end to end on a real server and store (run per backend): a device
 * reporting ten thousand inventory nodes in one session keeps at most MAX_INVENTORY_NODES_PER_DEVICE and is told
 * 420 for the rest; one user's active app registrations stop at MAX_ACTIVE_REGISTRATIONS_PER_USER, also when they
 * arrive at once; a device keeps at most MAX_LIVE_SESSIONS_PER_DEVICE live OMA-DM sessions and MAX_WIP_LOG_REQUESTS_PER_DEVICE WIP log requests. docs/operations.md "Limits".
 */
const FIRST_PACKAGE = readFileSync(new URL('../fixtures/syncml/client-first-package.xml', import.meta.url), 'utf8');
const FIXTURE_DEV_ID = '6B29FC40CA471067B31D00DD010662DA';
/** Microsoft Edge's first-party client id (a built-in catalogue entry). */
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
/** The fixture's five DevInfo nodes (Replace CmdID 4). */
const FIXTURE_DEVINFO = 5;
/** What the XML reader's 5,000 elements allow per message, with room for the fixture's own commands. */
const NODES_PER_MESSAGE = 1000;

/** The fixture's first package as message `msgId` of session `sessionId`, a Replace of `extra` DevInfo items (CmdID 5) added. */
function message(devId: string, sessionId: string, msgId: number, extra: readonly { locUri: string; value: string }[], final: boolean): string {
  const items = extra.map(({ locUri, value }) => `<Item><Source><LocURI>${locUri}</LocURI></Source><Data>${value}</Data></Item>`).join('');
  let xml = FIRST_PACKAGE.replaceAll(FIXTURE_DEV_ID, devId)
    .replace(/<SessionID>[^<]*<\/SessionID>/, `<SessionID>${sessionId}</SessionID>`)
    .replace(/<MsgID>[^<]*<\/MsgID>/, `<MsgID>${msgId}</MsgID>`);
  xml = xml.replace(/<Final\s*\/>/, `${extra.length > 0 ? `<Replace><CmdID>5</CmdID>${items}</Replace>` : ''}${final ? '<Final/>' : ''}`);
  return xml;
}

/** The Status answering device command `cmdRef`: its code and SourceRefs. */
function statusOf(body: string, cmdRef: string): { code: string; sourceRefs: string[] } | undefined {
  const match = new RegExp(`<Status><CmdID>[^<]*</CmdID><MsgRef>[^<]*</MsgRef><CmdRef>${cmdRef}</CmdRef><Cmd>Replace</Cmd>((?:<SourceRef>[^<]*</SourceRef>)*)<Data>(\\d+)</Data>`).exec(body.replace(/>\s+</g, '><'));
  if (!match) return undefined;
  return { code: match[2]!, sourceRefs: [...match[1]!.matchAll(/<SourceRef>([^<]*)<\/SourceRef>/g)].map((m) => m[1]!) };
}

function headerStatusOf(body: string): string | undefined {
  return /<Status>\s*<CmdID>[^<]*<\/CmdID>\s*<MsgRef>[^<]*<\/MsgRef>\s*<CmdRef>0<\/CmdRef>\s*<Cmd>SyncHdr<\/Cmd>\s*<Data>(\d+)<\/Data>/.exec(body)?.[1];
}

const extraNode = (i: number): string => `./DevInfo/Ext/Flood${String(i).padStart(5, '0')}`;

export function boundsEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`bounds (${backend})`, { skip }, () => {
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

    async function enrolledDevice(): Promise<DeviceSimulator> {
      const token = await server.mint({ upn: `user-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token });
      devices.push(device);
      await device.enroll();
      return device;
    }
    const inventoryOf = async (device: DeviceSimulator) => {
      const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
      return new Map((await app().store.listInventory(enrollment.id)).map((v) => [v.locUri, v.value]));
    };

    describe('inventory per device', () => {
      it('ten thousand DevInfo nodes in one session: the first ones fill the spare slots, the rest are answered 420 and never stored', async () => {
        const device = await enrolledDevice();
        const spare = MAX_INVENTORY_NODES_PER_DEVICE - KNOWN_INVENTORY_NODES.size;
        const messages = 10;
        for (let m = 0; m < messages; m++) {
          const nodes = Array.from({ length: NODES_PER_MESSAGE }, (_, i) => ({ locUri: extraNode(m * NODES_PER_MESSAGE + i), value: 'x' }));
          const final = m === messages - 1;
          const response = await device.post(message(device.devId, 'B0', m + 1, nodes, final));
          assert.equal(response.status, 200);
          assert.equal(statusOf(response.body, '4')?.code, '200', `message ${m + 1}: the known DevInfo nodes are always kept`);
          const flood = statusOf(response.body, '5');
          assert.equal(flood?.code, '420', `message ${m + 1}: Device full for the nodes beyond the bound`);
          // The first message keeps the first `spare` nodes: the SourceRefs name refused ones only, from the next.
          assert.equal(flood.sourceRefs[0], extraNode(m === 0 ? spare : m * NODES_PER_MESSAGE), `message ${m + 1}: the first refused node is named`);
          assert.ok(flood.sourceRefs.length <= 16, 'a bounded list of SourceRefs, whatever was refused');
          if (!final) assert.match(response.body, /<Data>1222<\/Data>/, 'more of the package is asked for');
        }
        const inventory = await inventoryOf(device);
        assert.equal(inventory.size, FIXTURE_DEVINFO + spare, 'the five DevInfo nodes and the spare slots, nothing more');
        for (let i = 0; i < spare; i++) assert.ok(inventory.has(extraNode(i)), `first come, first kept: ${extraNode(i)}`);
        assert.equal(inventory.has(extraNode(spare)), false);

        // A node already stored is updated in place (it takes no new slot); a new one is still refused.
        const again = await device.post(message(device.devId, 'B1', 1, [{ locUri: extraNode(0), value: 'updated' }, { locUri: extraNode(99_999), value: 'y' }], true));
        assert.deepEqual(statusOf(again.body, '5'), { code: '420', sourceRefs: [extraNode(99_999)] });
        const updated = await inventoryOf(device);
        assert.equal(updated.get(extraNode(0)), 'updated');
        assert.equal(updated.has(extraNode(99_999)), false);

        // The next session: the known nodes still come in (DeviceStatus, read with Get) and what was stored is kept.
        await device.sync();
        const after = await inventoryOf(device);
        assert.ok(after.size <= MAX_INVENTORY_NODES_PER_DEVICE, `at most ${MAX_INVENTORY_NODES_PER_DEVICE} nodes (has ${after.size})`);
        assert.equal(after.get('./Vendor/MSFT/DeviceStatus/OS/Edition'), device.nodes.get('./Vendor/MSFT/DeviceStatus/OS/Edition')?.value, 'a known node is stored when the device is full');
        for (let i = 0; i < spare; i++) assert.ok(after.has(extraNode(i)), 'what was stored is kept');
      });

      it('a device over the bound from before (rows written without it) still updates its nodes; a new one is refused', async () => {
        const device = await enrolledDevice();
        const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
        const now = Date.now();
        const legacy = Array.from({ length: MAX_INVENTORY_NODES_PER_DEVICE + 30 }, (_, i) => ({ locUri: extraNode(i), value: 'old', updatedAt: now }));
        assert.equal(await app().store.applySyncOutcome({ enrollmentId: enrollment.id, now, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: legacy }), true);
        const response = await device.post(message(device.devId, 'E0', 1, [{ locUri: extraNode(3), value: 'new' }], true));
        assert.equal(headerStatusOf(response.body), '200', 'the message is served');
        assert.deepEqual(statusOf(response.body, '5'), { code: '200', sourceRefs: [] });
        assert.equal((await inventoryOf(device)).get(extraNode(3)), 'new');
        const refused = await device.post(message(device.devId, 'E1', 1, [{ locUri: extraNode(500), value: 'x' }], true));
        assert.deepEqual(statusOf(refused.body, '5'), { code: '420', sourceRefs: [extraNode(500)] });
      });

      it('a value longer than the bound is refused with 413 and not stored; the other items of the command are kept', async () => {
        const device = await enrolledDevice();
        const response = await device.post(
          message(device.devId, 'C0', 1, [{ locUri: './DevInfo/Ext/Short', value: 'ok' }, { locUri: './DevInfo/Ext/Long', value: 'v'.repeat(MAX_INVENTORY_VALUE_LENGTH + 1) }], true),
        );
        assert.deepEqual(statusOf(response.body, '5'), { code: '413', sourceRefs: ['./DevInfo/Ext/Long'] });
        const inventory = await inventoryOf(device);
        assert.equal(inventory.get('./DevInfo/Ext/Short'), 'ok');
        assert.equal(inventory.has('./DevInfo/Ext/Long'), false);
      });

      it('the store refuses a write that would take a device past the bound (two sessions adding at once): nothing of it is written', async () => {
        const device = await enrolledDevice();
        const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
        const now = Date.now();
        const values = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ locUri: extraNode(from + i), value: 'z', updatedAt: now }));
        const write = (inventory: ReturnType<typeof values>) =>
          app().store.applySyncOutcome({ enrollmentId: enrollment.id, now, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory, inventoryLimit: MAX_INVENTORY_NODES_PER_DEVICE });
        assert.equal(await write(values(0, MAX_INVENTORY_NODES_PER_DEVICE - 1)), true);
        assert.equal(await write(values(MAX_INVENTORY_NODES_PER_DEVICE - 1, 2)), false, 'one over the bound: refused like a stale message');
        assert.equal((await app().store.listInventory(enrollment.id)).length, MAX_INVENTORY_NODES_PER_DEVICE - 1, 'nothing of the refused write');
        assert.equal(await write(values(0, 3)), true, 'nodes it has already are updated in place');
        const both = await Promise.all([write(values(1000, 1)), write(values(2000, 1))]);
        assert.deepEqual(both.sort(), [false, true], 'of two writes at once for the last slot, one wins');
        assert.equal((await app().store.listInventory(enrollment.id)).length, MAX_INVENTORY_NODES_PER_DEVICE);
      });
    });

    describe('OMA-DM sessions per device', () => {
      it(`a device opening sessions without end keeps the newest ${MAX_LIVE_SESSIONS_PER_DEVICE}; an evicted one is refused 400 at its next message`, async () => {
        const device = await enrolledDevice();
        const enrollment = (await app().store.getActiveEnrollmentByDevId(device.devId))!;
        const ids = Array.from({ length: 10 }, (_, i) => `D${i}`);
        for (const id of ids) assert.equal(headerStatusOf((await device.post(message(device.devId, id, 1, [], false))).body), '200', `session ${id} starts`);
        const live = await Promise.all(ids.map(async (id) => (await app().store.getSession(enrollment.id, id, Date.now())) !== undefined));
        assert.deepEqual(live, ids.map((_, i) => i >= ids.length - MAX_LIVE_SESSIONS_PER_DEVICE), 'only the newest sessions are kept');
        assert.equal(headerStatusOf((await device.post(message(device.devId, 'D0', 2, [], true))).body), '400', 'an evicted session is over');
        assert.equal(headerStatusOf((await device.post(message(device.devId, 'D9', 2, [], true))).body), '200', 'the newest one goes on');
      });
    });

    describe('WIP log requests per device', () => {
      it(`keeps the newest ${MAX_WIP_LOG_REQUESTS_PER_DEVICE} requests of a device, and another device's`, async () => {
        const enrollmentOf = async (device: DeviceSimulator) => (await app().store.getActiveEnrollmentByDevId(device.devId))!;
        const enrollment = await enrollmentOf(await enrolledDevice());
        const otherEnrollment = await enrollmentOf(await enrolledDevice());
        const request = (enrollmentId: string, i: number) => ({
          id: randomUUID(),
          tenantId: server.tenantId,
          enrollmentId,
          mode: 'count' as const,
          startTime: null,
          stopTime: null,
          logCount: i + 1,
          logType: 0 as const,
          status: 'pending' as const,
          statusCode: null,
          requestedAt: 1_000 + i,
          completedAt: null,
          logs: null,
          entries: null,
        });
        await app().store.requestWipLogs(request(otherEnrollment.id, 0));
        for (let i = 0; i < MAX_WIP_LOG_REQUESTS_PER_DEVICE + 5; i++) await app().store.requestWipLogs(request(enrollment.id, i));
        const kept = await app().store.listWipLogRequests(server.tenantId, enrollment.id, 1000);
        assert.equal(kept.length, MAX_WIP_LOG_REQUESTS_PER_DEVICE);
        assert.deepEqual(
          kept.map((r) => r.logCount),
          Array.from({ length: MAX_WIP_LOG_REQUESTS_PER_DEVICE }, (_, i) => MAX_WIP_LOG_REQUESTS_PER_DEVICE + 5 - i),
          'the newest, newest first',
        );
        assert.equal((await app().store.listWipLogRequests(server.tenantId, otherEnrollment.id, 1000)).length, 1, "another device's are not touched");
      });
    });

    describe('MAM enrollments per user', () => {
      it(`${MAX_ACTIVE_ENROLLMENTS_PER_USER} devices, then the MS-MDE2 DeviceCapReached fault, also when they enroll at once; an unenrolled device frees its place`, async () => {
        const token = await server.mint({ upn: `fleet-${randomUUID().slice(0, 8)}@contoso.example` });
        const fleet = Array.from({ length: MAX_ACTIVE_ENROLLMENTS_PER_USER + 10 }, () => new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token }));
        devices.push(...fleet);
        const results = await Promise.allSettled(fleet.map((device) => device.enroll()));
        const enrolled = fleet.filter((_, i) => results[i]!.status === 'fulfilled');
        const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        assert.equal(enrolled.length, MAX_ACTIVE_ENROLLMENTS_PER_USER, `refusals: ${refused.slice(0, 3).map(String).join('; ')}`);
        assert.equal(refused.length, 10);
        for (const error of refused) {
          assert.ok(error instanceof EnrollmentRefusedError, String(error));
          assert.equal(error.subcode, 's:Authorization');
          assert.equal(error.errorType, DEVICE_CAP_REACHED);
        }
        const waiting = fleet.find((device) => !enrolled.includes(device))!;
        await enrolled[0]!.enroll();
        await assert.rejects(waiting.enroll(), (error: unknown) => error instanceof EnrollmentRefusedError && error.errorType === DEVICE_CAP_REACHED, 'a device the user already has enrolls again; a new one still does not');
        await enrolled[1]!.sync();
        await enrolled[1]!.unenroll();
        await waiting.enroll();
        assert.ok(await app().store.getActiveEnrollmentByDevId(waiting.devId), 'the unenrolled device freed its place');
      });
    });

    describe('app registrations per user', () => {
      const register = (token: string, deviceTag = randomUUID()) =>
        server.json('POST', '/mam/v1/registrations', token, { appId: 'com.microsoft.edge', appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', deviceTag, azureAdDeviceId: null });

      it(`${MAX_ACTIVE_REGISTRATIONS_PER_USER} active registrations, then 409 ${REGISTRATION_LIMIT_REACHED}, also when they all arrive at once`, async () => {
        const upn = `many-${randomUUID().slice(0, 8)}@contoso.example`;
        const token = await server.mint({ upn, clientId: EDGE_CLIENT });
        const tags = Array.from({ length: MAX_ACTIVE_REGISTRATIONS_PER_USER + 20 }, () => randomUUID());
        const answers = await Promise.all(tags.map((tag) => register(token, tag)));
        const created = answers.filter((a) => a.status === 201);
        const refused = answers.filter((a) => a.status === 409);
        assert.equal(created.length, MAX_ACTIVE_REGISTRATIONS_PER_USER, `statuses: ${[...new Set(answers.map((a) => a.status))].join(', ')}`);
        assert.equal(refused.length, 20);
        const error = refused[0]!.body['error'] as Record<string, unknown>;
        assert.equal(error['code'], REGISTRATION_LIMIT_REACHED);
        assert.match(String(error['message']), new RegExp(`\\(${MAX_ACTIVE_REGISTRATIONS_PER_USER}\\)`));

        // Registering an app it has again answers the same registration: it is no new one.
        const heldTag = tags[answers.indexOf(created[0]!)]!;
        const same = await register(token, heldTag);
        assert.equal(same.status, 200, JSON.stringify(same.body));
        assert.equal(same.body['registrationId'], created[0]!.body['registrationId']);
        assert.equal((await register(token)).status, 409, 'a new device is still refused');

        // Another user of the tenant is not held back by this one.
        assert.equal((await register(await server.mint({ upn: `other-${randomUUID().slice(0, 8)}@contoso.example`, clientId: EDGE_CLIENT }))).status, 201);

        // A wiped registration frees its place (only active ones count).
        const wipedId = String(created[1]!.body['registrationId']);
        const stored = (await app().store.appProtection.getRegistration(wipedId))!;
        const now = Date.now();
        const [operation] = await app().store.appProtection.addOperations([
          { tenantId: server.tenantId, id: randomUUID(), registrationId: wipedId, userId: stored.userId, kind: 'wipe', reason: 'deviceTag', status: 'pending', detail: null, createdAt: now, completedAt: null, expiresAt: now + 86_400_000 },
        ]);
        assert.ok(operation, 'the wipe is added');
        assert.equal(await app().store.appProtection.completeOperation(operation.id, { status: 'succeeded', detail: null, completedAt: now, expiresAt: now + 86_400_000 }), true);
        assert.equal((await register(token)).status, 201, 'the wiped one frees a place');
        assert.equal((await register(token)).status, 409, 'and only one');
      });
    });
  });
}
