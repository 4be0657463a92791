import { createHash } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import { cspSetting, execSetting, intValue, joinList, type CspSetting } from './setting.ts';

/**
 * Certificate compilers. The input types are the structural subset the compilers read (csp/ may not import policy/);
 * policy/certificates.ts's validated types are assignable to them.
 *
 * Trusted certificates (RootCATrustedCertificates CSP): one `b64` node,
 * `{./|./User/}Vendor/MSFT/RootCATrustedCertificates/{Root|CA}/{SHA-1 thumbprint, upper-case hex}/EncodedCertificate`.
 *
 * | destinationStore | store |
 * |---|---|
 * | computerCertStoreRoot | ./Vendor/MSFT/RootCATrustedCertificates/Root |
 * | computerCertStoreIntermediate | ./Vendor/MSFT/RootCATrustedCertificates/CA |
 * | userCertStoreIntermediate | ./User/Vendor/MSFT/RootCATrustedCertificates/CA (the user scope has no Root store) |
 *
 * PFX install (ClientCertificateInstall CSP, user scope): KeyLocation, PFXCertPasswordEncryptionType, PFXCertPassword
 * and PFXCertBlob under `PFXCertInstall/{UniqueID}`, in one Atomic as the CSP requires, the blob last. UniqueID is
 * derived from the policy id, so every device and every recompilation name the same node.
 *
 * SCEP enrollment (ClientCertificateInstall CSP, `./User` for certificateStore user, `./Device` for machine): the
 * interior node `SCEP/{UniqueID}` (Format node), then its `Install/*` parameters, then `Install/Enroll` as an exec
 * setting, all in one atomic group: one Atomic with Enroll last, as the CSP requires. Each enrollment request needs a
 * UniqueID of its own, and the device takes the Install values at Exec time (Challenge is deleted right after, and
 * RetryDelay and TemplateName take no Replace), so UniqueID is the policy id plus a digest of the Install values: a
 * changed profile is a new node that enrolls again, and the old node (deleting it deletes its certificate) goes.
 *
 * | profile property | Install node | value |
 * |---|---|---|
 * | scepServerUrls | ServerURL | `;`-joined |
 * | challenge | Challenge | as given |
 * | extendedKeyUsages | EKUMapping | OIDs `+`-joined |
 * | keyUsage | KeyUsage | keyEncipherment 0x20 + digitalSignature 0x80, decimal |
 * | subjectNameFormatString | SubjectName | as given |
 * | customSubjectAlternativeNames | SubjectAlternativeNames | `type+name;...`: email 2, DNS 3, URI 7, UPN 11 (certenroll AlternativeNameType) |
 * | keyStorageProvider | KeyProtection | 3 software KSP, 2 TPM if present else software |
 * | scepRetryDelayMinutes, scepRetryCount | RetryDelay, RetryCount | when set |
 * | templateName | TemplateName | when set |
 * | keySize | KeyLength | 1024, 2048, 4096 |
 * | hashAlgorithm | HashAlgorithm | SHA-1, SHA-2, `+`-joined |
 * | caThumbprint | CAThumbprint | 40 hex digits |
 * | certificateValidityPeriodScale, ...Value | ValidPeriod, ValidPeriodUnits | Days/Months/Years and a count, when set |
 */
export type CompileDestinationStore = 'computerCertStoreRoot' | 'computerCertStoreIntermediate' | 'userCertStoreIntermediate';

export interface TrustedCertificateCompileInput {
  /** Base64 DER. */
  readonly trustedRootCertificate: string;
  readonly destinationStore: CompileDestinationStore;
}

export interface PfxCompileInput {
  readonly id: string;
  /** Base64 PKCS#12. */
  readonly pfxCertificate: string;
  readonly password: string;
  readonly keyStorageProvider: 'useSoftwareKsp' | 'useTpmKspOtherwiseUseSoftwareKsp';
}

const STORES: { readonly [S in CompileDestinationStore]: string } = {
  computerCertStoreRoot: './Vendor/MSFT/RootCATrustedCertificates/Root',
  computerCertStoreIntermediate: './Vendor/MSFT/RootCATrustedCertificates/CA',
  userCertStoreIntermediate: './User/Vendor/MSFT/RootCATrustedCertificates/CA',
};

