import { XmlError, childElement, parseXml, type XmlElement } from '../xml/reader.ts';
import { xmlAttr, xmlText } from '../xml/writer.ts';
import { ACTION, NS } from './namespaces.ts';

/** A SOAP 1.2 envelope with the WS-Addressing headers MS-MDE2 uses. */
export interface SoapEnvelope {
  action: string | undefined;
  messageId: string | undefined;
  to: string | undefined;
  header: XmlElement | undefined;
  /** The first element inside s:Body. */
  bodyContent: XmlElement;
}

/** Raised for any request that is not a SOAP message we can read; maps to the `s:MessageFormat` fault. */
export class SoapFormatError extends Error {
  override readonly name = 'SoapFormatError';
}

export function parseSoapEnvelope(xml: string): SoapEnvelope {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    throw new SoapFormatError(`malformed XML: ${error instanceof XmlError ? error.message : String(error)}`);
  }
  if (root.ns !== NS.soap || root.local !== 'Envelope') throw new SoapFormatError('not a SOAP 1.2 Envelope');
  const header = childElement(root, NS.soap, 'Header');
  const body = childElement(root, NS.soap, 'Body');
  const bodyContent = body?.children[0];
  if (!bodyContent) throw new SoapFormatError('SOAP Body is missing or empty');
  const addressing = (local: string): string | undefined => (header ? childElement(header, NS.addressing, local)?.text.trim() : undefined);
  return { action: addressing('Action'), messageId: addressing('MessageID'), to: addressing('To'), header, bodyContent };
}

/** The subcodes MS-MDE2 defines for enrollment faults (each maps to an HRESULT 0x80180001-7 on the client). */
export type FaultSubcode =
  | 's:MessageFormat'
  | 's:Authentication'
  | 's:Authorization'
  | 's:CertificateRequest'
  | 's:EnrollmentServer'
  | 'a:InternalServiceFault'
  | 'a:InvalidSecurity';

/** The `errortype` values of the deviceenrollmentserviceerror detail. */
export type EnrollmentErrorType =
  | 'DeviceCapReached'
  | 'DeviceNotSupported'
  | 'NotSupported'
  | 'NotEligibleToRenew'
  | 'InMaintenance'
  | 'UserLicense'
  | 'InvalidEnrollmentData';

export interface SoapFault {
  /** Sender: the request was wrong; Receiver: the server failed. */
  code: 's:Sender' | 's:Receiver';
  subcode: FaultSubcode;
  reason: string;
  errorType?: EnrollmentErrorType;
  traceId: string;
  relatesTo?: string;
}

/** MS-MDE2 fault with the `deviceenrollmentserviceerror` detail the Windows client shows and logs. */
export function writeSoapFault(fault: SoapFault): string {
  const relatesTo = fault.relatesTo ? `<a:RelatesTo>${xmlText(fault.relatesTo)}</a:RelatesTo>` : '';
  const errorType = fault.errorType ? `<errortype>${fault.errorType}</errortype>` : '';
  return (
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${ACTION.fault}</a:Action>${relatesTo}</s:Header>` +
    `<s:Body><s:Fault>` +
    `<s:Code><s:Value>${fault.code}</s:Value><s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${xmlText(fault.reason)}</s:Text></s:Reason>` +
    `<s:Detail><deviceenrollmentserviceerror xmlns="${NS.enrollment}">${errorType}` +
    `<message>${xmlText(fault.reason)}</message><traceid>${xmlAttr(fault.traceId)}</traceid></deviceenrollmentserviceerror></s:Detail>` +
    `</s:Fault></s:Body></s:Envelope>`
  );
}
