import { OpenMamError } from '../errors.ts';

/** Who is calling, once a token has been verified. Names follow Entra ID's claims. */
export interface VerifiedIdentity {
  /** `tid`: the Entra tenant, lower-case GUID, always an onboarded tenant. */
  tenantId: string;
  /** `oid`: the user's (or app's) object id in the tenant. */
  objectId: string;
  /** `upn`, else `preferred_username`, else `unique_name`. */
  upn: string | undefined;
  /** `deviceid`: the Entra device object id, on tokens obtained on a registered or joined device. Lower-case. */
  deviceId: string | undefined;
  /**
   * The client application that obtained the token: `azp` (v2 tokens) or `appid` (v1), lower-case
   * (learn.microsoft.com/entra/identity-platform/access-token-claims-reference). Undefined when neither is present.
   */
  clientId: string | undefined;
  /** `aud`, as issued: the resource the token is for. */
  audiences: readonly string[];
  /** `email` (optional claim in Entra). */
  mail?: string | undefined;
  /** `name`: the display name. */
  name?: string | undefined;
  /** Sorted. */
  groups: readonly string[];
  roles: readonly string[];
  issuer: string;
  /** Expiry as epoch milliseconds (`exp`). */
  expiresAt: number;
}

/**
 * Whether a token speaks for a user with a work account: Entra user tokens carry `upn` or `preferred_username`;
 * an application's own (app-only) token and a device's token carry neither
 * (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
 */
export function isUserIdentity(identity: VerifiedIdentity): boolean {
  return identity.upn !== undefined;
}

/** The one operation the rest of OpenMAM needs from identity. */
export interface TokenVerifier {
  /**
   * Throws OpenMamError: `authentication_failed` (TokenAudienceError when only the audience is wrong),
   * `tenant_not_onboarded` or `upstream_unavailable`. `audiences`: what `aud` must be; OpenMAM's own by default. A
   * protected resource's tokens are checked against that resource's audiences, never OpenMAM's.
   */
  verify(token: string, audiences?: readonly string[]): Promise<VerifiedIdentity>;
}

/** A token that is genuine but was issued for another resource: `identity` says whose it is (for logs only). */
export class TokenAudienceError extends OpenMamError {
  constructor(readonly identity: VerifiedIdentity) {
    super('authentication_failed', `the token's audience (aud) is ${identity.audiences.map((a) => JSON.stringify(a)).join(', ') || 'missing'}, not this resource's`);
  }
}

export type Clock = () => number;

/**
 * Told, at each look-up of a cache, whether the cache answered (`hit`) or the source had to be read (`miss`): the
 * metrics count them (http/metrics). Both are called on hot paths: they must be cheap and must not throw.
 */
export interface CacheObserver {
  hit(): void;
  miss(): void;
}

/** For a cache nobody watches. */
export const UNOBSERVED_CACHE: CacheObserver = { hit: () => {}, miss: () => {} };

/** A GET of a JSON document (OIDC discovery, JWKS). Injected so tests and the built-in IdP need no network. */
export type FetchJson = (url: string, init?: { signal?: AbortSignal; headers?: Headers | Record<string, string> }) => Promise<Response>;
