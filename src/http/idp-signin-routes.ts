import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../config.ts';
import { AuthorizationCodes, isCodeVerifier, isS256Challenge, type AuthorizationGrant, type Sealer } from '../identity/authorization-codes.ts';
import type { DevIdentityProvider } from '../identity/dev-idp.ts';
import type { Clock } from '../identity/identity.ts';
import type { TenantRecord } from '../store/records.ts';
import type { SecretStore, UserStore } from '../store/roles.ts';
import { ADMIN_ROLE, READER_ROLE } from './graph/graph-api.ts';
import { renderSignInError, renderSignInPage, signInPageSecurityPolicy, type SignInForm } from './idp-signin-page.ts';

/**
 * The built-in identity provider's authorization and token endpoints, for the admin console's sign-in: OAuth 2.0
 * authorization code grant (RFC 6749 §4.1) with PKCE S256 only (RFC 7636), as Entra's v2 endpoints answer a
 * single-page app (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow). One client is known: the
 * console (`consoleClientId`), with one redirect URI, `<public-url>/console/`. The authorization endpoint shows a
 * development sign-in page (pick a user, app roles and groups) instead of authenticating anyone: registered only
 * while the built-in provider is on.
 */
export interface IdpSignInOptions {
  idp: DevIdentityProvider;
  publicUrl: string;
  /** The `aud` of the access tokens: OpenMAM's App ID URI. */
  audience: string;
  consoleClientId: string;
  tenants: { get(id: string): Promise<TenantRecord | undefined> };
  users: UserStore;
  secrets: SecretStore;
  sealer: Sealer;
  clock: Clock;
}

export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;
/** How long a sign-in page may stay open before its form is refused. */
const FORM_LIFETIME_MS = 10 * 60_000;
const FORM_PURPOSE = 'openmam-idp-sign-in-form-v1';
const CSRF_COOKIE = 'openmam_idp_csrf';
const MAX_PARAMETER_LENGTH = 1024;
const MAX_GROUPS = 50;
const KNOWN_USERS = 50;
const ROLES = [ADMIN_ROLE, READER_ROLE] as const;

/** The authorization request, once its client and redirect URI are known good. */
interface AuthorizationRequest {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  nonce: string | undefined;
  scope: string;
}

interface SealedForm {
  request: AuthorizationRequest;
  expiresAt: number;
  /** SHA-256 of the CSRF cookie set with the page: the post must come from the browser that got the page. */
  csrf: string;
}

type Parameters = Record<string, string | string[] | undefined>;

/** One OAuth parameter: parameters must not be sent more than once (RFC 6749 §3.1, §3.2). */
function single(parameters: Parameters, name: string): { value: string | undefined; repeated: boolean } {
  const value = parameters[name];
  if (Array.isArray(value)) return { value: undefined, repeated: true };
  return { value: value === '' ? undefined : value, repeated: false };
}

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR. */
function isScope(value: string): boolean {
  return value.length <= MAX_PARAMETER_LENGTH && /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(value);
}

/** Printable text of bounded length: `state` and `nonce` are echoed into URLs and tokens. */
function isOpaque(value: string): boolean {
  return value.length <= MAX_PARAMETER_LENGTH && /^[\x20-\x7E]+$/.test(value);
}

function hashOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function idpSignInRoutes(app: FastifyInstance, options: IdpSignInOptions): Promise<void> {
  const redirectUri = `${options.publicUrl}/console/`;
  const redirectOrigin = new URL(redirectUri).origin;
  const codes = new AuthorizationCodes(options.sealer, options.secrets, options.clock);
  const secureCookie = options.publicUrl.startsWith('https:') ? '; Secure' : '';

  // Both endpoints take application/x-www-form-urlencoded bodies (RFC 6749 §4.1.3; HTML forms); repeated names become
  // arrays so that a repeated parameter is seen and refused. Only for this plugin's routes.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    const parameters: Parameters = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = parameters[key];
      parameters[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    done(null, parameters);
  });

  const errorPage = (reply: FastifyReply, status: number, title: string, message: string): FastifyReply =>
    reply.code(status).header('content-security-policy', signInPageSecurityPolicy([])).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderSignInError(title, message));

  /** An error sent back to the client (RFC 6749 §4.1.2.1): only once client and redirect URI are known good. */
  const redirectError = (reply: FastifyReply, request: AuthorizationRequest | { state: string | undefined }, error: string, description: string): FastifyReply => {
    const url = new URL(redirectUri);
    url.searchParams.set('error', error);
    url.searchParams.set('error_description', description);
    if (request.state !== undefined) url.searchParams.set('state', request.state);
    return reply.header('cache-control', 'no-store').redirect(url.href, 303);
  };

  /** The tenant of the path, if it signs in with the built-in provider. */
  const builtinTenant = async (tenantId: string): Promise<TenantRecord | undefined> => {
    if (!isGuid(tenantId)) return undefined;
    const tenant = await options.tenants.get(tenantId);
    return tenant?.identityProvider === 'builtin' ? tenant : undefined;
  };

  const knownUsers = async (tenantId: string): Promise<string[]> => {
    const page = await options.users.queryUsers(tenantId, { orderBy: [{ field: 'userPrincipalName', descending: false }], top: KNOWN_USERS, skip: 0, count: false });
    return page.rows.flatMap((u) => (u.userPrincipalName === null ? [] : [u.userPrincipalName]));
  };

  const showForm = async (reply: FastifyReply, tenant: TenantRecord, request: AuthorizationRequest, status: number, form: Pick<SignInForm, 'values' | 'errors'>, csrf?: string): Promise<FastifyReply> => {
    const cookie = csrf ?? randomBytes(16).toString('base64url');
    const sealed: SealedForm = { request, expiresAt: options.clock() + FORM_LIFETIME_MS, csrf: hashOf(cookie) };
    const html = renderSignInPage({
      action: `/idp/${tenant.id}/oauth2/v2.0/authorize`,
      tenantName: tenant.name,
      request: await options.sealer.seal(FORM_PURPOSE, sealed),
      knownUsers: await knownUsers(tenant.id),
      roles: ROLES,
      ...form,
    });
    // SameSite=Strict: a form posted from another site arrives without it, and is refused.
    const path = `/idp/${tenant.id}/oauth2/v2.0/authorize`;
    return reply
      .code(status)
      .header('set-cookie', `${CSRF_COOKIE}=${cookie}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${FORM_LIFETIME_MS / 1000}${secureCookie}`)
      .header('content-security-policy', signInPageSecurityPolicy([redirectOrigin]))
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(html);
  };

  app.get<{ Params: { tenantId: string }; Querystring: Parameters }>('/idp/:tenantId/oauth2/v2.0/authorize', async (request, reply) => {
    const tenant = await builtinTenant(request.params.tenantId);
    if (!tenant) return errorPage(reply, 404, 'Unknown tenant', 'This tenant is not onboarded, or does not sign in with the built-in identity provider.');
    const query = request.query;
    // Client and redirect URI first, and never a redirect when either is wrong: this endpoint must not send a browser
    // to a URI it does not know (RFC 6749 §4.1.2.1, §10.15).
    const clientId = single(query, 'client_id');
    if (clientId.repeated || clientId.value?.toLowerCase() !== options.consoleClientId) {
      return errorPage(reply, 400, 'Unknown application', 'client_id is missing or is not an application this identity provider knows (the admin console).');
    }
    const redirect = single(query, 'redirect_uri');
    if (redirect.repeated || redirect.value !== redirectUri) {
      return errorPage(reply, 400, 'Wrong redirect URI', `redirect_uri is missing or is not the admin console's (${redirectUri}).`);
    }
    const state = single(query, 'state');
    const echo = { state: state.value !== undefined && !state.repeated && isOpaque(state.value) ? state.value : undefined };
    const invalid = (description: string): FastifyReply => redirectError(reply, echo, 'invalid_request', description);
    for (const name of ['response_type', 'state', 'nonce', 'scope', 'code_challenge', 'code_challenge_method', 'response_mode', 'prompt']) {
      if (single(query, name).repeated) return invalid(`${name} is repeated`);
    }
    if (state.value !== undefined && echo.state === undefined) return invalid('state must be printable text of at most 1024 characters');
    const responseType = single(query, 'response_type').value;
    if (responseType === undefined) return invalid('response_type is missing');
    if (responseType !== 'code') return redirectError(reply, echo, 'unsupported_response_type', 'only the authorization code flow (response_type=code) is supported');
    const responseMode = single(query, 'response_mode').value;
    if (responseMode !== undefined && responseMode !== 'query') return invalid('only response_mode=query is supported');
    // PKCE is required, and only S256: "plain" would hand the verifier to whoever reads the redirect (RFC 7636 §4.4.1, §7.2).
    const method = single(query, 'code_challenge_method').value;
    const challenge = single(query, 'code_challenge').value;
    if (challenge === undefined) return invalid('code_challenge is required (PKCE, RFC 7636)');
    if (method !== 'S256') return invalid('code_challenge_method must be S256');
    if (!isS256Challenge(challenge)) return invalid('code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)');
    const scope = single(query, 'scope').value;
    if (scope === undefined) return invalid('scope is missing');
    if (!isScope(scope)) return redirectError(reply, echo, 'invalid_scope', 'scope is not a space-separated list of scope tokens');
    const nonce = single(query, 'nonce').value;
    if (nonce !== undefined && !isOpaque(nonce)) return invalid('nonce must be printable text of at most 1024 characters');
    const authorization: AuthorizationRequest = { tenantId: tenant.id, clientId: options.consoleClientId, redirectUri, codeChallenge: challenge, state: echo.state, nonce, scope };
    return showForm(reply, tenant, authorization, 200, { values: { upn: '', roles: [READER_ROLE], groups: '' }, errors: {} });
  });

  app.post<{ Params: { tenantId: string }; Body: Parameters }>('/idp/:tenantId/oauth2/v2.0/authorize', async (request, reply) => {
    const tenant = await builtinTenant(request.params.tenantId);
    if (!tenant) return errorPage(reply, 404, 'Unknown tenant', 'This tenant is not onboarded, or does not sign in with the built-in identity provider.');
    const body = typeof request.body === 'object' && request.body !== null ? request.body : {};
    const sealedText = single(body, 'request').value;
    const sealed = sealedText === undefined ? undefined : readSealedForm(await options.sealer.open(FORM_PURPOSE, sealedText));
    if (!sealed || sealed.request.tenantId !== tenant.id) {
      return errorPage(reply, 400, 'Sign-in form not recognised', 'This form was not issued by this sign-in page. Start again from the console.');
    }
    if (sealed.expiresAt <= options.clock()) return errorPage(reply, 400, 'Sign-in form expired', 'This sign-in page was open too long. Start again from the console.');
    const cookie = readCookie(request, CSRF_COOKIE);
    if (cookie === undefined || !sameText(hashOf(cookie), sealed.csrf)) {
      return errorPage(reply, 403, 'Sign-in refused', 'The form was not posted from the sign-in page this browser opened (its cookie is missing). Start again from the console.');
    }
    const authorization = sealed.request;
    if (single(body, 'action').value === 'cancel') return redirectError(reply, authorization, 'access_denied', 'the user cancelled the sign-in');

    const upnInput = single(body, 'upn').value?.trim() ?? '';
    const rolesInput = body['role'] === undefined ? [] : Array.isArray(body['role']) ? body['role'] : [body['role']];
    const groupsInput = single(body, 'groups').value ?? '';
    const errors: SignInForm['errors'] = {};
    if (!/^[^\s@<>"]{1,128}@[^\s@<>"]{1,127}$/.test(upnInput)) errors.upn = 'Enter a user principal name such as alex@contoso.example.';
    const roles = [...new Set(rolesInput)];
    if (roles.some((r) => !(ROLES as readonly string[]).includes(r))) errors.roles = `Roles may only be ${ROLES.join(' and ')}.`;
    const groups = [...new Set(groupsInput.split(/[\s,]+/).filter((g) => g !== '').map((g) => g.toLowerCase()))];
    if (groups.length > MAX_GROUPS || groups.some((g) => !isGuid(g))) errors.groups = `Enter at most ${MAX_GROUPS} group object ids, each a GUID.`;
    if (Object.keys(errors).length > 0) {
      const values = { upn: upnInput, roles: roles.filter((r) => (ROLES as readonly string[]).includes(r)), groups: groupsInput };
      return showForm(reply, tenant, authorization, 400, { values, errors }, cookie);
    }
    const grant: AuthorizationGrant = {
      tenantId: tenant.id,
      clientId: authorization.clientId,
      redirectUri: authorization.redirectUri,
      codeChallenge: authorization.codeChallenge,
      upn: upnInput,
      roles,
      groups,
      nonce: authorization.nonce,
      scope: authorization.scope,
    };
    const url = new URL(authorization.redirectUri);
    url.searchParams.set('code', await codes.issue(grant));
    if (authorization.state !== undefined) url.searchParams.set('state', authorization.state);
    return reply.header('cache-control', 'no-store').redirect(url.href, 303);
  });

  app.post<{ Params: { tenantId: string }; Body: Parameters }>('/idp/:tenantId/oauth2/v2.0/token', async (request, reply) => {
    // RFC 6749 §5.1/§5.2: JSON answers, never cached.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const fail = (error: string, description: string): FastifyReply => reply.code(400).send({ error, error_description: description });
    if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) {
      return fail('invalid_request', 'the token request must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)');
    }
    const body = typeof request.body === 'object' && request.body !== null ? request.body : {};
    for (const name of ['grant_type', 'code', 'redirect_uri', 'client_id', 'code_verifier', 'scope']) {
      if (single(body, name).repeated) return fail('invalid_request', `${name} is repeated`);
    }
    const grantType = single(body, 'grant_type').value;
    if (grantType === undefined) return fail('invalid_request', 'grant_type is missing');
    if (grantType !== 'authorization_code') return fail('unsupported_grant_type', 'only grant_type=authorization_code is supported');
    const tenant = await builtinTenant(request.params.tenantId);
    if (!tenant) return fail('invalid_request', 'the tenant of this endpoint is not onboarded with the built-in identity provider');
    const clientId = single(body, 'client_id').value;
    if (clientId === undefined) return fail('invalid_request', 'client_id is missing');
    if (clientId.toLowerCase() !== options.consoleClientId) return fail('invalid_client', 'client_id is not an application this identity provider knows');
    const code = single(body, 'code').value;
    if (code === undefined) return fail('invalid_request', 'code is missing');
    const redirect = single(body, 'redirect_uri').value;
    if (redirect === undefined) return fail('invalid_request', 'redirect_uri is missing');
    const verifier = single(body, 'code_verifier').value;
    if (verifier === undefined) return fail('invalid_request', 'code_verifier is missing (PKCE, RFC 7636 §4.5)');
    if (!isCodeVerifier(verifier)) return fail('invalid_request', 'code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)');
    const redeemed = await codes.redeem(code, { tenantId: tenant.id, clientId, redirectUri: redirect, codeVerifier: verifier });
    if (redeemed.kind === 'refused') return fail('invalid_grant', redeemed.reason);
    const { grant } = redeemed;
    const now = options.clock();
    const common = { tenantId: grant.tenantId, upn: grant.upn, roles: grant.roles, groups: grant.groups, clientId: grant.clientId, expiresInSeconds: ACCESS_TOKEN_LIFETIME_SECONDS, now };
    const accessToken = await options.idp.mint({ ...common, audience: options.audience });
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, scope: grant.scope };
    // The ID token is the client's own: aud = its client id, with the nonce of the request (OpenID Connect Core §2).
    if (grant.scope.split(' ').includes('openid')) {
      answer['id_token'] = await options.idp.mint({ ...common, audience: grant.clientId, ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }) });
    }
    return reply.code(200).send(answer);
  });
}

function readSealedForm(value: unknown): SealedForm | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const form = value as Partial<SealedForm>;
  if (typeof form.expiresAt !== 'number' || typeof form.csrf !== 'string' || typeof form.request !== 'object' || form.request === null) return undefined;
  return form as SealedForm;
}
