import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TermsOfUse } from '../core/terms-of-use.ts';
import { isOpenMamError } from '../errors.ts';
import { isTemporarilyUnavailable } from './retry-later.ts';
import type { TokenVerifier } from '../identity/identity.ts';
import type { TenantDirectory } from '../identity/tenants.ts';
import { TERMS_OF_USE_PATH } from './enrollment-routes.ts';
import { html, renderTermsOfUsePage, type TermsTheme } from './terms-of-use-page.ts';
import { bearerToken } from './bearer-token.ts';

/**
 * The MAM Terms of Use page Entra shows while a work account is added (Entra's MDM/MAM integration contract):
 * GET with the user's token; accepting redirects to `redirect_uri?IsAccepted=true&OpaqueBlob=..`, declining to
 * `IsAccepted=false`, errors to `redirect_uri?error=..&error_description=..`. Windows hands the OpaqueBlob to the
 * enrollment service as EnrollmentData.
 */
export interface TermsOfUseRoutesOptions {
  verifier: TokenVerifier;
  tenants: Pick<TenantDirectory, 'get'>;
  termsOfUse: TermsOfUse;
}

/** Only the Windows web account broker may receive the user: anything else would make this page an open redirect. */
const ALLOWED_REDIRECT_SCHEMES: ReadonlySet<string> = new Set(['ms-appx-web:']);

export function parseRedirectUri(raw: unknown): URL | undefined {
  if (typeof raw !== 'string' || raw.length > 2048) return undefined;
  try {
    const url = new URL(raw);
    return ALLOWED_REDIRECT_SCHEMES.has(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

export function themeFor(cxhHost: unknown): TermsTheme {
  return typeof cxhHost === 'string' && cxhHost.toUpperCase() === 'FRX' ? 'oobe' : 'settings';
}

function redirectWith(reply: FastifyReply, base: URL, parameters: Record<string, string>): FastifyReply {
  const target = new URL(base.href);
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  return reply.code(302).header('cache-control', 'no-store').redirect(target.href);
}

export async function termsOfUseRoutes(app: FastifyInstance, options: TermsOfUseRoutesOptions): Promise<void> {
  app.get(TERMS_OF_USE_PATH, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const redirectUri = parseRedirectUri(query['redirect_uri']);
    if (!redirectUri) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(html('Cannot continue', 'This page was opened without a valid redirect_uri. Add your work account again from Settings.'));
    }
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      return redirectWith(reply, redirectUri, { error: 'unauthorized_client', error_description: 'No bearer token was sent.' });
    }
    try {
      const identity = await options.verifier.verify(token);
      const tenant = await options.tenants.get(identity.tenantId);
      if (!tenant) throw new Error('tenant vanished after verification');
      const blob = await options.termsOfUse.accept(identity);
      const accept = new URL(redirectUri.href);
      accept.searchParams.set('IsAccepted', 'true');
      accept.searchParams.set('OpaqueBlob', blob);
      const decline = new URL(redirectUri.href);
      decline.searchParams.set('IsAccepted', 'false');
      return reply
        .code(200)
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .type('text/html; charset=utf-8')
        .send(
          renderTermsOfUsePage({
            theme: themeFor(request.headers['cxh-host']),
            organisation: tenant.name,
            user: identity.upn ?? identity.objectId,
            text: tenant.settings.termsOfUseText,
            acceptUrl: accept.href,
            declineUrl: decline.href,
          }),
        );
    } catch (error) {
      const clientError = isOpenMamError(error) && (error.code === 'authentication_failed' || error.code === 'tenant_not_onboarded');
      request.log.warn({ traceId: request.id, err: error }, 'Terms of Use refused');
      // RFC 6749 §4.1.2.1's codes: temporarily_unavailable when the database or the identity provider is away.
      return redirectWith(reply, redirectUri, {
        error: clientError ? 'unauthorized_client' : isTemporarilyUnavailable(error) ? 'temporarily_unavailable' : 'server_error',
        error_description: clientError && isOpenMamError(error) ? error.message : `The server could not show the terms (trace id ${request.id}).`,
      });
    }
  });
}
