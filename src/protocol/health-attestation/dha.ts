import { attributeValue, childElement, parseXml, XmlError, type XmlElement } from '../xml/reader.ts';
import { xmlText } from '../xml/writer.ts';

/**
 * The Device Health Attestation (DHA) validation exchange between an MDM server and a DHA service, as the
 * HealthAttestation CSP reference describes it (learn.microsoft.com/windows/client-management/mdm/healthattestation-csp,
 * "Windows 10 Device HealthAttestation", steps 5-8) and [MS-DHA] (learn.microsoft.com/openspecs/windows_protocols/ms-dha):
 *
 * - the device's `./Vendor/MSFT/HealthAttestation/Certificate` node answers DHA-Data: base64 of an XML document that
 *   carries `Claims` (the device's signed snapshot, bound to the nonce the MDM replaced) and `HealthCertificateBlob`
 *   (the encrypted health certificate the DHA service issued at boot), both base64;
 * - the MDM adds the nonce it issued and POSTs a `HealthCertificateValidationRequest` to the service's
 *   `/DeviceHealthAttestation/ValidateHealthCertificate/v3`;
 * - the service answers a `HealthCertificateValidationResponse` (DHA-Report V3 schema): `ErrorCode` 0 with
 *   `HealthCertificateProperties` when it could decrypt and verify the certificate against the claims and nonce.
 *
 * Pure: strings in, typed values out; every XML goes through the hardened reader (no DTD, bounded).
 */

export const DHA_VALIDATION_REQUEST_NS = 'http://schemas.microsoft.com/windows/security/healthcertificate/validation/request/v3';
export const DHA_VALIDATION_RESPONSE_NS = 'http://schemas.microsoft.com/windows/security/healthcertificate/validation/response/v3';
/** The path of the validation endpoint on a DHA service (DHA-Cloud and on-premises alike). */
export const DHA_VALIDATE_PATH = '/DeviceHealthAttestation/ValidateHealthCertificate/v3';
/** Microsoft's DHA-Cloud (the CSP's default HASEndpoint). */
export const DHA_CLOUD_URL = 'https://has.spserv.microsoft.com';

/** DHA-Data and reports are a few KB; anything far larger is not one. */
const MAX_DHA_DATA_CHARS = 256 * 1024;
const DHA_XML_LIMITS = { maxDepth: 8, maxElements: 500, maxTextLength: MAX_DHA_DATA_CHARS };
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The CSP's Nonce: hex, 8 to 32 bytes. */
const NONCE = /^(?:[0-9A-Fa-f]{2}){8,32}$/;

export class DhaFormatError extends Error {
  override readonly name = 'DhaFormatError';
}

/** What the device forwarded (DHA-Data): two base64 blobs. */
export interface DeviceHealthData {
  claims: string;
  healthCertificateBlob: string;
}

/** A DHA-Report V3 (HealthCertificatePublicProperties_T), booleans as booleans, counters as numbers. */
export interface DhaReport {
  issued: string;
  aikPresent: boolean;
  resetCount: number;
  restartCount: number;
  depPolicy: number;
  bitLockerStatus: number;
  bootManagerRevListVersion: number;
  codeIntegrityRevListVersion: number;
  secureBootEnabled: boolean;
  bootDebuggingEnabled: boolean;
  osKernelDebuggingEnabled: boolean;
  codeIntegrityEnabled: boolean;
  testSigningEnabled: boolean;
  safeMode: boolean;
  winPE: boolean;
  elamDriverLoaded: boolean;
  vsmEnabled: boolean;
  pcrHashAlgorithmId: number;
  bootAppSvn: number;
  bootManagerSvn: number;
  tpmVersion: number;
  pcr0: string;
  ciPolicy?: string;
  sbcpHash?: string;
  bootRevListInfo?: string;
  osRevListInfo?: string;
  /** Elements named under HealthStatusMismatchFlags whose value is true (the service saw an integrity mismatch). */
  healthStatusMismatchFlags?: string[];
}

export type DhaValidationResponse =
  | { kind: 'report'; report: DhaReport }
  /** The service answered, and refused: ErrorCode not 0, or no properties (the certificate could not be verified). */
  | { kind: 'refused'; errorCode: number; errorMessage: string; healthStatusMismatchFlags?: string[] };

/** Whether `nonce` is one the CSP takes (hex, 8-32 bytes). */
export function isDhaNonce(nonce: string): boolean {
  return NONCE.test(nonce);
}

