import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI document of OpenMAM's public JSON contract, served at `GET /openapi.json` without authentication (it
 * describes only what any client may read in docs/app-protection.md and docs/graph.md). @fastify/swagger collects the schema of every
 * route added after this plugin; a route is published when its URL starts with one of `prefixes`, so another
 * surface joins by adding its prefix (and registering its routes after this plugin).
 */
export interface OpenApiOptions {
  /** URL prefixes of the routes the document describes, e.g. `/mam/v1/`. */
  prefixes: readonly string[];
  version: string;
}

/** The app protection service's JSON surfaces (src/http/app-protection). */
export const APP_PROTECTION_PREFIXES = ['/mam/v1/', '/mtd/v1/', '/access/v1/'] as const;

/** The Graph-shaped admin API (src/http/admin on the Graph layer), both version roots. */
export const GRAPH_PREFIXES = ['/graph/'] as const;

export const OPENAPI_PATH = '/openapi.json';

async function openApiPlugin(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    // 3.1: its schemas are JSON Schema 2020-12, so TypeBox's `{"type": "null"}` unions are valid as they are
    // (spec.openapis.org/oas/v3.1.0#schema-object).
    openapi: {
      openapi: '3.1.0',
      info: { title: 'OpenMAM', version: options.version, description: 'The app protection service: /mam/v1 (managed apps), /mtd/v1 (threat defense connectors), /access/v1 (gateways); the Graph-shaped admin API: /graph/v1.0 and /graph/beta (its types: /graph/{version}/$metadata).' },
      // RFC 6750: every published route takes `Authorization: Bearer`.
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ url, schema: options.prefixes.some((prefix) => url.startsWith(prefix)) ? schema : { ...schema, hide: true } }),
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

// Not encapsulated (what fastify-plugin does): swagger's route collector must see routes registered by siblings.
Object.assign(openApiPlugin, { [Symbol.for('skip-override')]: true });

export const openApi = openApiPlugin;
