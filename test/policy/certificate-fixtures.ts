import { createHash, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface TestCertificates {
  /** Base64 DER of a self-signed CA certificate. */
  root: string;
  /** Base64 DER of a certificate issued by `root` (not self-signed). */
  issued: string;
}

/** A self-signed root and a certificate it issued, generated with @peculiar/x509. */
export async function testCertificates(): Promise<TestCertificates> {
  const rootKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leafKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=OpenMAM Test Root',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    signingAlgorithm: ALGORITHM,
    keys: rootKeys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const issued = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    issuer: root.subject,
    subject: 'CN=OpenMAM Test Intermediate',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    signingAlgorithm: ALGORITHM,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  return { root: Buffer.from(root.rawData).toString('base64'), issued: Buffer.from(issued.rawData).toString('base64') };
}

export function sha1Thumbprint(derBase64: string): string {
  return createHash('sha1').update(Buffer.from(derBase64, 'base64')).digest('hex').toUpperCase();
}

/** test/fixtures/certificates/client.pfx, base64; its password is PFX_PASSWORD. */
export const PFX_BASE64 = readFileSync(new URL('../fixtures/certificates/client.pfx', import.meta.url)).toString('base64');
export const PFX_PASSWORD = 'OpenMAM-test';
