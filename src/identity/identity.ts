/** Who is calling, once a token has been verified. Names follow Entra ID's claims. */
export interface VerifiedIdentity {
  /** `tid`: the Entra tenant, lower-case GUID, always an onboarded tenant. */
  tenantId: string;
  /** `oid`: the user's (or app's) object id in the tenant. */
  objectId: string;
  /** `upn`, else `preferred_username`, else `unique_name`. */
  upn: string | undefined;
  /** `deviceid`: the Entra device object id, on device-bound tokens. */
  deviceId: string | undefined;
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
  /** Throws OpenMamError: `authentication_failed`, `tenant_not_onboarded` or `upstream_unavailable`. */
  verify(token: string): Promise<VerifiedIdentity>;
}

export type Clock = () => number;

/** A GET of a JSON document (OIDC discovery, JWKS). Injected so tests and the built-in IdP need no network. */
export type FetchJson = (url: string, init?: { signal?: AbortSignal; headers?: Headers | Record<string, string> }) => Promise<Response>;
