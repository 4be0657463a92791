import type { FastifyContextConfig, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { isOpenMamError, type ErrorCode } from '../../errors.ts';
import { isUserIdentity, type TokenVerifier, type VerifiedIdentity } from '../../identity/identity.ts';
import { activityName, AUDIT_AREAS, type AuditActivity, type AuditContext, type AuditTrail } from '../../core/audit/audit-trail.ts';
import { retryLater } from '../retry-later.ts';
import type { GraphVersion } from '../../core/graph-metadata.ts';
import { metadataRoute } from './metadata-route.ts';
import { readSelect, readSystemOptions, selectProperties } from './odata.ts';
import { bearerToken } from '../bearer-token.ts';

/**
 * What every route of the Graph-shaped admin API shares, registered once per API version root (`/graph/beta`,
 * `/graph/v1.0`) by `graphApi`:
 * - the caller, from an Entra app role in the bearer token (`OpenMAM.Admin` reads and writes, `OpenMAM.Reader`
 *   reads), verified once by an onRequest hook and put on `request.caller`; a route says what it needs in its config
 *   (`access`), reads by default for GET and writes otherwise;
 * - the query options a route supports (`odata` in its config): any other system option is a 400, never ignored;
 *   `$select` is applied to every entity and collection answered;
 * - Graph's error body `{"error":{"code","message","innerError"}}` (learn.microsoft.com/graph/errors) for every
 *   error, from one complete table of OpenMAM's error codes, and for unknown paths (404) and methods (405);
 * - `$metadata`, the CSDL of the Graph types and of the collections served in the scope (metadata-route.ts).
 */
export const ADMIN_ROLE = 'OpenMAM.Admin';
export const READER_ROLE = 'OpenMAM.Reader';

export interface AdminCaller {
  tenantId: string;
  objectId: string;
  canWrite: boolean;
  /** What the verified token proved beside its role, for the audit trail's actor. */
  userPrincipalName: string | null;
  /** `azp` / `appid`. */
  applicationId: string | null;
  /** An app-only token (client credentials): no user claims. */
  appOnly: boolean;
  roles: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Admin API: the app role a route needs (read: Reader or Admin; write: Admin); by method when absent.
     * `anonymous`: no token at all (only `$metadata`, which holds no tenant data).
     */
    access?: 'read' | 'write' | 'anonymous';
    /** Admin API: the system query options the route reads (`$select` by default for a GET). */
    odata?: readonly string[];
    /** Admin API: the properties `$select` may name on the route; any OData identifier when absent. */
    selectable?: readonly string[];
    /**
     * Admin API: the activity a write route performs, for the audit trail (core/audit). Its successes are recorded by
     * core in the change's transaction; a refusal (>= 400, the caller's identity proven) is recorded as a `Failure`
     * by graphApi's onResponse hook. Every write route declares one, or `none` for a POST that changes nothing (a
     * validation): graphApi refuses to register a write route without it, so none is ever missed.
     */
    audit?: AuditActivity | 'none';
  }
  interface FastifyRequest {
    /** Admin API: the verified caller (set by graphApi's hook before the handler runs). */
    caller: AdminCaller;
  }
  interface FastifyInstance {
    /**
     * Admin API: the activity types the write routes declare, by category (getAuditActivityTypes): of this version
     * root, or of every root given the same map (one audit trail is read in each).
     */
    readonly auditActivityTypes: Map<string, Set<string>>;
  }
}

/** A collection's answer when it is not paged (`collection-routes.ts` answers the paged ones). */
export function collection(context: string, value: unknown[]): Record<string, unknown> {
  return { '@odata.context': context, value };
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

/**
 * Every error code as Graph answers it (learn.microsoft.com/graph/errors, "HTTP status codes" and "Code property").
 * A `Record` over ErrorCode: a new code without an answer here does not compile.
 */
const GRAPH_STATUS: Readonly<Record<ErrorCode, readonly [number, string]>> = {
  malformed_request: [400, 'BadRequest'],
  invalid_configuration: [400, 'BadRequest'],
  unsupported_action: [400, 'BadRequest'],
  invalid_enrollment_data: [400, 'BadRequest'],
  device_not_supported: [400, 'BadRequest'],
  authentication_failed: [401, 'InvalidAuthenticationToken'],
  tenant_not_onboarded: [401, 'InvalidAuthenticationToken'],
  not_authorized: [403, 'Authorization_RequestDenied'],
  account_not_set_up: [403, 'Authorization_RequestDenied'],
  identity_mismatch: [403, 'Authorization_RequestDenied'],
  not_found: [404, 'ResourceNotFound'],
  conflict: [409, 'Conflict'],
  device_already_enrolled: [409, 'Conflict'],
  // RFC 9110 §15.5.13; Graph's code for it is preconditionFailed.
  precondition_failed: [412, 'preconditionFailed'],
  payload_too_large: [413, 'RequestEntityTooLarge'],
  // "serviceNotAvailable ... Try the request again after a delay" (learn.microsoft.com/graph/errors).
  upstream_unavailable: [503, 'serviceNotAvailable'],
  internal: [500, 'InternalServerError'],
};

/** Fastify's own errors that reach the handler, as Graph answers them. */
function frameworkError(error: FastifyError): [number, string, string] | undefined {
  switch (error.code) {
    case 'FST_ERR_VALIDATION':
      // Ajv's message names the field: "body/displayName must NOT have more than 256 characters".
      return [400, 'BadRequest', error.message];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'RequestEntityTooLarge', 'The request body is too large.'];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, 'UnsupportedMediaType', 'Send application/json.'];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, 'BadRequest', `The body is not valid JSON: ${error.message}`];
    default:
      if (error.statusCode === 400 || error instanceof SyntaxError) return [400, 'BadRequest', `The body is not valid JSON: ${error.message}`];
      return undefined;
  }
}

