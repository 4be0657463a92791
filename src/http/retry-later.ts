import type { FastifyReply } from 'fastify';
import { isOpenMamError } from '../errors.ts';

/**
 * "Try later": what every surface answers while a service OpenMAM depends on (its database, the identity provider's
 * keys) cannot be reached. Each protocol has its own shape for it (HTTP 503, a SyncML or Graph body, MS-MDE2's
 * InMaintenance fault); all of them carry `Retry-After` (RFC 9110 §10.2.3), in seconds. Short, because a node
 * serves again within seconds of the database's return; clients that back off further may.
 */
export const RETRY_AFTER_SECONDS = 10;

/** True for an error that asks the caller to come back later rather than reporting a fault of the request or ours. */
export function isTemporarilyUnavailable(error: unknown): boolean {
  return isOpenMamError(error) && error.code === 'upstream_unavailable';
}

/**
 * Sets 503 and Retry-After on `reply`; the caller sends its protocol's body. `seconds` other than the default: a
 * client over its rate (load-shedding.ts) is told when its next request is due.
 */
export function retryLater(reply: FastifyReply, seconds: number = RETRY_AFTER_SECONDS): FastifyReply {
  return reply.code(503).header('retry-after', String(seconds));
}
