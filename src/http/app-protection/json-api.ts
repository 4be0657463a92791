import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError, onRequestHookHandler, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TSchema } from 'typebox';
import { type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorBody, PATTERN_MEANINGS } from '../../../packages/contract/src/schemas.ts';
import { userMessage } from '../../core/app-protection/messages.ts';
import { CHECKIN_SECONDS } from '../../core/app-protection/managed-apps.ts';
import { isOpenMamError, OpenMamError, type ErrorCode } from '../../errors.ts';
import { isUserIdentity, type TokenVerifier, type VerifiedIdentity } from '../../identity/identity.ts';
import type { Refusal, TryLaterReply } from '../load-shedding.ts';
import { retryLater } from '../retry-later.ts';
import { bearerToken } from '../bearer-token.ts';

/**
 * What the JSON surfaces of the app protection service share (`/mam/v1`, `/mtd/v1`, `/access/v1`): each is one
 * encapsulated Fastify scope set up by `jsonSurface`, with
 * - schemas from @openmam/contract, validated by Fastify's Ajv, set in app.ts to neither coerce nor silently remove unknown
 *   properties: a body is what the contract says or a 400 naming the field);
 * - one authentication hook: every route declares in `config.appProtectionAuth` what its caller must be, the hook
 *   verifies the bearer token once, before the body is read, and hands the identity to the handler;
 * - one error handler driven by a complete code-to-status table: `{"error":{"code","message",...}}`.
 */
export const THREAT_CONNECTOR_ROLE = 'OpenMAM.ThreatConnector';
export const GATEWAY_ROLE = 'OpenMAM.Gateway';
export const COMPLIANCE_REPORTER_ROLE = 'OpenMAM.ComplianceReporter';

/** Every body here is a few hundred bytes; a user token in an access request is the largest part. */
export const JSON_BODY_LIMIT = 32 * 1024;

/** Who may call a route: a user (a managed app's work account), or a service holding an app role. */
export type CallerRequirement = { kind: 'user' } | { kind: 'role'; role: string };

export const USER_CALLER: CallerRequirement = { kind: 'user' };
export const roleCaller = (role: string): CallerRequirement => ({ kind: 'role', role });

/** A route's `config`: who may call it, and its "try later" when load is shed (load-shedding.ts). */
export function surfaceRoute(caller: CallerRequirement): { appProtectionAuth: CallerRequirement; tryLater: typeof jsonTryLater } {
  return { appProtectionAuth: caller, tryLater: jsonTryLater };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route of an app protection JSON surface (checked when the route is added). */
    appProtectionAuth?: CallerRequirement;
  }
  interface FastifyRequest {
    /** The verified caller of an app protection JSON route; null before its surface's hook ran. */
    appProtectionCaller: VerifiedIdentity | null;
  }
}

/** The caller the surface's hook verified; a route outside a surface has none, which is a bug, not a client error. */
export function callerOf(request: FastifyRequest): VerifiedIdentity {
  if (request.appProtectionCaller === null) throw new OpenMamError('internal', `no verified caller on ${request.routeOptions.url ?? request.url}`);
  return request.appProtectionCaller;
}

async function bearerIdentity(verifier: TokenVerifier, request: FastifyRequest): Promise<VerifiedIdentity> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new OpenMamError('authentication_failed', 'an Authorization: Bearer token is required');
  return verifier.verify(token);
}

/** What the token proves must meet the route's requirement; nothing the caller writes beside it counts. */
async function verifiedCaller(verifier: TokenVerifier, request: FastifyRequest, requirement: CallerRequirement): Promise<VerifiedIdentity> {
  const identity = await bearerIdentity(verifier, request);
  if (requirement.kind === 'role') {
    if (!identity.roles.includes(requirement.role)) throw new OpenMamError('not_authorized', `the ${requirement.role} app role is required`);
  } else if (!isUserIdentity(identity)) {
    // Entra user tokens carry `upn` or `preferred_username`; device and app-only tokens carry neither.
    throw new OpenMamError('not_authorized', "a user's token is required, not a device's or an application's");
  }
  return identity;
}

