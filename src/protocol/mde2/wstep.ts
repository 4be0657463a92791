import { attributeValue, childElement, childElements, descend, type XmlElement } from '../xml/reader.ts';
import { xmlText } from '../xml/writer.ts';
import { ACTION, NS, TOKEN } from './namespaces.ts';
import { SoapFormatError, type SoapEnvelope } from './soap.ts';

/**
 * MS-WSTEP RequestSecurityToken as MS-MDE2 enrollment uses it ([MS-MDE2] 3.4.4), with the MAM variant's rules:
 * the user is authenticated by an Entra token in the WS-Security header, and any PKCS#10 request is ignored.
 */
export interface RequestSecurityToken {
  readonly kind: 'RequestSecurityToken';
  readonly messageId: string | undefined;
  /** The user token as found in the header; `jwt` is the decoded JWT text when the token could be decoded. */
  readonly userToken: UserToken | undefined;
  readonly tokenType: string | undefined;
  readonly requestType: string | undefined;
  /** Present when the client sent a certificate request (MDM); MAM has no certificate and ignores it. */
  readonly certificateRequest: { valueType: string; base64: string } | undefined;
  readonly context: AdditionalContext;
}

export interface UserToken {
  readonly valueType: string;
  readonly jwt: string | undefined;
}

/** ac:AdditionalContext: ContextItem name -> values in document order (MAC may repeat). */
export type AdditionalContext = ReadonlyMap<string, readonly string[]>;

export function contextValue(context: AdditionalContext, name: string): string | undefined {
  const value = context.get(name)?.[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

const USER_TOKEN_TYPES: ReadonlySet<string> = new Set([TOKEN.jwt, TOKEN.deviceEnrollmentUserToken]);
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function readRequestSecurityToken(envelope: SoapEnvelope): RequestSecurityToken {
  const body = envelope.bodyContent;
  if (body.ns !== NS.wstrust || body.local !== 'RequestSecurityToken') {
    throw new SoapFormatError(`expected wst:RequestSecurityToken in the SOAP Body, found ${body.local}`);
  }
  return {
    kind: 'RequestSecurityToken',
    messageId: envelope.messageId,
    userToken: findUserToken(envelope.header),
    tokenType: childElement(body, NS.wstrust, 'TokenType')?.text.trim(),
    requestType: childElement(body, NS.wstrust, 'RequestType')?.text.trim(),
    certificateRequest: findCertificateRequest(body),
    context: readAdditionalContext(body),
  };
}

/** wsse:Security/wsse:BinarySecurityToken carrying the federated user token. */
function findUserToken(header: XmlElement | undefined): UserToken | undefined {
  const security = header ? childElement(header, NS.wsse, 'Security') : undefined;
  if (!security) return undefined;
  const token = childElements(security, NS.wsse, 'BinarySecurityToken').find((t) => USER_TOKEN_TYPES.has(attributeValue(t, 'ValueType') ?? ''));
  if (!token) return undefined;
  return { valueType: attributeValue(token, 'ValueType')!, jwt: decodeUserToken(token.text) };
}

/**
 * The token is base64 of the JWT text; some clients and tools put the JWT itself. Anything that decodes to no
 * JWT-shaped string yields undefined, which the service refuses as an authentication failure.
 */
export function decodeUserToken(content: string): string | undefined {
  const compact = content.replace(/\s+/g, '');
  if (compact.includes('.')) return JWT_SHAPE.test(compact) ? compact : undefined;
  // No separate base64 check: Buffer skips non-base64 characters, and the JWT shape of the result is what counts.
  const decoded = Buffer.from(compact, 'base64').toString('utf8').trim();
  return JWT_SHAPE.test(decoded) ? decoded : undefined;
}

function findCertificateRequest(body: XmlElement): RequestSecurityToken['certificateRequest'] {
  const token = childElement(body, NS.wsse, 'BinarySecurityToken');
  if (!token) return undefined;
  return { valueType: attributeValue(token, 'ValueType') ?? '', base64: token.text.replace(/\s+/g, '') };
}

function readAdditionalContext(body: XmlElement): AdditionalContext {
  const context = new Map<string, string[]>();
  const container = childElement(body, NS.authorization, 'AdditionalContext');
  if (!container) return context;
  for (const item of childElements(container, NS.authorization, 'ContextItem')) {
    const name = attributeValue(item, 'Name');
    if (!name) continue;
    const value = descend(item, [NS.authorization, 'Value'])?.text ?? '';
    const values = context.get(name);
    if (values) values.push(value);
    else context.set(name, [value]);
  }
  return context;
}

export interface RequestSecurityTokenResponse {
  relatesTo: string | undefined;
  /** The wap-provisioningdoc XML; it is sent base64-encoded. */
  provisioningDocument: string;
  created: Date;
  /** How long the response's security timestamp is valid. */
  lifetimeSeconds: number;
}

/** wst:RequestSecurityTokenResponseCollection carrying the provisioning document ([MS-MDE2] 3.4.4.2.1). */
export function writeRequestSecurityTokenResponse(response: RequestSecurityTokenResponse): string {
  const expires = new Date(response.created.getTime() + response.lifetimeSeconds * 1000);
  const relatesTo = response.relatesTo ? `<a:RelatesTo>${xmlText(response.relatesTo)}</a:RelatesTo>` : '';
  const document = Buffer.from(response.provisioningDocument, 'utf8').toString('base64');
  return (
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:u="${NS.wsu}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${ACTION.requestSecurityTokenResponse}</a:Action>${relatesTo}` +
    `<o:Security s:mustUnderstand="1" xmlns:o="${NS.wsse}"><u:Timestamp u:Id="_0">` +
    `<u:Created>${response.created.toISOString()}</u:Created><u:Expires>${expires.toISOString()}</u:Expires>` +
    `</u:Timestamp></o:Security></s:Header>` +
    `<s:Body><RequestSecurityTokenResponseCollection xmlns="${NS.wstrust}"><RequestSecurityTokenResponse>` +
    `<TokenType>${TOKEN.deviceEnrollmentToken}</TokenType>` +
    `<DispositionMessage xmlns="${NS.enrollment}"></DispositionMessage>` +
    `<RequestedSecurityToken><BinarySecurityToken ValueType="${TOKEN.provisionDoc}" EncodingType="${TOKEN.base64Encoding}" xmlns="${NS.wsse}">` +
    `${document}</BinarySecurityToken></RequestedSecurityToken>` +
    `<RequestID xmlns="${NS.enrollment}">0</RequestID>` +
    `</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection></s:Body></s:Envelope>`
  );
}
