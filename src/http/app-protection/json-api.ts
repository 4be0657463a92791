import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { userMessage } from '../../core/app-protection/messages.ts';
import { CHECKIN_SECONDS } from '../../core/app-protection/managed-apps.ts';
import { isOpenMamError, OpenMamError, type ErrorCode } from '../../errors.ts';
import { isUserIdentity, type TokenVerifier, type VerifiedIdentity } from '../../identity/identity.ts';
import { retryLater } from '../retry-later.ts';

/**
 * What the JSON endpoints of the app protection service share (`/mam/v1`, `/mtd/v1`, `/access/v1`): bearer
 * authentication, app-role checks for service callers, and error bodies `{"error":{"code","message"}}` with a
 * status a client can act on.
 */
export const THREAT_CONNECTOR_ROLE = 'OpenMAM.ThreatConnector';
export const GATEWAY_ROLE = 'OpenMAM.Gateway';
export const COMPLIANCE_REPORTER_ROLE = 'OpenMAM.ComplianceReporter';

/** Every body here is a few hundred bytes; a user token in an access request is the largest part. */
export const JSON_BODY_LIMIT = 32 * 1024;

export async function bearerIdentity(verifier: TokenVerifier, request: FastifyRequest): Promise<VerifiedIdentity> {
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token) throw new OpenMamError('authentication_failed', 'an Authorization: Bearer token is required');
  return verifier.verify(token);
}

/** A service caller (connector, gateway): its token must carry `role`, else 403. */
export async function serviceCaller(verifier: TokenVerifier, request: FastifyRequest, role: string): Promise<VerifiedIdentity> {
  const identity = await bearerIdentity(verifier, request);
  if (!identity.roles.includes(role)) throw new OpenMamError('not_authorized', `the ${role} app role is required`);
  return identity;
}

/**
 * A managed app's caller must be a user: a device's or an application's own token has no work account to protect
 * (Entra user tokens carry `upn` or `preferred_username`; device and app-only tokens carry neither).
 */
export async function userCaller(verifier: TokenVerifier, request: FastifyRequest): Promise<VerifiedIdentity> {
  const identity = await bearerIdentity(verifier, request);
  if (!isUserIdentity(identity)) throw new OpenMamError('not_authorized', "a user's token is required, not a device's or an application's");
  return identity;
}

const STATUS_OF: Partial<Record<ErrorCode, [number, string]>> = {
  malformed_request: [400, 'badRequest'],
  authentication_failed: [401, 'invalidToken'],
  not_authorized: [403, 'forbidden'],
  tenant_not_onboarded: [403, 'tenantNotOnboarded'],
  not_found: [404, 'notFound'],
  conflict: [409, 'conflict'],
  device_already_enrolled: [409, 'wrongAccount'],
  account_not_set_up: [403, 'accountNotSetUp'],
  identity_mismatch: [403, 'identityMismatch'],
  payload_too_large: [413, 'payloadTooLarge'],
  upstream_unavailable: [503, 'serviceUnavailable'],
};

export function jsonErrorHandler(error: FastifyError | OpenMamError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status = 500;
  let code = 'internalError';
  let message = `internal error (request id ${request.id})`;
  const extra: Record<string, unknown> = {};
  if (isOpenMamError(error)) {
    const mapped = STATUS_OF[error.code];
    if (mapped) [status, code] = mapped;
    // A finer reason (e.g. appIdMismatch, unableToRegister) is the code a client acts on.
    if (error.reason !== undefined) code = error.reason;
    if (error.expose) message = error.message;
    if (error.reason === 'unableToRegister') extra['userMessage'] = userMessage('unableToRegister');
    if (error.code === 'device_already_enrolled') extra['userMessage'] = userMessage('wrongAccount');
    if (error.code === 'account_not_set_up') extra['userMessage'] = userMessage('accountNotSetUp');
    if (error.code === 'tenant_not_onboarded') {
      // Spec: an app of a tenant that is not onboarded comes back in 24 hours.
      extra['nextCheckInSeconds'] = CHECKIN_SECONDS.notOnboarded;
      void reply.header('retry-after', String(CHECKIN_SECONDS.notOnboarded));
    }
    if (error.code === 'authentication_failed') void reply.header('www-authenticate', 'Bearer');
  } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    [status, code, message] = [413, 'payloadTooLarge', 'the request body is too large'];
  } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    [status, code, message] = [415, 'unsupportedMediaType', 'send application/json'];
  } else if (error.statusCode === 400 || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    [status, code, message] = [400, 'badRequest', `the body is not valid JSON: ${error.message}`];
  }
  if (status === 503) retryLater(reply);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send({ error: { code, message, ...extra, requestId: request.id } });
}
