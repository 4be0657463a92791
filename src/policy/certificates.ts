import { X509Certificate } from 'node:crypto';
import {
  arrayReader,
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
  type Reader,
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
 * - SCEP enrollment, Graph's `windows81SCEPCertificateProfile` (intune-deviceconfig-windows81scepcertificateprofile.md)
 *   as far as it maps onto ClientCertificateInstall/SCEP, for the user's store by default:
 *   `scepServerUrls` (http or https; SCEP protects its own messages), `subjectNameFormat: 'custom'` with
 *   `subjectNameFormatString`, `customSubjectAlternativeNames` ({sanType, name}), `extendedKeyUsages`
 *   ({name, objectIdentifier}), `keyUsage` and `hashAlgorithm` (Graph flag enums, `"keyEncipherment,digitalSignature"`),
 *   `keySize`, `certificateValidityPeriodValue` + `certificateValidityPeriodScale`, `certificateStore` (user | machine),
 *   `keyStorageProvider`. OpenMAM additions, since a MAM server has no Intune connector: `challenge` (the SCEP
 *   server's static challenge, sent as is; write-only like the PFX password), `caThumbprint` (SHA-1 of the issuing
 *   root, in place of Graph's `rootCertificate` relationship), and the optional `scepRetryCount` (0-30),
 *   `scepRetryDelayMinutes` (1-1440) and `templateName`.
 *   Not supported, refused by name: subject name formats and SAN types that Intune fills in per user or device
 *   (`{{UserPrincipalName}}` ...), since a profile compiles to one set of values for every device; `renewalThresholdPercentage`
 *   (Windows does not renew a SCEP certificate by itself; a changed profile enrolls again); the key storage providers
 *   `useTpmKspOtherwiseFail` (fails on a personal device without a TPM) and `usePassportForWorkKspOtherwiseFail` (needs a
 *   Windows Hello for Business container, ContainerName and a PIN prompt): a MAM device has neither an MDM device
 *   certificate nor TPM attestation, so only software KSP and "TPM if present, else software" are offered.
 */

export const TRUSTED_ROOT_CERTIFICATE_TYPE = '#microsoft.graph.windows81TrustedRootCertificate';
export const PFX_CERTIFICATE_TYPE = '#microsoft.graph.windows10ImportedPFXCertificateProfile';
export const SCEP_CERTIFICATE_TYPE = '#microsoft.graph.windows81SCEPCertificateProfile';

const DESTINATION_STORES = ['computerCertStoreRoot', 'computerCertStoreIntermediate', 'userCertStoreIntermediate'] as const;
export type CertificateDestinationStore = (typeof DESTINATION_STORES)[number];

const KEY_STORAGE_PROVIDERS = ['useSoftwareKsp', 'useTpmKspOtherwiseUseSoftwareKsp'] as const;
export type PfxKeyStorageProvider = (typeof KEY_STORAGE_PROVIDERS)[number];

const SCEP_KEY_STORAGE_PROVIDERS = ['useSoftwareKsp', 'useTpmKspOtherwiseUseSoftwareKsp'] as const;
const SCEP_REFUSED_KEY_STORAGE_PROVIDERS: Readonly<Record<string, string>> = {
  useTpmKspOtherwiseFail: 'fails on a device without a TPM; a MAM device is often personal',
  usePassportForWorkKspOtherwiseFail: 'needs a Windows Hello for Business container (ContainerName) and a PIN prompt',
};
const SUBJECT_NAME_FORMATS = ['custom'] as const;
const SUBJECT_ALTERNATIVE_NAME_TYPES = ['none'] as const;
const SAN_TYPES = ['emailAddress', 'userPrincipalName', 'domainNameService', 'universalResourceIdentifier'] as const;
const KEY_SIZES = ['size1024', 'size2048', 'size4096'] as const;
const VALIDITY_SCALES = ['days', 'months', 'years'] as const;
const CERTIFICATE_STORES = ['user', 'machine'] as const;
const KEY_USAGES = ['keyEncipherment', 'digitalSignature'] as const;
const HASH_ALGORITHMS = ['sha1', 'sha2'] as const;

export type ScepSanType = (typeof SAN_TYPES)[number];

export interface ExtendedKeyUsage {
  '@odata.type'?: '#microsoft.graph.extendedKeyUsage';
  name: string;
  /** Dotted OID, e.g. 1.3.6.1.5.5.7.3.2 (client authentication). */
  objectIdentifier: string;
}

export interface CustomSubjectAlternativeName {
  '@odata.type'?: '#microsoft.graph.customSubjectAlternativeName';
  sanType: ScepSanType;
  /** The literal name (no Intune variables). */
  name: string;
}

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

export interface WindowsScepCertificate extends DeviceConfigurationBase {
  '@odata.type': typeof SCEP_CERTIFICATE_TYPE;
  scepServerUrls: string[];
  /** Write-only: the SCEP server's challenge password, sent to the device as is. */
  challenge: string;
  /** SHA-1 thumbprint of the issuing CA's root, 40 upper-case hex digits once validated. */
  caThumbprint: string;
  subjectNameFormat: (typeof SUBJECT_NAME_FORMATS)[number];
  subjectNameFormatString: string;
  subjectAlternativeNameType: (typeof SUBJECT_ALTERNATIVE_NAME_TYPES)[number];
  customSubjectAlternativeNames: CustomSubjectAlternativeName[];
  extendedKeyUsages: ExtendedKeyUsage[];
  /** Graph flag enum: `keyEncipherment`, `digitalSignature` or both, comma-separated (in that order once validated). */
  keyUsage: string;
  keySize: (typeof KEY_SIZES)[number];
  /** Graph flag enum: `sha1`, `sha2` or both, comma-separated (in that order once validated). */
  hashAlgorithm: string;
  certificateValidityPeriodValue?: number | null;
  certificateValidityPeriodScale?: (typeof VALIDITY_SCALES)[number] | null;
  certificateStore: (typeof CERTIFICATE_STORES)[number];
  keyStorageProvider: (typeof SCEP_KEY_STORAGE_PROVIDERS)[number];
  scepRetryCount?: number | null;
  scepRetryDelayMinutes?: number | null;
  templateName?: string | null;
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

/** An absolute http(s) URL for ServerURL: no credentials, fragment, whitespace or `;` (the CSP's list separator). */
function readScepServerUrl(value: unknown, path: string): string {
  const text = stringReader({ nonEmpty: true, singleLine: true, maxLength: 2048 })(value, path);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse(path, `"${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse(path, `must be an http or https URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') refuse(path, 'must not carry credentials');
  if (url.hash !== '') refuse(path, 'must not have a fragment');
  if (/[\s;]/.test(text)) refuse(path, 'must not contain whitespace or ";" (the ServerURL list separator)');
  return text;
}

/** A value sent literally: Intune's `{{...}}` variables would reach the device unreplaced. */
function literalReader(options: { maxLength: number; forbid?: string }): Reader<string> {
  return (value, path) => {
    const text = stringReader({ nonEmpty: true, singleLine: true, maxLength: options.maxLength })(value, path);
    if (text.includes('{{')) refuse(path, 'Intune variables ({{...}}) are not replaced by OpenMAM: one profile gives every device the same values');
    if (options.forbid !== undefined && text.includes(options.forbid)) refuse(path, `must not contain "${options.forbid}" (the CSP's list separator)`);
    return text;
  };
}

const OID = /^[0-2](\.(0|[1-9][0-9]{0,9}))+$/;

function readOid(value: unknown, path: string): string {
  const text = stringReader({ nonEmpty: true })(value, path);
  if (!OID.test(text)) refuse(path, `must be a dotted object identifier such as 1.3.6.1.5.5.7.3.2, not "${text}"`);
  return text;
}

/** 40 hex digits, upper-cased; spaces and colons between digit pairs (as certificate viewers show them) are dropped. */
function readThumbprint(value: unknown, path: string): string {
  const text = stringReader({ nonEmpty: true, singleLine: true })(value, path).replace(/[ :]/g, '');
  if (!/^[0-9A-Fa-f]{40}$/.test(text)) refuse(path, 'must be the SHA-1 thumbprint of the root certificate (40 hexadecimal digits)');
  return text.toUpperCase();
}

/** A Graph flag enum value (`a,b`): known flags, none twice, at least one; kept in the order of `flags`. */
function flagsReader(flags: readonly string[]): Reader<string> {
  return (value, path) => {
    const text = stringReader({ nonEmpty: true })(value, path);
    const given = text.split(',').map((flag) => flag.trim());
    for (const flag of given) if (!flags.includes(flag)) refuse(path, `must be one or more of ${flags.join(', ')} (comma-separated), not "${flag}"`);
    if (new Set(given).size !== given.length) refuse(path, 'names a flag twice');
    return flags.filter((flag) => given.includes(flag)).join(',');
  };
}

function readScepKeyStorageProvider(value: unknown, path: string): (typeof SCEP_KEY_STORAGE_PROVIDERS)[number] {
  if (typeof value === 'string' && Object.hasOwn(SCEP_REFUSED_KEY_STORAGE_PROVIDERS, value)) {
    refuse(path, `${value} is not available to MAM devices (${SCEP_REFUSED_KEY_STORAGE_PROVIDERS[value]}); use ${SCEP_KEY_STORAGE_PROVIDERS.join(' or ')}`);
  }
  return enumReader(SCEP_KEY_STORAGE_PROVIDERS)(value, path);
}

function readSubjectNameFormat(value: unknown, path: string): 'custom' {
  if (typeof value === 'string' && value !== 'custom') {
    refuse(path, `only custom is supported (with a literal subjectNameFormatString): ${value} needs per-device values that OpenMAM does not fill in`);
  }
  return enumReader(SUBJECT_NAME_FORMATS)(value, path);
}

function readSubjectAlternativeNameType(value: unknown, path: string): 'none' {
  if (typeof value === 'string' && value !== 'none') {
    refuse(path, `only none is supported: ${value} needs per-user values that OpenMAM does not fill in; list literal names in customSubjectAlternativeNames`);
  }
  return enumReader(SUBJECT_ALTERNATIVE_NAME_TYPES)(value, path);
}

const EKU_SPECS: PropertySpecs<ExtendedKeyUsage> = {
  '@odata.type': { read: odataTypeReader('#microsoft.graph.extendedKeyUsage') },
  name: { read: stringReader({ singleLine: true, maxLength: 256 }), required: true },
  objectIdentifier: { read: readOid, required: true },
};

const SAN_SPECS: PropertySpecs<CustomSubjectAlternativeName> = {
  '@odata.type': { read: odataTypeReader('#microsoft.graph.customSubjectAlternativeName') },
  sanType: { read: enumReader(SAN_TYPES), required: true },
  // `+` separates a SAN's type from its name and `;` one SAN from the next in SubjectAlternativeNames.
  name: { read: literalReader({ maxLength: 1024, forbid: ';' }), required: true },
};

// ---- objects

const base = {
  id: { read: stringReader({ nonEmpty: true, singleLine: true }) },
  displayName: { read: stringReader({ nonEmpty: true, singleLine: true }), required: true },
  description: { read: stringReader(), nullable: true },
  createdDateTime: { read: readDateTime },
  lastModifiedDateTime: { read: readDateTime },
  version: { read: readInt32 },
} as const;

export const TRUSTED_ROOT_SPECS: PropertySpecs<Windows81TrustedRootCertificate> = {
  '@odata.type': { read: odataTypeReader(TRUSTED_ROOT_CERTIFICATE_TYPE) },
  ...base,
  trustedRootCertificate: { read: readCertificate, required: true },
  certFileName: { read: stringReader({ nonEmpty: true, singleLine: true }), required: true },
  destinationStore: { read: enumReader(DESTINATION_STORES), required: true },
};

export const PFX_SPECS: PropertySpecs<WindowsPfxCertificate> = {
  '@odata.type': { read: odataTypeReader(PFX_CERTIFICATE_TYPE) },
  ...base,
  pfxCertificate: { read: readPfx, required: true },
  password: { read: stringReader({ nonEmpty: true }), required: true },
  keyStorageProvider: { read: enumReader(KEY_STORAGE_PROVIDERS), default: 'useSoftwareKsp' },
};

export const SCEP_SPECS: PropertySpecs<WindowsScepCertificate> = {
  '@odata.type': { read: odataTypeReader(SCEP_CERTIFICATE_TYPE) },
  ...base,
  scepServerUrls: { read: arrayReader(readScepServerUrl, { minItems: 1, maxItems: 10 }), required: true },
  challenge: { read: stringReader({ nonEmpty: true, singleLine: true, maxLength: 1024 }), required: true },
  caThumbprint: { read: readThumbprint, required: true },
  subjectNameFormat: { read: readSubjectNameFormat, default: 'custom' },
  subjectNameFormatString: { read: literalReader({ maxLength: 1024 }), required: true },
  subjectAlternativeNameType: { read: readSubjectAlternativeNameType, default: 'none' },
  customSubjectAlternativeNames: {
    read: arrayReader((value, path) => readObject<CustomSubjectAlternativeName>(value, path, 'customSubjectAlternativeName', SAN_SPECS, true), { maxItems: 50 }),
    default: [],
  },
  extendedKeyUsages: {
    read: arrayReader((value, path) => readObject<ExtendedKeyUsage>(value, path, 'extendedKeyUsage', EKU_SPECS, true), { minItems: 1, maxItems: 50 }),
    required: true,
  },
  keyUsage: { read: flagsReader(KEY_USAGES), required: true },
  keySize: { read: enumReader(KEY_SIZES), default: 'size2048' },
  hashAlgorithm: { read: flagsReader(HASH_ALGORITHMS), default: 'sha2' },
  certificateValidityPeriodValue: { read: integerReader(1, 1000), nullable: true },
  certificateValidityPeriodScale: { read: enumReader(VALIDITY_SCALES), nullable: true },
  certificateStore: { read: enumReader(CERTIFICATE_STORES), default: 'user' },
  keyStorageProvider: { read: readScepKeyStorageProvider, default: 'useSoftwareKsp' },
  scepRetryCount: { read: integerReader(0, 30), nullable: true },
  scepRetryDelayMinutes: { read: integerReader(1, 1440), nullable: true },
  templateName: { read: stringReader({ nonEmpty: true, singleLine: true, maxLength: 256 }), nullable: true },
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

export function validateScepCertificate(input: unknown, mode: 'create'): WindowsScepCertificate;
export function validateScepCertificate(input: unknown, mode: ValidationMode): WindowsScepCertificate | Patch<WindowsScepCertificate>;
export function validateScepCertificate(input: unknown, mode: ValidationMode): WindowsScepCertificate | Patch<WindowsScepCertificate> {
  const profile = readObject<WindowsScepCertificate>(input, '', 'windows81SCEPCertificateProfile', SCEP_SPECS, mode === 'create');
  if (mode === 'create') {
    // The validity period is a value in a unit: both or neither.
    const value = profile.certificateValidityPeriodValue ?? null;
    const scale = profile.certificateValidityPeriodScale ?? null;
    if ((value === null) !== (scale === null)) {
      refuse(value === null ? 'certificateValidityPeriodValue' : 'certificateValidityPeriodScale', 'is required with the other certificateValidityPeriod property');
    }
  }
  return Object.assign({ '@odata.type': SCEP_CERTIFICATE_TYPE }, profile);
}
