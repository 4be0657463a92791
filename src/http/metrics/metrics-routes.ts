import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../../identity/identity.ts';
import { adminCaller, GraphError, graphErrorHandler } from '../graph/graph-api.ts';
import type { OpenMamMetrics } from './metrics.ts';
import { bearerToken } from '../bearer-token.ts';

/**
 * `GET /metrics`: the Prometheus text exposition of the app's series (metrics.ts). Never anonymous on the public
 * port: the caller is a scraper with the configured scrape token (`OPENMAM_METRICS_TOKEN`, RFC 6750 bearer, compared
 * in constant time) or an admin with the `OpenMAM.Admin` app role, verified as the admin API verifies it (a Reader
 * is refused: the series describe the whole node, every tenant's traffic together, not the Reader's tenant). The
 * optional separate listener (`metricsListener`, `OPENMAM_METRICS_PORT`) serves the same text to the scrape token
 * only, or to anyone who can reach it when no token is set (it binds to 127.0.0.1 by default).
 */
export const METRICS_PATH = '/metrics';

export interface MetricsRouteOptions {
  metrics: OpenMamMetrics;
  /** Verifies admin tokens; undefined on the separate listener, where only the scrape token is taken. */
  verifier: TokenVerifier | undefined;
  /** The scrape token; undefined when none is configured. */
  scrapeToken: string | undefined;
}

/** Counts every request of the server into the request series: call on the root instance, before any route. */
export function observeRequests(server: FastifyInstance, metrics: OpenMamMetrics): void {
  // A callback hook, not an async one: an async hook costs every request a promise and a tick.
  server.addHook('onResponse', (request, reply, done) => {
    metrics.route(request.routeOptions.url, request.method, request.url).observe(reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** Both sides hashed first: timingSafeEqual needs equal lengths, and the length of the secret must not leak either. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function requireScraper(request: FastifyRequest, options: MetricsRouteOptions): Promise<void> {
  // The separate listener without a scrape token: open to whoever reaches it (by default only this host).
  if (options.verifier === undefined && options.scrapeToken === undefined) return;
  const token = bearerToken(request.headers.authorization);
  if (token === undefined) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  if (options.scrapeToken !== undefined && sameSecret(token, options.scrapeToken)) return;
  if (options.verifier === undefined) throw new GraphError(401, 'InvalidAuthenticationToken', 'The token is not the scrape token.');
  // Not the scrape token: an admin token (verification failures answer 401, a missing Admin role 403).
  await adminCaller(options.verifier, request, 'write');
}

/** The /metrics route, with Graph's error bodies (401 with WWW-Authenticate: Bearer, 403, 503 with Retry-After). */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  app.setErrorHandler(graphErrorHandler);
  app.get(METRICS_PATH, async (request, reply) => {
    await requireScraper(request, options);
    const text = await options.metrics.scrape();
    return reply.header('cache-control', 'no-store').type(options.metrics.contentType).send(text);
  });
}

/**
 * The separate plain-HTTP listener for scrapers (`OPENMAM_METRICS_PORT`, `OPENMAM_METRICS_HOST`): `/metrics` only,
 * everything else 404. The caller listens and closes it.
 */
export async function metricsListener(metrics: OpenMamMetrics, scrapeToken: string | undefined, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const server = Fastify({ loggerInstance: logger, requestTimeout: 30_000 });
  await server.register(metricsRoutes, { metrics, verifier: undefined, scrapeToken });
  return server;
}
