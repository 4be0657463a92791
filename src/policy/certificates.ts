import { X509Certificate } from 'node:crypto';
import {
  enumReader,
  INT32_MAX,
  INT32_MIN,
  integerReader,
  odataTypeReader,
  readBase64,
  readDateTime,
  readObject,
  refuse,
  stringReader,
  type PropertySpecs,
  type ValidationMode,
} from './validate.ts';

/**
 * Certificate policies under deviceManagement/deviceConfigurations, compiled by csp/compile/certificates.ts.
 *
 * - `windows81TrustedRootCertificate` (Graph, microsoft-graph-docs intune-deviceconfig-windows81trustedrootcertificate.md):
 *   a CA certificate for the RootCATrustedCertificates CSP. The certificate must parse as X.509 and, for the Root store,
 *   be self-signed; it is kept as base64 DER whatever the input encoding (DER or PEM, base64-encoded).
 * - PFX install, OpenMAM's own shape under Graph's `@odata.type` `#microsoft.graph.windows10ImportedPFXCertificateProfile`
 *   (Graph's own profile refers to PFX blobs uploaded separately as userPFXCertificate; OpenMAM carries the PFX inline):
 *   `{ displayName, description?, pfxCertificate: base64 PKCS#12, password: string, keyStorageProvider?:
 *   'useSoftwareKsp' (default) | 'useTpmKspOtherwiseUseSoftwareKsp' }`, for the user's store via ClientCertificateInstall.
 *   The PFX is checked to be a DER PKCS#12 PFX (SEQUENCE, version 3); the password is not checked against it, since
 *   node:crypto has no PKCS#12 reader: a wrong password shows as a failed status from the device.
 */

export const TRUSTED_ROOT_CERTIFICATE_TYPE = '#microsoft.graph.windows81TrustedRootCertificate';
export const PFX_CERTIFICATE_TYPE = '#microsoft.graph.windows10ImportedPFXCertificateProfile';

const DESTINATION_STORES = ['computerCertStoreRoot', 'computerCertStoreIntermediate', 'userCertStoreIntermediate'] as const;
export type CertificateDestinationStore = (typeof DESTINATION_STORES)[number];

const KEY_STORAGE_PROVIDERS = ['useSoftwareKsp', 'useTpmKspOtherwiseUseSoftwareKsp'] as const;
export type PfxKeyStorageProvider = (typeof KEY_STORAGE_PROVIDERS)[number];

interface DeviceConfigurationBase {
  id?: string;
  displayName: string;
  description?: string | null;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  /** deviceConfiguration.version is an Int32. */
  version?: number;
}

export interface Windows81TrustedRootCertificate extends DeviceConfigurationBase {
  '@odata.type': typeof TRUSTED_ROOT_CERTIFICATE_TYPE;
  /** Base64 of the DER certificate (standard alphabet, no line breaks, once validated). */
  trustedRootCertificate: string;
  certFileName: string;
  destinationStore: CertificateDestinationStore;
}

export interface WindowsPfxCertificate extends DeviceConfigurationBase {
  '@odata.type': typeof PFX_CERTIFICATE_TYPE;
  /** Base64 of the PKCS#12 (PFX) file, standard alphabet once validated. */
  pfxCertificate: string;
  password: string;
  keyStorageProvider: PfxKeyStorageProvider;
}

type Patch<T extends { '@odata.type': string }> = { [K in Exclude<keyof T, '@odata.type'>]?: T[K] | null } & Pick<T, '@odata.type'>;

// ---- values

/** A certificate, DER or PEM, base64-encoded; parsed with node:crypto. */
function parseCertificate(value: unknown, path: string): X509Certificate {
  const bytes = readBase64(value, path, { nonEmpty: true });
  try {
    return new X509Certificate(bytes);
  } catch {
    return refuse(path, 'is not an X.509 certificate (base64 of the DER or PEM file)');
  }
}

function readCertificate(value: unknown, path: string): string {
  return parseCertificate(value, path).raw.toString('base64');
}

/**
 * DER length at `offset` (the byte after the tag): the length and where the content starts, or undefined when the
 * encoding is not a definite DER length.
 */
function derLength(bytes: Buffer, offset: number): { length: number; start: number } | undefined {
  const first = bytes[offset];
  if (first === undefined) return undefined;
  if (first < 0x80) return { length: first, start: offset + 1 };
  const count = first & 0x7f;
  if (count === 0 || count > 4 || offset + 1 + count > bytes.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 1 + i]!;
  return { length, start: offset + 1 + count };
}

