import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { decodeJwt, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

/** Forged tokens, each built from the claims of a genuine one, for the refusal tests. */

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** `alg: none`: the claims of `genuine` with no signature at all. */
export function unsignedToken(genuine: string): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(decodeJwt(genuine))}.`;
}

/** The classic key-confusion forgery: HS256 with the issuer's public key (PEM) as the HMAC secret. */
export async function hmacWithPublicKey(genuine: string, publicJwk: Record<string, unknown>): Promise<string> {
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return new SignJWT(decodeJwt(genuine))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: String(publicJwk['kid']) })
    .sign(new TextEncoder().encode(String(pem)));
}

/** Same claims, signed by a key nobody published (optionally claiming a published kid). */
export async function signedByUnknownKey(genuine: string, kid = 'unknown-key'): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(decodeJwt(genuine)).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
}

export function claimsOf(token: string): JWTPayload {
  return decodeJwt(token);
}
