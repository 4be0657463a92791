import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../config.ts';
import type { DevIdentityProvider } from '../identity/dev-idp.ts';
import type { TenantRecord } from '../store/records.ts';
import { xmlText } from '../protocol/xml/writer.ts';

/**
 * The admin console (web/, a Vite build in web/dist) at /console, and its sign-in configuration at
 * /console/config.json. Files under /console/assets are content-hashed by Vite, so they are cached for a year;
 * index.html is revalidated every time (no-cache), so a new build is picked up at the next load. Any other path
 * without a file extension is a route of the single-page app and answers index.html. Every answer carries a strict
 * Content-Security-Policy (no inline script; inline styles only because Fluent UI's Griffel injects style elements),
 * nosniff and no referrer. A console that is not built answers 503 with what to run, and the server still starts.
 */
export interface ConsoleOptions {
  /** The built console (web/dist): a folder with index.html and assets/. */
  root: string;
  publicUrl: string;
  appIdUri: string;
  consoleClientId: string;
  entraAuthority: string;
  /** Undefined when the built-in identity provider is off: every tenant then signs in with Entra. */
  devIdp: DevIdentityProvider | undefined;
  tenants: { get(id: string): Promise<TenantRecord | undefined>; list(): Promise<TenantRecord[]> };
}

/** The contract of GET /console/config.json (docs/operations.md, "The admin console"). */
export interface ConsoleConfig {
  tenantId: string;
  /** The OIDC issuer the console discovers its authorization and token endpoints from. */
  authority: string;
  clientId: string;
  scopes: string[];
  redirectUri: string;
  builtinIdp: boolean;
}

const YEAR_SECONDS = 365 * 24 * 3600;

/** Whether the last segment of a URL's path names a file (`app.js`, `favicon.svg`) rather than a route of the app. */
function hasExtension(url: string): boolean {
  const pathname = url.split('?')[0]!;
  return /\.[^/]*$/.test(pathname.slice(pathname.lastIndexOf('/')));
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const root = path.resolve(options.root);
  const index = path.join(root, 'index.html');
  let built = false;
  // Checked at each request until found: a console built while the server runs is served without a restart.
  const isBuilt = (): boolean => (built ||= existsSync(index));
  if (!isBuilt()) app.log.warn({ root }, 'the admin console is not built: /console answers 503 until `npm run build:console` is run');

  let defaultTenantId: string | undefined;
  /** The tenant a request is about: `?tenant=<guid>`, else the installation's default (its oldest) tenant. */
  const tenantOf = async (request: FastifyRequest): Promise<TenantRecord | 'bad' | undefined> => {
    const asked = (request.query as Record<string, unknown>)['tenant'];
    if (asked !== undefined) {
      if (typeof asked !== 'string' || !isGuid(asked)) return 'bad';
      return options.tenants.get(asked);
    }
    if (defaultTenantId === undefined) defaultTenantId = (await options.tenants.list())[0]?.id;
    return defaultTenantId === undefined ? undefined : options.tenants.get(defaultTenantId);
  };

  const configFor = (tenant: TenantRecord): ConsoleConfig => {
    const builtin = options.devIdp !== undefined && tenant.identityProvider === 'builtin';
    return {
      tenantId: tenant.id,
      authority: builtin ? options.devIdp!.issuer(tenant.id) : `${options.entraAuthority}/${tenant.id}/v2.0`,
      clientId: options.consoleClientId,
      // `.default`: the delegated permissions the console's registration was granted on OpenMAM's API
      // (learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope).
      scopes: [`${options.appIdUri}/.default`, 'openid', 'profile'],
      redirectUri: `${options.publicUrl}/console/`,
      builtinIdp: builtin,
    };
  };

  const securityPolicy = (connectTo: string | undefined): string =>
    [
      "default-src 'self'",
      "script-src 'self'",
      // Fluent UI's styling engine (Griffel) inserts style elements at run time.
      "style-src 'self' 'unsafe-inline'",
      `connect-src 'self'${connectTo === undefined ? '' : ` ${connectTo}`}`,
      "img-src 'self' data:",
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
    ].join('; ');

  /** The Entra origin the console's page may call (discovery and the token endpoint) for the tenant it opens with. */
  const entraOrigin = async (request: FastifyRequest): Promise<string | undefined> => {
    const tenant = await tenantOf(request);
    if (tenant === 'bad' || tenant === undefined) return undefined;
    return configFor(tenant).builtinIdp ? undefined : new URL(options.entraAuthority).origin;
  };

  app.addHook('onSend', async (request, reply) => {
    const html = /^text\/html/i.test(String(reply.getHeader('content-type') ?? ''));
    reply.header('content-security-policy', securityPolicy(html ? await entraOrigin(request) : undefined));
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });

  const notBuilt = (reply: FastifyReply): FastifyReply =>
    reply
      .code(503)
      .header('cache-control', 'no-store')
      .header('retry-after', '60')
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not built - OpenMAM</title></head><body><main>' +
          '<h1>The admin console is not built</h1>' +
          `<p>Run <code>npm run build:console</code> in the OpenMAM folder (it builds ${xmlText(root)}), then reload this page.</p>` +
          '</main></body></html>',
      );

  app.get('/console', async (_request, reply) => reply.redirect('/console/', 302));

  app.get('/console/config.json', async (request, reply) => {
    const tenant = await tenantOf(request);
    reply.header('cache-control', 'no-cache');
    if (tenant === 'bad') return reply.code(400).send(graphError(request, 'BadRequest', 'tenant must be a GUID'));
    if (tenant === undefined) return reply.code(404).send(graphError(request, 'ResourceNotFound', 'the tenant is not onboarded'));
    return configFor(tenant);
  });

  const sendIndex = (reply: FastifyReply): FastifyReply => (isBuilt() ? reply.sendFile('index.html') : notBuilt(reply));

  // A scope of its own under /console: its not-found handler (the app's routes) is for /console paths only.
  await app.register(
    async (scope) => {
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        index: false,
        // send's own Cache-Control is off: setHeaders decides per file.
        cacheControl: false,
        setHeaders: (response, file) => {
          const inAssets = path.relative(root, file).split(path.sep)[0] === 'assets';
          response.setHeader('cache-control', inAssets ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache');
        },
      });
      scope.addHook('onRequest', async (_request, reply) => {
        if (!isBuilt()) return notBuilt(reply);
        return undefined;
      });
      scope.get('/', { prefixTrailingSlash: 'slash' }, async (_request, reply) => sendIndex(reply));
      // A path the build has no file for: a route of the app (no extension) gets index.html, anything else a 404.
      scope.setNotFoundHandler(async (request, reply) => {
        if ((request.method === 'GET' || request.method === 'HEAD') && !hasExtension(request.url)) return sendIndex(reply);
        return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      });
    },
    { prefix: '/console' },
  );
}

function graphError(request: FastifyRequest, code: string, message: string): Record<string, unknown> {
  return { error: { code, message, innerError: { 'request-id': request.id, date: new Date().toISOString() } } };
}
