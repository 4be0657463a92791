import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SyncMLFormatError, parseSyncML } from '../../src/protocol/syncml/reader.ts';
import { ALERT, STATUS, type Command, type SyncHdr, type SyncMLMessage } from '../../src/protocol/syncml/types.ts';
import { assembleSyncML, commandSize, envelopeSize, writeCommand, writeSyncML } from '../../src/protocol/syncml/writer.ts';
import { DEFAULT_XML_LIMITS } from '../../src/protocol/xml/reader.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/syncml/${name}`, import.meta.url), 'utf8');
const CLIENT_FIRST = fixture('client-first-package.xml');
const DEVICE_RESPONSE = fixture('device-response.xml');
const UNENROLLMENT = fixture('unenrollment-alert.xml');
const MORE_MESSAGES = fixture('more-messages-alert.xml');

const DEVICE_ID = '6B29FC40CA471067B31D00DD010662DA';
const SERVER_URL = 'https://mam.contoso.com/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA';

function refuses(xml: string, pattern?: RegExp): void {
  assert.throws(
    () => parseSyncML(xml),
    (error: unknown) => {
      assert.ok(error instanceof SyncMLFormatError, `expected SyncMLFormatError, got ${String(error)}`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

/** A minimal device message around `body` (SyncBody content). */
function deviceMessage(body: string, header = '<MsgID>1</MsgID>'): string {
  return (
    '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>' +
    `${header}<Target><LocURI>https://s</LocURI></Target><Source><LocURI>dev</LocURI></Source></SyncHdr>` +
    `<SyncBody>${body}</SyncBody></SyncML>`
  );
}

const SERVER_HEADER: SyncHdr = { verDtd: '1.2', verProto: 'DM/1.2', sessionId: '1A', msgId: '1', target: DEVICE_ID, source: SERVER_URL };

describe('parseSyncML: fixtures', () => {
  it("reads a Windows MAM client's first package in document order", () => {
    const message = parseSyncML(CLIENT_FIRST);
    assert.deepEqual(message.header, {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1A',
      msgId: '1',
      target: SERVER_URL,
      source: DEVICE_ID,
      maxMsgSize: 524288,
    });
    assert.equal(message.final, true);
    const devInfo = (node: string, data: string) => ({ source: `./DevInfo/${node}`, meta: { format: 'chr' }, data });
    assert.deepEqual(message.body, [
      { kind: 'Alert', cmdId: '1', data: ALERT.clientInitiatedSession, items: [] },
      { kind: 'Alert', cmdId: '2', data: ALERT.clientEvent, items: [{ meta: { type: 'com.microsoft/MDM/LoginStatus' }, data: 'user' }] },
      {
        kind: 'Alert',
        cmdId: '3',
        data: ALERT.clientEvent,
        items: [
          {
            meta: { type: 'com.microsoft/MDM/AADUserToken' },
            data: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhbm5AY29udG9zby5jb20ifQ.c2lnbmF0dXJl',
          },
        ],
      },
      {
        kind: 'Replace',
        cmdId: '4',
        items: [
          devInfo('DevId', DEVICE_ID),
          devInfo('Man', 'Microsoft Corporation'),
          devInfo('Mod', 'Surface Laptop 5'),
          devInfo('DmV', '1.3'),
          devInfo('Lang', 'en-US'),
        ],
      },
    ]);
  });

  it('reads a device response: statuses, Results with several items, Atomic 507 with 216 statuses', () => {
    const message = parseSyncML(DEVICE_RESPONSE);
    assert.equal(message.header.msgId, '2');
    assert.equal(message.header.maxMsgSize, undefined);
    assert.equal('maxMsgSize' in message.header, false);
    assert.equal(message.final, true);
    assert.deepEqual(
      message.body.map((c) => [c.kind, c.cmdId]),
      [
        ['Status', '1'],
        ['Status', '2'],
        ['Results', '3'],
        ['Status', '4'],
        ['Status', '5'],
        ['Status', '6'],
      ],
    );
    assert.deepEqual(message.body[0], { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: STATUS.ok });
    assert.deepEqual(message.body[1], {
      kind: 'Status',
      cmdId: '2',
      msgRef: '1',
      cmdRef: 'f3a1c2d4-0b1e-4c55-9d0e-2b7f4a8e6c11',
      cmd: 'Get',
      data: '200',
    });
    assert.deepEqual(message.body[2], {
      kind: 'Results',
      cmdId: '3',
      msgRef: '1',
      cmdRef: 'f3a1c2d4-0b1e-4c55-9d0e-2b7f4a8e6c11',
      items: [
        { source: './DevDetail/SwV', meta: { format: 'chr', type: 'text/plain' }, data: '10.0.22631.3296' },
        // Data is not trimmed; entities decode.
        { source: './DevDetail/Ext/Microsoft/DeviceName', meta: { format: 'chr', type: 'text/plain' }, data: `  Ann's PC & "Lab" <3>  ` },
        // Format xml: escaped XML text and CDATA both give the XML as text.
        { source: './Vendor/MSFT/DeviceStatus/OS/Mode', meta: { format: 'xml' }, data: '<Mode edition="Enterprise">0</Mode>' },
        {
          source: './Vendor/MSFT/EnterpriseModernAppManagement/AppInventoryResults',
          meta: { format: 'xml' },
          data: '<AppInventoryResults><Package Name="Contoso.App" Version="1.0.0.0"/></AppInventoryResults>',
        },
        { source: './DevDetail/Ext', meta: { format: 'node' }, data: 'Microsoft/WLANMACAddress' },
      ],
    });
    assert.deepEqual(message.body.slice(3), [
      { kind: 'Status', cmdId: '4', msgRef: '1', cmdRef: '5', cmd: 'Atomic', data: STATUS.atomicFailed },
      {
        kind: 'Status',
        cmdId: '5',
        msgRef: '1',
        cmdRef: '6',
        cmd: 'Replace',
        targetRefs: ['./Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled'],
        data: STATUS.atomicRollbackOk,
      },
      {
        kind: 'Status',
        cmdId: '6',
        msgRef: '1',
        cmdRef: '7',
        cmd: 'Replace',
        targetRefs: ['./Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength'],
        data: STATUS.atomicRollbackOk,
      },
    ]);
  });

  it('reads the 1226 user unenrollment alert', () => {
    const message = parseSyncML(UNENROLLMENT);
    assert.equal(message.header.sessionId, '2B');
    assert.deepEqual(message.body, [
      { kind: 'Alert', cmdId: '1', data: '1201', items: [] },
      {
        kind: 'Alert',
        cmdId: '2',
        data: ALERT.genericAlert,
        items: [{ meta: { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int' }, data: '1' }],
      },
    ]);
  });

  it('reads Alert 1222 (next message) after a 213 chunk status', () => {
    const message = parseSyncML(MORE_MESSAGES);
    assert.equal(message.header.msgId, '3');
    assert.deepEqual(message.body.at(-1), { kind: 'Alert', cmdId: '3', data: ALERT.nextMessage, items: [] });
    assert.deepEqual(message.body[1], {
      kind: 'Status',
      cmdId: '2',
      msgRef: '2',
      cmdRef: '9',
      cmd: 'Replace',
      targetRefs: ['./Vendor/MSFT/Policy/ConfigOperations/ADMXInstall/Contoso/Policy/ContosoAdmx'],
      data: STATUS.chunkedItemAccepted,
    });
  });
});

describe('parseSyncML: variants clients send', () => {
  it('accepts the SyncML namespace in any case, and Meta children unqualified', () => {
    const lower = CLIENT_FIRST.replace('xmlns="SYNCML:SYNCML1.2"', 'xmlns="syncml:syncml1.2"').replaceAll(' xmlns="syncml:metinf"', '');
    assert.notEqual(lower, CLIENT_FIRST);
    assert.deepEqual(parseSyncML(lower), parseSyncML(CLIENT_FIRST));
  });

  it('accepts a prefixed SyncML namespace and a prefixed metinf namespace', () => {
    const xml =
      '<s:SyncML xmlns:s="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf"><s:SyncHdr><s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto>' +
      '<s:SessionID>0</s:SessionID><s:MsgID>1</s:MsgID><s:Target><s:LocURI>t</s:LocURI></s:Target><s:Source><s:LocURI>d</s:LocURI></s:Source>' +
      '<s:Meta><m:MaxMsgSize>1000</m:MaxMsgSize></s:Meta></s:SyncHdr><s:SyncBody><s:Get><s:CmdID>1</s:CmdID><s:Item><s:Target>' +
      '<s:LocURI>./DevDetail/SwV</s:LocURI></s:Target><s:Meta><m:Format>chr</m:Format></s:Meta></s:Item></s:Get><s:Final/></s:SyncBody></s:SyncML>';
    const message = parseSyncML(xml);
    assert.equal(message.header.sessionId, '0', 'SessionID 0 is legal');
    assert.equal(message.header.maxMsgSize, 1000);
    assert.deepEqual(message.body, [{ kind: 'Get', cmdId: '1', items: [{ target: './DevDetail/SwV', meta: { format: 'chr' } }] }]);
    assert.equal(message.final, true);
  });

  it('trims identifiers but not Data; skips elements it does not model; reads MoreData and a message without Final', () => {
    const message = parseSyncML(
      deviceMessage(
        '<Replace>\n  <CmdID> 7 </CmdID><NoResp/><Meta><Format xmlns="syncml:metinf"> int </Format><MaxObjSize xmlns="syncml:metinf">9</MaxObjSize></Meta>' +
          '<Item><Target><LocURI>\n ./Vendor/MSFT/X \n</LocURI></Target><Meta><Size xmlns="syncml:metinf">5</Size></Meta><Data>\n a \r\n</Data><MoreData/></Item></Replace>',
        '<MsgID> 4 </MsgID><Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type></Meta><Data>x</Data></Cred>',
      ),
    );
    assert.equal(message.header.msgId, '4');
    assert.equal(message.final, false);
    // XML end-of-line handling turns a literal CRLF into LF.
    assert.deepEqual(message.body, [{ kind: 'Replace', cmdId: '7', meta: { format: 'int' }, items: [{ target: './Vendor/MSFT/X', data: '\n a \n', moreData: true }] }]);
  });

  it('reads nested Atomic and Sequence', () => {
    const message = parseSyncML(
      deviceMessage(
        '<Atomic><CmdID>1</CmdID><Meta/><Replace><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target><Data>1</Data></Item></Replace>' +
          '<Sequence><CmdID>3</CmdID><Add><CmdID>4</CmdID><Item><Target><LocURI>./b</LocURI></Target></Item></Add>' +
          '<Atomic><CmdID>5</CmdID><Delete><CmdID>6</CmdID><Item><Target><LocURI>./c</LocURI></Target></Item></Delete></Atomic></Sequence></Atomic><Final/>',
      ),
    );
    assert.deepEqual(message.body, [
      {
        kind: 'Atomic',
        cmdId: '1',
        commands: [
          { kind: 'Replace', cmdId: '2', items: [{ target: './a', data: '1' }] },
          {
            kind: 'Sequence',
            cmdId: '3',
            commands: [
              { kind: 'Add', cmdId: '4', items: [{ target: './b' }] },
              { kind: 'Atomic', cmdId: '5', commands: [{ kind: 'Delete', cmdId: '6', items: [{ target: './c' }] }] },
            ],
          },
        ],
      },
    ]);
  });
});

describe('parseSyncML: refusals', () => {
  it('refuses a DOCTYPE and external entities (XXE)', () => {
    refuses(`<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${deviceMessage('<Final/>')}`, /DOCTYPE/);
    refuses(deviceMessage('<Alert><CmdID>1</CmdID><Data>&x;</Data></Alert>'), /malformed XML/);
  });

  it('refuses malformed XML', () => {
    refuses('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>', /malformed XML/);
    refuses(deviceMessage('<Alert><CmdID>1</CmdID></Data></Alert>'), /malformed XML/);
    refuses('', /malformed XML/);
  });

  it('refuses what is not SyncML 1.2', () => {
    refuses('<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"/>', /not a SyncML 1\.2 message.*Envelope/);
    refuses(CLIENT_FIRST.replace('xmlns="SYNCML:SYNCML1.2"', ''), /not a SyncML 1\.2 message/);
    refuses(CLIENT_FIRST.replace('xmlns="SYNCML:SYNCML1.2"', 'xmlns="SYNCML:SYNCML1.1"'), /not a SyncML 1\.2 message/);
  });

  it('refuses a message without SyncHdr or SyncBody', () => {
    refuses('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Final/></SyncBody></SyncML>', /no SyncHdr/);
    refuses(deviceMessage('').replace('<SyncBody></SyncBody>', ''), /no SyncBody/);
    refuses(deviceMessage('').replace('</SyncML>', '<Extra/></SyncML>'), /unexpected element <Extra>/);
  });

  it('refuses a missing or empty MsgID, SessionID or Source LocURI', () => {
    refuses(deviceMessage('<Final/>', ''), /SyncHdr MsgID is missing/);
    refuses(deviceMessage('<Final/>', '<MsgID>  </MsgID>'), /SyncHdr MsgID is missing or empty/);
    refuses(deviceMessage('<Final/>').replace('<SessionID>1</SessionID>', ''), /SyncHdr SessionID/);
    refuses(deviceMessage('<Final/>').replace('<Source><LocURI>dev</LocURI></Source>', ''), /SyncHdr Source LocURI/);
    refuses(deviceMessage('<Final/>').replace('<Source><LocURI>dev</LocURI></Source>', '<Source><LocURI> </LocURI></Source>'), /SyncHdr Source LocURI/);
    refuses(deviceMessage('<Final/>').replace('<Source><LocURI>dev</LocURI></Source>', '<Source/>'), /SyncHdr Source has no LocURI/);
  });

  it('refuses an invalid MaxMsgSize', () => {
    refuses(CLIENT_FIRST.replace('524288', '-5'), /MaxMsgSize is not a positive integer/);
    refuses(CLIENT_FIRST.replace('524288', '1e6'), /MaxMsgSize is not a positive integer/);
  });

  it('refuses an unknown element in SyncBody and says which', () => {
    refuses(deviceMessage('<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Copy><CmdID>2</CmdID></Copy><Final/>'), /unknown element <Copy> \(namespace SYNCML:SYNCML1\.2\) in SyncBody/);
    refuses(deviceMessage('<x:Alert xmlns:x="urn:other"><CmdID>1</CmdID></x:Alert>'), /unknown element <Alert> \(namespace urn:other\) in SyncBody/);
    refuses(deviceMessage('<Atomic><CmdID>9</CmdID><Frob/></Atomic>'), /unknown element <Frob>.* in Atomic 9/);
    refuses(deviceMessage('<Atomic><CmdID>9</CmdID><Status/></Atomic>'), /Status is not allowed inside Atomic 9/);
    refuses(deviceMessage('<Final/><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>'), /after Final/);
  });

  it('refuses a command without CmdID', () => {
    refuses(deviceMessage('<Replace><Item><Target><LocURI>./a</LocURI></Target></Item></Replace>'), /Replace in SyncBody has no CmdID/);
    refuses(deviceMessage('<Status><CmdID> </CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>'), /Status in SyncBody has no CmdID/);
    refuses(deviceMessage('<Sequence><CmdID>4</CmdID><Get><Item/></Get></Sequence>'), /Get in Sequence 4 has no CmdID/);
  });

  it('refuses incomplete commands', () => {
    refuses(deviceMessage('<Alert><CmdID>1</CmdID></Alert>'), /Alert 1 Data/);
    refuses(deviceMessage('<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>'), /Status 1 Data/);
    refuses(deviceMessage('<Results><CmdID>1</CmdID><MsgRef>1</MsgRef></Results>'), /Results 1 CmdRef/);
    refuses(deviceMessage('<Replace><CmdID>1</CmdID><Item><Target/></Item></Replace>'), /Replace Item Target has no LocURI/);
    refuses(deviceMessage('<Replace><CmdID>1</CmdID><Item><Data><a/></Data></Item></Replace>'), /Data contains the element <a>.*escaped text or CDATA/);
  });

  it('refuses Atomic nested deeper than the XML depth limit', () => {
    const depth = DEFAULT_XML_LIMITS.maxDepth;
    let body = '';
    for (let i = 0; i < depth; i += 1) body += `<Atomic><CmdID>${i}</CmdID>`;
    for (let i = 0; i < depth; i += 1) body += '</Atomic>';
    refuses(deviceMessage(body), /malformed XML: .*nested deeper/);
  });
});

const STRANGE = `AT&T <b>"quoted" 'single'</b> ]]> & done`;
const XML_PAYLOAD =
  '<wap-provisioningdoc><characteristic type="VPNv2"><parm name="Server" value="vpn.contoso.com &amp; co"/></characteristic></wap-provisioningdoc>';
const MULTIBYTE = 'Zoë — 日本語 🎉 Ω';

const ROUND_TRIP: Record<string, SyncMLMessage> = {
  'server package with nested Atomic/Sequence and awkward Data': {
    header: { ...SERVER_HEADER, maxMsgSize: 65536 },
    body: [
      { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: STATUS.authenticationAccepted },
      { kind: 'Status', cmdId: '2', msgRef: '1', cmdRef: '4', cmd: 'Replace', data: '200', targetRefs: ['./a', './b'], sourceRefs: ['./c'] },
      {
        kind: 'Atomic',
        cmdId: 'a1b2',
        commands: [
          {
            kind: 'Replace',
            cmdId: 'a1b2-1',
            meta: { format: 'int', type: 'text/plain' },
            items: [{ target: './Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', meta: { format: 'int', type: 'text/plain' }, data: '0' }],
          },
          {
            kind: 'Sequence',
            cmdId: 'a1b2-2',
            commands: [
              { kind: 'Add', cmdId: 's1', items: [{ target: './Vendor/MSFT/X/Title', meta: { format: 'chr' }, data: STRANGE }] },
              { kind: 'Exec', cmdId: 's2', items: [{ target: './Vendor/MSFT/RemoteWipe/doWipe', data: '' }] },
              { kind: 'Atomic', cmdId: 's3', commands: [] },
            ],
          },
        ],
      },
      { kind: 'Replace', cmdId: 'xml', items: [{ target: './Vendor/MSFT/VPNv2/Profile', meta: { format: 'xml' }, data: XML_PAYLOAD }] },
      { kind: 'Get', cmdId: 'g', items: [{ target: './DevDetail/SwV' }, { target: './DevInfo/Lang' }] },
      { kind: 'Delete', cmdId: 'd', items: [{ target: './Vendor/MSFT/Policy/Config/Camera/AllowCamera' }] },
      { kind: 'Alert', cmdId: 'al', data: '1222', items: [] },
    ],
    final: true,
  },
  'device message with Results, MoreData and whitespace Data': {
    header: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: '0', msgId: '2', target: SERVER_URL, source: DEVICE_ID, maxMsgSize: 524288 },
    body: [
      { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: '200', items: [{ source: './x', data: 'detail' }] },
      {
        kind: 'Results',
        cmdId: '2',
        msgRef: '1',
        cmdRef: 'g',
        meta: { format: 'chr' },
        items: [
          { source: './DevDetail/SwV', meta: { type: 'text/plain' }, data: `  ${MULTIBYTE}\n\t ` },
          { source: './Big', meta: { format: 'b64' }, data: 'QUJD', moreData: true },
          { source: './CR', data: 'a\rb\r\nc' },
        ],
      },
      { kind: 'Results', cmdId: '3', msgRef: '', cmdRef: 'g2', items: [] },
      { kind: 'Alert', cmdId: '4', data: '1226', items: [{ meta: { type: 'com.microsoft:mdm.unenrollment.userrequest', format: 'int' }, data: '1' }] },
    ],
    final: false,
  },
  'empty body': { header: SERVER_HEADER, body: [], final: true },
};

describe('writeSyncML', () => {
  it('writes exactly the shape Windows expects', () => {
    const xml = writeSyncML({
      header: { ...SERVER_HEADER, maxMsgSize: 1024 },
      body: [
        { kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: '200' },
        { kind: 'Replace', cmdId: '2', items: [{ target: './Vendor/MSFT/A', meta: { format: 'int', type: 'text/plain' }, data: '1' }] },
        { kind: 'Atomic', cmdId: '3', commands: [{ kind: 'Get', cmdId: '4', items: [{ target: './B' }] }] },
      ],
      final: true,
    });
    assert.equal(
      xml,
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A</SessionID><MsgID>1</MsgID>' +
        `<Target><LocURI>${DEVICE_ID}</LocURI></Target><Source><LocURI>https://mam.contoso.com/ManagementServer/MDM.svc?mode=Maintenance&amp;Platform=WoA</LocURI></Source>` +
        '<Meta><MaxMsgSize xmlns="syncml:metinf">1024</MaxMsgSize></Meta></SyncHdr><SyncBody>' +
        '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>' +
        '<Replace><CmdID>2</CmdID><Item><Target><LocURI>./Vendor/MSFT/A</LocURI></Target>' +
        '<Meta><Format xmlns="syncml:metinf">int</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta><Data>1</Data></Item></Replace>' +
        '<Atomic><CmdID>3</CmdID><Get><CmdID>4</CmdID><Item><Target><LocURI>./B</LocURI></Target></Item></Get></Atomic>' +
        '<Final/></SyncBody></SyncML>',
    );
  });

  it('escapes every value, Data included', () => {
    const xml = writeSyncML({
      header: { ...SERVER_HEADER, target: 'a<b' },
      body: [{ kind: 'Replace', cmdId: '<1>', items: [{ target: './X&Y', data: 'AT&T <3>' }] }],
      final: false,
    });
    assert.match(xml, /<Data>AT&amp;T &lt;3&gt;<\/Data>/);
    assert.match(xml, /<LocURI>\.\/X&amp;Y<\/LocURI>/);
    assert.match(xml, /<CmdID>&lt;1&gt;<\/CmdID>/);
    assert.match(xml, /<LocURI>a&lt;b<\/LocURI>/);
    assert.doesNotMatch(xml, /<Final\/>/);
  });

  it('writes Status children in DTD order and omits what is absent', () => {
    const status = writeCommand({ kind: 'Status', cmdId: '5', msgRef: '2', cmdRef: '3', cmd: 'Add', data: '418', targetRefs: ['./t'], sourceRefs: ['./s'], items: [{ data: 'x' }] });
    assert.equal(
      status,
      '<Status><CmdID>5</CmdID><MsgRef>2</MsgRef><CmdRef>3</CmdRef><Cmd>Add</Cmd><TargetRef>./t</TargetRef><SourceRef>./s</SourceRef><Data>418</Data><Item><Data>x</Data></Item></Status>',
    );
    assert.equal(writeCommand({ kind: 'Get', cmdId: '1', meta: {}, items: [{ target: './a', meta: {} }] }), '<Get><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item></Get>');
  });
});

describe('writeSyncML -> parseSyncML round trip', () => {
  for (const [name, message] of Object.entries(ROUND_TRIP)) {
    it(name, () => {
      assert.deepEqual(parseSyncML(writeSyncML(message)), message);
    });
  }

  for (const [name, xml] of Object.entries({ CLIENT_FIRST, DEVICE_RESPONSE, UNENROLLMENT, MORE_MESSAGES })) {
    it(`fixture ${name}`, () => {
      const message = parseSyncML(xml);
      assert.deepEqual(parseSyncML(writeSyncML(message)), message);
    });
  }

  it('keeps quotes, ampersands and angle brackets of Data, and an XML payload as text', () => {
    const message = ROUND_TRIP['server package with nested Atomic/Sequence and awkward Data']!;
    const xml = writeSyncML(message);
    assert.ok(xml.includes('AT&amp;T &lt;b&gt;"quoted" \'single\'&lt;/b&gt; ]]&gt; &amp; done'));
    assert.ok(xml.includes('&lt;wap-provisioningdoc&gt;'), 'the XML payload is escaped text, not markup');
    assert.ok(!xml.includes('CDATA'));
  });
});

describe('commandSize and envelopeSize', () => {
  it('add up to the byte length of the written message (multi-byte UTF-8 included)', () => {
    for (const message of [...Object.values(ROUND_TRIP), parseSyncML(DEVICE_RESPONSE), parseSyncML(CLIENT_FIRST)]) {
      const bytes = Buffer.byteLength(writeSyncML(message), 'utf8');
      const sum = message.body.reduce((total, command) => total + commandSize(command), envelopeSize(message.header, message.final));
      assert.equal(sum, bytes);
      assert.equal(envelopeSize(message.header, message.final), Buffer.byteLength(writeSyncML({ ...message, body: [] }), 'utf8'));
    }
  });

  it('counts bytes, not characters', () => {
    const command: Command = { kind: 'Replace', cmdId: '1', items: [{ target: './X', data: MULTIBYTE }] };
    const text = writeCommand(command);
    assert.ok(commandSize(command) > text.length);
    assert.equal(commandSize(command), Buffer.byteLength(text, 'utf8'));
    const header: SyncHdr = { ...SERVER_HEADER, source: 'https://mam.contoso.com/é' };
    assert.equal(envelopeSize(header, false), Buffer.byteLength(writeSyncML({ header, body: [], final: false }), 'utf8'));
  });

  it('assembleSyncML joins written commands into the same message', () => {
    for (const message of Object.values(ROUND_TRIP)) {
      assert.equal(assembleSyncML(message.header, message.body.map(writeCommand), message.final), writeSyncML(message));
    }
  });
});
