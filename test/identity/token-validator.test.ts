import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { isOpenMamError, type ErrorCode } from '../../src/errors.ts';
import { DevIdentityProvider, fetchWithDevIdp, stableObjectId } from '../../src/identity/dev-idp.ts';
import { TokenAudienceError } from '../../src/identity/identity.ts';
import type { FetchJson } from '../../src/identity/identity.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { TokenValidator, type TokenValidatorOptions } from '../../src/identity/token-validator.ts';
import type { IdentityProviderKind, TenantRecord } from '../../src/store/records.ts';

// ---- fixed facts --------------------------------------------------------------------------------------------------

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const NOW_SECONDS = NOW / 1000;
const SKEW_SECONDS = 300;
const APP_ID_URI = 'api://openmam.test';
const CLIENT_ID = '3f0c9a51-7d1e-4c52-9a9e-6b0f2d8c4e11';

const BUILTIN_TENANT = '0b0e3c36-1d4f-4a5e-8c1b-0f2a9d7e6c01';
const ENTRA_TENANT = 'a1b2c3d4-0000-4000-8000-00000000000a';
const ENTRA_TENANT_B = 'b1b2c3d4-0000-4000-8000-00000000000b';
const FOREIGN_TENANT = 'f0f0f0f0-0000-4000-8000-0000000000ff';
const USER_OID = '9d3f5a0e-2b6c-4f7d-8e1a-3c5b7d9f1e2a';

// ---- tenants lookup -----------------------------------------------------------------------------------------------

function tenantRecord(id: string, identityProvider: IdentityProviderKind): TenantRecord {
  return { id, name: `Tenant ${id.slice(0, 8)}`, identityProvider, enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: 0, updatedAt: 0 };
}

const tenants = new Map<string, TenantRecord>();
function resetTenants(): void {
  tenants.clear();
  for (const t of [tenantRecord(BUILTIN_TENANT, 'builtin'), tenantRecord(ENTRA_TENANT, 'entra'), tenantRecord(ENTRA_TENANT_B, 'entra')]) tenants.set(t.id, t);
}
const tenantLookup: TokenValidatorOptions['tenants'] = { get: async (id) => tenants.get(id) };

// ---- the built-in identity provider -------------------------------------------------------------------------------

const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-token-validator-'));
after(() => rm(dataDir, { recursive: true, force: true }));
const idp = await DevIdentityProvider.open(dataDir, 'https://openmam.test');

/** The fallback of the built-in IdP's fetch: nothing may go to the network for builtin tenants. */
const offlineUrls: string[] = [];
const failingFetch: FetchJson = async (url) => {
  offlineUrls.push(url);
  throw new TypeError(`fetch failed: no network in this test (${url})`);
};

// ---- a local "Entra": OIDC discovery and a JWKS, signing keys of our own -------------------------------------------

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, publicKey, publicJwk };
}

const entraKey = await newSigningKey('entra-key-1');
const rotatedKey = await newSigningKey('entra-key-2');
const strangerKey = await newSigningKey('stranger-key');

interface EntraState {
  keys: JWK[];
  failDiscovery: Set<string>;
  discoveryBody: string | undefined;
  jwksStatus: number;
  hits: string[];
}
const entra: EntraState = { keys: [], failDiscovery: new Set(), discoveryBody: undefined, jwksStatus: 200, hits: [] };
function resetEntra(): void {
  entra.keys = [entraKey.publicJwk];
  entra.failDiscovery.clear();
  entra.discoveryBody = undefined;
  entra.jwksStatus = 200;
  entra.hits = [];
}

