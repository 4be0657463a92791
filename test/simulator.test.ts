import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { selfSignedCertificate } from '../src/cli/tls.ts';
import { DeviceSimulator, EnrollmentHttpError, EnrollmentRefusedError, MDM_PATH, MDM_QUERY, TryLaterError, tryLaterOf, type ServerCommand } from './support/device-simulator.ts';
import { TryLaterError as SdkTryLaterError } from '../packages/client/src/index.ts';
import { seededRandom } from '../src/simulator/random.ts';
import { retryLaterMs } from '../src/simulator/simulation.ts';
import { child, childAt, children, el, parseSimXml, textAt, type RawXml, type SimElement } from './support/sim-xml.ts';

/**
 * Self-test of the device simulator against a scripted fake OMA-DM / enrollment endpoint (no OpenMAM server):
 * what it sends, how it answers each kind of server command, and what it does to its DM tree.
 */

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Responder = (request: Received, index: number) => { status?: number; body: string; contentType?: string; headers?: Record<string, string> };

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhbGV4QGNvbnRvc28uZXhhbXBsZSJ9.c2lnbmF0dXJl';
const METINF = { xmlns: 'syncml:metinf' };

let server: Server;
let baseUrl: string;
let ca: string;
let received: Received[] = [];
let responder: Responder = () => ({ status: 500, body: '' });