function base64Value(element: XmlElement | undefined, name: string): string {
  const value = element?.text.replace(/\s+/g, '') ?? '';
  if (value === '') throw new DhaFormatError(`${name}: missing or empty`);
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new DhaFormatError(`${name}: not base64`);
  return value;
}

/** First child element by local name, whatever its namespace (the device's document names none we rely on). */
function childByName(parent: XmlElement, local: string): XmlElement | undefined {
  return parent.children.find((c) => c.local === local);
}

/**
 * The Certificate node's value (base64 DHA-Data) read into its Claims and HealthCertificateBlob. Refuses what is not
 * base64, not XML, or lacks either blob.
 */
export function readDeviceHealthData(certificate: string): DeviceHealthData {
  const compact = certificate.replace(/\s+/g, '');
  if (compact === '' || compact.length > MAX_DHA_DATA_CHARS) throw new DhaFormatError('Certificate: empty or too large');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw new DhaFormatError('Certificate: not base64');
  const xml = Buffer.from(compact, 'base64').toString('utf8').replace(/^\uFEFF/, '');
  let root: XmlElement;
  try {
    root = parseXml(xml, DHA_XML_LIMITS);
  } catch (error) {
    throw new DhaFormatError(`Certificate: not well-formed XML (${error instanceof XmlError ? error.message : String(error)})`);
  }
  return { claims: base64Value(childByName(root, 'Claims'), 'Claims'), healthCertificateBlob: base64Value(childByName(root, 'HealthCertificateBlob'), 'HealthCertificateBlob') };
}