/** The certificate's SHA-1 thumbprint as Windows names it: upper-case hex, no separators. */
export function certificateThumbprint(derBase64: string): string {
  return createHash('sha1').update(Buffer.from(derBase64, 'base64')).digest('hex').toUpperCase();
}

export function compileTrustedCertificate(profile: TrustedCertificateCompileInput): CspSetting[] {
  const der = Buffer.from(profile.trustedRootCertificate, 'base64');
  if (der.length === 0) throw new OpenMamError('malformed_request', 'trustedRootCertificate: must not be empty');
  const store = STORES[profile.destinationStore];
  return [cspSetting(`${store}/${certificateThumbprint(profile.trustedRootCertificate)}/EncodedCertificate`, 'b64', der.toString('base64'))];
}

/** ClientCertificateInstall KeyLocation: 2 = TPM if present, else software; 3 = software. */
const KEY_LOCATIONS = { useTpmKspOtherwiseUseSoftwareKsp: 2, useSoftwareKsp: 3 } as const;

/** A LocURI segment for the policy: letters, digits and dashes only. */
export function pfxUniqueId(policyId: string): string {
  const safe = policyId.replace(/[^A-Za-z0-9-]/g, '');
  if (safe === '') throw new OpenMamError('malformed_request', `${policyId}: cannot name a PFXCertInstall node`);
  return `OpenMAM-${safe}`;
}

export function compilePfxCertificate(profile: PfxCompileInput): CspSetting[] {
  const node = `./User/Vendor/MSFT/ClientCertificateInstall/PFXCertInstall/${pfxUniqueId(profile.id)}`;
  const group = `pfx:${profile.id}`;
  return [
    cspSetting(`${node}/KeyLocation`, 'int', intValue(KEY_LOCATIONS[profile.keyStorageProvider]), group),
    // 0 = the password is sent as is. 1 (encrypted to the MDM certificate) and 2 (to a custom certificate) need a
    // certificate on the device that the server can encrypt to; a MAM enrollment has no MDM device certificate, so
    // 0 is the only mode that works (the password travels in the TLS-protected OMA-DM session).
    cspSetting(`${node}/PFXCertPasswordEncryptionType`, 'int', intValue(0), group),
    cspSetting(`${node}/PFXCertPassword`, 'chr', profile.password, group),
    cspSetting(`${node}/PFXCertBlob`, 'b64', profile.pfxCertificate, group),
  ];
}

export interface ScepCompileInput {
  readonly id: string;
  readonly scepServerUrls: readonly string[];
  readonly challenge: string;
  readonly caThumbprint: string;
  readonly subjectNameFormatString: string;
  readonly customSubjectAlternativeNames: readonly { readonly sanType: 'emailAddress' | 'userPrincipalName' | 'domainNameService' | 'universalResourceIdentifier'; readonly name: string }[];
  readonly extendedKeyUsages: readonly { readonly objectIdentifier: string }[];
  /** Graph flags: keyEncipherment, digitalSignature, comma-separated. */
  readonly keyUsage: string;
  readonly keySize: 'size1024' | 'size2048' | 'size4096';
  /** Graph flags: sha1, sha2, comma-separated. */
  readonly hashAlgorithm: string;
  readonly certificateValidityPeriodValue?: number | null;
  readonly certificateValidityPeriodScale?: 'days' | 'months' | 'years' | null;
  readonly certificateStore: 'user' | 'machine';
  readonly keyStorageProvider: 'useSoftwareKsp' | 'useTpmKspOtherwiseUseSoftwareKsp';
  readonly scepRetryCount?: number | null;
  readonly scepRetryDelayMinutes?: number | null;
  readonly templateName?: string | null;
}

