import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseXml, childElement, childElements, attributeValue, type XmlElement } from '../../src/protocol/xml/reader.ts';
import { RST_MAM_JWT_TEMPLATE } from '../../src/simulator/rst-template.ts';

/**
 * Messages as a Windows client sends them, built from the fixtures in test/fixtures/mde2 and the simulator's RST (src/simulator/rst-template.ts) (MS-MDE2 examples and what
 * real clients were seen to send). Tests read responses with the same hardened reader the server uses only to walk
 * the tree; every expectation is on names and values Windows reads.
 */
const RST_TEMPLATE = RST_MAM_JWT_TEMPLATE;
const DISCOVER_TEMPLATE = readFileSync(new URL('../fixtures/mde2/discover.xml', import.meta.url), 'utf8');

export interface EnrollmentRequestOptions {
  /** The JWT; sent base64-encoded in the BinarySecurityToken, as Windows does. */
  token: string;
  deviceId: string;
  messageId?: string;
  /** Extra AdditionalContext items (e.g. EnrollmentData), appended after the standard ones. */
  context?: Record<string, string>;
  /** Rewrites of the standard items' values, e.g. { EnrollmentType: 'Device', RequestVersion: '9.0' }. */
  replaceContext?: Record<string, string>;
}

export function mamEnrollmentRequest(options: EnrollmentRequestOptions): string {
  let xml = RST_TEMPLATE.replaceAll('{{TOKEN_BASE64}}', Buffer.from(options.token, 'utf8').toString('base64'))
    .replaceAll('{{DEVICE_ID}}', options.deviceId)
    .replace(/urn:uuid:[0-9a-f-]{36}/, options.messageId ?? `urn:uuid:${randomUUID()}`);
  for (const [name, value] of Object.entries(options.replaceContext ?? {})) {
    const item = new RegExp(`(<ac:ContextItem Name="${name}">\\s*<ac:Value>)[^<]*(</ac:Value>)`);
    if (!item.test(xml)) throw new Error(`fixture has no context item ${name}`);
    xml = xml.replace(item, `$1${value}$2`);
  }
  const extra = Object.entries(options.context ?? {})
    .map(([name, value]) => `<ac:ContextItem Name="${name}"><ac:Value>${value.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ac:Value></ac:ContextItem>`)
    .join('');
  return xml.replace('</ac:AdditionalContext>', `${extra}</ac:AdditionalContext>`);
}

export function discoverRequest(messageId = `urn:uuid:${randomUUID()}`, namespace = 'http://schemas.microsoft.com/windows/management/2012/01/enrollment'): string {
  return DISCOVER_TEMPLATE.replaceAll('{{DISCOVERY_NS}}', namespace).replace(/urn:uuid:[0-9a-f-]{36}/, messageId);
}

export const SOAP_HEADERS = { 'content-type': 'application/soap+xml; charset=utf-8' };

const SOAP = 'http://www.w3.org/2003/05/soap-envelope';

export interface ParsedFault {
  code: string;
  subcode: string;
  reason: string;
  errorType: string | undefined;
  traceId: string;
}

function find(element: XmlElement, local: string): XmlElement | undefined {
  if (element.local === local) return element;
  for (const child of element.children) {
    const hit = find(child, local);
    if (hit) return hit;
  }
  return undefined;
}

export function readFault(xml: string): ParsedFault | undefined {
  const root = parseXml(xml);
  const fault = find(root, 'Fault');
  if (!fault) return undefined;
  const code = childElement(fault, SOAP, 'Code')!;
  const detail = find(fault, 'deviceenrollmentserviceerror');
  return {
    code: childElement(code, SOAP, 'Value')!.text,
    subcode: find(childElement(code, SOAP, 'Subcode')!, 'Value')!.text,
    reason: find(fault, 'Text')!.text,
    errorType: detail ? find(detail, 'errortype')?.text : undefined,
    traceId: (detail && find(detail, 'traceid')?.text) ?? '',
  };
}

/** The wap-provisioningdoc inside an RSTRC, as parm maps per characteristic path (e.g. "DMClient/Provider/OpenMAM/Poll"). */
export function readProvisioningDocument(xml: string): { raw: string; characteristics: Map<string, Map<string, { value: string | undefined; datatype: string | undefined }>>; relatesTo: string | undefined } {
  const root = parseXml(xml);
  const token = find(root, 'BinarySecurityToken');
  if (!token) throw new Error('no BinarySecurityToken in the response');
  const raw = Buffer.from(token.text, 'base64').toString('utf8');
  const characteristics = new Map<string, Map<string, { value: string | undefined; datatype: string | undefined }>>();
  const walk = (element: XmlElement, prefix: string): void => {
    for (const c of childElements(element, '', 'characteristic')) {
      const name = `${prefix}${attributeValue(c, 'type')}`;
      const parms = new Map<string, { value: string | undefined; datatype: string | undefined }>();
      for (const p of childElements(c, '', 'parm')) parms.set(attributeValue(p, 'name')!, { value: attributeValue(p, 'value'), datatype: attributeValue(p, 'datatype') });
      characteristics.set(name, parms);
      walk(c, `${name}/`);
    }
  };
  walk(parseXml(raw), '');
  return { raw, characteristics, relatesTo: find(root, 'RelatesTo')?.text };
}
