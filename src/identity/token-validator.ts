import { hash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { isGuid } from '../config.ts';
import { OpenMamError } from '../errors.ts';
import type { TenantRecord } from '../store/records.ts';
import type { DevIdentityProvider } from './dev-idp.ts';
import { TokenAudienceError, UNOBSERVED_CACHE, type CacheObserver, type Clock, type FetchJson, type TokenVerifier, type VerifiedIdentity } from './identity.ts';

/** Entra ID signs access tokens with RS256; nothing else is accepted (no `none`, no HMAC with a public key). */
export const ALLOWED_ALGORITHMS = ['RS256'] as const;
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface TokenValidatorOptions {
  tenants: { get(id: string): Promise<TenantRecord | undefined> };
  /** Accepted `aud` values: the App ID URI (v1 form) and the client id GUID (v2 form). */
  audiences: readonly string[];
  entraAuthority: string;
  /** Undefined when the built-in identity provider is turned off: its tokens are then refused. */
  devIdp: DevIdentityProvider | undefined;
  fetch: FetchJson;
  clock: Clock;
  clockSkewSeconds: number;
  /** How long a tenant's OIDC discovery document is reused. */
  discoveryTtlMs?: number;
  /** Minimum time between two JWKS fetches triggered by an unknown `kid` (key rotation). */
  jwksCooldownMs?: number;
  maxCachedTokens?: number;
  /** Hears each look-up of the verified-token cache (absent: nobody counts). */
  cacheObserver?: CacheObserver;
}

interface IssuerMetadata {
  issuers: readonly string[];
  keys: ReturnType<typeof createRemoteJWKSet>;
  until: number;
}

/**
 * Validates Entra-shaped access tokens: signature against the tenant's JWKS (from OIDC discovery, cached, refetched
 * on an unknown key id), algorithm from the allow-list, `aud`, `iss` matching `tid`, `tid` onboarded, `exp`/`nbf`
 * with a small skew. A verified token is remembered by its SHA-256 until it expires, so a device that checks in
 * many times with one token pays for one signature check.
 */
export class TokenValidator implements TokenVerifier {
  /** Bounded by `maxCachedTokens` (remember). */
  private readonly verified = new Map<string, VerifiedIdentity>();
  /** By tenant, bounded by construction: read only after requireTenant, so onboarded tenants only. */
  private readonly metadata = new Map<string, IssuerMetadata>();
  /** By key set URL from those tenants' discovery documents: at most one per onboarded tenant (Entra's share one). */
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  private readonly audiences: string[];
  private readonly cacheObserver: CacheObserver;

  constructor(private readonly options: TokenValidatorOptions) {
    this.audiences = [...new Set(options.audiences.flatMap(audienceForms))];
    this.cacheObserver = options.cacheObserver ?? UNOBSERVED_CACHE;
  }

  /**
   * The signature, issuer and lifetime are checked once per token (and cached); the audience at every call, since one
   * token is checked against OpenMAM's audiences at one endpoint and a protected resource's at another.
   */
  async verify(token: string, audiences: readonly string[] = this.audiences): Promise<VerifiedIdentity> {
    const now = this.options.clock();
    // One-shot hash (no Hash object per call): this runs for every request of every device and gateway.
    const key = hash('sha256', token, 'base64url');
    let identity = this.verified.get(key);
    if (identity && identity.expiresAt + this.options.clockSkewSeconds * 1000 > now) {
      this.cacheObserver.hit();
      await this.requireTenant(identity.tenantId);
    } else {
      this.cacheObserver.miss();
      if (identity) this.verified.delete(key);
      identity = await this.verifyUncached(token, now);
      this.remember(key, identity);
    }
    if (!identity.audiences.some((audience) => audiences.includes(audience))) throw new TokenAudienceError(identity);
    return identity;
  }

  private async verifyUncached(token: string, now: number): Promise<VerifiedIdentity> {
    if (token.length > MAX_TOKEN_LENGTH) throw authenticationFailed('token is too large');
    const unverified = readUnverified(token);
    const tenant = await this.requireTenant(unverified.tenantId);
    const metadata = await this.issuerMetadata(tenant, now);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, metadata.keys, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: [...metadata.issuers],
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'tid', 'oid'],
      }));
    } catch (error) {
      throw verificationFailure(error);
    }
    return toIdentity(payload, tenant.id);
  }

  private async requireTenant(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.options.tenants.get(tenantId);
    if (!tenant) throw new OpenMamError('tenant_not_onboarded', `tenant ${tenantId} is not onboarded on this server`);
    return tenant;
  }

  /** Expected issuers and signing keys of a tenant, from its identity provider's OIDC discovery document. */
  private async issuerMetadata(tenant: TenantRecord, now: number): Promise<IssuerMetadata> {
    const cached = this.metadata.get(tenant.id);
    if (cached && cached.until > now) return cached;
    const discoveryUrl = this.discoveryUrl(tenant);
    const document = await this.fetchDiscovery(discoveryUrl);
    const issuer = document.issuer.replace('{tenantid}', tenant.id);
    const issuers = tenant.identityProvider === 'entra' ? [issuer, `https://sts.windows.net/${tenant.id}/`] : [issuer];
    const fresh: IssuerMetadata = { issuers, keys: this.keySet(document.jwks_uri), until: now + (this.options.discoveryTtlMs ?? 24 * 3600_000) };
    this.metadata.set(tenant.id, fresh);
    return fresh;
  }

  private discoveryUrl(tenant: TenantRecord): string {
    if (tenant.identityProvider === 'builtin') {
      if (!this.options.devIdp) throw authenticationFailed('the built-in identity provider is turned off on this server');
      return this.options.devIdp.discoveryUrl(tenant.id);
    }
    return `${this.options.entraAuthority}/${tenant.id}/v2.0/.well-known/openid-configuration`;
  }

  private async fetchDiscovery(url: string): Promise<{ issuer: string; jwks_uri: string }> {
    try {
      const response = await this.options.fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof document.issuer !== 'string' || typeof document.jwks_uri !== 'string') throw new Error('issuer or jwks_uri missing');
      return { issuer: document.issuer, jwks_uri: document.jwks_uri };
    } catch (error) {
      throw new OpenMamError('upstream_unavailable', `OIDC discovery failed at ${url}`, { cause: error });
    }
  }

  /** One JWKS cache per key set URL: Entra's tenants share one, so rotation is picked up once for all. */
  private keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: 24 * 3600_000,
        timeoutDuration: 5000,
        [customFetch]: async (url, init) => {
          // jose reports a non-200 key set as a generic JOSEError, indistinguishable from a bad token: say what it is.
          const response = await this.options.fetch(url, { signal: init.signal, headers: init.headers });
          if (response.status !== 200) throw new OpenMamError('upstream_unavailable', `the identity provider key set answered HTTP ${response.status}`);
          return response;
        },
      });
      this.keySets.set(jwksUri, keys);
    }
    return keys;
  }

  private remember(key: string, identity: VerifiedIdentity): void {
    const max = this.options.maxCachedTokens ?? 100_000;
    if (this.verified.size >= max) {
      // Drop the oldest entry (Map keeps insertion order): a bounded cache, not an LRU, which is enough here.
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(key, identity);
  }
}

