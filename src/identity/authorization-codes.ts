import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SecretStore } from '../store/roles.ts';
import type { Clock } from './identity.ts';

/**
 * The built-in identity provider's authorization codes (OAuth 2.0 authorization code grant, RFC 6749 §4.1, with
 * PKCE, RFC 7636) and the sealed sign-in forms that lead to them.
 *
 * Why a sealed code rather than a row per code: several nodes share nothing but the store, and the code may be
 * redeemed on another node than the one that issued it. The code itself carries its grant (tenant, client,
 * redirect_uri, code_challenge, user, roles, groups, nonce, scope, expiry), sealed with AES-256-GCM under a key every
 * node reads from the store (`SecretStore`): no node can be told a grant it did not seal, and the user's name is not
 * readable in the redirect URL. Single use (RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more
 * than once") is the one thing a sealed value cannot carry: it is remembered in the store, by the code's id, with the
 * store's first-insert-wins primitive (`getOrCreateSecret`: of any number of nodes redeeming one code at once,
 * exactly one reads back its own candidate). That leaves one small row per sign-in, which suits a development
 * provider (a few sign-ins a day, off in production) better than a table and a purge of its own.
 */
export const CODE_LIFETIME_MS = 60_000;

/** What an authorization code grants, as bound at the authorization endpoint. */
export interface AuthorizationGrant {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  /** BASE64URL(SHA256(code_verifier)): only S256 is accepted (RFC 7636 §4.2). */
  codeChallenge: string;
  upn: string;
  roles: string[];
  groups: string[];
  nonce: string | undefined;
  /** The scope asked for, space-separated (RFC 6749 §3.3). */
  scope: string;
}

/** What the token request names beside the code (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export interface CodeRedemption {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  codeVerifier: string;
}

/** `refused` is always OAuth's `invalid_grant` (RFC 6749 §5.2); `reason` is its error_description. */
export type RedeemResult = { kind: 'granted'; grant: AuthorizationGrant } | { kind: 'refused'; reason: string };

const KEY_SECRET = 'idp-sealing-key';
const REDEEMED_PREFIX = 'idp-code-redeemed:';
const CODE_PURPOSE = 'openmam-idp-authorization-code-v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A sealed value longer than this is not one of ours (a grant with 50 groups stays well under). */
const MAX_SEALED_LENGTH = 8192;

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
export function isCodeVerifier(value: string): boolean {
  return /^[A-Za-z0-9\-._~]{43,128}$/.test(value);
}

/** RFC 7636 §4.2: the S256 challenge is the base64url (no padding) of a SHA-256 digest: 43 characters. */
export function isS256Challenge(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * Seals small JSON values for the built-in identity provider with AES-256-GCM under a key shared by every node
 * through the store; `purpose` is the additional authenticated data, so a value sealed for one use never opens as
 * another (a sign-in form is not a code).
 */
export class Sealer {
  #key: Promise<Uint8Array> | undefined;

  constructor(private readonly secrets: SecretStore) {}

  async seal(purpose: string, value: unknown): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The value, or undefined when `sealed` was not sealed by this installation for `purpose` (or was altered). */
  async open(purpose: string, sealed: string): Promise<unknown> {
    if (sealed.length > MAX_SEALED_LENGTH || !/^[A-Za-z0-9_-]+$/.test(sealed)) return undefined;
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.key(), bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  private key(): Promise<Uint8Array> {
    this.#key ??= this.secrets.getOrCreateSecret(KEY_SECRET, randomBytes(32)).catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }
}

interface SealedCode {
  id: string;
  expiresAt: number;
  grant: AuthorizationGrant;
}

export class AuthorizationCodes {
  constructor(
    private readonly sealer: Sealer,
    private readonly secrets: SecretStore,
    private readonly clock: Clock,
  ) {}

  issue(grant: AuthorizationGrant): Promise<string> {
    const sealed: SealedCode = { id: randomUUID(), expiresAt: this.clock() + CODE_LIFETIME_MS, grant };
    return this.sealer.seal(CODE_PURPOSE, sealed);
  }

  /**
   * The grant of `code` if every binding holds, in this order: sealed here, not expired, this tenant, this client;
   * then the code is spent (even if what follows fails: a code tried with a wrong verifier is not tried again,
   * OAuth 2.0 Security BCP, RFC 9700 §2.1.1), then the redirect_uri of the authorization request (RFC 6749 §4.1.3)
   * and the PKCE verifier (RFC 7636 §4.6).
   */
  async redeem(code: string, request: CodeRedemption): Promise<RedeemResult> {
    const opened = readSealedCode(await this.sealer.open(CODE_PURPOSE, code));
    if (!opened) return refused('the authorization code is not one this server issued');
    const { grant } = opened;
    if (opened.expiresAt <= this.clock()) return refused('the authorization code has expired; sign in again');
    if (grant.tenantId !== request.tenantId.toLowerCase()) return refused("the authorization code was issued for another tenant's endpoint");
    if (grant.clientId !== request.clientId.toLowerCase()) return refused('the authorization code was issued to another client');
    const mine = randomBytes(16);
    const winner = await this.secrets.getOrCreateSecret(`${REDEEMED_PREFIX}${opened.id}`, mine);
    if (!timingSafeEqualBytes(winner, mine)) return refused('the authorization code has already been redeemed');
    await this.#forgetSpentCodes();
    if (grant.redirectUri !== request.redirectUri) return refused('redirect_uri is not the one of the authorization request');
    if (!timingSafeEqualBytes(Buffer.from(s256(request.codeVerifier)), Buffer.from(grant.codeChallenge))) {
      return refused('code_verifier does not match the code_challenge of the authorization request');
    }
    return { kind: 'granted', grant };
  }

  /**
   * One marker is stored per redeemed code (a row per console sign-in): those older than REDEEMED_MARKER_AGE_MS go
   * at each redemption, a bounded number at a time, so the markers are bounded by the sign-ins of the last hour. A
   * failure only leaves them for the next sign-in.
   */
  async #forgetSpentCodes(): Promise<void> {
    try {
      await this.secrets.deleteSecretsOlderThan(REDEEMED_PREFIX, REDEEMED_MARKER_AGE_MS, 256);
    } catch {
      // Kept until the next redemption: the sign-in itself is not refused for it.
    }
  }
}

/**
 * How long a redeemed code's marker is kept: an expired code is refused before its marker is read, so a marker is
 * useless CODE_LIFETIME_MS after its code was issued; an hour leaves room for nodes' clocks to differ.
 */
export const REDEEMED_MARKER_AGE_MS = 3600_000;

function refused(reason: string): RedeemResult {
  return { kind: 'refused', reason };
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function readSealedCode(value: unknown): SealedCode | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = value as Partial<SealedCode>;
  if (typeof code.id !== 'string' || typeof code.expiresAt !== 'number' || typeof code.grant !== 'object' || code.grant === null) return undefined;
  return code as SealedCode;
}
