import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { DecisionUnavailableError, MalformedAccessRequestError, type DecisionRequest, type DecisionSource } from './decision-client.ts';

/**
 * The enforcement point (`openmam gateway`): a reverse proxy in front of one protected resource. Every request is
 * decided by OpenMAM (`POST /access/v1/evaluate`) before anything reaches the upstream:
 * - no `Authorization: Bearer` token: 401;
 * - `allow`: forwarded as it came (method, path, query, body streamed, Authorization kept), without any
 *   `X-OpenMAM-*` header (those the gateway reads and any other: the upstream never sees a claim meant for OpenMAM,
 *   nor one a client hoped the upstream would trust), and with `X-Forwarded-For`, `-Proto` and `-Host` added;
 * - `deny`: 403 `{"error":{"code":"access_denied","message","reasons","remediation"}}`, the body never read;
 * - a request OpenMAM cannot read (a malformed X-OpenMAM-* header): 400 `bad_request`, the app's mistake;
 * - no decision (OpenMAM unreachable, slow, refusing the gateway's credential, answering nonsense): 503 or 502.
 *   The gateway fails closed: no decision, no access.
 * Proxying itself is @fastify/http-proxy (@fastify/reply-from over undici); the gateway knows nothing of OpenMAM
 * but its HTTP contract.
 */

export interface GatewayOptions {
  /** Where allowed requests go, e.g. `http://127.0.0.1:3000` (a path in it is ignored: paths are kept as they come). */
  upstream: string;
  /**
   * The protected resource: its Entra application id, or an audience (identifier URI) of its service principal. The
   * users' tokens it receives must have been issued for it; OpenMAM checks that.
   */
  resource: string;
  decisions: DecisionSource;
  /** Extra trusted CA (PEM) for an https upstream; the public roots stay trusted. Certificates are always verified. */
  upstreamCa?: string;
  https?: { key: string; cert: string };
  logger?: FastifyServerOptions['logger'];
  /** Upstream response timeout; default 30 s. */
  upstreamTimeoutMs?: number;
}

interface ErrorBody {
  error: { code: string; message: string; reasons?: string[]; remediation?: { title: string; message: string } };
}

const DEFAULT_REMEDIATION = {
  title: 'Access blocked',
  message: "Your organization requires a protected app on a compliant device to access this resource. Open it from an app your organization manages, or contact your IT administrator.",
};

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new Error(`--upstream must be an http(s) URL, got ${options.upstream}`);
  const server = Fastify({
    logger: options.logger ?? false,
    ...(options.https ? { https: options.https } : {}),
  });
  const upstreamAgent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 128,
    headersTimeout: options.upstreamTimeoutMs ?? 30_000,
    bodyTimeout: options.upstreamTimeoutMs ?? 30_000,
    // reply-from's own default turns certificate verification off; this agent keeps it on.
    connect: { rejectUnauthorized: true, ...(options.upstreamCa === undefined ? {} : { ca: [...rootCertificates, options.upstreamCa] }) },
  });
  server.addHook('onClose', async () => {
    await Promise.all([upstreamAgent.close(), options.decisions.close()]);
  });

  server.addHook('onRequest', async (request, reply) => {
    const denial = await decide(request, options);
    if (denial !== undefined) return reply.code(denial.status).headers(denial.headers ?? {}).send(denial.body);
    return undefined;
  });

  await server.register(httpProxy, {
    upstream: upstream.origin,
    undici: upstreamAgent,
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => forwardedHeaders(request, headers),
    },
  });
  return server;
}

/** Every header of OpenMAM's namespace (Node gives header names in lower case). */
const OPENMAM_HEADER_PREFIX = 'x-openmam-';

type Headers = Record<string, string | string[] | undefined>;

/** The request's headers as the upstream gets them: every X-OpenMAM-* removed, X-Forwarded-* added. */
function forwardedHeaders<H extends Headers>(request: { ip: string; protocol: string; headers: Headers }, headers: H): H {
  const forwarded: Headers = {};
  for (const [name, value] of Object.entries(headers)) if (!name.toLowerCase().startsWith(OPENMAM_HEADER_PREFIX)) forwarded[name] = value;
  const prior = headers['x-forwarded-for'];
  forwarded['x-forwarded-for'] = prior ? `${String(prior)}, ${request.ip}` : request.ip;
  forwarded['x-forwarded-proto'] = request.protocol;
  const host = request.headers['host'];
  if (typeof host === 'string') forwarded['x-forwarded-host'] = host;
  return forwarded as H;
}

interface Denial {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** Undefined when the request may go through; otherwise the answer. */
async function decide(request: FastifyRequest, options: GatewayOptions): Promise<Denial | undefined> {
  const userToken = bearerToken(request.headers.authorization);
  if (userToken === undefined) {
    return {
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
      body: { error: { code: 'unauthorized', message: 'This resource requires a bearer token (Authorization: Bearer <token>).' } },
    };
  }
  // The token proves the user, the app (its client) and the device (its deviceid); the headers are only claims that
  // OpenMAM checks against it (a registration id picks the app's registration; a disagreeing app or device id denies).
  const input: DecisionRequest = { userToken, resource: options.resource, ipAddress: request.ip };
  const appId = header(request, 'x-openmam-app-id');
  const registrationId = header(request, 'x-openmam-registration-id');
  const azureAdDeviceId = header(request, 'x-openmam-device-id');
  if (appId !== undefined) input.appId = appId;
  if (registrationId !== undefined) input.registrationId = registrationId;
  if (azureAdDeviceId !== undefined) input.azureAdDeviceId = azureAdDeviceId;

  let decision;
  try {
    decision = await options.decisions.evaluate(input);
  } catch (error) {
    if (error instanceof MalformedAccessRequestError) {
      return { status: 400, body: { error: { code: 'bad_request', message: `The request's X-OpenMAM-* headers or token could not be read: ${error.message}` } } };
    }
    const kind = error instanceof DecisionUnavailableError ? error.kind : 'unreachable';
    request.log.error({ err: error, decision: 'unavailable', kind }, 'no access decision: refusing the request');
    return {
      status: kind === 'bad_answer' ? 502 : 503,
      headers: { 'retry-after': '5' },
      body: { error: { code: 'decision_unavailable', message: 'Access to this resource cannot be checked right now. Try again shortly.' } },
    };
  }
  if (decision.decision === 'allow') return undefined;
  const remediation = decision.remediation ?? DEFAULT_REMEDIATION;
  request.log.info({ decision: 'deny', reasons: decision.reasons, resource: options.resource, appId }, 'access denied');
  return {
    status: 403,
    body: { error: { code: 'access_denied', message: decision.message ?? remediation.message, reasons: decision.reasons, remediation } },
  };
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}