const JWKS_PATH = '/common/discovery/v2.0/keys';
const server = createServer((request, response) => {
  const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  entra.hits.push(pathname);
  const send = (status: number, body: string): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  };
  const discovery = /^\/([0-9a-f-]{36})\/v2\.0\/\.well-known\/openid-configuration$/.exec(pathname);
  if (discovery) {
    const tid = discovery[1]!;
    if (entra.failDiscovery.has(tid)) return send(500, '{"error":"server_error"}');
    const document = {
      token_endpoint: `https://login.microsoftonline.com/${tid}/oauth2/v2.0/token`,
      jwks_uri: `${entraAuthority}${JWKS_PATH}`,
      issuer: `https://login.microsoftonline.com/${tid}/v2.0`,
      id_token_signing_alg_values_supported: ['RS256'],
    };
    return send(200, entra.discoveryBody ?? JSON.stringify(document));
  }
  if (pathname === JWKS_PATH) return send(entra.jwksStatus, entra.jwksStatus === 200 ? JSON.stringify({ keys: entra.keys }) : '{"error":"server_error"}');
  return send(404, '{"error":"not_found"}');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const entraAuthority = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

const discoveryHits = (tid: string): number => entra.hits.filter((p) => p === `/${tid}/v2.0/.well-known/openid-configuration`).length;
const jwksHits = (): number => entra.hits.filter((p) => p === JWKS_PATH).length;

const v2Issuer = (tid: string): string => `https://login.microsoftonline.com/${tid}/v2.0`;
const v1Issuer = (tid: string): string => `https://sts.windows.net/${tid}/`;

interface EntraTokenOptions {
  tid?: string;
  key?: SigningKey;
  /** Header kid; defaults to the signing key's. */
  kid?: string;
  /** Claims to set or (with undefined) remove. */
  claims?: Record<string, unknown>;
}

async function entraToken(options: EntraTokenOptions = {}): Promise<string> {
  const tid = options.tid ?? ENTRA_TENANT;
  const key = options.key ?? entraKey;
  const claims: Record<string, unknown> = {
    aud: CLIENT_ID,
    iss: v2Issuer(tid),
    iat: NOW_SECONDS - 60,
    nbf: NOW_SECONDS - 60,
    exp: NOW_SECONDS + 3600,
    tid,
    oid: USER_OID,
    sub: 'x7Qq8AZ2-subject',
    upn: 'ann@contoso.com',
    ver: '2.0',
    ...options.claims,
  };
  const payload = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? key.kid }).sign(key.privateKey);
}

// ---- the validator ------------------------------------------------------------------------------------------------

let now = NOW;
const clock = (): number => now;

function validator(options: Partial<TokenValidatorOptions> = {}): TokenValidator {
  return new TokenValidator({
    tenants: tenantLookup,
    audiences: [APP_ID_URI, CLIENT_ID],
    entraAuthority,
    devIdp: idp,
    fetch: fetchWithDevIdp(idp, (url, init) => fetch(url, init)),
    clock,
    clockSkewSeconds: SKEW_SECONDS,
    ...options,
  });
}

