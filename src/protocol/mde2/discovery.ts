import { childElement, childElements, type XmlElement } from '../xml/reader.ts';
import { xmlText } from '../xml/writer.ts';
import { ACTION, NS } from './namespaces.ts';
import { SoapFormatError, type SoapEnvelope } from './soap.ts';

/** [MS-MDE2] 3.1.4.1 Discover. MAM clients skip discovery; MDM clients and tools probe it. */
export interface DiscoverRequest {
  readonly kind: 'Discover';
  readonly messageId: string | undefined;
  readonly emailAddress: string | undefined;
  readonly requestVersion: string | undefined;
  readonly deviceType: string | undefined;
  readonly applicationVersion: string | undefined;
  readonly osEdition: string | undefined;
  readonly authPolicies: readonly string[];
}

/** Clients send the body namespace with and without a trailing slash. */
function isDiscoveryNamespace(ns: string): boolean {
  return ns === NS.discovery || ns === `${NS.discovery}/`;
}

function field(request: XmlElement, local: string): string | undefined {
  const value = childElement(request, request.ns, local)?.text.trim();
  return value === '' ? undefined : value;
}

export function readDiscoverRequest(envelope: SoapEnvelope): DiscoverRequest {
  const body = envelope.bodyContent;
  if (body.local !== 'Discover' || !isDiscoveryNamespace(body.ns)) {
    throw new SoapFormatError(`expected Discover in the SOAP Body, found ${body.local}`);
  }
  const request = childElement(body, body.ns, 'request');
  if (!request) throw new SoapFormatError('Discover has no request element');
  const policies = childElement(request, request.ns, 'AuthPolicies');
  return {
    kind: 'Discover',
    messageId: envelope.messageId,
    emailAddress: field(request, 'EmailAddress'),
    requestVersion: field(request, 'RequestVersion'),
    deviceType: field(request, 'DeviceType'),
    applicationVersion: field(request, 'ApplicationVersion'),
    osEdition: field(request, 'OSEdition'),
    authPolicies: policies ? childElements(policies, policies.ns, 'AuthPolicy').map((p) => p.text.trim()) : [],
  };
}

export interface DiscoverResponse {
  relatesTo: string | undefined;
  enrollmentVersion: string;
  enrollmentPolicyServiceUrl: string;
  enrollmentServiceUrl: string;
  /** Required for Federated: where the client gets its token (our Terms of Use / authentication page). */
  authenticationServiceUrl: string;
}

/** Always Federated: OpenMAM authenticates users with Entra ID tokens only. */
export function writeDiscoverResponse(response: DiscoverResponse): string {
  const relatesTo = response.relatesTo ? `<a:RelatesTo>${xmlText(response.relatesTo)}</a:RelatesTo>` : '';
  return (
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${ACTION.discoverResponse}</a:Action>${relatesTo}</s:Header>` +
    `<s:Body><DiscoverResponse xmlns="${NS.discovery}"><DiscoverResult>` +
    `<AuthPolicy>Federated</AuthPolicy>` +
    `<EnrollmentVersion>${xmlText(response.enrollmentVersion)}</EnrollmentVersion>` +
    `<EnrollmentPolicyServiceUrl>${xmlText(response.enrollmentPolicyServiceUrl)}</EnrollmentPolicyServiceUrl>` +
    `<EnrollmentServiceUrl>${xmlText(response.enrollmentServiceUrl)}</EnrollmentServiceUrl>` +
    `<AuthenticationServiceUrl>${xmlText(response.authenticationServiceUrl)}</AuthenticationServiceUrl>` +
    `</DiscoverResult></DiscoverResponse></s:Body></s:Envelope>`
  );
}
