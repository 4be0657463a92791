import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Health for load balancers and orchestrators (docs/operations.md, "Health, logs, shutdown"):
 * - `/livez`, liveness: the process answers HTTP. It reads no database, so a database outage never gets a healthy
 *   node restarted (a restart would not bring the database back, and every node would restart at once).
 * - `/readyz`, readiness: the database answers too; 503 otherwise, so the node is taken out of rotation until it does.
 * - `/healthz`: readiness under its older name (kept for existing load balancer checks).
 * Kubernetes probes: https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 */
export async function healthRoutes(app: FastifyInstance, options: { ping: () => Promise<void>; version: string }): Promise<void> {
  app.get('/livez', async (_request, reply) => reply.send({ status: 'ok', version: options.version }));

  const ready = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      await options.ping();
      return reply.send({ status: 'ok', version: options.version, database: 'ok' });
    } catch (error) {
      request.log.error({ err: error }, 'health check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', version: options.version, database: 'unreachable' });
    }
  };
  app.get('/readyz', ready);
  app.get('/healthz', ready);
}