/** Every status these surfaces answer with an error body: the tables below can use no other. */
export const ERROR_STATUSES = [400, 401, 403, 404, 409, 412, 413, 415, 429, 500, 503] as const;
type ErrorStatus = (typeof ERROR_STATUSES)[number];

/**
 * Status and wire code of every error code. A `Record` over `ErrorCode`: adding a code to errors.ts without deciding
 * how these surfaces answer it does not compile.
 */
export const ERROR_STATUS: Record<ErrorCode, { status: ErrorStatus; code: string }> = {
  malformed_request: { status: 400, code: 'badRequest' },
  unsupported_action: { status: 400, code: 'unsupportedAction' },
  invalid_enrollment_data: { status: 400, code: 'badRequest' },
  authentication_failed: { status: 401, code: 'invalidToken' },
  not_authorized: { status: 403, code: 'forbidden' },
  tenant_not_onboarded: { status: 403, code: 'tenantNotOnboarded' },
  device_not_supported: { status: 403, code: 'deviceNotSupported' },
  account_not_set_up: { status: 403, code: 'accountNotSetUp' },
  identity_mismatch: { status: 403, code: 'identityMismatch' },
  not_found: { status: 404, code: 'notFound' },
  conflict: { status: 409, code: 'conflict' },
  device_already_enrolled: { status: 409, code: 'wrongAccount' },
  precondition_failed: { status: 412, code: 'preconditionFailed' },
  payload_too_large: { status: 413, code: 'payloadTooLarge' },
  // A server's own configuration: the caller can do nothing about it.
  invalid_configuration: { status: 500, code: 'internalError' },
  internal: { status: 500, code: 'internalError' },
  upstream_unavailable: { status: 503, code: 'serviceUnavailable' },
};

/** Fastify's own refusals of what it could not read, before any handler. */
const FASTIFY_STATUS: Readonly<Record<string, { status: ErrorStatus; code: string; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payloadTooLarge', message: 'the request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupportedMediaType', message: 'send application/json' },
  FST_ERR_VALIDATION: { status: 400, code: 'badRequest' },
};

type ErrorResponses = { [S in ErrorStatus]: typeof ErrorBody };

/** The response schemas of a route: its successes, and the error body at every error status (and so in OpenAPI). */
export function responses<T extends Partial<Record<200 | 201 | 204, TSchema>>>(success: T): T & ErrorResponses {
  const errors = Object.fromEntries(ERROR_STATUSES.map((status) => [status, ErrorBody])) as ErrorResponses;
  return { ...errors, ...success };
}

/**
 * One refusal, naming the field: `body/deviceTag must not have more than 256 characters`. The first error is the
 * most specific one (a union's first branch before the union itself).
 */
export function validationMessage(errors: readonly FastifySchemaValidationError[], dataVar: string): string {
  const error = errors[0];
  if (error === undefined) return `${dataVar} is not valid`;
  const at = `${dataVar}${error.instancePath}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${at}/${String((params['requiredProperties'] as unknown[] | undefined)?.[0] ?? (params['missingProperty'] as string | undefined) ?? '?')} is required`;
    case 'boolean':
    case 'additionalProperties': {
      // Ajv names the property in `additionalProperty`.
      const extra = (params['additionalProperty'] ?? params['additionalProperties']) as unknown[] | string | undefined;
      const name = Array.isArray(extra) ? `/${String(extra[0])}` : typeof extra === 'string' ? `/${extra}` : '';
      return `${at}${name} is not a known property`;
    }
    case 'pattern':
      return `${at} ${PATTERN_MEANINGS[String(params['pattern'])] ?? error.message ?? 'does not match its pattern'}`;
    default:
      return `${at} ${error.message ?? `fails ${error.keyword}`}`;
  }
}

