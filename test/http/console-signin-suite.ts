import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { decodeJwt } from 'jose';
import { loadConfig, type Config } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/main.ts';
import { BANNER } from '../../src/http/idp-signin-page.ts';
import { freePort } from '../support/free-port.ts';
import { httpsRequest, type HttpsResponse } from '../support/https-client.ts';
import { withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import type { ConsoleConfig } from '../../src/http/console-routes.ts';
import type { Backend } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The admin console's sign-in against the built-in identity provider, end to end over real HTTPS: the console's
 * config, OIDC discovery, the authorization endpoint's development sign-in page, the form post, the code exchanged at
 * the token endpoint with a real PKCE verifier, and the token used on the Graph admin API with the role picked. Then
 * every refusal: wrong client, wrong redirect URI, missing or plain challenge, wrong verifier, replayed, expired or
 * another tenant's code, a bad grant type, a forged or cross-site form. Per store backend (the codes' single use is
 * remembered in the store).
 */

interface Pkce {
  verifier: string;
  challenge: string;
}

function newPkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const REGISTRATIONS = '/graph/beta/deviceAppManagement/managedAppRegistrations';

export function consoleSignInEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`console sign-in with the built-in identity provider (${backend})`, { skip: skip ?? false }, () => {
    let runtime: Runtime;
    let config: Config;
    let url: string;
    let ca: string;
    let dataDir: string;
    let schema: PostgresTestSchema | undefined;
    let console_: ConsoleConfig;
    let authorizeUrl: string;
    let tokenUrl: string;
    /** Added to the real time by the server's clock: a test moves it past a code's lifetime. */
    let clockOffset = 0;

    const request = (pathname: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpsResponse> =>
      httpsRequest(pathname.startsWith('https:') ? pathname : `${url}${pathname}`, { ...options, ca });
    const json = (response: HttpsResponse): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;
    const header = (response: HttpsResponse, name: string): string => {
      const value = response.headers[name];
      return Array.isArray(value) ? value.join(', ') : (value ?? '');
    };

    function authorizeQuery(overrides: Record<string, string | undefined> = {}, pkce: Pkce = newPkce(), authorize = authorizeUrl): string {
      const parameters: Record<string, string | undefined> = {
        client_id: console_.clientId,
        response_type: 'code',
        redirect_uri: console_.redirectUri,
        scope: console_.scopes.join(' '),
        state: 'state-123',
        nonce: 'nonce-456',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...overrides,
      };
      const target = new URL(authorize);
      for (const [key, value] of Object.entries(parameters)) if (value !== undefined) target.searchParams.set(key, value);
      return target.href;
    }

    /** Opens the sign-in page: its sealed request field and the CSRF cookie it set. */
    async function openPage(href: string): Promise<{ page: HttpsResponse; request: string; cookie: string }> {
      const page = await request(href);
      assert.equal(page.status, 200, page.body);
      const sealed = /name="request" value="([^"]+)"/.exec(page.body)?.[1];
      const cookie = header(page, 'set-cookie').split(';')[0]!;
      assert.ok(sealed, 'the page carries the sealed request');
      return { page, request: sealed, cookie };
    }

    async function postForm(href: string, form: Record<string, string | string[]>, cookie: string | undefined): Promise<HttpsResponse> {
      const body = new URLSearchParams();
      for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
      return request(href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }) },
        body: body.toString(),
      });
    }

    /** The authorization code of a sign-in as `upn` with `roles`, from the redirect back to the console. */
    async function authorize(upn: string, roles: string[], pkce: Pkce, authorize = authorizeUrl): Promise<string> {
      const { request: sealed, cookie } = await openPage(authorizeQuery({}, pkce, authorize));
      const posted = await postForm(new URL(authorize).pathname, { request: sealed, upn, role: roles, groups: '', action: 'sign-in' }, cookie);
      assert.equal(posted.status, 303, posted.body);
      const location = new URL(header(posted, 'location'));
      assert.equal(`${location.origin}${location.pathname}`, console_.redirectUri);
      assert.equal(location.searchParams.get('state'), 'state-123');
      return location.searchParams.get('code')!;
    }

    function redeem(code: string, pkce: Pkce, overrides: Record<string, string | undefined> = {}, token = tokenUrl): Promise<HttpsResponse> {
      const form: Record<string, string | undefined> = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: console_.redirectUri,
        client_id: console_.clientId,
        code_verifier: pkce.verifier,
        ...overrides,
      };
      const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
      return request(token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    }

    async function signIn(upn: string, roles: string[]): Promise<Record<string, unknown>> {
      const pkce = newPkce();
      const answer = await redeem(await authorize(upn, roles, pkce), pkce);
      assert.equal(answer.status, 200, answer.body);
      return json(answer);
    }

    function assertOAuthError(response: HttpsResponse, error: string, description?: RegExp): void {
      assert.equal(response.status, 400, response.body);
      assert.equal(header(response, 'cache-control'), 'no-store');
      const body = json(response);
      assert.equal(body['error'], error, response.body);
      if (description) assert.match(String(body['error_description']), description);
    }

    /** The error redirected back to the console (RFC 6749 §4.1.2.1). */
    function redirectedError(response: HttpsResponse): URLSearchParams {
      assert.equal(response.status, 303, response.body);
      const location = new URL(header(response, 'location'));
      assert.equal(`${location.origin}${location.pathname}`, console_.redirectUri);
      return location.searchParams;
    }

    before(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-console-signin-'));
      schema = backend === 'postgres' ? await withPostgresSchema() : undefined;
      const port = await freePort();
      config = loadConfig(
        {},
        {
          OPENMAM_DATA_DIR: dataDir,
          OPENMAM_PORT: String(port),
          OPENMAM_HOST: '127.0.0.1',
          OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}`,
          OPENMAM_LOG_LEVEL: 'silent',
          ...(schema ? { OPENMAM_DATABASE_URL: schema.url } : {}),
        },
      );
      runtime = await createRuntime(config, { logger: false, clock: () => Date.now() + clockOffset, consoleDir: path.join(dataDir, 'no-console') });
      await runtime.app.server.listen({ port, host: '127.0.0.1' });
      url = config.publicUrl;
      ca = await readFile(config.tlsCertFile, 'utf8');

      const answer = await request('/console/config.json');
      assert.equal(answer.status, 200, answer.body);
      console_ = json(answer) as unknown as ConsoleConfig;
      const discovery = await request(`${console_.authority}/.well-known/openid-configuration`);
      assert.equal(discovery.status, 200, discovery.body);
      authorizeUrl = String(json(discovery)['authorization_endpoint']);
      tokenUrl = String(json(discovery)['token_endpoint']);
    });

    after(async () => {
      await runtime?.app.server.close();
      await schema?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('config.json names the default tenant, its built-in authority, the console client and redirect URI', async () => {
      assert.deepEqual(console_, {
        tenantId: runtime.defaultTenant.id,
        authority: `${url}/idp/${runtime.defaultTenant.id}/v2.0`,
        clientId: config.consoleClientId,
        scopes: [`${config.appIdUri}/.default`, 'openid', 'profile'],
        redirectUri: `${url}/console/`,
        builtinIdp: true,
      });
      assert.equal(authorizeUrl, `${url}/idp/${runtime.defaultTenant.id}/oauth2/v2.0/authorize`);
      assert.equal(tokenUrl, `${url}/idp/${runtime.defaultTenant.id}/oauth2/v2.0/token`);
    });

    it('config.json picks another onboarded tenant with ?tenant=, 404 for an unknown one, 400 for a non-GUID', async () => {
      const other = randomUUID();
      await runtime.app.tenants.onboard({ id: other, name: 'Fabrikam', identityProvider: 'builtin' });
      const picked = json(await request(`/console/config.json?tenant=${other}`));
      assert.equal(picked['tenantId'], other);
      assert.equal(picked['authority'], `${url}/idp/${other}/v2.0`);
      const entra = randomUUID();
      await runtime.app.tenants.onboard({ id: entra, name: 'Entra tenant', identityProvider: 'entra' });
      const entraConfig = json(await request(`/console/config.json?tenant=${entra}`));
      assert.equal(entraConfig['authority'], `${config.entraAuthority}/${entra}/v2.0`);
      assert.equal(entraConfig['builtinIdp'], false);
      const unknown = await request(`/console/config.json?tenant=${randomUUID()}`);
      assert.equal(unknown.status, 404);
      assert.equal((json(unknown)['error'] as Record<string, unknown>)['code'], 'ResourceNotFound');
      const bad = await request('/console/config.json?tenant=contoso');
      assert.equal(bad.status, 400);
      assert.equal((json(bad)['error'] as Record<string, unknown>)['code'], 'BadRequest');
    });

    it('shows the development sign-in page: banner, labelled fields, no script, a strict policy and a SameSite cookie', async () => {
      const { page } = await openPage(authorizeQuery());
      assert.match(header(page, 'content-type'), /^text\/html/);
      assert.ok(page.body.includes(BANNER), 'the development banner is shown');
      assert.match(page.body, /<label for="upn">/);
      assert.match(page.body, /<input type="checkbox" name="role" id="role-0" value="OpenMAM.Admin">/);
      assert.match(page.body, /<input type="checkbox" name="role" id="role-1" value="OpenMAM.Reader" checked>/);
      assert.match(page.body, /<label for="groups">/);
      assert.doesNotMatch(page.body, /<script/i);
      const policy = header(page, 'content-security-policy');
      assert.match(policy, /default-src 'none'/);
      assert.match(policy, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(policy, /frame-ancestors 'none'/);
      assert.match(header(page, 'set-cookie'), /HttpOnly; SameSite=Strict/);
      assert.equal(header(page, 'cache-control'), 'no-store');
    });

    it('signs in a Reader with a real PKCE verifier: the token reads the Graph admin API and is refused a write', async () => {
      const answer = await signIn('reader@contoso.example', ['OpenMAM.Reader']);
      assert.equal(answer['token_type'], 'Bearer');
      assert.equal(answer['expires_in'], 3600);
      assert.equal(answer['scope'], console_.scopes.join(' '));
      const access = decodeJwt(String(answer['access_token']));
      assert.equal(access.aud, config.appIdUri);
      assert.deepEqual(access['roles'], ['OpenMAM.Reader']);
      assert.equal(access['upn'], 'reader@contoso.example');
      assert.equal(access['azp'], console_.clientId);
      assert.equal(access.iss, console_.authority);
      const id = decodeJwt(String(answer['id_token']));
      assert.equal(id.aud, console_.clientId);
      assert.equal(id['nonce'], 'nonce-456');

      const bearer = { authorization: `Bearer ${String(answer['access_token'])}` };
      const read = await request(REGISTRATIONS, { headers: bearer });
      assert.equal(read.status, 200, read.body);
      const write = await request('/graph/v1.0/groups', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'readers-cannot' }) });
      assert.equal(write.status, 403, write.body);
      assert.equal((json(write)['error'] as Record<string, unknown>)['code'], 'Authorization_RequestDenied');
    });

    it('signs in an Admin, who may write; the sign-in page then suggests users the tenant has seen', async () => {
      const answer = await signIn('admin@contoso.example', ['OpenMAM.Admin']);
      const bearer = { authorization: `Bearer ${String(answer['access_token'])}` };
      const write = await request('/graph/v1.0/groups', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'console-admins' }) });
      assert.equal(write.status, 201, write.body);
      await runtime.app.store.recordUsers([{ tenantId: runtime.defaultTenant.id, id: randomUUID(), userPrincipalName: 'seen@contoso.example', displayName: 'Seen', at: Date.now() }]);
      const { page } = await openPage(authorizeQuery());
      assert.match(page.body, /<datalist id="known-users">.*<option value="seen@contoso\.example">/);
    });

    it('answers the token with no-store', async () => {
      const pkce = newPkce();
      const answer = await redeem(await authorize('cache@contoso.example', [], pkce), pkce);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(header(answer, 'cache-control'), 'no-store');
      assert.deepEqual(decodeJwt(String(json(answer)['access_token']))['roles'], undefined, 'no role picked, none in the token');
    });

    it('refuses an unknown client or a wrong redirect URI with an error page, never a redirect', async () => {
      for (const overrides of [{ client_id: randomUUID() }, { client_id: undefined }, { redirect_uri: 'https://evil.example/console/' }, { redirect_uri: `${url}/console/x` }, { redirect_uri: undefined }]) {
        const page = await request(authorizeQuery(overrides));
        assert.equal(page.status, 400, JSON.stringify(overrides));
        assert.equal(page.headers['location'], undefined);
        assert.match(page.body, /Unknown application|Wrong redirect URI/);
      }
      const tenantless = await request(authorizeQuery({}, newPkce(), `${url}/idp/${randomUUID()}/oauth2/v2.0/authorize`));
      assert.equal(tenantless.status, 404);
    });

    it('redirects other authorization errors back to the console with error= and the state', async () => {
      const cases: [Record<string, string | undefined>, string, RegExp][] = [
        [{ code_challenge: undefined }, 'invalid_request', /code_challenge is required/],
        [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
        [{ code_challenge_method: undefined }, 'invalid_request', /S256/],
        [{ code_challenge: 'short' }, 'invalid_request', /43 characters/],
        [{ response_type: 'token' }, 'unsupported_response_type', /code/],
        [{ scope: 'bad"scope' }, 'invalid_scope', /scope/],
      ];
      for (const [overrides, error, description] of cases) {
        const parameters = redirectedError(await request(authorizeQuery(overrides)));
        assert.equal(parameters.get('error'), error, JSON.stringify(overrides));
        assert.match(parameters.get('error_description') ?? '', description);
        assert.equal(parameters.get('state'), 'state-123');
      }
      const repeated = redirectedError(await request(`${authorizeQuery()}&code_challenge_method=S256`));
      assert.equal(repeated.get('error'), 'invalid_request');
    });

    it('a cancelled sign-in goes back with access_denied', async () => {
      const { request: sealed, cookie } = await openPage(authorizeQuery());
      const parameters = redirectedError(await postForm(new URL(authorizeUrl).pathname, { request: sealed, upn: '', action: 'cancel' }, cookie));
      assert.equal(parameters.get('error'), 'access_denied');
      assert.equal(parameters.get('state'), 'state-123');
    });

    it('refuses a form without its cookie, a forged form, and shows field errors at the fields', async () => {
      const { request: sealed, cookie } = await openPage(authorizeQuery());
      const action = new URL(authorizeUrl).pathname;
      const crossSite = await postForm(action, { request: sealed, upn: 'a@contoso.example', action: 'sign-in' }, undefined);
      assert.equal(crossSite.status, 403);
      assert.equal(crossSite.headers['location'], undefined);
      const forged = await postForm(action, { request: `${sealed.slice(0, -4)}AAAA`, upn: 'a@contoso.example', action: 'sign-in' }, cookie);
      assert.equal(forged.status, 400);
      assert.equal(forged.headers['location'], undefined);
      const invalid = await postForm(action, { request: sealed, upn: 'not a upn', role: ['OpenMAM.Owner'], groups: 'not-a-guid', action: 'sign-in' }, cookie);
      assert.equal(invalid.status, 400);
      assert.match(invalid.body, /aria-invalid="true" aria-describedby="upn-error"/);
      assert.match(invalid.body, /id="roles-error"/);
      assert.match(invalid.body, /id="groups-error"/);
    });

    it('refuses a sign-in form posted after it expired', async () => {
      const { request: sealed, cookie } = await openPage(authorizeQuery());
      clockOffset = 11 * 60_000;
      try {
        const late = await postForm(new URL(authorizeUrl).pathname, { request: sealed, upn: 'a@contoso.example', action: 'sign-in' }, cookie);
        assert.equal(late.status, 400);
        assert.equal(late.headers['location'], undefined);
        assert.match(late.body, /Sign-in form expired/);
      } finally {
        clockOffset = 0;
      }
    });

    it('refuses a wrong verifier, and the code is spent by that attempt', async () => {
      const pkce = newPkce();
      const code = await authorize('alex@contoso.example', ['OpenMAM.Admin'], pkce);
      assertOAuthError(await redeem(code, { ...pkce, verifier: newPkce().verifier }), 'invalid_grant', /code_verifier does not match/);
      assertOAuthError(await redeem(code, pkce), 'invalid_grant', /already been redeemed/);
    });

    it('refuses a replayed code', async () => {
      const pkce = newPkce();
      const code = await authorize('alex@contoso.example', ['OpenMAM.Admin'], pkce);
      assert.equal((await redeem(code, pkce)).status, 200);
      assertOAuthError(await redeem(code, pkce), 'invalid_grant', /already been redeemed/);
    });

    it('refuses a code redeemed at once on two requests but once', async () => {
      const pkce = newPkce();
      const code = await authorize('race@contoso.example', [], pkce);
      const answers = await Promise.all([redeem(code, pkce), redeem(code, pkce), redeem(code, pkce)]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400]);
    });

    it('refuses an expired code', async () => {
      const pkce = newPkce();
      const code = await authorize('late@contoso.example', [], pkce);
      clockOffset = 61_000;
      try {
        assertOAuthError(await redeem(code, pkce), 'invalid_grant', /expired/);
      } finally {
        clockOffset = 0;
      }
    });

    it("refuses another tenant's code, a forged code, a wrong redirect URI, an unknown client", async () => {
      const other = randomUUID();
      await runtime.app.tenants.onboard({ id: other, name: 'Northwind', identityProvider: 'builtin' });
      const pkce = newPkce();
      const code = await authorize('alex@contoso.example', [], pkce);
      assertOAuthError(await redeem(code, pkce, {}, `${url}/idp/${other}/oauth2/v2.0/token`), 'invalid_grant', /another tenant/);
      const otherPkce = newPkce();
      const otherCode = await authorize('alex@northwind.example', [], otherPkce, `${url}/idp/${other}/oauth2/v2.0/authorize`);
      assertOAuthError(await redeem(otherCode, otherPkce), 'invalid_grant', /another tenant/);
      assertOAuthError(await redeem(`${code.slice(0, -4)}AAAA`, pkce), 'invalid_grant', /not one this server issued/);
      assertOAuthError(await redeem(code, pkce, { client_id: randomUUID() }), 'invalid_client');
      assertOAuthError(await redeem(code, pkce, { redirect_uri: `${url}/console/other` }), 'invalid_grant', /redirect_uri/);
    });

    it('refuses a bad grant type, missing parameters, a malformed verifier, and a JSON body', async () => {
      const pkce = newPkce();
      assertOAuthError(await redeem('x', pkce, { grant_type: 'client_credentials' }), 'unsupported_grant_type');
      assertOAuthError(await redeem('x', pkce, { grant_type: undefined }), 'invalid_request', /grant_type/);
      assertOAuthError(await redeem('x', pkce, { code: undefined }), 'invalid_request', /code is missing/);
      assertOAuthError(await redeem('x', pkce, { code_verifier: undefined }), 'invalid_request', /code_verifier is missing/);
      assertOAuthError(await redeem('x', pkce, { code_verifier: 'short' }), 'invalid_request', /43 to 128/);
      const asJson = await request(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'authorization_code' }) });
      assertOAuthError(asJson, 'invalid_request', /x-www-form-urlencoded/);
    });
  });
}