export function graphErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status = 500;
  let code = 'InternalServerError';
  let message = `An internal error occurred (request id ${request.id}).`;
  if (error instanceof GraphError) {
    ({ status, code, message } = error);
  } else if (isOpenMamError(error)) {
    [status, code] = GRAPH_STATUS[error.code];
    if (error.expose) message = error.message;
  } else {
    const mapped = frameworkError(error as FastifyError);
    if (mapped) [status, code, message] = mapped;
  }
  if (status === 503) retryLater(reply);
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  if (status >= 500) request.log.error({ err: error }, 'admin request failed');
  return reply.code(status).send(graphErrorBody(request, code, message));
}

export function graphErrorBody(request: FastifyRequest, code: string, message: string): Record<string, unknown> {
  return { error: { code, message, innerError: { 'request-id': request.id, date: new Date().toISOString() } } };
}

/** The caller of an admin request, or a GraphError: 401 without a valid token, 403 without the needed app role. */
export async function adminCaller(verifier: TokenVerifier, request: FastifyRequest, access: 'read' | 'write'): Promise<AdminCaller> {
  const caller = await verifiedCaller(verifier, request);
  requireAccess(caller, access);
  return caller;
}

/** Whoever the bearer token proves, whatever its roles; a GraphError 401 without a valid token. */
async function verifiedCaller(verifier: TokenVerifier, request: FastifyRequest): Promise<AdminCaller> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  return callerOf(await verifier.verify(token));
}

function callerOf(identity: VerifiedIdentity): AdminCaller {
  return {
    tenantId: identity.tenantId,
    objectId: identity.objectId,
    canWrite: identity.roles.includes(ADMIN_ROLE),
    userPrincipalName: identity.upn ?? null,
    applicationId: identity.clientId ?? null,
    appOnly: !isUserIdentity(identity),
    roles: identity.roles,
  };
}