export function jsonErrorHandler(error: FastifyError | OpenMamError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let { status, code } = ERROR_STATUS.internal;
  let message = `internal error (request id ${request.id})`;
  const extra: { userMessage?: ReturnType<typeof userMessage>; nextCheckInSeconds?: number } = {};
  if (isOpenMamError(error)) {
    ({ status, code } = ERROR_STATUS[error.code]);
    // A finer reason (e.g. appIdMismatch, unableToRegister) is the code a client acts on.
    if (error.reason !== undefined) code = error.reason;
    if (error.expose) message = error.message;
    if (error.reason === 'unableToRegister') extra.userMessage = userMessage('unableToRegister');
    if (error.code === 'device_already_enrolled') extra.userMessage = userMessage('wrongAccount');
    if (error.code === 'account_not_set_up') extra.userMessage = userMessage('accountNotSetUp');
    if (error.code === 'tenant_not_onboarded') {
      // Spec: an app of a tenant that is not onboarded comes back in 24 hours.
      extra.nextCheckInSeconds = CHECKIN_SECONDS.notOnboarded;
      void reply.header('retry-after', String(CHECKIN_SECONDS.notOnboarded));
    }
    if (error.code === 'authentication_failed') void reply.header('www-authenticate', 'Bearer');
  } else if (FASTIFY_STATUS[error.code] !== undefined) {
    const known = FASTIFY_STATUS[error.code]!;
    [status, code, message] = [known.status, known.code, known.message ?? error.message];
  } else if (error.statusCode === 400 || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    [status, code, message] = [400, 'badRequest', `the body is not valid JSON: ${error.message}`];
  }
  if (status === 503) retryLater(reply);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(status).send({ error: { code, message, ...extra, requestId: request.id } });
}

/** What Fastify sends a JSON body as (and the door's try-later, load-shedding.ts, with it). */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The "try later" of these surfaces, answered before the token is checked or the body read: 503 `serviceUnavailable`
 * when the node sheds load, 429 `tooManyRequests` (RFC 6585 §4) when this caller is over its rate; both with
 * `Retry-After`, which the SDK (packages/client) waits for before it calls again.
 */
export function jsonTryLater(refusal: Refusal, requestId: string): TryLaterReply {
  const rateLimited = refusal.reason === 'rate_limited';
  const error = {
    code: rateLimited ? 'tooManyRequests' : 'serviceUnavailable',
    message: rateLimited ? 'too many requests from this caller; try again later' : 'the service is busy; try again later',
    requestId,
  };
  return { statusCode: rateLimited ? 429 : 503, contentType: JSON_CONTENT_TYPE, body: JSON.stringify({ error }) };
}

/**
 * Sets up one JSON surface in the (encapsulated) scope `app`: validation, the error handler and the authentication
 * hook. Returns the scope with TypeBox's static types for the routes' request parts.
 */
export type SurfaceInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export function jsonSurface(app: FastifyInstance, verifier: TokenVerifier): SurfaceInstance {
  app.setSchemaErrorFormatter((errors, dataVar) => new Error(validationMessage(errors, dataVar)));
  app.setErrorHandler(jsonErrorHandler);
  app.decorateRequest('appProtectionCaller', null);
  app.addHook('onRoute', (route) => {
    // Fail at start-up, not open at run time: a route that forgot to say who may call it would have no check.
    const requirement = route.config?.appProtectionAuth;
    if (requirement === undefined) throw new Error(`${route.method} ${route.url}: config.appProtectionAuth is required on an app protection JSON route`);
    // Before the body is read: an anonymous caller costs no parsing, and a refusal never depends on what it sent.
    // Bound to the route's requirement and callback-style: every check-in and access decision passes here, and an
    // async hook and `request.routeOptions` (an object built per read) cost each of them a promise and an allocation.
    const authenticate: onRequestHookHandler = (request, _reply, done) => {
      verifiedCaller(verifier, request, requirement).then((caller) => {
        request.appProtectionCaller = caller;
        done();
      }, done);
    };
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...existing, authenticate];
  });
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
