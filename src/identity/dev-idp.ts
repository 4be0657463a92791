import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createFileOnce, readFileIfExists } from '../create-once.ts';
import { OpenMamError } from '../errors.ts';
import type { FetchJson } from './identity.ts';

/**
 * The built-in development identity provider: it signs tokens of Entra ID's shape (v2 issuer form) with a key kept in
 * the data folder, and publishes OIDC discovery and a JWKS under <public-url>/idp, so tokens it mints go through the
 * very same validation path as Entra's. It lets OpenMAM run and be tested with no network; production turns it off.
 */
export const DEV_IDP_ALGORITHM = 'RS256';
const KEY_FILE = 'idp/signing-keys.json';

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

export interface MintRequest {
  tenantId: string;
  /**
   * The user. Without one, the token is the device's own (AADSendDeviceToken) when `deviceId` is given, else an
   * application's own (app-only, client credentials: `idtyp: app`, its `roles`, no user claims).
   */
  upn?: string;
  /** Defaults to a stable id derived from tenant and UPN, so the same user keeps the same `oid`. */
  objectId?: string;
  deviceId?: string;
  groups?: readonly string[];
  roles?: readonly string[];
  audience: string;
  /**
   * The client application the token is for (`azp`); DEV_CLIENT_ID when not given. Entra's v2 tokens always name
   * their client; a managed app's must be one of the catalogue's client ids.
   */
  clientId?: string;
  expiresInSeconds: number;
  /** Epoch ms; tests freeze it. */
  now: number;
  /** Backdating `nbf`, as Entra does (5 minutes). */
  notBeforeSkewSeconds?: number;
  /** An ID token's `nonce`: the value of the authorization request, echoed (OpenID Connect Core 1.0 §2). */
  nonce?: string;
}

/** The client id of tokens minted without one: a development client that is in no tenant's app catalogue. */
export const DEV_CLIENT_ID = '00000000-0000-4000-8000-0000000000de';

export class DevIdentityProvider {
  private constructor(
    readonly baseUrl: string,
    private readonly keys: readonly { kid: string; privateKey: CryptoKey; publicJwk: JWK }[],
  ) {}

  /**
   * Loads the signing keys from `<dataDir>/idp/signing-keys.json`, creating one the first time. Nodes (and `openmam
   * token`) starting together on one data folder race to create it: the file is linked into place once and never
   * replaced (create-once.ts), so every one of them signs and verifies with the winner's key.
   */
  static async open(dataDir: string, publicUrl: string): Promise<DevIdentityProvider> {
    const file = path.join(dataDir, KEY_FILE);
    const text = (await readFileIfExists(file)) ?? (await createFileOnce(file, JSON.stringify([await newStoredKey()], null, 2), 0o600)).content;
    try {
      const stored = JSON.parse(text) as StoredKey[];
      const keys = await Promise.all(
        stored.map(async (k) => {
          const privateKey = (await importJWK(k.privateJwk, DEV_IDP_ALGORITHM)) as CryptoKey;
          const { kid } = k;
          const { n, e, kty } = k.privateJwk;
          return { kid, privateKey, publicJwk: { kty, n, e, kid, use: 'sig', alg: DEV_IDP_ALGORITHM } as JWK };
        }),
      );
      if (keys.length === 0) throw new Error('it holds no key');
      return new DevIdentityProvider(`${publicUrl}/idp`, keys);
    } catch (error) {
      // A start must say which file is damaged: replacing it invalidates every token it signed, so restoring it is better.
      throw new OpenMamError(
        'invalid_configuration',
        `the built-in identity provider's signing key file ${file} cannot be used (${error instanceof Error ? error.message : String(error)}): restore it from a backup or from another node (deleting it makes a new key, and tokens signed with the old one stop verifying)`,
        { cause: error },
      );
    }
  }

  issuer(tenantId: string): string {
    return `${this.baseUrl}/${tenantId}/v2.0`;
  }

  get jwksUri(): string {
    return `${this.baseUrl}/discovery/v2.0/keys`;
  }

  discoveryUrl(tenantId: string): string {
    return `${this.issuer(tenantId)}/.well-known/openid-configuration`;
  }

  openIdConfiguration(tenantId: string): Record<string, unknown> {
    return {
      issuer: this.issuer(tenantId),
      jwks_uri: this.jwksUri,
      authorization_endpoint: `${this.baseUrl}/${tenantId}/oauth2/v2.0/authorize`,
      token_endpoint: `${this.baseUrl}/${tenantId}/oauth2/v2.0/token`,
      response_types_supported: ['code', 'id_token', 'token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: [DEV_IDP_ALGORITHM],
      tenant_region_scope: 'DEV',
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** The documents this IdP publishes, by absolute URL; undefined for any other URL. */
  document(url: string): Record<string, unknown> | undefined {
    if (url === this.jwksUri) return this.jwks();
    const match = /^\/([0-9a-f-]{36})\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.startsWith(this.baseUrl) ? url.slice(this.baseUrl.length) : '');
    return match ? this.openIdConfiguration(match[1]!) : undefined;
  }

  async mint(request: MintRequest): Promise<string> {
    const signing = this.keys[0]!;
    const nowSeconds = Math.floor(request.now / 1000);
    const subject = request.upn ?? (request.deviceId === undefined ? 'application' : `device:${request.deviceId}`);
    const objectId = request.objectId ?? stableObjectId(request.tenantId, subject);
    const claims: Record<string, unknown> = { tid: request.tenantId, oid: objectId, ver: '2.0', uti: randomUUID().replace(/-/g, ''), azp: request.clientId ?? DEV_CLIENT_ID, azpacr: '0' };
    if (request.upn !== undefined) {
      claims['upn'] = request.upn;
      claims['preferred_username'] = request.upn;
      claims['name'] = request.upn.split('@')[0];
      claims['email'] = request.upn;
    }
    if (request.deviceId) claims['deviceid'] = request.deviceId;
    // Entra's optional claim that tells app-only tokens from user tokens (access-token-claims-reference, idtyp).
    if (request.upn === undefined && request.deviceId === undefined) claims['idtyp'] = 'app';
    if (request.groups && request.groups.length > 0) claims['groups'] = [...request.groups];
    if (request.roles && request.roles.length > 0) claims['roles'] = [...request.roles];
    if (request.nonce !== undefined) claims['nonce'] = request.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: DEV_IDP_ALGORITHM, typ: 'JWT', kid: signing.kid })
      .setIssuer(this.issuer(request.tenantId))
      .setAudience(request.audience)
      .setSubject(objectId)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds - (request.notBeforeSkewSeconds ?? 300))
      .setExpirationTime(nowSeconds + request.expiresInSeconds)
      .sign(signing.privateKey);
  }
}

async function newStoredKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(DEV_IDP_ALGORITHM, { modulusLength: 2048, extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { kid: randomUUID(), createdAt: new Date().toISOString(), privateJwk };
}

/** A GUID-shaped id derived from tenant and UPN (name-based, like a v5 UUID). */
export function stableObjectId(tenantId: string, upn: string): string {
  const hex = createHash('sha256').update(`${tenantId}\n${upn.toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Serves the built-in IdP's own documents from memory and sends every other URL to `fallback`: the validator fetches
 * discovery and keys the same way for both providers, without this server calling itself over the network.
 */
export function fetchWithDevIdp(idp: DevIdentityProvider | undefined, fallback: FetchJson): FetchJson {
  return async (url, init) => {
    const document = idp?.document(url);
    if (document) return new Response(JSON.stringify(document), { status: 200, headers: { 'content-type': 'application/json' } });
    return fallback(url, init);
  };
}