async function refused(promise: Promise<unknown>, code: ErrorCode = 'authentication_failed', message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
    assert.equal(error.code, code, `code of "${error.message}"`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeEach(() => {
  now = NOW;
  resetTenants();
  resetEntra();
  offlineUrls.length = 0;
});

// ---- tests --------------------------------------------------------------------------------------------------------

describe('TokenValidator: built-in identity provider', () => {
  const mint = (overrides: Partial<Parameters<DevIdentityProvider['mint']>[0]> = {}): Promise<string> =>
    idp.mint({ tenantId: BUILTIN_TENANT, upn: 'Bob@Contoso.test', audience: APP_ID_URI, expiresInSeconds: 3600, now: NOW, ...overrides });

  it('accepts a token it minted, with the identity fields, without touching the network', async () => {
    const builtin = validator({ fetch: fetchWithDevIdp(idp, failingFetch) });
    const token = await mint({
      objectId: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
      deviceId: 'C0FFEE00-1111-4222-8333-444455556666',
      groups: ['group-a', 'group-b'],
      roles: ['MAM.Admin'],
      clientId: 'ECD6B820-32C2-49B6-98A6-444530E5A77A',
    });
    const identity = await builtin.verify(token);
    assert.deepEqual(identity, {
      tenantId: BUILTIN_TENANT,
      objectId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      upn: 'Bob@Contoso.test',
      deviceId: 'c0ffee00-1111-4222-8333-444455556666',
      clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a',
      audiences: [APP_ID_URI],
      mail: 'Bob@Contoso.test',
      name: 'Bob',
      groups: ['group-a', 'group-b'],
      roles: ['MAM.Admin'],
      issuer: idp.issuer(BUILTIN_TENANT),
      expiresAt: (NOW_SECONDS + 3600) * 1000,
    });
    assert.deepEqual(offlineUrls, []);
  });

  it('defaults to the stable object id and empty groups and roles', async () => {
    const identity = await validator({ fetch: fetchWithDevIdp(idp, failingFetch) }).verify(await mint());
    assert.equal(identity.objectId, stableObjectId(BUILTIN_TENANT, 'Bob@Contoso.test'));
    assert.equal(identity.deviceId, undefined);
    assert.deepEqual(identity.groups, []);
    assert.deepEqual(identity.roles, []);
  });

  it('accepts the client id as audience', async () => {
    const identity = await validator({ fetch: fetchWithDevIdp(idp, failingFetch) }).verify(await mint({ audience: CLIENT_ID }));
    assert.equal(identity.tenantId, BUILTIN_TENANT);
  });

  it('refuses its tokens when the validator has the built-in IdP turned off', async () => {
    await refused(validator({ devIdp: undefined, fetch: failingFetch }).verify(await mint()), 'authentication_failed', /built-in identity provider/);
    assert.deepEqual(offlineUrls, []);
  });

  it('refuses a built-in token for an Entra tenant, and an Entra token for a built-in tenant', async () => {
    const v = validator();
    await refused(v.verify(await mint({ tenantId: ENTRA_TENANT })));
    await refused(v.verify(await entraToken({ tid: BUILTIN_TENANT })));
  });
});

describe('TokenValidator: Entra ID', () => {
  for (const [issuerForm, issuer] of [
    ['v2', v2Issuer(ENTRA_TENANT)],
    ['v1', v1Issuer(ENTRA_TENANT)],
  ] as const) {
    for (const aud of [APP_ID_URI, `${APP_ID_URI}/`, CLIENT_ID]) {
      it(`accepts a ${issuerForm} issuer with aud ${aud}`, async () => {
        const identity = await validator().verify(await entraToken({ claims: { iss: issuer, aud } }));
        assert.equal(identity.tenantId, ENTRA_TENANT);
        assert.equal(identity.objectId, USER_OID);
        assert.equal(identity.upn, 'ann@contoso.com');
        assert.equal(identity.issuer, issuer);
        assert.equal(identity.expiresAt, (NOW_SECONDS + 3600) * 1000);
      });
    }
  }

  it('accepts an App ID URI configured with a trailing slash, used without', async () => {
    const v = validator({ audiences: ['https://mam.contoso.com/'] });
    assert.ok(await v.verify(await entraToken({ claims: { aud: 'https://mam.contoso.com' } })));
    assert.ok(await v.verify(await entraToken({ claims: { aud: 'https://mam.contoso.com/' } })));
  });

  it('takes the expected v2 issuer from the discovery document, not from the authority URL', async () => {
    // The authority is the local server, yet the issuer is login.microsoftonline.com: it came from discovery.
    assert.ok(!entraAuthority.includes('login.microsoftonline.com'));
    await validator().verify(await entraToken());
    assert.equal(discoveryHits(ENTRA_TENANT), 1);
    await refused(validator().verify(await entraToken({ claims: { iss: `${entraAuthority}/${ENTRA_TENANT}/v2.0` } })), 'authentication_failed', /iss/);
  });

  it('reads upn from preferred_username or unique_name, lower-cases oid and deviceid', async () => {
    const v = validator();
    const preferred = await v.verify(await entraToken({ claims: { upn: undefined, preferred_username: 'pref@contoso.com', oid: USER_OID.toUpperCase(), deviceid: 'ABCDEF00-1111-4222-8333-444455556666' } }));
    assert.equal(preferred.upn, 'pref@contoso.com');
    assert.equal(preferred.objectId, USER_OID);
    assert.equal(preferred.deviceId, 'abcdef00-1111-4222-8333-444455556666');
    const unique = await v.verify(await entraToken({ claims: { upn: undefined, unique_name: 'unique@contoso.com' } }));
    assert.equal(unique.upn, 'unique@contoso.com');
    const none = await v.verify(await entraToken({ claims: { upn: undefined, groups: ['g1', 7, 'g2'], roles: 'not-a-list' } }));
    assert.equal(none.upn, undefined);
    assert.deepEqual(none.groups, ['g1', 'g2']);
    assert.deepEqual(none.roles, []);
  });
});

describe('TokenValidator: refusals', () => {
  it('refuses alg none (an unsigned JWT)', async () => {
    const claims = { aud: CLIENT_ID, iss: v2Issuer(ENTRA_TENANT), tid: ENTRA_TENANT, oid: USER_OID, nbf: NOW_SECONDS - 60, exp: NOW_SECONDS + 3600 };
    const v = validator();
    await refused(v.verify(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`));
    await refused(v.verify(`${b64url({ alg: 'none', typ: 'JWT', kid: entraKey.kid })}.${b64url(claims)}.`));
    await refused(v.verify(`${b64url({ alg: 'None' })}.${b64url(claims)}.`));
  });

  it("refuses HS256 signed with the public key's PEM or JWK as the HMAC secret", async () => {
    const v = validator();
    const claims = { aud: CLIENT_ID, iss: v2Issuer(ENTRA_TENANT), tid: ENTRA_TENANT, oid: USER_OID, nbf: NOW_SECONDS - 60, exp: NOW_SECONDS + 3600 };
    const secrets = [
      new TextEncoder().encode(await exportSPKI(entraKey.publicKey)),
      new TextEncoder().encode(JSON.stringify(entraKey.publicJwk)),
      new TextEncoder().encode(JSON.stringify({ keys: [entraKey.publicJwk] })),
    ];
    for (const secret of secrets) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: entraKey.kid }).sign(secret);
      await refused(v.verify(forged), 'authentication_failed', /algorithm/);
    }
  });

  it('refuses a token signed by an unknown key, without refetching the key set within the cooldown', async () => {
    const v = validator();
    await v.verify(await entraToken());
    assert.equal(jwksHits(), 1);
    await refused(v.verify(await entraToken({ key: strangerKey })), 'authentication_failed', /unknown key/);
    // The stranger's key under the known kid: the signature does not verify.
    await refused(v.verify(await entraToken({ key: strangerKey, kid: entraKey.kid })), 'authentication_failed', /signature/);
    assert.equal(jwksHits(), 1, 'an unknown kid within the cooldown does not trigger a JWKS fetch');
  });

  it('refuses a signature that was tampered with or a payload changed after signing', async () => {
    const v = validator();
    const [header, payload, signature] = (await entraToken()).split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await refused(v.verify(`${header}.${payload}.${flipped}`));
    const otherPayload = b64url({ aud: CLIENT_ID, iss: v2Issuer(ENTRA_TENANT), tid: ENTRA_TENANT, oid: 'someone-else', exp: NOW_SECONDS + 3600 });
    await refused(v.verify(`${header}.${otherPayload}.${signature}`), 'authentication_failed', /signature/);
  });

  it('refuses a wrong aud', async () => {
    const v = validator();
    for (const aud of ['api://someone-else', '00000003-0000-0000-c000-000000000000', `${APP_ID_URI}/extra`, ['api://someone-else', 'api://other']]) {
      await refused(v.verify(await entraToken({ claims: { aud } })), 'authentication_failed', /audience \(aud\)/);
    }
    await refused(v.verify(await entraToken({ claims: { aud: undefined } })), 'authentication_failed', /audience \(aud\) is missing/);
  });

  it("checks the audience at every call: OpenMAM's by default, a resource's when asked, never both from one cache entry", async () => {
    const v = validator();
    const forResource = await entraToken({ claims: { aud: 'https://outlook.office365.com' } });
    await assert.rejects(v.verify(forResource), (error: unknown) => error instanceof TokenAudienceError, "a resource's token at OpenMAM's own API");
    const identity = await v.verify(forResource, ['00000002-0000-0ff1-ce00-000000000000', 'https://outlook.office365.com']);
    assert.deepEqual(identity.audiences, ['https://outlook.office365.com']);
    const ours = await entraToken();
    assert.ok(await v.verify(ours), 'the same validator, OpenMAM audience');
    await assert.rejects(v.verify(ours, ['https://outlook.office365.com']), (error: unknown) => error instanceof TokenAudienceError, 'cached, but not for this resource');
  });

  it('reads the client application from azp (v2) or appid (v1)', async () => {
    const v = validator();
    const v2 = await v.verify(await entraToken({ claims: { azp: 'ECD6B820-32C2-49B6-98A6-444530E5A77A' } }));
    assert.equal(v2.clientId, 'ecd6b820-32c2-49b6-98a6-444530e5a77a');
    const v1 = await v.verify(await entraToken({ claims: { appid: 'e9c51622-460d-4d3d-952d-966a5b1da34c' } }));
    assert.equal(v1.clientId, 'e9c51622-460d-4d3d-952d-966a5b1da34c');
    const none = await v.verify(await entraToken({ claims: {} }));
    assert.equal(none.clientId, undefined);
  });

  it('refuses an expired token, accepts one expired within the skew', async () => {
    const v = validator();
    await refused(v.verify(await entraToken({ claims: { exp: NOW_SECONDS - SKEW_SECONDS - 1 } })), 'authentication_failed', /expired/);
    assert.ok(await v.verify(await entraToken({ claims: { exp: NOW_SECONDS - SKEW_SECONDS + 30 } })));
    await refused(v.verify(await entraToken({ claims: { exp: undefined } })), 'authentication_failed', /exp/);
  });

  it('refuses nbf in the future beyond the skew, accepts it within the skew', async () => {
    const v = validator();
    await refused(v.verify(await entraToken({ claims: { nbf: NOW_SECONDS + SKEW_SECONDS + 60 } })), 'authentication_failed', /nbf/);
    assert.ok(await v.verify(await entraToken({ claims: { nbf: NOW_SECONDS + SKEW_SECONDS - 30 } })));
  });

  it("refuses the iss of tenant A with the tid of tenant B, both onboarded", async () => {
    const v = validator();
    assert.ok(await v.verify(await entraToken({ tid: ENTRA_TENANT })));
    assert.ok(await v.verify(await entraToken({ tid: ENTRA_TENANT_B })));
    await refused(v.verify(await entraToken({ tid: ENTRA_TENANT_B, claims: { iss: v2Issuer(ENTRA_TENANT) } })), 'authentication_failed', /iss/);
    await refused(v.verify(await entraToken({ tid: ENTRA_TENANT_B, claims: { iss: v1Issuer(ENTRA_TENANT) } })), 'authentication_failed', /iss/);
    await refused(v.verify(await entraToken({ tid: ENTRA_TENANT_B, claims: { iss: v2Issuer('common') } })), 'authentication_failed', /iss/);
    await refused(v.verify(await entraToken({ tid: ENTRA_TENANT_B, claims: { iss: undefined } })), 'authentication_failed', /iss/);
    // The same across providers: a built-in token naming another built-in tenant's issuer.
    const other = '0b0e3c36-1d4f-4a5e-8c1b-0f2a9d7e6c02';
    tenants.set(other, tenantRecord(other, 'builtin'));
    const minted = await idp.mint({ tenantId: BUILTIN_TENANT, upn: 'eve@contoso.test', audience: APP_ID_URI, expiresInSeconds: 3600, now: NOW });
    const [, payload] = minted.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(claims['iss'], idp.issuer(BUILTIN_TENANT));
    await refused(v.verify(minted.replace(payload, b64url({ ...claims, tid: other }))), 'authentication_failed');
  });

  it("refuses a tenant that is not onboarded with 'tenant_not_onboarded'", async () => {
    const v = validator();
    await refused(v.verify(await entraToken({ tid: FOREIGN_TENANT })), 'tenant_not_onboarded');
    assert.equal(discoveryHits(FOREIGN_TENANT), 0, 'no discovery for a tenant that is not onboarded');
  });

  it('refuses a token without oid', async () => {
    await refused(validator().verify(await entraToken({ claims: { oid: undefined } })), 'authentication_failed', /oid/);
    await refused(validator().verify(await entraToken({ claims: { oid: '' } })), 'authentication_failed', /oid/);
  });

  it('refuses a token without a valid tid', async () => {
    await refused(validator().verify(await entraToken({ claims: { tid: undefined } })), 'authentication_failed', /tid/);
    await refused(validator().verify(await entraToken({ claims: { tid: 'contoso.onmicrosoft.com' } })), 'authentication_failed', /tid/);
  });

  it('refuses garbage and what is not a JWT', async () => {
    const v = validator();
    for (const garbage of ['', 'garbage', 'a.b.c', 'a.b', '...', `${b64url({ alg: 'RS256' })}.not-json.sig`, `${b64url({ alg: 'RS256' })}.${b64url('a string')}.sig`, 'Bearer x.y.z']) {
      await refused(v.verify(garbage), 'authentication_failed');
    }
    await refused(v.verify(`${b64url({ alg: 'RS256' })}.${b64url({ tid: ENTRA_TENANT, pad: 'x'.repeat(20_000) })}.sig`), 'authentication_failed', /too large/);
    assert.equal(entra.hits.length, 0, 'garbage never reaches the identity provider');
  });
});

describe('TokenValidator: key rotation', () => {
  it('accepts a token signed with a new key after the JWKS switches to it, refetching the JWKS', async () => {
    const v = validator({ jwksCooldownMs: 0 });
    assert.ok(await v.verify(await entraToken()));
    assert.equal(jwksHits(), 1);

    entra.keys = [rotatedKey.publicJwk];
    const identity = await v.verify(await entraToken({ key: rotatedKey, claims: { upn: 'rotated@contoso.com' } }));
    assert.equal(identity.upn, 'rotated@contoso.com');
    assert.equal(jwksHits(), 2, 'the unknown kid made the validator refetch the JWKS');
    assert.equal(discoveryHits(ENTRA_TENANT), 1, 'discovery is still cached');

    // The retired key is gone now: a fresh token signed with it is refused.
    await refused(v.verify(await entraToken({ claims: { upn: 'late@contoso.com' } })), 'authentication_failed', /unknown key/);
  });
});

describe('TokenValidator: cache', () => {
  it('fetches discovery and the JWKS once for two verifications of one token, and does not verify again', async () => {
    const v = validator({ discoveryTtlMs: 1 });
    const token = await entraToken();
    const first = await v.verify(token);
    const second = await v.verify(token);
    assert.deepEqual(second, first);
    assert.equal(discoveryHits(ENTRA_TENANT), 1);
    assert.equal(jwksHits(), 1);

    // The discovery cache has expired and discovery now fails: the cached token needs neither, a new token does.
    now += 1000;
    entra.failDiscovery.add(ENTRA_TENANT);
    assert.deepEqual(await v.verify(token), first);
    assert.equal(discoveryHits(ENTRA_TENANT), 1);
    await refused(v.verify(await entraToken({ claims: { upn: 'other@contoso.com' } })), 'upstream_unavailable');
  });

  it("refuses a cached token once its tenant is offboarded, with 'tenant_not_onboarded'", async () => {
    const v = validator();
    const token = await entraToken();
    await v.verify(token);
    tenants.delete(ENTRA_TENANT);
    await refused(v.verify(token), 'tenant_not_onboarded');
    tenants.set(ENTRA_TENANT, tenantRecord(ENTRA_TENANT, 'entra'));
    assert.ok(await v.verify(token));
    assert.equal(jwksHits(), 1);
  });

  it('refuses a cached token after the clock moves past exp + skew, and accepts it until then', async () => {
    const v = validator();
    const token = await entraToken({ claims: { exp: NOW_SECONDS + 600 } });
    await v.verify(token);
    now = (NOW_SECONDS + 600 + SKEW_SECONDS - 1) * 1000;
    assert.ok(await v.verify(token));
    now = (NOW_SECONDS + 600 + SKEW_SECONDS + 1) * 1000;
    await refused(v.verify(token), 'authentication_failed', /expired/);
    await refused(v.verify(token), 'authentication_failed', /expired/);
  });

  it('keeps at most maxCachedTokens tokens', async () => {
    const v = validator({ maxCachedTokens: 1, discoveryTtlMs: 1 });
    const a = await entraToken({ claims: { upn: 'a@contoso.com' } });
    const b = await entraToken({ claims: { upn: 'b@contoso.com' } });
    await v.verify(a);
    await v.verify(b);
    now += 1000;
    entra.failDiscovery.add(ENTRA_TENANT);
    assert.ok(await v.verify(b), 'b is cached');
    await refused(v.verify(a), 'upstream_unavailable');
  });
});

describe('TokenValidator: identity provider outages', () => {
  it("answers 'upstream_unavailable' when discovery fails, and recovers once it answers", async () => {
    const v = validator();
    entra.failDiscovery.add(ENTRA_TENANT);
    await refused(v.verify(await entraToken()), 'upstream_unavailable');
    entra.failDiscovery.delete(ENTRA_TENANT);
    assert.ok(await v.verify(await entraToken()));
  });

  it("answers 'upstream_unavailable' for a discovery document without issuer or jwks_uri, or not JSON", async () => {
    for (const body of ['{"issuer":"https://login.microsoftonline.com/x/v2.0"}', '{"jwks_uri":"http://127.0.0.1/keys"}', '<html>maintenance</html>']) {
      entra.discoveryBody = body;
      await refused(validator().verify(await entraToken()), 'upstream_unavailable');
    }
  });

  it("answers 'upstream_unavailable' when the network fails", async () => {
    await refused(validator({ fetch: fetchWithDevIdp(idp, failingFetch) }).verify(await entraToken()), 'upstream_unavailable');
  });

  it("answers 'upstream_unavailable' when the JWKS fails", async () => {
    entra.jwksStatus = 500;
    const v = validator();
    await refused(v.verify(await entraToken()), 'upstream_unavailable');
    entra.jwksStatus = 200;
    assert.ok(await v.verify(await entraToken()));
  });
});
