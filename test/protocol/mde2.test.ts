import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readDiscoverRequest, writeDiscoverResponse, type DiscoverResponse } from '../../src/protocol/mde2/discovery.ts';
import { ACTION, NS, TOKEN } from '../../src/protocol/mde2/namespaces.ts';
import { writeMamProvisioningDocument, type MamProvisioning } from '../../src/protocol/mde2/provisioning.ts';
import { parseSoapEnvelope, SoapFormatError, writeSoapFault } from '../../src/protocol/mde2/soap.ts';
import { contextValue, decodeUserToken, readRequestSecurityToken, writeRequestSecurityTokenResponse } from '../../src/protocol/mde2/wstep.ts';
import { attributeValue, childElement, childElements, descend, parseXml, type XmlElement } from '../../src/protocol/xml/reader.ts';
import { RST_MAM_JWT_TEMPLATE } from '../../src/simulator/rst-template.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/mde2/${name}`, import.meta.url), 'utf8');
const RST_TEMPLATE = RST_MAM_JWT_TEMPLATE;
const DISCOVER_TEMPLATE = fixture('discover.xml');

const DEVICE_ID = '6B29FC40CA471067B31D00DD010662DA';
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** JWT-shaped (not signed: the codec only carries the token, the validator checks it). */
const JWT = `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64url({ tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', oid: 'o', upn: 'ann@contoso.com' })}.c2lnbmF0dXJl_-x`;

function rst(token: string, options: { valueType?: string } = {}): string {
  let xml = RST_TEMPLATE.replaceAll('{{TOKEN_BASE64}}', token).replaceAll('{{DEVICE_ID}}', DEVICE_ID);
  if (options.valueType) xml = xml.replace(`ValueType="${TOKEN.jwt}"`, `ValueType="${options.valueType}"`);
  return xml;
}

function discover(namespace: string): string {
  return DISCOVER_TEMPLATE.replaceAll('{{DISCOVERY_NS}}', namespace);
}

function child(parent: XmlElement | undefined, ns: string, local: string): XmlElement {
  assert.ok(parent, `no parent for ${local}`);
  const found = childElement(parent, ns, local);
  assert.ok(found, `${parent.local} has no ${local}`);
  return found;
}

