import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { createFileOnce, readFileIfExists } from '../create-once.ts';
import { OpenMamError } from '../errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

export interface TlsMaterial {
  key: string;
  cert: string;
  generated: boolean;
}

/** How long a start that finds the key without its certificate waits for the node that is writing them. */
const PAIR_WAIT_MS = 5_000;

/**
 * The HTTPS listener's certificate: the configured files, or, when neither exists, a self-signed certificate for
 * localhost and the public URL's host, generated once and kept in the data folder. Windows only enrolls against a
 * certificate it trusts, so production installs put a real one in place (docs/operations.md).
 *
 * Several nodes may start at once on one data folder. Each file is created once and never replaced
 * (create-once.ts), the key first: whoever links the key wins it, and the certificate is then linked by whoever
 * comes first with a certificate *of the linked key* (the key's winner its own; a loser signs one with the winner's
 * key rather than wait for it). So any certificate that reaches the final path matches the final key, even when the
 * winner dies between its two links. The certificate is read before the key: since it is only ever created after
 * its key, seeing it means the key is complete too.
 */
export async function loadOrCreateTls(certFile: string, keyFile: string, publicUrl: string): Promise<TlsMaterial> {
  const cert = await readTlsFile(certFile, 'certificate');
  const key = await readTlsFile(keyFile, 'private key');
  if (cert !== undefined && key !== undefined) {
    checkPair(cert, certFile, key, keyFile);
    return { cert, key, generated: false };
  }
  if (cert !== undefined) throw onlyOne(certFile, keyFile);
  if (key !== undefined) {
    // Another node may be between its two links; an operator's key without its certificate stays an error.
    const awaited = await waitForFile(certFile, PAIR_WAIT_MS);
    if (awaited === undefined) throw onlyOne(certFile, keyFile);
    return { cert: awaited, key, generated: false };
  }
  const hostname = new URL(publicUrl).hostname;
  const candidate = await selfSignedCertificate(hostname);
  const linkedKey = await createFileOnce(keyFile, candidate.key, 0o600);
  const certForKey = linkedKey.created ? candidate.cert : (await selfSignedCertificate(hostname, linkedKey.content)).cert;
  const linkedCert = await createFileOnce(certFile, certForKey, 0o644);
  return { cert: linkedCert.content, key: linkedKey.content, generated: linkedCert.created };
}

/** A TLS file's content, undefined when it does not exist; unreadable (permissions, a folder): one line that says so. */
async function readTlsFile(file: string, what: string): Promise<string | undefined> {
  try {
    return await readFileIfExists(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OpenMamError('invalid_configuration', `TLS: cannot read the ${what} ${file} (${code}): give the server read access to it, or set OPENMAM_TLS_CERT and OPENMAM_TLS_KEY`, { cause: error });
  }
}

/**
 * The configured files, checked before the listener is built: a PEM certificate (the first of a chain is the
 * server's), a PEM private key it can use without a passphrase, and the two belonging together. Node's own TLS
 * error for any of these ("PEM routines::no start line", "key values mismatch") names neither file.
 */
function checkPair(certPem: string, certFile: string, keyPem: string, keyFile: string): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new OpenMamError('invalid_configuration', `TLS: ${certFile} is not a PEM certificate (${error instanceof Error ? error.message : String(error)}): put the server's certificate there, "-----BEGIN CERTIFICATE-----" first`, { cause: error });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new OpenMamError('invalid_configuration', `TLS: ${keyFile} is not an unencrypted PEM private key (${error instanceof Error ? error.message : String(error)}): put the certificate's key there without a passphrase`, { cause: error });
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new OpenMamError('invalid_configuration', `TLS: the private key ${keyFile} does not belong to the certificate ${certFile}: put the matching pair in place`);
  }
}

function onlyOne(certFile: string, keyFile: string): OpenMamError {
  return new OpenMamError(
    'invalid_configuration',
    `TLS: found only one of ${certFile} and ${keyFile}; provide both or neither (a key left alone by a node that died while generating them can be deleted)`,
  );
}

async function waitForFile(file: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = await readFileIfExists(file);
    if (content !== undefined || Date.now() >= deadline) return content;
    await delay(50);
  }
}

/** A self-signed certificate for `hostname`, with a new P-256 key or for `keyPem` (a key this module generated). */
export async function selfSignedCertificate(hostname: string, keyPem?: string): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = keyPem === undefined ? ((await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair) : await importKeyPair(keyPem, algorithm);
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

async function importKeyPair(keyPem: string, algorithm: webcrypto.EcKeyImportParams): Promise<webcrypto.CryptoKeyPair> {
  const privateKey = createPrivateKey(keyPem);
  const [privateDer, publicDer] = [privateKey.export({ type: 'pkcs8', format: 'der' }), createPublicKey(privateKey).export({ type: 'spki', format: 'der' })];
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateDer, algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', publicDer, algorithm, true, ['verify']),
  };
}