/** A PKCS#12 PFX (RFC 7292): `SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData ... }` filling the bytes. */
function readPfx(value: unknown, path: string): string {
  const bytes = readBase64(value, path, { nonEmpty: true });
  const outer = bytes[0] === 0x30 ? derLength(bytes, 1) : undefined;
  if (outer === undefined || outer.start + outer.length !== bytes.length) refuse(path, 'is not a PKCS#12 (PFX) file: not one DER SEQUENCE');
  const version = bytes.subarray(outer.start, outer.start + 3);
  if (!version.equals(Buffer.from([0x02, 0x01, 0x03]))) refuse(path, 'is not a PKCS#12 (PFX) file: version is not 3');
  return bytes.toString('base64');
}

function readInt32(value: unknown, path: string): number {
  return integerReader(INT32_MIN, INT32_MAX)(value, path);
}

// ---- objects

const base = {
  id: { read: stringReader({ nonEmpty: true, singleLine: true }) },
  displayName: { read: stringReader({ nonEmpty: true, singleLine: true }), required: true },
  description: { read: stringReader(), nullable: true },
  createdDateTime: { read: readDateTime },
  lastModifiedDateTime: { read: readDateTime },
  version: { read: readInt32 },
} as const;

const TRUSTED_ROOT_SPECS: PropertySpecs<Windows81TrustedRootCertificate> = {
  '@odata.type': { read: odataTypeReader(TRUSTED_ROOT_CERTIFICATE_TYPE) },
  ...base,
  trustedRootCertificate: { read: readCertificate, required: true },
  certFileName: { read: stringReader({ nonEmpty: true, singleLine: true }), required: true },
  destinationStore: { read: enumReader(DESTINATION_STORES), required: true },
};

const PFX_SPECS: PropertySpecs<WindowsPfxCertificate> = {
  '@odata.type': { read: odataTypeReader(PFX_CERTIFICATE_TYPE) },
  ...base,
  pfxCertificate: { read: readPfx, required: true },
  password: { read: stringReader({ nonEmpty: true }), required: true },
  keyStorageProvider: { read: enumReader(KEY_STORAGE_PROVIDERS), default: 'useSoftwareKsp' },
};

/** `create`: a complete profile; `update`: a PATCH body, any subset (the merged result is validated as `create`). */
export function validateTrustedRootCertificate(input: unknown, mode: 'create'): Windows81TrustedRootCertificate;
export function validateTrustedRootCertificate(input: unknown, mode: ValidationMode): Windows81TrustedRootCertificate | Patch<Windows81TrustedRootCertificate>;
export function validateTrustedRootCertificate(input: unknown, mode: ValidationMode): Windows81TrustedRootCertificate | Patch<Windows81TrustedRootCertificate> {
  const profile = readObject<Windows81TrustedRootCertificate>(input, '', 'windows81TrustedRootCertificate', TRUSTED_ROOT_SPECS, mode === 'create');
  // The Root store holds trust anchors: a certificate there must be self-signed (issued by, and signed with, itself).
  if (profile.destinationStore === 'computerCertStoreRoot' && typeof profile.trustedRootCertificate === 'string') {
    const certificate = new X509Certificate(Buffer.from(profile.trustedRootCertificate, 'base64'));
    if (!certificate.checkIssued(certificate) || !certificate.verify(certificate.publicKey)) {
      refuse('trustedRootCertificate', 'is not self-signed: only a self-signed (root) certificate may go to computerCertStoreRoot');
    }
  }
  return Object.assign({ '@odata.type': TRUSTED_ROOT_CERTIFICATE_TYPE }, profile);
}

export function validatePfxCertificate(input: unknown, mode: 'create'): WindowsPfxCertificate;
export function validatePfxCertificate(input: unknown, mode: ValidationMode): WindowsPfxCertificate | Patch<WindowsPfxCertificate>;
export function validatePfxCertificate(input: unknown, mode: ValidationMode): WindowsPfxCertificate | Patch<WindowsPfxCertificate> {
  const profile = readObject<WindowsPfxCertificate>(input, '', 'windows10ImportedPFXCertificateProfile', PFX_SPECS, mode === 'create');
  return Object.assign({ '@odata.type': PFX_CERTIFICATE_TYPE }, profile);
}