function assertSoapFormatError(run: () => unknown, pattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SoapFormatError, `expected SoapFormatError, got ${String(error)}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('MS-MDE2 RequestSecurityToken (MAM, Entra JWT)', () => {
  it('reads the envelope headers', () => {
    const envelope = parseSoapEnvelope(rst(Buffer.from(JWT).toString('base64')));
    assert.equal(envelope.action, ACTION.requestSecurityToken);
    assert.equal(envelope.messageId, 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    assert.equal(envelope.to, 'https://mam.contoso.com:443/EnrollmentServer/Enrollment.svc');
    assert.equal(envelope.bodyContent.local, 'RequestSecurityToken');
  });

  it('decodes the base64 JWT from the wsse:Security header', () => {
    const request = readRequestSecurityToken(parseSoapEnvelope(rst(Buffer.from(JWT).toString('base64'))));
    assert.equal(request.kind, 'RequestSecurityToken');
    assert.equal(request.messageId, 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    assert.deepEqual(request.userToken, { valueType: TOKEN.jwt, jwt: JWT });
    assert.equal(request.tokenType, TOKEN.deviceEnrollmentToken);
    assert.equal(request.requestType, TOKEN.issueRequest);
  });

  it('decodes base64 wrapped over lines with surrounding whitespace', () => {
    const wrapped = `\n        ${Buffer.from(JWT).toString('base64').replace(/(.{64})/g, '$1\n        ')}\n      `;
    const request = readRequestSecurityToken(parseSoapEnvelope(rst(wrapped)));
    assert.equal(request.userToken?.jwt, JWT);
  });

  it('accepts the raw JWT in place of its base64', () => {
    const request = readRequestSecurityToken(parseSoapEnvelope(rst(JWT)));
    assert.equal(request.userToken?.jwt, JWT);
  });

  it('accepts the MS-MDE2 DeviceEnrollmentUserToken ValueType', () => {
    const request = readRequestSecurityToken(parseSoapEnvelope(rst(Buffer.from(JWT).toString('base64'), { valueType: TOKEN.deviceEnrollmentUserToken })));
    assert.deepEqual(request.userToken, { valueType: TOKEN.deviceEnrollmentUserToken, jwt: JWT });
  });

  it('yields an undefined jwt for garbage token content', () => {
    for (const garbage of ['', '   ', 'garbage', 'not base64 at all!', Buffer.from('hello world').toString('base64'), Buffer.from('a.b').toString('base64'), 'a.b', '%%%.%%%.%%%']) {
      const request = readRequestSecurityToken(parseSoapEnvelope(rst(garbage)));
      assert.equal(request.userToken?.valueType, TOKEN.jwt, JSON.stringify(garbage));
      assert.equal(request.userToken.jwt, undefined, JSON.stringify(garbage));
    }
    assert.equal(decodeUserToken(Buffer.from(`  ${JWT}\n`).toString('base64')), JWT, 'whitespace around the decoded JWT is ignored');
  });

  it('finds no user token when the header carries another token type or no wsse:Security', () => {
    const otherType = readRequestSecurityToken(parseSoapEnvelope(rst(JWT, { valueType: 'urn:example:other' })));
    assert.equal(otherType.userToken, undefined);
    const noSecurity = rst(JWT).replace(/<wsse:Security[\s\S]*?<\/wsse:Security>/, '');
    assert.equal(readRequestSecurityToken(parseSoapEnvelope(noSecurity)).userToken, undefined);
  });

  it('reads the AdditionalContext, keeping both MAC values in document order', () => {
    const { context } = readRequestSecurityToken(parseSoapEnvelope(rst(JWT)));
    const expected: Record<string, string> = {
      UXInitiated: 'true',
      HWDevID: 'CF1D12AA5AE42E47D52465E9A71316CAF3AFCC1D3088F230F4D50B371FB2256F',
      Locale: 'en-US',
      TargetedUserLoggedIn: 'true',
      OSEdition: '48',
      DeviceName: 'DESKTOP-OPENMAM',
      DeviceID: DEVICE_ID,
      EnrollmentType: 'Full',
      DeviceType: 'CIMClient_Windows',
      OSVersion: '10.0.22631.4460',
      ApplicationVersion: '10.0.22631.4460',
      NotInOobe: 'true',
      RequestVersion: '5.0',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(contextValue(context, name), value, name);
    assert.deepEqual(
      context.get('MAC')?.map((v) => v.trim()),
      ['00-15-5D-01-0A-1B', '3C-22-FB-9A-44-07'],
    );
    assert.equal(contextValue(context, 'MAC'), '00-15-5D-01-0A-1B');
    assert.equal(contextValue(context, 'EnrollmentData'), undefined);
    assert.equal(context.size, Object.keys(expected).length + 1);
  });

  it('reports the PKCS#10 certificate request (which MAM ignores)', () => {
    const { certificateRequest } = readRequestSecurityToken(parseSoapEnvelope(rst(JWT)));
    assert.ok(certificateRequest);
    assert.equal(certificateRequest.valueType, TOKEN.pkcs10);
    assert.match(certificateRequest.base64, /^MIIC[A-Za-z0-9+/]+=*$/, 'whitespace removed');
    const withoutCsr = rst(JWT).replace(/<wsse:BinarySecurityToken ValueType="[^"]*PKCS10"[\s\S]*?<\/wsse:BinarySecurityToken>/, '');
    assert.equal(readRequestSecurityToken(parseSoapEnvelope(withoutCsr)).certificateRequest, undefined);
  });

  it('refuses another body element with SoapFormatError', () => {
    assertSoapFormatError(() => readRequestSecurityToken(parseSoapEnvelope(discover(NS.discovery))), /RequestSecurityToken/);
    const wrongNamespace = rst(JWT).replace('xmlns:wst="http://docs.oasis-open.org/ws-sx/ws-trust/200512"', 'xmlns:wst="http://docs.oasis-open.org/ws-sx/ws-trust/200502"');
    assertSoapFormatError(() => readRequestSecurityToken(parseSoapEnvelope(wrongNamespace)), /RequestSecurityToken/);
  });

  it('refuses what is not a SOAP 1.2 envelope with SoapFormatError', () => {
    assertSoapFormatError(() => parseSoapEnvelope('<html><body>hello</body></html>'), /SOAP 1\.2 Envelope/);
    assertSoapFormatError(
      () => parseSoapEnvelope(rst(JWT).replace('http://www.w3.org/2003/05/soap-envelope', 'http://schemas.xmlsoap.org/soap/envelope/')),
      /SOAP 1\.2 Envelope/,
    );
    assertSoapFormatError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${NS.soap}"><s:Body/></s:Envelope>`), /Body/);
    assertSoapFormatError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${NS.soap}"><s:Header/></s:Envelope>`), /Body/);
  });

  it('refuses malformed and hostile XML with SoapFormatError', () => {
    assertSoapFormatError(() => parseSoapEnvelope(rst(JWT).slice(0, 2000)), /malformed XML/);
    assertSoapFormatError(() => parseSoapEnvelope(''), /malformed XML/);
    const xxe = rst(JWT).replace('<s:Envelope', '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><s:Envelope').replace(DEVICE_ID, '&xxe;');
    assertSoapFormatError(() => parseSoapEnvelope(xxe), /DOCTYPE/);
  });
});

