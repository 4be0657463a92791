import type { FastifyReply, FastifyRequest } from 'fastify';
import { isOpenMamError, type ErrorCode } from '../../errors.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import { retryLater } from '../retry-later.ts';

/**
 * What the Graph-shaped admin API shares: the caller (from an Entra app role in the bearer token, scoped to the
 * token's tenant), Graph error bodies `{"error":{"code","message"}}`, and collection envelopes.
 */
export const ADMIN_ROLE = 'OpenMAM.Admin';
export const READER_ROLE = 'OpenMAM.Reader';

export interface AdminCaller {
  tenantId: string;
  objectId: string;
  canWrite: boolean;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF: Partial<Record<ErrorCode, [number, string]>> = {
  malformed_request: [400, 'BadRequest'],
  invalid_configuration: [400, 'BadRequest'],
  not_found: [404, 'ResourceNotFound'],
  conflict: [409, 'Conflict'],
  // RFC 9110 §15.5.13; Graph's code for it is preconditionFailed.
  precondition_failed: [412, 'preconditionFailed'],
  authentication_failed: [401, 'InvalidAuthenticationToken'],
  tenant_not_onboarded: [401, 'InvalidAuthenticationToken'],
  not_authorized: [403, 'Authorization_RequestDenied'],
  payload_too_large: [413, 'RequestEntityTooLarge'],
  // https://learn.microsoft.com/graph/errors: "serviceNotAvailable ... Try the request again after a delay".
  upstream_unavailable: [503, 'serviceNotAvailable'],
};

/** The caller of an admin request, or a GraphError: 401 without a valid token, 403 without the needed app role. */
export async function adminCaller(verifier: TokenVerifier, request: FastifyRequest, access: 'read' | 'write'): Promise<AdminCaller> {
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const identity = await verifier.verify(token);
  const canWrite = identity.roles.includes(ADMIN_ROLE);
  const canRead = canWrite || identity.roles.includes(READER_ROLE);
  if (!canRead || (access === 'write' && !canWrite)) {
    throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges: the ${access === 'write' ? ADMIN_ROLE : `${READER_ROLE} or ${ADMIN_ROLE}`} app role is required.`);
  }
  return { tenantId: identity.tenantId, objectId: identity.objectId, canWrite };
}

export function graphErrorHandler(error: Error & { statusCode?: number; code?: string }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status = 500;
  let code = 'InternalServerError';
  let message = `An internal error occurred (request id ${request.id}).`;
  if (error instanceof GraphError) {
    ({ status, code, message } = error);
  } else if (isOpenMamError(error)) {
    const mapped = STATUS_OF[error.code];
    if (mapped) [status, code] = mapped;
    if (error.expose) message = error.message;
  } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    [status, code, message] = [413, 'RequestEntityTooLarge', 'The request body is too large.'];
  } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    [status, code, message] = [415, 'UnsupportedMediaType', 'Send application/json.'];
  } else if (error.statusCode === 400 || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    [status, code, message] = [400, 'BadRequest', `The body is not valid JSON: ${error.message}`];
  }
  if (status === 503) retryLater(reply);
  if (status >= 500) request.log.error({ err: error }, 'admin request failed');
  return reply.code(status).send({ error: { code, message, innerError: { 'request-id': request.id, date: new Date().toISOString() } } });
}

export function collection(context: string, value: unknown[]): Record<string, unknown> {
  return { '@odata.context': context, value };
}
