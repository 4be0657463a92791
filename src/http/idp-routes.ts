import type { FastifyInstance } from 'fastify';
import type { DevIdentityProvider } from '../identity/dev-idp.ts';

/** OIDC discovery and JWKS of the built-in identity provider, at the URLs its issuer names. */
export async function devIdpRoutes(app: FastifyInstance, options: { idp: DevIdentityProvider; publicUrl: string }): Promise<void> {
  const serve = (path: string) => options.idp.document(`${options.publicUrl}${path}`);
  app.get('/idp/discovery/v2.0/keys', async (request, reply) => reply.header('cache-control', 'public, max-age=3600').send(serve(request.url)));
  app.get('/idp/:tenantId/v2.0/.well-known/openid-configuration', async (request, reply) => {
    const document = serve(request.url.split('?')[0]!);
    if (!document) return reply.code(404).send({ error: { code: 'NotFound', message: 'unknown tenant id' } });
    return reply.header('cache-control', 'public, max-age=3600').send(document);
  });
}