const PROVISIONING: MamProvisioning = {
  providerId: 'OpenMAM',
  name: 'Contoso & "Friends" <MAM>',
  managementUrl: 'https://mam.contoso.com/ManagementServer/MDM.svc?a=1&b="2"',
  backoff: { connRetryFreq: 6, initialBackoffTimeMs: 30000, maxBackoffTimeMs: 120000 },
  poll: {
    numberOfFirstRetries: 8,
    intervalForFirstSetOfRetries: 15,
    numberOfSecondRetries: 5,
    intervalForSecondSetOfRetries: 60,
    numberOfRemainingScheduledRetries: 0,
    intervalForRemainingScheduledRetries: 1440,
    pollOnLogin: true,
    allUsersPollOnFirstLogin: false,
  },
  aadResourceId: 'api://openmam.contoso.com',
};

function characteristic(parent: XmlElement, type: string): XmlElement {
  const found = childElements(parent, '', 'characteristic').filter((c) => attributeValue(c, 'type') === type);
  assert.equal(found.length, 1, `exactly one characteristic ${type} in ${parent.local}`);
  return found[0]!;
}

function parms(element: XmlElement): Map<string, { value: string | undefined; datatype: string | undefined }> {
  const result = new Map<string, { value: string | undefined; datatype: string | undefined }>();
  for (const p of childElements(element, '', 'parm')) {
    const name = attributeValue(p, 'name');
    assert.ok(name);
    assert.ok(!result.has(name), `duplicate parm ${name}`);
    result.set(name, { value: attributeValue(p, 'value'), datatype: attributeValue(p, 'datatype') });
  }
  return result;
}