/** A GraphError 403 unless the caller's app role allows `access`. */
function requireAccess(caller: AdminCaller, access: 'read' | 'write'): void {
  const canRead = caller.canWrite || caller.roles.includes(READER_ROLE);
  if (!canRead || (access === 'write' && !caller.canWrite)) {
    throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges: the ${access === 'write' ? ADMIN_ROLE : `${READER_ROLE} or ${ADMIN_ROLE}`} app role is required.`);
  }
}

/** Who changes what in this request, for the audit trail: the verified caller, its address and the request id. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  const { caller } = request;
  return {
    tenantId: caller.tenantId,
    actor: {
      objectId: caller.objectId,
      userPrincipalName: caller.userPrincipalName,
      applicationId: caller.applicationId,
      appOnly: caller.appOnly,
      roles: caller.roles,
      ipAddress: request.ip,
    },
    correlationId: request.id,
  };
}

/** The methods that change something: a refusal of one is a `Failure` in the audit trail. */
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

const METHODS: readonly HTTPMethod[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];

/**
 * Registers the shared behaviour on an admin API scope (one per version root). Call before its routes: the hooks
 * apply to routes registered after them, and the router below learns every route of the scope to answer 405.
 */
export function graphApi(scope: FastifyInstance, options: { verifier: TokenVerifier; version: GraphVersion; audit?: AuditTrail; auditActivityTypes?: Map<string, Set<string>> }): void {
  const routes = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  scope.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config as FastifyContextConfig | undefined;
    const writes = [route.method].flat().some((method) => WRITE_METHODS.has(method));
    if (options.audit !== undefined && writes && config?.access !== 'read' && config?.audit === undefined) {
      throw new Error(`${String(route.method)} ${route.url}: a write route of the admin API declares no audit activity (config.audit)`);
    }
    if (config?.audit !== undefined && config.audit !== 'none') {
      const { category } = AUDIT_AREAS[config.audit.area];
      const types = scope.auditActivityTypes.get(category) ?? new Set<string>();
      scope.auditActivityTypes.set(category, types.add(activityName(config.audit)));
    }
    for (const method of [route.method].flat()) {
      if (METHODS.includes(method as HTTPMethod) && !routes.hasRoute(method as HTTPMethod, route.url)) routes.on(method as HTTPMethod, route.url, () => undefined);
    }
  });
  scope.decorateRequest('caller', null as unknown as AdminCaller);
  scope.decorate('auditActivityTypes', options.auditActivityTypes ?? new Map<string, Set<string>>());
  scope.setErrorHandler(graphErrorHandler);
  // An action without parameters (retire, syncDevice, ...) is often POSTed with `Content-Type: application/json` and
  // no body at all (Invoke-MgGraphRequest, curl -H): Graph takes it. An empty JSON body is therefore no body; a route
  // whose schema requires one still refuses it (400), and anything else goes through Fastify's own (poisoning-safe) parser.
  const json = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    json(request, String(body), done);
  });

  scope.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const access = config.access ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (access !== 'anonymous') {
      // Kept before the role check: a Reader's refused write is recorded with who tried (onResponse below).
      request.caller = await verifiedCaller(options.verifier, request);
      requireAccess(request.caller, access);
    }
    if (request.is404) return;
    const given = readSystemOptions(request.query, config.odata ?? (request.method === 'GET' ? ['$select'] : []));
    const select = given.get('$select');
    if (select !== undefined && config.selectable !== undefined) readSelect(select, config.selectable);
  });

  // $select on every answer: an entity keeps its annotations and the named properties, a collection each entity's.
  scope.addHook('preSerialization', async (request, reply, payload: unknown) => {
    if (reply.statusCode >= 400) return payload;
    const select = selectOf(request);
    if (select === undefined || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
    const body = payload as Record<string, unknown>;
    if (Array.isArray(body['value'])) return { ...body, value: body['value'].map((e: unknown) => (isEntity(e) ? selectProperties(e, select) : e)) };
    return selectProperties(body, select);
  });

  // A refused write with a proven caller is a Failure in the audit trail (a 401 proved no one: the request log has it).
  // Recorded before the answer leaves (onSend), so a client that reads the trail after its refusal finds it. Successes
  // are never recorded here: core writes them in the change's own transaction.
  const audit = options.audit;
  if (audit !== undefined) {
    scope.addHook('onSend', async (request, reply, payload) => {
      const activity = request.routeOptions.config.audit;
      // A 503 says the store cannot be reached: recording there would only wait for it (up to 5 s) and fail too.
      if (activity === undefined || activity === 'none' || !WRITE_METHODS.has(request.method) || reply.statusCode < 400 || reply.statusCode === 503 || request.caller === null) return payload;
      const params = request.params as Record<string, unknown> | undefined;
      const id = typeof params?.['id'] === 'string' ? params['id'].toLowerCase() : null;
      try {
        await audit.recordFailure(auditContextOf(request), activity, id);
      } catch (err) {
        // The refusal is answered all the same (the store may be what failed); the log keeps it.
        request.log.error({ err }, 'could not record a refused admin write in the audit trail');
      }
      return payload;
    });
  }

  scope.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = METHODS.filter((method) => method !== request.method && routes.find(method, path) !== null);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send(graphErrorBody(request, 'Request_BadRequest', `The HTTP method '${request.method}' is not allowed on this resource (allowed: ${allowed.join(', ')}).`));
    }
    return reply.code(404).send(graphErrorBody(request, 'UnknownError', `Resource not found for the segment of '${path.slice(0, 200)}'.`));
  });

  metadataRoute(scope, options.version);
}

/**
 * Paths under `/graph` outside the served version roots (`/graph/v2/...`, `/graph`): Graph's 400 for an unknown
 * version is answered here as a 404 in Graph's body, never Fastify's own.
 */
export function graphRootNotFound(root: FastifyInstance): void {
  root.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    return reply.code(404).send(graphErrorBody(request, 'UnknownError', `Resource not found for the segment of '${path.slice(0, 200)}'; the versions served are v1.0 and beta.`));
  });
}

function isEntity(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `$select` names as given, with the `$expand` names (an expanded navigation is part of the answer, as in
 * Graph), or undefined without `$select`. A route that declares `$select` has had them checked by its reader.
 */
function selectOf(request: FastifyRequest): string[] | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  if (!query) return undefined;
  const option = (name: string): string[] => {
    const entry = Object.entries(query).find(([key]) => key.toLowerCase() === `$${name}` || key.toLowerCase() === name);
    return typeof entry?.[1] === 'string' ? entry[1].split(',').map((s) => s.trim()) : [];
  };
  const select = option('select');
  return select.length === 0 ? undefined : [...select, ...option('expand')];
}
