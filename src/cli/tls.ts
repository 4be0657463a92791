import { webcrypto } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { OpenMamError } from '../errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

export interface TlsMaterial {
  key: string;
  cert: string;
  generated: boolean;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * The HTTPS listener's certificate: the configured files, or, when neither exists, a self-signed certificate for
 * localhost and the public URL's host, generated once and kept in the data folder. Windows only enrolls against a
 * certificate it trusts, so production installs put a real one in place (docs/operations.md).
 */
export async function loadOrCreateTls(certFile: string, keyFile: string, publicUrl: string): Promise<TlsMaterial> {
  const [haveCert, haveKey] = await Promise.all([exists(certFile), exists(keyFile)]);
  if (haveCert && haveKey) return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), generated: false };
  if (haveCert !== haveKey) {
    throw new OpenMamError('invalid_configuration', `TLS: found only one of ${certFile} and ${keyFile}; provide both or neither`);
  }
  const { cert, key } = await selfSignedCertificate(new URL(publicUrl).hostname);
  await mkdir(path.dirname(certFile), { recursive: true });
  await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  await writeAtomically(keyFile, key, 0o600);
  await writeAtomically(certFile, cert, 0o644);
  return { cert, key, generated: true };
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, file);
}

export async function selfSignedCertificate(hostname: string): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = new Set(['localhost', hostname.replace(/^\[|\]$/g, '')]);
  const altNames = [...names].map((name) => (isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name }));
  altNames.push({ type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' });
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(16)).reduce((hex, b) => hex + b.toString(16).padStart(2, '0'), '01'),
    name: `CN=${hostname}, O=OpenMAM self-signed`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 825 * 24 * 3600_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(altNames),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key };
}