describe('MAM provisioning document', () => {
  const doc = parseXml(writeMamProvisioningDocument(PROVISIONING));

  it('is a wap-provisioningdoc 1.1 with only APPLICATION and DMClient', () => {
    assert.equal(doc.local, 'wap-provisioningdoc');
    assert.equal(doc.ns, '');
    assert.equal(attributeValue(doc, 'version'), '1.1');
    assert.deepEqual(
      doc.children.map((c) => attributeValue(c, 'type')),
      ['APPLICATION', 'DMClient'],
    );
  });

  it('has the APPLICATION (w7) parms, escaped values read back exactly', () => {
    const application = parms(characteristic(doc, 'APPLICATION'));
    assert.deepEqual(Object.fromEntries([...application].map(([k, v]) => [k, v.value])), {
      APPID: 'w7',
      'PROVIDER-ID': 'OpenMAM',
      NAME: 'Contoso & "Friends" <MAM>',
      ADDR: 'https://mam.contoso.com/ManagementServer/MDM.svc?a=1&b="2"',
      DEFAULTENCODING: 'application/vnd.syncml.dm+xml',
      CONNRETRYFREQ: '6',
      INITIALBACKOFFTIME: '30000',
      MAXBACKOFFTIME: '120000',
      BACKCOMPATRETRYDISABLED: undefined,
    });
  });

  it('has DMClient/Provider/<PROVIDER-ID>/Poll with datatypes, and AADResourceID', () => {
    const provider = characteristic(characteristic(characteristic(doc, 'DMClient'), 'Provider'), 'OpenMAM');
    const providerParms = parms(provider);
    assert.deepEqual(providerParms.get('AADResourceID'), { value: 'api://openmam.contoso.com', datatype: 'string' });
    assert.deepEqual(Object.fromEntries(parms(characteristic(provider, 'Poll'))), {
      NumberOfFirstRetries: { value: '8', datatype: 'integer' },
      IntervalForFirstSetOfRetries: { value: '15', datatype: 'integer' },
      NumberOfSecondRetries: { value: '5', datatype: 'integer' },
      IntervalForSecondSetOfRetries: { value: '60', datatype: 'integer' },
      NumberOfRemainingScheduledRetries: { value: '0', datatype: 'integer' },
      IntervalForRemainingScheduledRetries: { value: '1440', datatype: 'integer' },
      PollOnLogin: { value: 'true', datatype: 'boolean' },
      AllUsersPollOnFirstLogin: { value: 'false', datatype: 'boolean' },
    });
  });

  it('has no CertificateStore (MAM has no client certificate)', () => {
    const xml = writeMamProvisioningDocument(PROVISIONING);
    assert.doesNotMatch(xml, /CertificateStore/i);
    const all: XmlElement[] = [];
    const walk = (e: XmlElement): void => {
      all.push(e);
      e.children.forEach(walk);
    };
    walk(doc);
    assert.ok(all.every((e) => attributeValue(e, 'type') !== 'CertificateStore'));
  });

  it('leaves out AADResourceID when there is none', () => {
    const without = parseXml(writeMamProvisioningDocument({ ...PROVISIONING, aadResourceId: undefined }));
    const provider = characteristic(characteristic(characteristic(without, 'DMClient'), 'Provider'), 'OpenMAM');
    assert.equal(parms(provider).size, 0);
    assert.ok(characteristic(provider, 'Poll'));
  });

  it('escapes a provider id with & and quotes, which must still equal the DMClient provider name', () => {
    const providerId = `A&B "C" 'D' <E>`;
    const parsed = parseXml(writeMamProvisioningDocument({ ...PROVISIONING, providerId }));
    assert.equal(parms(characteristic(parsed, 'APPLICATION')).get('PROVIDER-ID')?.value, providerId);
    assert.ok(characteristic(characteristic(characteristic(parsed, 'DMClient'), 'Provider'), providerId));
  });
});

