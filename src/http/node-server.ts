import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

/** A Node request listener: Fastify's handler, or what stands in front of it. */
export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Fastify's `serverFactory` for the node's HTTP/1.1 server: the server Fastify itself makes (its lib/server.js,
 * `getServerInstance`: HTTPS when `https` is given, its keep-alive, request and connection timeouts and requests per
 * socket), with `front(handler)` as the request listener, so that something can answer before Fastify sees a request
 * (load shedding's door: load-shedding.ts). Fastify calls it for each address it listens on.
 */
export function serverWithFront(
  https: { key: string | Buffer; cert: string | Buffer } | undefined,
  front: (handler: RequestListener) => RequestListener,
): (handler: RequestListener, options: Record<string, unknown>) => Server {
  return (handler, options) => {
    const listener = front(handler);
    const server = https === undefined ? createHttpServer(listener) : createHttpsServer(https, listener);
    server.keepAliveTimeout = numberOption(options, 'keepAliveTimeout', server.keepAliveTimeout);
    server.requestTimeout = numberOption(options, 'requestTimeout', server.requestTimeout);
    server.setTimeout(numberOption(options, 'connectionTimeout', 0));
    // Fastify treats 0 as Node's default (no limit).
    const perSocket = numberOption(options, 'maxRequestsPerSocket', 0);
    if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
    return server;
  };
}

function numberOption(options: Record<string, unknown>, name: string, otherwise: number): number {
  const value = options[name];
  return typeof value === 'number' ? value : otherwise;
}