before(async () => {
  const { cert, key } = await selfSignedCertificate('127.0.0.1');
  ca = cert;
  server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      const answer = responder(request, received.length - 1);
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/vnd.syncml.dm+xml', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

// --- a scripted server, writing SyncML with the simulator's serializer (test code; the real server has its own) ---

const cmd = (verb: string, cmdId: string, ...content: RawXml[]): RawXml => el(verb, undefined, el('CmdID', undefined, cmdId), ...content);
const item = (locUri: string, data?: string, format?: string): RawXml =>
  el(
    'Item',
    undefined,
    el('Target', undefined, el('LocURI', undefined, locUri)),
    format !== undefined && el('Meta', undefined, el('Format', METINF, format)),
    data !== undefined && el('Data', undefined, data),
  );

/** A server message answering `request`: SyncHdr, Status for the device's SyncHdr, Statuses for its package 1 commands, then `commands`. */
function serverMessage(request: SimElement, msgId: number, commands: RawXml[], options: { final?: boolean; headerStatus?: string } = {}): string {
  const header = child(request, 'SyncHdr')!;
  const deviceMsgId = textAt(header, 'MsgID')!;
  let cmdId = 100;
  const statuses = [el('Status', undefined, el('CmdID', undefined, String(cmdId++)), el('MsgRef', undefined, deviceMsgId), el('CmdRef', undefined, '0'), el('Cmd', undefined, 'SyncHdr'), el('Data', undefined, options.headerStatus ?? '200'))];
  for (const command of children(child(request, 'SyncBody')).filter((c) => c.name === 'Alert' || c.name === 'Replace')) {
    statuses.push(
      el('Status', undefined, el('CmdID', undefined, String(cmdId++)), el('MsgRef', undefined, deviceMsgId), el('CmdRef', undefined, textAt(command, 'CmdID')!), el('Cmd', undefined, command.name), el('Data', undefined, '200')),
    );
  }
  // Pretty-printed on purpose: the simulator must tolerate layout whitespace.
  return `<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
    <SessionID> ${textAt(header, 'SessionID')} </SessionID>
    <MsgID>${msgId}</MsgID>
    <Target><LocURI>${textAt(header, 'Source', 'LocURI')}</LocURI></Target>
    <Source><LocURI>${baseUrl}${MDM_PATH}</LocURI></Source>
  </SyncHdr>
  <SyncBody>
    ${statuses.map((s) => s.raw).join('\n    ')}
    ${commands.map((c) => c.raw).join('\n    ')}
    ${options.final === false ? '' : '<Final/>'}
  </SyncBody>
</SyncML>`;
}

interface SentStatus {
  msgRef: string;
  cmdRef: string;
  cmd: string;
  data: string;
  targetRef?: string;
}

function statusesIn(message: SimElement): SentStatus[] {
  return children(child(message, 'SyncBody'), 'Status').map((s) => {
    const status: SentStatus = { msgRef: textAt(s, 'MsgRef')!, cmdRef: textAt(s, 'CmdRef')!, cmd: textAt(s, 'Cmd')!, data: textAt(s, 'Data')! };
    const targetRef = textAt(s, 'TargetRef');
    if (targetRef !== undefined) status.targetRef = targetRef;
    return status;
  });
}

function resultsIn(message: SimElement): { cmdRef: string; items: { locUri: string; format: string; data: string }[] }[] {
  return children(child(message, 'SyncBody'), 'Results').map((r) => ({
    cmdRef: textAt(r, 'CmdRef')!,
    items: children(r, 'Item').map((i) => ({ locUri: textAt(i, 'Source', 'LocURI')!, format: textAt(i, 'Meta', 'Format')!, data: child(i, 'Data')!.text })),
  }));
}

const alertsIn = (message: SimElement): string[] => children(child(message, 'SyncBody'), 'Alert').map((a) => textAt(a, 'Data')!);

const EDP_DOMAINS = './Device/Vendor/MSFT/EnterpriseDataProtection/Settings/EnterpriseProtectedDomainNames';
const LOCK = './Vendor/MSFT/Policy/Config/DeviceLock';

describe('device simulator (against a scripted endpoint)', () => {
  it('runs a whole OMA-DM session: package 1, Replace, Add of an existing node, 1222, a failing Atomic, Gets, Delete', async () => {
    const calls: ServerCommand[] = [];
    const device = new DeviceSimulator({
      baseUrl,
      ca,
      token: TOKEN,
      devInfo: { Man: 'Contoso & Sons <Lab>' },
      statusFor: (command) => {
        calls.push(command);
        return command.locUri === `${LOCK}/MinDevicePasswordLength` ? '500' : '200';
      },
    });
    responder = (request, index) => {
      const message = parseSimXml(request.body);
      if (index === 0) {
        return {
          body: serverMessage(
            message,
            1,
            [
              cmd('Replace', 'c1', item(EDP_DOMAINS, 'contoso.com|AT&T <x>', 'chr')),
              cmd('Add', 'c2', item('./DevInfo/Lang', 'fr-FR', 'chr')),
              cmd('Alert', 'c3', el('Data', undefined, '1222')),
            ],
            { final: false },
          ),
        };
      }
      if (index === 1) {
        return {
          body: serverMessage(message, 2, [
            cmd(
              'Atomic',
              'a1',
              cmd('Add', 'a1.1', item(`${LOCK}/DevicePasswordEnabled`, '0', 'int')),
              cmd('Replace', 'a1.2', item(`${LOCK}/MinDevicePasswordLength`, '8', 'int')),
              cmd('Add', 'a1.3', item(`${LOCK}/AllowSimpleDevicePassword`, '1', 'int')),
            ),
            cmd('Get', 'g1', item('./DevInfo/Man')),
            cmd('Get', 'g2', item('./Vendor/MSFT/DoesNotExist')),
            cmd('Get', 'g3', item('./Vendor/MSFT/DeviceStatus/Battery')),
            cmd('Get', 'g4', item('./DevInfo/Mod'), item('./DevInfo/Nope')),
            cmd('Delete', 'd1', item('./Vendor/MSFT/DeviceStatus/Battery')),
          ]),
        };
      }
      return { body: serverMessage(message, 3, []) };
    };

    const transcript = await device.sync();
    device.close();

    // Transport: the real client's endpoint and headers, on every message.
    assert.equal(received.length, 3);
    for (const request of received) {
      assert.equal(request.url, `${MDM_PATH}${MDM_QUERY}`);
      assert.equal(request.headers['content-type'], 'application/vnd.syncml.dm+xml');
      assert.equal(request.headers['user-agent'], 'MSFT OMA DM Client/1.2.0.1');
      assert.equal(request.headers['accept'], 'application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, application/octet-stream');
      assert.equal(request.headers['authorization'], `Bearer ${TOKEN}`);
      assert.match(String(request.headers['client-request-id']), /^[0-9a-f-]{36}$/);
    }
    assert.deepEqual(
      transcript.messages.map((m) => [m.request, m.status]),
      received.map((r) => [r.body, 200]),
    );

    // Headers of the device's messages: one session id, MsgID 1, 2, 3.
    const sent = received.map((r) => parseSimXml(r.body));
    assert.match(transcript.sessionId, /^[0-9A-F]{1,4}$/);
    for (const [index, message] of sent.entries()) {
      assert.equal(message.name, 'SyncML');
      assert.equal(message.attributes['xmlns'], 'SYNCML:SYNCML1.2');
      const header = child(message, 'SyncHdr')!;
      assert.equal(textAt(header, 'VerDTD'), '1.2');
      assert.equal(textAt(header, 'VerProto'), 'DM/1.2');
      assert.equal(textAt(header, 'SessionID'), transcript.sessionId);
      assert.equal(textAt(header, 'MsgID'), String(index + 1));
      assert.equal(textAt(header, 'Target', 'LocURI'), `${baseUrl}${MDM_PATH}`);
      assert.equal(textAt(header, 'Source', 'LocURI'), device.devId);
      const maxMsgSize = child(child(header, 'Meta'), 'MaxMsgSize')!;
      assert.equal(maxMsgSize.attributes['xmlns'], 'syncml:metinf');
      assert.equal(maxMsgSize.text, '524288');
      assert.ok(child(child(message, 'SyncBody'), 'Final'), 'every device message is final');
    }
    assert.match(device.devId, /^[0-9A-F]{32}$/);

    // Package 1.
    const body1 = child(sent[0], 'SyncBody')!;
    assert.deepEqual(
      body1.children.map((c) => `${c.name}:${textAt(c, 'CmdID') ?? ''}`),
      ['Alert:1', 'Alert:2', 'Replace:3', 'Final:'],
    );
    assert.deepEqual(alertsIn(sent[0]!), ['1201', '1224']);
    const login = children(body1, 'Alert')[1]!;
    assert.equal(textAt(login, 'Item', 'Meta', 'Type'), 'com.microsoft/MDM/LoginStatus');
    assert.equal(textAt(login, 'Item', 'Data'), 'user');
    assert.deepEqual(
      children(child(body1, 'Replace'), 'Item').map((i) => [textAt(i, 'Source', 'LocURI'), child(i, 'Data')!.text]),
      [
        ['./DevInfo/DevId', device.devId],
        ['./DevInfo/Man', 'Contoso & Sons <Lab>'],
        ['./DevInfo/Mod', 'Virtual Machine'],
        ['./DevInfo/DmV', '1.3'],
        ['./DevInfo/Lang', 'en-US'],
      ],
    );
    assert.ok(received[0]!.body.includes('<Data>Contoso &amp; Sons &lt;Lab&gt;</Data>'), 'data is escaped');

    // Reply to message 1: SyncHdr status first, then one per command, then Alert 1222 to get the rest of the package.
    assert.deepEqual(statusesIn(sent[1]!), [
      { msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: '200' },
      { msgRef: '1', cmdRef: 'c1', cmd: 'Replace', data: '200' },
      { msgRef: '1', cmdRef: 'c2', cmd: 'Add', data: '418' },
      { msgRef: '1', cmdRef: 'c3', cmd: 'Alert', data: '200' },
    ]);
    assert.deepEqual(alertsIn(sent[1]!), ['1222']);

    // Reply to message 2: the Atomic rolled back, Results right after each Get's Status.
    assert.deepEqual(statusesIn(sent[2]!), [
      { msgRef: '2', cmdRef: '0', cmd: 'SyncHdr', data: '200' },
      { msgRef: '2', cmdRef: 'a1', cmd: 'Atomic', data: '507' },
      { msgRef: '2', cmdRef: 'a1.1', cmd: 'Add', data: '216' },
      { msgRef: '2', cmdRef: 'a1.2', cmd: 'Replace', data: '500' },
      { msgRef: '2', cmdRef: 'a1.3', cmd: 'Add', data: '216' },
      { msgRef: '2', cmdRef: 'g1', cmd: 'Get', data: '200' },
      { msgRef: '2', cmdRef: 'g2', cmd: 'Get', data: '404' },
      { msgRef: '2', cmdRef: 'g3', cmd: 'Get', data: '200' },
      { msgRef: '2', cmdRef: 'g4', cmd: 'Get', data: '200', targetRef: './DevInfo/Mod' },
      { msgRef: '2', cmdRef: 'g4', cmd: 'Get', data: '404', targetRef: './DevInfo/Nope' },
      { msgRef: '2', cmdRef: 'd1', cmd: 'Delete', data: '200' },
    ]);
    assert.deepEqual(resultsIn(sent[2]!), [
      { cmdRef: 'g1', items: [{ locUri: './DevInfo/Man', format: 'chr', data: 'Contoso & Sons <Lab>' }] },
      { cmdRef: 'g3', items: [{ locUri: './Vendor/MSFT/DeviceStatus/Battery', format: 'node', data: 'Status/EstimatedChargeRemaining/EstimatedRuntime' }] },
      { cmdRef: 'g4', items: [{ locUri: './DevInfo/Mod', format: 'chr', data: 'Virtual Machine' }] },
    ]);
    assert.deepEqual(
      child(sent[2], 'SyncBody')!.children.map((c) => c.name),
      ['Status', 'Status', 'Status', 'Status', 'Status', 'Status', 'Results', 'Status', 'Status', 'Results', 'Status', 'Status', 'Results', 'Status', 'Final'],
    );
    assert.deepEqual(alertsIn(sent[2]!), [], 'no 1222 once the server sent Final');

    // Transcript.
    assert.equal(transcript.headerStatus, '200');
    assert.deepEqual(transcript.commands, [
      { verb: 'Replace', cmdId: 'c1', locUri: EDP_DOMAINS, data: 'contoso.com|AT&T <x>', format: 'chr', statusSent: '200' },
      { verb: 'Add', cmdId: 'c2', locUri: './DevInfo/Lang', data: 'fr-FR', format: 'chr', statusSent: '418' },
      { verb: 'Alert', cmdId: 'c3', locUri: '', data: '1222', statusSent: '200' },
      { verb: 'Atomic', cmdId: 'a1', locUri: '', statusSent: '507' },
      { verb: 'Add', cmdId: 'a1.1', locUri: `${LOCK}/DevicePasswordEnabled`, data: '0', format: 'int', inAtomic: 'a1', statusSent: '216' },
      { verb: 'Replace', cmdId: 'a1.2', locUri: `${LOCK}/MinDevicePasswordLength`, data: '8', format: 'int', inAtomic: 'a1', statusSent: '500' },
      { verb: 'Add', cmdId: 'a1.3', locUri: `${LOCK}/AllowSimpleDevicePassword`, data: '1', format: 'int', inAtomic: 'a1', statusSent: '216' },
      { verb: 'Get', cmdId: 'g1', locUri: './DevInfo/Man', statusSent: '200' },
      { verb: 'Get', cmdId: 'g2', locUri: './Vendor/MSFT/DoesNotExist', statusSent: '404' },
      { verb: 'Get', cmdId: 'g3', locUri: './Vendor/MSFT/DeviceStatus/Battery', statusSent: '200' },
      { verb: 'Get', cmdId: 'g4', locUri: './DevInfo/Mod', statusSent: '200' },
      { verb: 'Get', cmdId: 'g4', locUri: './DevInfo/Nope', statusSent: '404' },
      { verb: 'Delete', cmdId: 'd1', locUri: './Vendor/MSFT/DeviceStatus/Battery', statusSent: '200' },
    ]);
    assert.ok(transcript.serverStatuses.some((s) => s.msgRef === '1' && s.cmdRef === '3' && s.cmd === 'Replace' && s.data === '200'));

    // statusFor saw each executed item once; nothing after the Atomic's failure ran.
    assert.deepEqual(
      calls.map((c) => `${c.verb} ${c.locUri}`),
      [
        `Replace ${EDP_DOMAINS}`,
        'Add ./DevInfo/Lang',
        `Add ${LOCK}/DevicePasswordEnabled`,
        `Replace ${LOCK}/MinDevicePasswordLength`,
        'Get ./DevInfo/Man',
        'Get ./Vendor/MSFT/DoesNotExist',
        'Get ./Vendor/MSFT/DeviceStatus/Battery',
        'Get ./DevInfo/Mod',
        'Get ./DevInfo/Nope',
        'Delete ./Vendor/MSFT/DeviceStatus/Battery',
      ],
    );
    assert.deepEqual(calls[0], { verb: 'Replace', locUri: EDP_DOMAINS, data: 'contoso.com|AT&T <x>', format: 'chr' });

    // The DM tree: Replace applied (./Device/ prefix or not), failed Add and rolled-back Atomic not, Delete removed the subtree.
    const domains = { format: 'chr', value: 'contoso.com|AT&T <x>' };
    assert.deepEqual(device.nodes.get(EDP_DOMAINS), domains);
    assert.deepEqual(device.nodes.get('./Vendor/MSFT/EnterpriseDataProtection/Settings/EnterpriseProtectedDomainNames'), domains);
    assert.deepEqual(device.nodes.get('./DevInfo/Lang'), { format: 'chr', value: 'en-US' });
    assert.equal([...device.nodes.keys()].filter((k) => k.startsWith(LOCK)).length, 0);
    assert.equal([...device.nodes.keys()].filter((k) => k.includes('/Battery')).length, 0);
    assert.ok(device.nodes.has('./Vendor/MSFT/DeviceStatus/Firewall/Status'));
  });

  it('applies a successful Atomic, reassembles a chunked item (213 + 1222), and ends on an empty 200', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN, devId: 'SIM-DEVICE-1' });
    const big = `${'A'.repeat(40)}${'B'.repeat(40)}`;
    const cert = './Vendor/MSFT/EnterpriseDataProtection/Settings/DataRecoveryCertificate';
    responder = (request, index) => {
      const message = parseSimXml(request.body);
      if (index === 0) {
        return {
          body: serverMessage(message, 1, [
            cmd('Atomic', 'a1', cmd('Add', '1', item(`${LOCK}/DevicePasswordEnabled`, '0', 'int')), cmd('Add', '2', item(`${LOCK}/MinDevicePasswordLength`, ' 8 ', 'int'))),
            cmd('Replace', '3', el('Item', undefined, el('Target', undefined, el('LocURI', undefined, cert)), el('Meta', undefined, el('Format', METINF, 'b64')), el('Data', undefined, big.slice(0, 40)), el('MoreData', undefined))),
          ]),
        };
      }
      if (index === 1) return { body: serverMessage(message, 2, [cmd('Replace', '4', item(cert, big.slice(40), 'b64'))]) };
      return { body: '' };
    };
    const transcript = await device.sync();
    device.close();
    assert.equal(transcript.messages.length, 3);
    assert.equal(transcript.messages[2]!.response, '');
    const sent = received.map((r) => parseSimXml(r.body));
    assert.deepEqual(
      statusesIn(sent[1]!).map((s) => `${s.cmdRef}:${s.data}`),
      ['0:200', 'a1:200', '1:200', '2:200', '3:213'],
    );
    assert.deepEqual(alertsIn(sent[1]!), ['1222'], 'a chunk asks for the next message');
    assert.deepEqual(
      statusesIn(sent[2]!).map((s) => `${s.cmdRef}:${s.data}`),
      ['0:200', '4:200'],
    );
    assert.deepEqual(device.nodes.get(`${LOCK}/DevicePasswordEnabled`), { format: 'int', value: '0' });
    assert.deepEqual(device.nodes.get(`${LOCK}/MinDevicePasswordLength`), { format: 'int', value: '8' });
    assert.deepEqual(device.nodes.get(cert), { format: 'b64', value: big });
    assert.equal(transcript.commands.at(-1)!.data, big);
  });

  it('answers Sequence in order, Get inside Atomic with 500, a nested Atomic with 500 (parent 507), a missing CmdID with 400', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    responder = (request, index) =>
      index === 0
        ? {
            body: serverMessage(parseSimXml(request.body), 1, [
              cmd('Sequence', 's1', cmd('Add', 's1.1', item('./Vendor/MSFT/A', 'a')), cmd('Delete', 's1.2', item('./Vendor/MSFT/Missing')), cmd('Replace', 's1.3', item('./Vendor/MSFT/A', 'b'))),
              cmd('Atomic', 'a1', cmd('Add', 'a1.1', item('./Vendor/MSFT/B', 'b')), cmd('Get', 'a1.2', item('./DevInfo/Man'))),
              cmd('Atomic', 'a2', cmd('Atomic', 'a2.1', cmd('Add', 'a2.1.1', item('./Vendor/MSFT/C', 'c'))), cmd('Add', 'a2.2', item('./Vendor/MSFT/D', 'd'))),
              el('Get', undefined, item('./DevInfo/Man')),
              cmd('Replace', 'bad', item('/Vendor/MSFT/E', 'e')),
            ]),
          }
        : { body: serverMessage(parseSimXml(request.body), 2, []) };
    const transcript = await device.sync();
    device.close();
    assert.deepEqual(
      statusesIn(parseSimXml(received[1]!.body)).map((s) => `${s.cmd} ${s.cmdRef}:${s.data}`),
      [
        'SyncHdr 0:200',
        'Sequence s1:200',
        'Add s1.1:200',
        'Delete s1.2:404',
        'Replace s1.3:200',
        'Atomic a1:507',
        'Add a1.1:216',
        'Get a1.2:500',
        'Atomic a2:507',
        'Atomic a2.1:500',
        'Add a2.1.1:216',
        'Add a2.2:216',
        'Get :400',
        'Replace bad:400',
      ],
    );
    assert.deepEqual(device.nodes.get('./Vendor/MSFT/A'), { format: 'chr', value: 'b' });
    for (const uri of ['./Vendor/MSFT/B', './Vendor/MSFT/C', './Vendor/MSFT/D', './Vendor/MSFT/E']) assert.equal(device.nodes.has(uri), false, uri);
    assert.deepEqual(
      transcript.commands.filter((c) => c.inSequence === 's1').map((c) => c.cmdId),
      ['s1.1', 's1.2', 's1.3'],
    );
    assert.equal(transcript.commands.find((c) => c.cmdId === 'a2.1.1')?.inAtomic, 'a2.1');
  });

  it('stops when the server refuses the SyncHdr (401) and answers nothing', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    responder = (request) => ({ body: serverMessage(parseSimXml(request.body), 1, [cmd('Get', '1', item('./DevInfo/Man'))], { headerStatus: '401' }) });
    const transcript = await device.sync();
    device.close();
    assert.equal(transcript.headerStatus, '401');
    assert.equal(transcript.messages.length, 1);
    assert.deepEqual(transcript.commands, []);
    assert.equal(received.length, 1);
  });

  it('unenrolls with the 1226 alert, without a token when told, and reports LoginStatus none', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN, sendToken: false, loginStatus: 'none' });
    responder = (request) => ({ body: serverMessage(parseSimXml(request.body), 1, []) });
    const transcript = await device.unenroll();
    device.close();
    assert.equal(transcript.messages.length, 1);
    assert.equal(transcript.headerStatus, '200');
    assert.equal(received[0]!.headers['authorization'], undefined);
    const body = child(parseSimXml(received[0]!.body), 'SyncBody')!;
    const alerts = children(body, 'Alert');
    assert.deepEqual(
      alerts.map((a) => textAt(a, 'Data')),
      ['1201', '1226', '1224'],
    );
    const unenrollment = alerts[1]!;
    assert.equal(textAt(unenrollment, 'Item', 'Meta', 'Type'), 'com.microsoft:mdm.unenrollment.userrequest');
    assert.equal(textAt(unenrollment, 'Item', 'Meta', 'Format'), 'int');
    assert.equal(textAt(unenrollment, 'Item', 'Data'), '1');
    assert.equal(textAt(alerts[2], 'Item', 'Data'), 'none');
    assert.ok(transcript.serverStatuses.some((s) => s.cmdRef === textAt(unenrollment, 'CmdID') && s.cmd === 'Alert' && s.data === '200'));
  });

  it('refuses a server message larger than its MaxMsgSize, and a message with another SessionID', async () => {
    const small = new DeviceSimulator({ baseUrl, ca, token: TOKEN, maxMsgSize: 600 });
    responder = (request) => ({ body: serverMessage(parseSimXml(request.body), 1, [cmd('Replace', '1', item('./Vendor/MSFT/X', 'x'.repeat(600), 'chr'))]) });
    await assert.rejects(small.sync(), /exceeds the device's MaxMsgSize 600/);
    small.close();
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    responder = (request) => ({ body: serverMessage(parseSimXml(request.body), 1, []).replace(/<SessionID>[^<]*</, '<SessionID>FFFFF<') });
    await assert.rejects(device.sync(), /SessionID 'FFFFF'/);
    device.close();
  });

  it('enrolls with the fixture RST and returns the provisioning document; a fault becomes an error', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    const doc = '<wap-provisioningdoc version="1.1"><characteristic type="APPLICATION"><parm name="APPID" value="w7"/></characteristic></wap-provisioningdoc>';
    responder = () => ({
      contentType: 'application/soap+xml; charset=utf-8',
      body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><RequestSecurityTokenResponseCollection xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512"><RequestSecurityTokenResponse><RequestedSecurityToken><BinarySecurityToken xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">${Buffer.from(doc).toString('base64')}</BinarySecurityToken></RequestedSecurityToken></RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection></s:Body></s:Envelope>`,
    });
    assert.equal(await device.enroll({ EnrollmentData: 'blob&1', RequestVersion: '9.0' }), doc);
    const request = received[0]!;
    assert.equal(request.url, '/EnrollmentServer/Enrollment.svc');
    assert.equal(request.headers['content-type'], 'application/soap+xml; charset=utf-8');
    const envelope = parseSimXml(request.body);
    assert.equal(envelope.name, 'Envelope');
    const security = child(child(envelope, 'Header'), 'Security')!;
    assert.equal(Buffer.from(textAt(security, 'BinarySecurityToken')!, 'base64').toString('utf8'), TOKEN);
    assert.equal(textAt(child(envelope, 'Header'), 'To'), `${baseUrl}/EnrollmentServer/Enrollment.svc`);
    const context = new Map<string, string[]>();
    for (const c of children(childAt(envelope, 'Body', 'RequestSecurityToken', 'AdditionalContext'), 'ContextItem')) {
      context.set(c.attributes['Name']!, [...(context.get(c.attributes['Name']!) ?? []), textAt(c, 'Value')!]);
    }
    assert.deepEqual(context.get('DeviceID'), [device.devId]);
    assert.deepEqual(context.get('RequestVersion'), ['9.0']);
    assert.deepEqual(context.get('EnrollmentData'), ['blob&1']);
    assert.deepEqual(context.get('MAC')?.length, 2);

    responder = () => ({
      contentType: 'application/soap+xml; charset=utf-8',
      body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>s:Authentication</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The token was refused &amp; logged.</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>',
    });
    await assert.rejects(device.enroll(), (error: unknown) => {
      assert.ok(error instanceof EnrollmentRefusedError);
      assert.equal(error.subcode, 's:Authentication');
      assert.match(error.message, /The token was refused & logged\./);
      return true;
    });
    device.close();
  });

  it('posts raw bodies with the device headers, overridable', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    responder = () => ({ status: 400, body: 'nope', contentType: 'text/plain' });
    const response = await device.post('<SyncML', { 'Content-Type': 'text/xml', Authorization: '' });
    device.close();
    assert.equal(response.status, 400);
    assert.equal(response.body, 'nope');
    assert.equal(response.headers['content-type'], 'text/plain');
    assert.equal(received[0]!.body, '<SyncML');
    assert.equal(received[0]!.headers['content-type'], 'text/xml');
    assert.equal(received[0]!.headers['authorization'], undefined);
    assert.equal(received[0]!.headers['user-agent'], 'MSFT OMA DM Client/1.2.0.1');
  });
});

describe('the simulated clients honour Retry-After', () => {
  it('reads a 503 or 429 with Retry-After (seconds or an HTTP date) as "try later", and nothing else', () => {
    const now = Date.parse('2026-12-07T04:00:00Z');
    assert.equal(tryLaterOf({ status: 503, headers: { 'retry-after': '7' } }, 'x')?.retryAfterSeconds, 7);
    assert.equal(tryLaterOf({ status: 429, headers: { 'retry-after': 'Mon, 07 Dec 2026 04:01:30 GMT' } }, 'x', now)?.retryAfterSeconds, 90);
    assert.equal(tryLaterOf({ status: 503, headers: { 'retry-after': '0' } }, 'x')?.retryAfterSeconds, 1, 'at least a second');
    assert.equal(tryLaterOf({ status: 503, headers: {} }, 'x'), undefined, 'a 503 without Retry-After is a plain failure');
    assert.equal(tryLaterOf({ status: 500, headers: { 'retry-after': '7' } }, 'x'), undefined);
    assert.equal(tryLaterOf({ status: 503, headers: { 'retry-after': 'soon' } }, 'x'), undefined);
  });

  it('an enrollment answered 503 with Retry-After is a TryLaterError; without it, an EnrollmentHttpError', async () => {
    const device = new DeviceSimulator({ baseUrl, ca, token: TOKEN });
    try {
      responder = () => ({ status: 503, contentType: 'application/soap+xml; charset=utf-8', body: '<s:Envelope/>', headers: { 'retry-after': '12' } });
      await assert.rejects(device.enroll(), (error: unknown) => error instanceof TryLaterError && error.retryAfterSeconds === 12 && error.status === 503);
      responder = () => ({ status: 503, contentType: 'application/soap+xml; charset=utf-8', body: '<s:Envelope/>' });
      await assert.rejects(device.enroll(), EnrollmentHttpError);
    } finally {
      device.close();
    }
  });

  it('the simulation comes back no sooner than asked, spread over up to half as long again; other failures keep the schedule', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 100; i++) {
      const device = retryLaterMs(new TryLaterError({ status: 503, headers: { 'retry-after': '10' } }, 10, 'sync'), random)!;
      assert.ok(device >= 10_000 && device <= 15_000, `a device: between 10 and 15 s, got ${device}`);
      const app = retryLaterMs(new SdkTryLaterError(429, 'tooManyRequests', 'slow down', 4), random)!;
      assert.ok(app >= 4_000 && app <= 6_000, `an app (the SDK's error): between 4 and 6 s, got ${app}`);
    }
    assert.equal(retryLaterMs(new Error('HTTP 500'), random), undefined);
  });
});

describe('sim-xml', () => {
  it('matches by local name across prefixes and namespaces, decodes entities and CDATA, keeps embedded XML as source', () => {
    const root = parseSimXml(
      '<?xml version="1.0"?><!-- c --><S xmlns="SYNCML:SYNCML1.2"><m:Format xmlns:m="syncml:metinf"> int </m:Format><Data>a&amp;b&#x3C;&#60;<![CDATA[<raw>&]]></Data><Data><x a="1">y</x></Data></S>',
    );
    assert.equal(textAt(root, 'Format'), 'int');
    assert.equal(children(root, 'Data')[0]!.text, 'a&b<<<raw>&');
    assert.equal(children(root, 'Data')[1]!.inner, '<x a="1">y</x>');
  });

  it('refuses what is not well-formed', () => {
    assert.throws(() => parseSimXml('<a>AT&T</a>'), /bare '&'/);
    assert.throws(() => parseSimXml('<a>&nbsp;</a>'), /unknown entity/);
    assert.throws(() => parseSimXml('<a><b></a>'), /does not close/);
    assert.throws(() => parseSimXml('<a>'), /never closed/);
  });
});