describe('RequestSecurityTokenResponse', () => {
  const provisioningDocument = writeMamProvisioningDocument(PROVISIONING);
  const created = new Date('2025-03-01T10:00:00.000Z');
  const xml = writeRequestSecurityTokenResponse({ relatesTo: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749', provisioningDocument, created, lifetimeSeconds: 300 });
  const envelope = parseXml(xml);

  it('has the RSTRC action, RelatesTo and a security timestamp', () => {
    assert.equal(envelope.ns, NS.soap);
    assert.equal(envelope.local, 'Envelope');
    const header = child(envelope, NS.soap, 'Header');
    const action = child(header, NS.addressing, 'Action');
    assert.equal(action.text, ACTION.requestSecurityTokenResponse);
    assert.equal(attributeValue(action, 'mustUnderstand', NS.soap), '1');
    assert.equal(child(header, NS.addressing, 'RelatesTo').text, 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    const security = child(header, NS.wsse, 'Security');
    assert.equal(attributeValue(security, 'mustUnderstand', NS.soap), '1');
    const timestamp = child(security, NS.wsu, 'Timestamp');
    assert.equal(child(timestamp, NS.wsu, 'Created').text, '2025-03-01T10:00:00.000Z');
    assert.equal(child(timestamp, NS.wsu, 'Expires').text, '2025-03-01T10:05:00.000Z');
  });

  it('carries the provisioning document, base64-encoded, as DeviceEnrollmentProvisionDoc', () => {
    const response = descend(envelope, [NS.soap, 'Body'], [NS.wstrust, 'RequestSecurityTokenResponseCollection'], [NS.wstrust, 'RequestSecurityTokenResponse']);
    assert.ok(response);
    assert.equal(child(response, NS.wstrust, 'TokenType').text, TOKEN.deviceEnrollmentToken);
    assert.equal(child(response, NS.enrollment, 'RequestID').text, '0');
    assert.ok(childElement(response, NS.enrollment, 'DispositionMessage'));
    const token = child(child(response, NS.wstrust, 'RequestedSecurityToken'), NS.wsse, 'BinarySecurityToken');
    assert.equal(attributeValue(token, 'ValueType'), TOKEN.provisionDoc);
    assert.equal(attributeValue(token, 'EncodingType'), TOKEN.base64Encoding);
    assert.match(token.text, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(token.text, 'base64').toString('utf8'), provisioningDocument);
  });

  it('leaves out RelatesTo when the request had no MessageID, and escapes one that has markup', () => {
    const withoutRelates = parseXml(writeRequestSecurityTokenResponse({ relatesTo: undefined, provisioningDocument, created, lifetimeSeconds: 60 }));
    assert.equal(childElement(child(withoutRelates, NS.soap, 'Header'), NS.addressing, 'RelatesTo'), undefined);
    const hostile = parseXml(writeRequestSecurityTokenResponse({ relatesTo: 'urn:uuid:x</a:RelatesTo><evil/>&', provisioningDocument, created, lifetimeSeconds: 60 }));
    assert.equal(child(child(hostile, NS.soap, 'Header'), NS.addressing, 'RelatesTo').text, 'urn:uuid:x</a:RelatesTo><evil/>&');
  });
});

describe('SOAP fault', () => {
  it('has the code, subcode, reason and deviceenrollmentserviceerror detail', () => {
    const envelope = parseXml(
      writeSoapFault({
        code: 's:Receiver',
        subcode: 's:Authentication',
        reason: 'The token has expired',
        errorType: 'InvalidEnrollmentData',
        traceId: '7c1a0f8e-2b7e-4a0e-9d53-6a0c7f0e1d2b',
        relatesTo: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
      }),
    );
    const header = child(envelope, NS.soap, 'Header');
    assert.equal(child(header, NS.addressing, 'Action').text, ACTION.fault);
    assert.equal(child(header, NS.addressing, 'RelatesTo').text, 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    const fault = descend(envelope, [NS.soap, 'Body'], [NS.soap, 'Fault']);
    assert.ok(fault);
    const code = child(fault, NS.soap, 'Code');
    assert.equal(child(code, NS.soap, 'Value').text, 's:Receiver');
    assert.equal(descend(code, [NS.soap, 'Subcode'], [NS.soap, 'Value'])?.text, 's:Authentication');
    const text = descend(fault, [NS.soap, 'Reason'], [NS.soap, 'Text']);
    assert.equal(text?.text, 'The token has expired');
    assert.equal(attributeValue(text, 'lang', 'http://www.w3.org/XML/1998/namespace'), 'en-US');
    const detail = descend(fault, [NS.soap, 'Detail'], [NS.enrollment, 'deviceenrollmentserviceerror']);
    assert.ok(detail);
    assert.equal(child(detail, NS.enrollment, 'errortype').text, 'InvalidEnrollmentData');
    assert.equal(child(detail, NS.enrollment, 'message').text, 'The token has expired');
    assert.equal(child(detail, NS.enrollment, 'traceid').text, '7c1a0f8e-2b7e-4a0e-9d53-6a0c7f0e1d2b');
  });

  it('escapes reason, trace id and RelatesTo, and leaves out what is not given', () => {
    const reason = `bad <input> & "quotes" 'here'`;
    const envelope = parseXml(writeSoapFault({ code: 's:Sender', subcode: 's:MessageFormat', reason, traceId: 'a&b<c>', relatesTo: 'x<y>&z' }));
    const fault = descend(envelope, [NS.soap, 'Body'], [NS.soap, 'Fault']);
    assert.ok(fault);
    assert.equal(descend(fault, [NS.soap, 'Code'], [NS.soap, 'Value'])?.text, 's:Sender');
    assert.equal(descend(fault, [NS.soap, 'Code'], [NS.soap, 'Subcode'], [NS.soap, 'Value'])?.text, 's:MessageFormat');
    assert.equal(descend(fault, [NS.soap, 'Reason'], [NS.soap, 'Text'])?.text, reason);
    const detail = descend(fault, [NS.soap, 'Detail'], [NS.enrollment, 'deviceenrollmentserviceerror']);
    assert.ok(detail);
    assert.equal(childElement(detail, NS.enrollment, 'errortype'), undefined);
    assert.equal(child(detail, NS.enrollment, 'message').text, reason);
    assert.equal(child(detail, NS.enrollment, 'traceid').text, 'a&b<c>');
    assert.equal(child(child(envelope, NS.soap, 'Header'), NS.addressing, 'RelatesTo').text, 'x<y>&z');

    const plain = parseXml(writeSoapFault({ code: 's:Sender', subcode: 'a:InvalidSecurity', reason: 'r', traceId: 't' }));
    assert.equal(childElement(child(plain, NS.soap, 'Header'), NS.addressing, 'RelatesTo'), undefined);
  });
});

describe('MS-MDE2 Discover', () => {
  for (const namespace of [NS.discovery, `${NS.discovery}/`]) {
    it(`reads a Discover request with body namespace ${namespace}`, () => {
      const envelope = parseSoapEnvelope(discover(namespace));
      assert.equal(envelope.action, ACTION.discover);
      assert.deepEqual(readDiscoverRequest(envelope), {
        kind: 'Discover',
        messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
        emailAddress: 'user@contoso.com',
        requestVersion: '5.0',
        deviceType: 'CIMClient_Windows',
        applicationVersion: '10.0.22631.4460',
        osEdition: '48',
        authPolicies: ['OnPremise', 'Federated'],
      });
    });
  }

  it('refuses another body element or namespace', () => {
    assertSoapFormatError(() => readDiscoverRequest(parseSoapEnvelope(rst(JWT))), /Discover/);
    assertSoapFormatError(() => readDiscoverRequest(parseSoapEnvelope(discover('http://schemas.microsoft.com/windows/management/2012/01/other'))), /Discover/);
    assertSoapFormatError(() => readDiscoverRequest(parseSoapEnvelope(discover(NS.discovery).replace(/<request[\s\S]*<\/request>/, ''))), /request/);
  });

  it('answers Federated with the service URLs', () => {
    const response: DiscoverResponse = {
      relatesTo: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      enrollmentVersion: '5.0',
      enrollmentPolicyServiceUrl: 'https://mam.contoso.com/EnrollmentServer/Policy.svc',
      enrollmentServiceUrl: 'https://mam.contoso.com/EnrollmentServer/Enrollment.svc?tenant=a&b',
      authenticationServiceUrl: 'https://mam.contoso.com/TermsOfUse?x="1"&y=<2>',
    };
    const envelope = parseXml(writeDiscoverResponse(response));
    const header = child(envelope, NS.soap, 'Header');
    assert.equal(child(header, NS.addressing, 'Action').text, ACTION.discoverResponse);
    assert.equal(child(header, NS.addressing, 'RelatesTo').text, response.relatesTo);
    const result = descend(envelope, [NS.soap, 'Body'], [NS.discovery, 'DiscoverResponse'], [NS.discovery, 'DiscoverResult']);
    assert.ok(result);
    assert.equal(child(result, NS.discovery, 'AuthPolicy').text, 'Federated');
    assert.equal(child(result, NS.discovery, 'EnrollmentVersion').text, '5.0');
    assert.equal(child(result, NS.discovery, 'EnrollmentPolicyServiceUrl').text, response.enrollmentPolicyServiceUrl);
    assert.equal(child(result, NS.discovery, 'EnrollmentServiceUrl').text, response.enrollmentServiceUrl);
    assert.equal(child(result, NS.discovery, 'AuthenticationServiceUrl').text, response.authenticationServiceUrl);

    const withoutRelates = parseXml(writeDiscoverResponse({ ...response, relatesTo: undefined }));
    assert.equal(childElement(child(withoutRelates, NS.soap, 'Header'), NS.addressing, 'RelatesTo'), undefined);
  });
});