const SCEP_ROOTS = { user: './User/Vendor/MSFT/ClientCertificateInstall/SCEP', machine: './Vendor/MSFT/ClientCertificateInstall/SCEP' } as const;
const KEY_USAGE_BITS: Readonly<Record<string, number>> = { keyEncipherment: 0x20, digitalSignature: 0x80 };
const HASH_FAMILIES: Readonly<Record<string, string>> = { sha1: 'SHA-1', sha2: 'SHA-2' };
/** certenroll AlternativeNameType (XCN_CERT_ALT_NAME_*), which the CSP's "name format" is. */
const SAN_FORMATS = { emailAddress: 2, domainNameService: 3, universalResourceIdentifier: 7, userPrincipalName: 11 } as const;
/** KeyProtection: 2 = TPM if present, else software; 3 = software KSP. */
const KEY_PROTECTION = { useTpmKspOtherwiseUseSoftwareKsp: 2, useSoftwareKsp: 3 } as const;
const KEY_LENGTHS = { size1024: 1024, size2048: 2048, size4096: 4096 } as const;
const VALID_PERIODS = { days: 'Days', months: 'Months', years: 'Years' } as const;

function flags(value: string, known: Readonly<Record<string, unknown>>, field: string): string[] {
  const list = value.split(',').map((flag) => flag.trim());
  for (const flag of list) if (!Object.hasOwn(known, flag)) throw new OpenMamError('malformed_request', `${field}: unknown flag "${flag}"`);
  return list;
}

/** The Install parameters as (node name, format, value), in the order they are sent. */
function scepInstallValues(profile: ScepCompileInput): [string, 'chr' | 'int', string][] {
  const keyUsage = flags(profile.keyUsage, KEY_USAGE_BITS, 'keyUsage').reduce((bits, flag) => bits | KEY_USAGE_BITS[flag]!, 0);
  const hashes = flags(profile.hashAlgorithm, HASH_FAMILIES, 'hashAlgorithm').map((flag) => HASH_FAMILIES[flag]!);
  const sans = profile.customSubjectAlternativeNames.map((san) => `${SAN_FORMATS[san.sanType]}+${san.name}`);
  const values: [string, 'chr' | 'int', string][] = [
    ['ServerURL', 'chr', joinList(profile.scepServerUrls, ';', 'scepServerUrls')],
    ['Challenge', 'chr', profile.challenge],
    ['EKUMapping', 'chr', joinList(profile.extendedKeyUsages.map((eku) => eku.objectIdentifier), '+', 'extendedKeyUsages')],
    ['KeyUsage', 'int', intValue(keyUsage)],
    ['SubjectName', 'chr', profile.subjectNameFormatString],
  ];
  if (sans.length > 0) values.push(['SubjectAlternativeNames', 'chr', joinList(sans, ';', 'customSubjectAlternativeNames')]);
  values.push(['KeyProtection', 'int', intValue(KEY_PROTECTION[profile.keyStorageProvider])]);
  if (profile.scepRetryDelayMinutes != null) values.push(['RetryDelay', 'int', intValue(profile.scepRetryDelayMinutes)]);
  if (profile.scepRetryCount != null) values.push(['RetryCount', 'int', intValue(profile.scepRetryCount)]);
  if (profile.templateName != null) values.push(['TemplateName', 'chr', profile.templateName]);
  values.push(['KeyLength', 'int', intValue(KEY_LENGTHS[profile.keySize])], ['HashAlgorithm', 'chr', hashes.join('+')], ['CAThumbprint', 'chr', profile.caThumbprint]);
  if (profile.certificateValidityPeriodScale != null && profile.certificateValidityPeriodValue != null) {
    values.push(['ValidPeriod', 'chr', VALID_PERIODS[profile.certificateValidityPeriodScale]], ['ValidPeriodUnits', 'int', intValue(profile.certificateValidityPeriodValue)]);
  }
  return values;
}

/** `OpenMAM-{policy id}-{12 hex digits of the Install values' SHA-256}`: one UniqueID per enrollment request. */
export function scepUniqueId(policyId: string, install: readonly (readonly [string, string, string])[]): string {
  const digest = createHash('sha256').update(JSON.stringify(install)).digest('hex').slice(0, 12);
  return `${pfxUniqueId(policyId)}-${digest}`;
}

export function compileScepCertificate(profile: ScepCompileInput): CspSetting[] {
  const install = scepInstallValues(profile);
  const node = `${SCEP_ROOTS[profile.certificateStore]}/${scepUniqueId(profile.id, install)}`;
  const group = `scep:${profile.id}`;
  return [
    cspSetting(node, 'node', '', group),
    ...install.map(([name, format, value]) => cspSetting(`${node}/Install/${name}`, format, value, group)),
    execSetting(`${node}/Install/Enroll`, group),
  ];
}
