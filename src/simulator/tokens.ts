/**
 * Where the simulator's tokens come from. The simulator never signs anything itself: the caller gives it a minting
 * function (the CLI's mints with the built-in identity provider's key; a test's with its server's), so this folder
 * stays free of the server's identity code.
 */
export interface TokenRequest {
  tenantId: string;
  /** A user's token when given; otherwise an application's own (app-only, client credentials) token with `roles`. */
  upn?: string;
  /** The Entra device id (`deviceid` claim): tokens obtained on an Entra-registered device carry it. */
  deviceId?: string;
  /** The client application (`azp`): a managed app's own Entra client id. */
  clientId?: string;
  /** Default: OpenMAM's own app id URI. A protected resource's app id or URI for the token an app sends to it. */
  audience?: string;
  /** App roles, e.g. OpenMAM.ThreatConnector, OpenMAM.Gateway, OpenMAM.Admin. */
  roles?: readonly string[];
  /** The user's group object ids (`groups` claim): policies assigned to a group reach its members. */
  groups?: readonly string[];
}

export type TokenSource = (request: TokenRequest) => Promise<string>;

/** Reuses a token for a while (they are minted for an hour or more), keyed by everything that shapes it. */
export class TokenCache {
  /** The source itself when it is a cache already (so that parts given one share it). */
  static of(source: TokenSource | TokenCache): TokenCache {
    return source instanceof TokenCache ? source : new TokenCache(source);
  }

  /** One per identity of the simulated fleet (a token is replaced, never added, when it is reused too long). */
  private readonly tokens = new Map<string, { token: Promise<string>; at: number }>();

  constructor(
    private readonly source: TokenSource,
    private readonly now: () => number = Date.now,
    private readonly reuseMs = 20 * 60_000,
  ) {}

  get(request: TokenRequest): Promise<string> {
    const key = JSON.stringify([request.tenantId, request.upn, request.deviceId, request.clientId, request.audience, request.roles, request.groups]);
    const held = this.tokens.get(key);
    if (held && this.now() - held.at < this.reuseMs) return held.token;
    const token = this.source(request);
    this.tokens.set(key, { token, at: this.now() });
    token.catch(() => this.tokens.delete(key));
    return token;
  }
}

/** A claim of a JWT, read without verifying it (the server verifies; the simulator only needs to know its own ids). */
export function claimOf(token: string, claim: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const value = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>)[claim];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
