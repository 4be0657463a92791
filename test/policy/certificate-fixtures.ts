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

/** SHA-1 thumbprint of a made-up issuing root (SCEP profiles only name it; nothing checks a certificate against it). */
export const SCEP_CA_THUMBPRINT = '3F8E5C1A9B2D7E4F6A0C1B3D5E7F9A2C4B6D8E0F';
export const SCEP_CHALLENGE = 'Zm9yLXRlc3RzLW9ubHk=';

/** A Graph windows81SCEPCertificateProfile body with OpenMAM's additions, every mapped property set. */
export function scepProfile(change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.windows81SCEPCertificateProfile',
    displayName: 'Contoso Wi-Fi client certificate',
    description: 'User certificate from the Contoso SCEP server.',
    scepServerUrls: ['https://scep.contoso.example/certsrv/mscep/mscep.dll', 'http://scep2.contoso.example/scep/pkiclient.exe'],
    challenge: SCEP_CHALLENGE,
    caThumbprint: '3f:8e:5c:1a:9b:2d:7e:4f:6a:0c:1b:3d:5e:7f:9a:2c:4b:6d:8e:0f',
    subjectNameFormat: 'custom',
    subjectNameFormatString: 'CN=Contoso MAM user,O=Contoso',
    subjectAlternativeNameType: 'none',
    customSubjectAlternativeNames: [
      { '@odata.type': 'microsoft.graph.customSubjectAlternativeName', sanType: 'userPrincipalName', name: 'mam@contoso.example' },
      { sanType: 'domainNameService', name: 'mam.contoso.example' },
    ],
    extendedKeyUsages: [
      { '@odata.type': 'microsoft.graph.extendedKeyUsage', name: 'Client Authentication', objectIdentifier: '1.3.6.1.5.5.7.3.2' },
      { name: 'Secure Email', objectIdentifier: '1.3.6.1.5.5.7.3.4' },
    ],
    keyUsage: 'digitalSignature,keyEncipherment',
    keySize: 'size2048',
    hashAlgorithm: 'sha2',
    certificateValidityPeriodValue: 1,
    certificateValidityPeriodScale: 'years',
    certificateStore: 'user',
    keyStorageProvider: 'useTpmKspOtherwiseUseSoftwareKsp',
    scepRetryCount: 3,
    scepRetryDelayMinutes: 5,
    templateName: 'ContosoUser',
    ...change,
  };
}
