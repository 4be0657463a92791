import type { FastifyInstance } from 'fastify';

/** Liveness and readiness in one: 200 when the database answers, 503 otherwise (load balancers take the node out). */
export async function healthRoutes(app: FastifyInstance, options: { ping: () => Promise<void>; version: string }): Promise<void> {
  app.get('/healthz', async (request, reply) => {
    try {
      await options.ping();
      return reply.send({ status: 'ok', version: options.version, database: 'ok' });
    } catch (error) {
      request.log.error({ err: error }, 'health check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', version: options.version, database: 'unreachable' });
    }
  });
}