/** The request the MDM POSTs to the DHA service: the device's blobs with the nonce the MDM issued (CSP step 6). */
export function writeValidationRequest(input: { nonce: string } & DeviceHealthData): string {
  if (!isDhaNonce(input.nonce)) throw new DhaFormatError('Nonce: must be hex, 8 to 32 bytes');
  for (const [name, value] of [['Claims', input.claims], ['HealthCertificateBlob', input.healthCertificateBlob]] as const) {
    if (value === '' || value.length % 4 !== 0 || !BASE64.test(value)) throw new DhaFormatError(`${name}: not base64`);
  }
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<HealthCertificateValidationRequest ProtocolVersion="3" xmlns="${DHA_VALIDATION_REQUEST_NS}">` +
    `<Nonce>${xmlText(input.nonce)}</Nonce>` +
    `<Claims>${xmlText(input.claims)}</Claims>` +
    `<HealthCertificateBlob>${xmlText(input.healthCertificateBlob)}</HealthCertificateBlob>` +
    `</HealthCertificateValidationRequest>`
  );
}

function text(parent: XmlElement, name: string): string {
  const element = childElement(parent, DHA_VALIDATION_RESPONSE_NS, name);
  if (!element) throw new DhaFormatError(`HealthCertificateProperties/${name}: missing`);
  return element.text.trim();
}

function optionalHex(parent: XmlElement, name: string): string | undefined {
  const element = childElement(parent, DHA_VALIDATION_RESPONSE_NS, name);
  if (!element) return undefined;
  const value = element.text.trim();
  if (value === '') return undefined;
  if (!/^[0-9A-Fa-f]+$/.test(value) || value.length % 2 !== 0) throw new DhaFormatError(`HealthCertificateProperties/${name}: not hexBinary`);
  return value.toUpperCase();
}

/** Boolean_T: exactly `true` or `false` (the schema's pattern). */
function bool(parent: XmlElement, name: string): boolean {
  const value = text(parent, name);
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new DhaFormatError(`HealthCertificateProperties/${name}: must be true or false`);
}

function unsigned(parent: XmlElement, name: string): number {
  const value = text(parent, name);
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffff_ffff) throw new DhaFormatError(`HealthCertificateProperties/${name}: must be an unsigned 32-bit integer`);
  return Number(value);
}

function mismatchFlags(root: XmlElement): string[] | undefined {
  const flags = childElement(root, DHA_VALIDATION_RESPONSE_NS, 'HealthStatusMismatchFlags');
  if (!flags) return undefined;
  return flags.children.filter((c) => c.ns === DHA_VALIDATION_RESPONSE_NS && c.text.trim() === 'true').map((c) => c.local);
}

/**
 * The service's answer. A well-formed `HealthCertificateValidationResponse` in the V3 namespace with ErrorCode 0 and
 * every required property of the schema is a report; a well-formed one with another ErrorCode (or none of the
 * properties) is a refusal; anything else (not XML, another root or namespace, a property missing or of the wrong
 * type) throws DhaFormatError: the answer is not a report and nothing of it may be trusted.
 */
export function readValidationResponse(xml: string): DhaValidationResponse {
  if (xml.length > MAX_DHA_DATA_CHARS) throw new DhaFormatError('response: too large');
  let root: XmlElement;
  try {
    root = parseXml(xml.replace(/^\uFEFF/, ''), DHA_XML_LIMITS);
  } catch (error) {
    throw new DhaFormatError(`response: not well-formed XML (${error instanceof XmlError ? error.message : String(error)})`);
  }
  if (root.local !== 'HealthCertificateValidationResponse' || root.ns !== DHA_VALIDATION_RESPONSE_NS) {
    throw new DhaFormatError(`response: expected HealthCertificateValidationResponse in ${DHA_VALIDATION_RESPONSE_NS}, got ${root.local} in '${root.ns}'`);
  }
  const errorCodeText = attributeValue(root, 'ErrorCode')?.trim();
  if (errorCodeText === undefined || !/^-?\d{1,10}$/.test(errorCodeText)) throw new DhaFormatError('response: ErrorCode missing or not an integer');
  const errorCode = Number(errorCodeText);
  const errorMessage = (attributeValue(root, 'ErrorMessage') ?? '').slice(0, 1000);
  const flags = mismatchFlags(root);
  const properties = childElement(root, DHA_VALIDATION_RESPONSE_NS, 'HealthCertificateProperties');
  if (errorCode !== 0 || !properties) {
    return { kind: 'refused', errorCode, errorMessage: errorMessage || (properties ? '' : 'no HealthCertificateProperties'), ...(flags ? { healthStatusMismatchFlags: flags } : {}) };
  }
  const issued = text(properties, 'Issued');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(issued) || Number.isNaN(Date.parse(issued))) {
    throw new DhaFormatError('HealthCertificateProperties/Issued: must be an xs:dateTime');
  }
  const pcr0 = text(properties, 'PCR0');
  if (!/^[0-9A-Fa-f]*$/.test(pcr0) || pcr0.length % 2 !== 0) throw new DhaFormatError('HealthCertificateProperties/PCR0: not hexBinary');
  const report: DhaReport = {
    issued,
    aikPresent: bool(properties, 'AIKPresent'),
    resetCount: unsigned(properties, 'ResetCount'),
    restartCount: unsigned(properties, 'RestartCount'),
    depPolicy: unsigned(properties, 'DEPPolicy'),
    bitLockerStatus: unsigned(properties, 'BitlockerStatus'),
    bootManagerRevListVersion: unsigned(properties, 'BootManagerRevListVersion'),
    codeIntegrityRevListVersion: unsigned(properties, 'CodeIntegrityRevListVersion'),
    secureBootEnabled: bool(properties, 'SecureBootEnabled'),
    bootDebuggingEnabled: bool(properties, 'BootDebuggingEnabled'),
    osKernelDebuggingEnabled: bool(properties, 'OSKernelDebuggingEnabled'),
    codeIntegrityEnabled: bool(properties, 'CodeIntegrityEnabled'),
    testSigningEnabled: bool(properties, 'TestSigningEnabled'),
    safeMode: bool(properties, 'SafeMode'),
    winPE: bool(properties, 'WinPE'),
    elamDriverLoaded: bool(properties, 'ELAMDriverLoaded'),
    vsmEnabled: bool(properties, 'VSMEnabled'),
    pcrHashAlgorithmId: unsigned(properties, 'PCRHashAlgorithmID'),
    bootAppSvn: unsigned(properties, 'BootAppSVN'),
    bootManagerSvn: unsigned(properties, 'BootManagerSVN'),
    tpmVersion: unsigned(properties, 'TpmVersion'),
    pcr0: pcr0.toUpperCase(),
  };
  const optional = { ciPolicy: 'CIPolicy', sbcpHash: 'SBCPHash', bootRevListInfo: 'BootRevListInfo', osRevListInfo: 'OSRevListInfo' } as const;
  for (const [key, name] of Object.entries(optional) as [keyof typeof optional, string][]) {
    const value = optionalHex(properties, name);
    if (value !== undefined) report[key] = value;
  }
  if (flags && flags.length > 0) report.healthStatusMismatchFlags = flags;
  return { kind: 'report', report };
}
