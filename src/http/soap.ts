import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOpenMamError, type ErrorCode } from '../errors.ts';
import type { Refusal, TryLaterReply } from './load-shedding.ts';
import { retryLater } from './retry-later.ts';
import { SoapFormatError, writeSoapFault, type EnrollmentErrorType, type FaultSubcode, type SoapFault } from '../protocol/mde2/soap.ts';

export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

/**
 * SOAP endpoints (discovery, enrollment) share this: the body arrives as text, and every failure, from a body over
 * the limit to an exception in core, leaves as an MS-MDE2 SOAP fault with a trace id that is also in the log.
 * Faults go out with HTTP 200: that is what Windows clients were seen to expect from enrollment servers; only the
 * InMaintenance fault goes with 503 and Retry-After (retry-later.ts), the HTTP way of saying "come back later".
 */
export function registerSoapBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(['application/soap+xml', 'text/xml'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
}

interface FaultMapping {
  code: SoapFault['code'];
  subcode: FaultSubcode;
  errorType?: EnrollmentErrorType;
}

const FAULTS: Record<ErrorCode, FaultMapping> = {
  malformed_request: { code: 's:Sender', subcode: 's:MessageFormat' },
  unsupported_action: { code: 's:Sender', subcode: 's:MessageFormat' },
  payload_too_large: { code: 's:Sender', subcode: 's:MessageFormat' },
  authentication_failed: { code: 's:Sender', subcode: 's:Authentication' },
  not_authorized: { code: 's:Sender', subcode: 's:Authorization' },
  tenant_not_onboarded: { code: 's:Sender', subcode: 's:Authorization', errorType: 'NotSupported' },
  device_not_supported: { code: 's:Sender', subcode: 's:Authorization', errorType: 'DeviceNotSupported' },
  device_already_enrolled: { code: 's:Sender', subcode: 's:Authorization', errorType: 'NotSupported' },
  account_not_set_up: { code: 's:Sender', subcode: 's:Authorization' },
  identity_mismatch: { code: 's:Sender', subcode: 's:Authorization' },
  invalid_enrollment_data: { code: 's:Sender', subcode: 's:Authorization', errorType: 'InvalidEnrollmentData' },
  not_found: { code: 's:Sender', subcode: 's:MessageFormat' },
  conflict: { code: 's:Receiver', subcode: 's:EnrollmentServer' },
  precondition_failed: { code: 's:Receiver', subcode: 's:EnrollmentServer' },
  invalid_configuration: { code: 's:Receiver', subcode: 's:EnrollmentServer' },
  upstream_unavailable: { code: 's:Receiver', subcode: 's:EnrollmentServer', errorType: 'InMaintenance' },
  internal: { code: 's:Receiver', subcode: 'a:InternalServiceFault' },
};

/** Fastify's own refusals (body too large, bad content type) arrive as errors with these codes. */
function fastifyErrorCode(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'payload_too_large';
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) return 'malformed_request';
  return undefined;
}

export function faultFor(error: unknown, traceId: string, relatesTo?: string): { fault: SoapFault; code: ErrorCode } {
  let code: ErrorCode = 'internal';
  let reason = 'The enrollment server could not process the request.';
  let errorType: EnrollmentErrorType | undefined;
  if (isOpenMamError(error)) {
    code = error.code;
    if (error.expose) reason = error.message;
    else if (code === 'upstream_unavailable') reason = 'The enrollment server is in maintenance; try again later.';
    // A refusal whose reason is an MS-MDE2 fault type of its own (core/enrollment.ts DEVICE_CAP_REACHED).
    if (error.reason === 'DeviceCapReached') errorType = error.reason;
  } else if (error instanceof SoapFormatError) {
    code = 'malformed_request';
    reason = `The request is not a valid SOAP message: ${error.message}`;
  } else {
    const fastifyCode = fastifyErrorCode(error);
    if (fastifyCode) {
      code = fastifyCode;
      reason = fastifyCode === 'payload_too_large' ? 'The request body is too large.' : 'The request must be application/soap+xml.';
    }
  }
  const mapping = FAULTS[code];
  return { code, fault: { ...mapping, ...(errorType ? { errorType } : {}), reason, traceId, ...(relatesTo ? { relatesTo } : {}) } };
}

export function sendSoap(reply: FastifyReply, xml: string): FastifyReply {
  return reply.code(200).header('content-type', SOAP_CONTENT_TYPE).send(xml);
}

/** The MessageID of the SOAP request being served, so that a fault can say which message it answers. */
const messageIds = new WeakMap<FastifyRequest, string>();

export function rememberMessageId(request: FastifyRequest, messageId: string | undefined): void {
  if (messageId) messageIds.set(request, messageId);
}

/** Error handler for a SOAP scope: logs with the trace id and answers with the fault; `onFault` hears its code. */
export function soapErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply, onFault?: (code: ErrorCode) => void): FastifyReply {
  const { fault, code } = faultFor(error, request.id, messageIds.get(request));
  onFault?.(code);
  const level = code === 'internal' || code === 'upstream_unavailable' ? 'error' : 'warn';
  request.log[level]({ traceId: request.id, errorCode: code, subcode: fault.subcode, err: error }, `SOAP fault: ${fault.reason}`);
  // In maintenance (database or identity provider unreachable): the InMaintenance fault, and for HTTP the 503 that
  // tells a client or load balancer to come back, with Retry-After.
  if (code === 'upstream_unavailable') return retryLater(reply).header('content-type', SOAP_CONTENT_TYPE).send(writeSoapFault(fault));
  return sendSoap(reply, writeSoapFault(fault));
}

/**
 * The "try later" of the SOAP endpoints when load is shed or the client is over its rate (load-shedding.ts): the same
 * InMaintenance fault with 503 and Retry-After as during a database outage, the answer MS-MDE2 clients know.
 */
export function soapTryLater(refusal: Refusal, requestId: string): TryLaterReply {
  const reason = refusal.reason === 'rate_limited' ? 'Too many enrollment requests from this device; try again later.' : 'The enrollment server is busy; try again later.';
  const fault: SoapFault = { ...FAULTS.upstream_unavailable, reason, traceId: requestId };
  return { statusCode: 503, contentType: SOAP_CONTENT_TYPE, body: writeSoapFault(fault) };
}