/** Entra writes v1 audiences with or without a trailing slash; accept both spellings of a configured URL. */
export function audienceForms(audience: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(audience)) return [audience];
  const bare = audience.replace(/\/+$/, '');
  return [bare, `${bare}/`];
}

function readUnverified(token: string): { tenantId: string } {
  let payload: JWTPayload;
  try {
    decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw authenticationFailed('the token is not a well-formed JWT');
  }
  const tid = payload['tid'];
  if (typeof tid !== 'string' || !isGuid(tid)) throw authenticationFailed('the token has no valid tid claim');
  return { tenantId: tid.toLowerCase() };
}

function verificationFailure(error: unknown): OpenMamError {
  if (error instanceof OpenMamError) return error;
  if (error instanceof errors.JWTExpired) return authenticationFailed('the token has expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) return authenticationFailed(`token claim "${error.claim}" is not acceptable: ${error.reason}`, error);
  if (error instanceof errors.JOSEAlgNotAllowed) return authenticationFailed('the token algorithm is not allowed', error);
  if (error instanceof errors.JWKSNoMatchingKey) return authenticationFailed('the token was signed by an unknown key', error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return authenticationFailed('the token signature is invalid', error);
  if (error instanceof errors.JWKSTimeout || isFetchFailure(error)) {
    return new OpenMamError('upstream_unavailable', 'the identity provider key set could not be fetched', { cause: error });
  }
  if (error instanceof errors.JOSEError) return authenticationFailed(`the token is not valid (${error.code})`, error);
  return new OpenMamError('internal', 'token verification failed', { cause: error });
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof errors.JWKSInvalid || (error instanceof TypeError && /fetch/i.test(error.message));
}

function authenticationFailed(message: string, cause?: unknown): OpenMamError {
  return new OpenMamError('authentication_failed', message, { cause });
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringListClaim(payload: JWTPayload, name: string): string[] {
  const value = payload[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toIdentity(payload: JWTPayload, tenantId: string): VerifiedIdentity {
  const objectId = stringClaim(payload, 'oid');
  if (!objectId) throw authenticationFailed('the token has no oid claim');
  const audience = payload.aud;
  return {
    tenantId,
    objectId: objectId.toLowerCase(),
    upn: stringClaim(payload, 'upn') ?? stringClaim(payload, 'preferred_username') ?? stringClaim(payload, 'unique_name'),
    deviceId: stringClaim(payload, 'deviceid')?.toLowerCase(),
    clientId: (stringClaim(payload, 'azp') ?? stringClaim(payload, 'appid'))?.toLowerCase(),
    audiences: typeof audience === 'string' ? [audience] : Array.isArray(audience) ? audience.filter((a) => typeof a === 'string') : [],
    mail: stringClaim(payload, 'email'),
    name: stringClaim(payload, 'name'),
    // Sorted once here (and cached with the token): check-ins compare them with the stored list.
    groups: stringListClaim(payload, 'groups').sort(),
    roles: stringListClaim(payload, 'roles'),
    issuer: payload.iss ?? '',
    expiresAt: (payload.exp ?? 0) * 1000,
  };
}
