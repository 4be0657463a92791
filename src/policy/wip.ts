import { X509Certificate } from 'node:crypto';
import { domainToASCII, domainToUnicode } from 'node:url';
import { formatIp, formatIPv4, formatIPv6, parseCidr, parseIp, parseIPv4, parseIPv6, type IpFamily } from '../csp/compile/ip.ts';
import {
  arrayReader,
  childPath,
  discriminator,
  enumReader,
  expectPlainObject,
  integerReader,
  INT32_MAX,
  odataTypeReader,
  readBase64,
  readBoolean,
  readDateTime,
  readGuid,
  readHttpsUrl,
  readObject,
  readString,
  refuse,
  stringReader,
  type PropertySpecs,
  type Reader,
  type ValidationMode,
} from './validate.ts';

/**
 * The WIP-era admin model, shaped like Microsoft Graph (beta, /deviceAppManagement):
 * `windowsInformationProtectionPolicy` (MAM, "WIP without enrollment") and `mdmWindowsInformationProtectionPolicy`,
 * both derived from `windowsInformationProtection` (microsoft-graph-docs intune-mam-windowsinformationprotection*.md;
 * ../shared/spec/app-protection.md "Windows Information Protection policy"). csp/compile/wip.ts turns a validated
 * policy into CSP nodes.
 *
 * `validateWipPolicy` is strict: unknown properties, wrong types, values outside the Graph/CSP ranges and anything
 * Windows would refuse (non-canonical domains, reversed IP ranges, CIDRs with host bits, bad GUIDs, certificates that
 * do not parse, non-https URLs) are refused with the JSON path of the value. What it returns is normalised:
 * `@odata.type` always `#`-prefixed, domains and IP addresses in canonical form, GUIDs lower-case, the certificate as
 * plain base64 DER, binary versions four-part.
 */

export type WipPolicyKind = 'mam' | 'mdm';

export const WIP_POLICY_TYPE = {
  mam: '#microsoft.graph.windowsInformationProtectionPolicy',
  mdm: '#microsoft.graph.mdmWindowsInformationProtectionPolicy',
} as const;

/** EDPEnforcementLevel 0..3. */
export const WIP_ENFORCEMENT_LEVELS = ['noProtection', 'encryptAndAuditOnly', 'encryptAuditAndPrompt', 'encryptAuditAndBlock'] as const;
export type WindowsInformationProtectionEnforcementLevel = (typeof WIP_ENFORCEMENT_LEVELS)[number];

export const WIP_PIN_CHARACTER_REQUIREMENTS = ['notAllow', 'requireAtLeastOne', 'allow'] as const;
export type WindowsInformationProtectionPinCharacterRequirements = (typeof WIP_PIN_CHARACTER_REQUIREMENTS)[number];

export interface WindowsInformationProtectionResourceCollection {
  '@odata.type'?: '#microsoft.graph.windowsInformationProtectionResourceCollection';
  displayName?: string | null;
  resources: string[];
}

export interface ProxiedDomain {
  '@odata.type'?: '#microsoft.graph.proxiedDomain';
  /** A cloud resource: domain name, IP address, or the `/*AppCompat*\/` marker. */
  ipAddressOrFQDN: string;
  /** An internal proxy (host[:port]) the resource is reached through; must be an enterprise internal proxy server. */
  proxy?: string | null;
}

export interface WindowsInformationProtectionProxiedDomainCollection {
  '@odata.type'?: '#microsoft.graph.windowsInformationProtectionProxiedDomainCollection';
  displayName?: string | null;
  proxiedDomains: ProxiedDomain[];
}

export interface IPv4Range {
  '@odata.type': '#microsoft.graph.iPv4Range';
  lowerAddress: string;
  upperAddress: string;
}

export interface IPv6Range {
  '@odata.type': '#microsoft.graph.iPv6Range';
  lowerAddress: string;
  upperAddress: string;
}

export interface IPv4CidrRange {
  '@odata.type': '#microsoft.graph.iPv4CidrRange';
  cidrAddress: string;
}

export interface IPv6CidrRange {
  '@odata.type': '#microsoft.graph.iPv6CidrRange';
  cidrAddress: string;
}

export type IpRange = IPv4Range | IPv6Range | IPv4CidrRange | IPv6CidrRange;

export interface WindowsInformationProtectionIPRangeCollection {
  '@odata.type'?: '#microsoft.graph.windowsInformationProtectionIPRangeCollection';
  displayName?: string | null;
  ranges: IpRange[];
}

interface WindowsInformationProtectionAppBase {
  /** AppLocker rule Name. */
  displayName: string;
  description?: string | null;
  /** Signer subject, e.g. `O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US`; `*` for any. */
  publisherName: string;
  /** Product name (desktop) or package identity name (Store); `*` for any. */
  productName: string;
  /** An AppLocker Deny rule instead of Allow. Default false. */
  denied: boolean;
}

export interface WindowsInformationProtectionDesktopApp extends WindowsInformationProtectionAppBase {
  '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp';
  /** File name, e.g. `WINWORD.EXE`; `*` (default) for any. */
  binaryName: string;
  /** `*` or a four-part version a.b.c.d. */
  binaryVersionLow?: string | null;
  binaryVersionHigh?: string | null;
}

export interface WindowsInformationProtectionStoreApp extends WindowsInformationProtectionAppBase {
  '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp';
}

export type WindowsInformationProtectionApp = WindowsInformationProtectionDesktopApp | WindowsInformationProtectionStoreApp;

export interface WindowsInformationProtectionDataRecoveryCertificate {
  '@odata.type'?: '#microsoft.graph.windowsInformationProtectionDataRecoveryCertificate';
  subjectName?: string | null;
  description?: string | null;
  expirationDateTime?: string | null;
  /** Base64 DER X.509 certificate of the EFS data recovery agent. */
  certificate: string;
}

/** windowsInformationProtection (the abstract Graph base) plus managedAppPolicy's common properties. */
export interface WindowsInformationProtectionBase {
  id?: string;
  displayName: string;
  description?: string | null;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  version?: string | null;
  enforcementLevel: WindowsInformationProtectionEnforcementLevel;
  /** Primary enterprise ID: first in EnterpriseProtectedDomainNames; required while WIP is on. */
  enterpriseDomain?: string | null;
  enterpriseProtectedDomainNames?: WindowsInformationProtectionResourceCollection[];
  enterpriseNetworkDomainNames?: WindowsInformationProtectionResourceCollection[];
  enterpriseProxyServers?: WindowsInformationProtectionResourceCollection[];
  enterpriseInternalProxyServers?: WindowsInformationProtectionResourceCollection[];
  neutralDomainResources?: WindowsInformationProtectionResourceCollection[];
  smbAutoEncryptedFileExtensions?: WindowsInformationProtectionResourceCollection[];
  enterpriseProxiedDomains?: WindowsInformationProtectionProxiedDomainCollection[];
  enterpriseIPRanges?: WindowsInformationProtectionIPRangeCollection[];
  enterpriseIPRangesAreAuthoritative?: boolean;
  enterpriseProxyServersAreAuthoritative?: boolean;
  protectedApps?: WindowsInformationProtectionApp[];
  exemptApps?: WindowsInformationProtectionApp[];
  dataRecoveryCertificate?: WindowsInformationProtectionDataRecoveryCertificate | null;
  revokeOnUnenrollDisabled?: boolean;
  rightsManagementServicesTemplateId?: string | null;
  azureRightsManagementServicesAllowed?: boolean;
  iconsVisible?: boolean;
}

/** MAM: WIP without enrollment, plus the PIN / Windows Hello / device lock / MDM upgrade settings. */
export interface WindowsInformationProtectionPolicy extends WindowsInformationProtectionBase {
  '@odata.type': typeof WIP_POLICY_TYPE.mam;
  revokeOnMdmHandoffDisabled?: boolean;
  /** MDM discovery URL a MAM device may upgrade to (DMClient ManagementServerToUpgradeTo). */
  mdmEnrollmentUrl?: string | null;
  /**
   * OpenMAM's addition: offer the MDM upgrade to Home edition devices too. Off by default, because users who upgrade
   * from MAM to MDM on Windows Home lose access to WIP (seed 000); when on, the policy's answers carry a warning.
   */
  openMamMdmUpgradeOnHomeEdition?: boolean;
  windowsHelloForBusinessBlocked?: boolean;
  pinMinimumLength?: number;
  pinUppercaseLetters?: WindowsInformationProtectionPinCharacterRequirements;
  pinLowercaseLetters?: WindowsInformationProtectionPinCharacterRequirements;
  pinSpecialCharacters?: WindowsInformationProtectionPinCharacterRequirements;
  pinExpirationDays?: number;
  numberOfPastPinsRemembered?: number;
  passwordMaximumAttemptCount?: number;
  minutesOfInactivityBeforeDeviceLock?: number;
  daysWithoutContactBeforeUnenroll?: number;
}

export interface MdmWindowsInformationProtectionPolicy extends WindowsInformationProtectionBase {
  '@odata.type': typeof WIP_POLICY_TYPE.mdm;
}

export type WipPolicy = WindowsInformationProtectionPolicy | MdmWindowsInformationProtectionPolicy;

/** A PATCH body: any subset of the properties (null clears a nullable one); `@odata.type` always filled in. */
export type WipPolicyPatch<P extends WipPolicy = WipPolicy> = P extends WipPolicy
  ? { [K in Exclude<keyof P, '@odata.type'>]?: P[K] | null } & Pick<P, '@odata.type'>
  : never;

export type WipPolicyInput = WipPolicy | WipPolicyPatch;

// ---- domain names and hosts

const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const APP_COMPAT_MARKER = '/*AppCompat*/';

/**
 * The canonical form the EnterpriseDataProtection and NetworkIsolation CSPs require ("the client requires domain
 * name to be canonical, otherwise the setting will be rejected"): ASCII letters lower-case, then IdnToAscii with
 * STD3 rules, then IdnToUnicode. Upper-case input is refused rather than silently lowered (Graph stores what the
 * admin sent); an IDN in either form (U-label or `xn--` A-label) is accepted and kept in the CSP's canonical
 * (Unicode) form. Returns the problem as text, or the canonical name.
 */
function canonicalDomain(name: string): { name: string } | { problem: string } {
  if (/[A-Z]/.test(name)) return { problem: `must be canonical (lower-case): "${name.toLowerCase()}"` };
  if (name.startsWith('.') || name.endsWith('.')) return { problem: `"${name}" must not start or end with "."` };
  const ascii = domainToASCII(name);
  if (ascii === '' || ascii.length > 253) return { problem: `"${name}" is not a valid domain name` };
  const labels = ascii.split('.');
  const bad = labels.find((label) => !LDH_LABEL.test(label));
  if (bad !== undefined) return { problem: `"${name}" is not a valid domain name (label "${bad}": letters, digits and inner hyphens only)` };
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return { problem: `"${name}" is not a domain name (numeric top-level label)` };
  return { name: domainToUnicode(ascii) };
}

function readDomainName(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  const result = canonicalDomain(text);
  if ('problem' in result) refuse(path, result.problem);
  return result.name;
}

function readPort(text: string, path: string): string {
  if (!/^[1-9][0-9]{0,4}$/.test(text) || Number(text) > 65535) refuse(path, `port "${text}" must be 1-65535`);
  return text;
}

/** `host[:port]`: a domain name, an IPv4 address, or an IPv6 address (bracketed when a port follows). */
function readProxyAddress(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    const address = end < 0 ? undefined : parseIPv6(text.slice(1, end));
    if (address === undefined) refuse(path, `"${text}" is not a bracketed IPv6 address`);
    const rest = text.slice(end + 1);
    if (rest === '') return `[${formatIPv6(address)}]`;
    if (!rest.startsWith(':')) refuse(path, `"${text}" has text after the IPv6 address`);
    return `[${formatIPv6(address)}]:${readPort(rest.slice(1), path)}`;
  }
  const v6 = parseIPv6(text);
  if (v6 !== undefined) return `[${formatIPv6(v6)}]`;
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  const port = colon < 0 ? '' : `:${readPort(text.slice(colon + 1), path)}`;
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return `${formatIPv4(v4)}${port}`;
  const domain = canonicalDomain(host);
  if ('problem' in domain) refuse(path, `host ${domain.problem}`);
  return `${domain.name}${port}`;
}

/** A cloud resource: domain name, IP address, or `/*AppCompat*\/` (WIP guides: marks app-compat resources). */
function readCloudResource(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  if (text === APP_COMPAT_MARKER) return text;
  const ip = parseIp(text);
  if (ip) return formatIp(ip);
  const domain = canonicalDomain(text);
  if ('problem' in domain) refuse(path, domain.problem);
  return domain.name;
}

/** `.docx` or `docx`: one extension, nothing that would split or widen the `;` list. */
function readFileExtension(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  if (!/^\.?[^\s;|,.\\/:*?"<>]+$/.test(text)) refuse(path, `"${text}" is not a file extension (like .docx)`);
  return text;
}

// ---- IP ranges

const IP_RANGE_TYPES = [
  '#microsoft.graph.iPv4Range',
  '#microsoft.graph.iPv6Range',
  '#microsoft.graph.iPv4CidrRange',
  '#microsoft.graph.iPv6CidrRange',
] as const satisfies readonly IpRange['@odata.type'][];

function addressReader(family: IpFamily): Reader<string> {
  return (value, path) => {
    const text = readString(value, path, { nonEmpty: true });
    const address = parseIp(text);
    if (!address) refuse(path, `"${text}" is not an IP address`);
    if (address.family !== family) refuse(path, `"${text}" is an IPv${address.family} address in an IPv${family} range`);
    return formatIp(address);
  };
}

/** lowerAddress <= upperAddress (both already of the range's family). */
function checkRangeOrder(range: IPv4Range | IPv6Range, path: string): void {
  if (parseIp(range.lowerAddress)!.value > parseIp(range.upperAddress)!.value) refuse(childPath(path, 'upperAddress'), `${range.upperAddress} is below lowerAddress ${range.lowerAddress}`);
}

/** `network/prefix` with no host bits set (10.0.0.0/8, not 10.1.2.3/8); kept in canonical text form. */
function cidrReader(family: IpFamily): Reader<string> {
  return (value, path) => {
    const text = readString(value, path, { nonEmpty: true });
    const block = parseCidr(text, family);
    if (!block) refuse(path, `"${text}" is not an IPv${family} CIDR block (address/prefix, prefix 0-${family === 4 ? 32 : 128})`);
    const canonical = `${formatIp({ family, value: block.first })}/${block.prefixLength}`;
    if (block.hostBitsSet) refuse(path, `"${text}" has host bits set; the block is ${canonical}`);
    return canonical;
  };
}

function readIpRange(value: unknown, path: string): IpRange {
  const record = expectPlainObject(value, path);
  const type = discriminator(record, path, IP_RANGE_TYPES);
  const family: IpFamily = type === '#microsoft.graph.iPv4Range' || type === '#microsoft.graph.iPv4CidrRange' ? 4 : 6;
  const typeName = type.slice('#microsoft.graph.'.length);
  if (type === '#microsoft.graph.iPv4Range' || type === '#microsoft.graph.iPv6Range') {
    const range = readObject<IPv4Range | IPv6Range>(record, path, typeName, {
      '@odata.type': { read: () => type, required: true },
      lowerAddress: { read: addressReader(family), required: true },
      upperAddress: { read: addressReader(family), required: true },
    }, true);
    checkRangeOrder(range, path);
    return range;
  }
  return readObject<IPv4CidrRange | IPv6CidrRange>(record, path, typeName, {
    '@odata.type': { read: () => type, required: true },
    cidrAddress: { read: cidrReader(family), required: true },
  }, true);
}

// ---- apps

const VERSION_PART = /^(?:0|[1-9][0-9]{0,4})$/;

/** `*` or 1-4 numeric parts (each 0-65535), padded to the four-part form AppLocker's BinaryVersionRange uses. */
function readBinaryVersion(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true });
  if (text === '*') return text;
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((p) => !VERSION_PART.test(p) || Number(p) > 65535)) {
    refuse(path, `"${text}" is not a version (a.b.c.d, each 0-65535) or *`);
  }
  return [...parts, '0', '0', '0'].slice(0, 4).join('.');
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i += 1) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function checkVersionOrder(app: WindowsInformationProtectionDesktopApp, path: string): void {
  const low = app.binaryVersionLow;
  const high = app.binaryVersionHigh;
  if (low && high && low !== '*' && high !== '*' && compareVersions(low, high) > 0) {
    refuse(childPath(path, 'binaryVersionHigh'), `${high} is below binaryVersionLow ${low}`);
  }
}

const xmlAttributeText = stringReader({ singleLine: true });
const requiredXmlAttributeText = stringReader({ nonEmpty: true, singleLine: true });
const DESKTOP_APP_TYPE = '#microsoft.graph.windowsInformationProtectionDesktopApp';
const STORE_APP_TYPE = '#microsoft.graph.windowsInformationProtectionStoreApp';

/** App fields become AppLocker XML attributes: one line each, nothing XML cannot carry. */
const APP_BASE_SPECS: PropertySpecs<WindowsInformationProtectionAppBase> = {
  displayName: { read: requiredXmlAttributeText, required: true },
  description: { read: xmlAttributeText, nullable: true },
  publisherName: { read: requiredXmlAttributeText, required: true },
  productName: { read: requiredXmlAttributeText, required: true },
  denied: { read: readBoolean, default: false },
};

const STORE_APP_SPECS: PropertySpecs<WindowsInformationProtectionStoreApp> = {
  '@odata.type': { read: odataTypeReader(STORE_APP_TYPE), required: true },
  ...APP_BASE_SPECS,
};

const DESKTOP_APP_SPECS: PropertySpecs<WindowsInformationProtectionDesktopApp> = {
  '@odata.type': { read: odataTypeReader(DESKTOP_APP_TYPE), required: true },
  ...APP_BASE_SPECS,
  productName: { read: requiredXmlAttributeText, default: '*' },
  binaryName: { read: requiredXmlAttributeText, default: '*' },
  binaryVersionLow: { read: readBinaryVersion, nullable: true },
  binaryVersionHigh: { read: readBinaryVersion, nullable: true },
};

function readApp(value: unknown, path: string): WindowsInformationProtectionApp {
  const record = expectPlainObject(value, path);
  const type = discriminator(record, path, [DESKTOP_APP_TYPE, STORE_APP_TYPE] as const);
  if (type === STORE_APP_TYPE) return readObject(record, path, 'windowsInformationProtectionStoreApp', STORE_APP_SPECS, true);
  const app = readObject(record, path, 'windowsInformationProtectionDesktopApp', DESKTOP_APP_SPECS, true);
  checkVersionOrder(app, path);
  return app;
}

// ---- collections and the certificate

const displayNameSpec = { read: stringReader({ singleLine: true }), nullable: true } as const;

function resourceCollectionReader(resource: Reader<string>): Reader<WindowsInformationProtectionResourceCollection> {
  return (value, path) =>
    readObject<WindowsInformationProtectionResourceCollection>(value, path, 'windowsInformationProtectionResourceCollection', {
      '@odata.type': { read: odataTypeReader('#microsoft.graph.windowsInformationProtectionResourceCollection') },
      displayName: displayNameSpec,
      resources: { read: arrayReader(resource), required: true },
    }, true);
}

function readProxiedDomain(value: unknown, path: string): ProxiedDomain {
  return readObject<ProxiedDomain>(value, path, 'proxiedDomain', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.proxiedDomain') },
    ipAddressOrFQDN: { read: readCloudResource, required: true },
    proxy: { read: readProxyAddress, nullable: true },
  }, true);
}

function readProxiedDomainCollection(value: unknown, path: string): WindowsInformationProtectionProxiedDomainCollection {
  return readObject<WindowsInformationProtectionProxiedDomainCollection>(value, path, 'windowsInformationProtectionProxiedDomainCollection', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.windowsInformationProtectionProxiedDomainCollection') },
    displayName: displayNameSpec,
    proxiedDomains: { read: arrayReader(readProxiedDomain), required: true },
  }, true);
}

function readIpRangeCollection(value: unknown, path: string): WindowsInformationProtectionIPRangeCollection {
  return readObject<WindowsInformationProtectionIPRangeCollection>(value, path, 'windowsInformationProtectionIPRangeCollection', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.windowsInformationProtectionIPRangeCollection') },
    displayName: displayNameSpec,
    ranges: { read: arrayReader(readIpRange), required: true },
  }, true);
}

/** Base64 (or base64url) DER that node:crypto parses as exactly one X.509 certificate; kept as plain base64. */
function readCertificate(value: unknown, path: string): string {
  const der = readBase64(value, path, { nonEmpty: true });
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch (error) {
    return refuse(path, `is not a DER X.509 certificate (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!certificate.raw.equals(der)) refuse(path, 'must be exactly one DER certificate (no PEM armour, no trailing bytes)');
  return der.toString('base64');
}

function readDataRecoveryCertificate(value: unknown, path: string): WindowsInformationProtectionDataRecoveryCertificate {
  return readObject<WindowsInformationProtectionDataRecoveryCertificate>(value, path, 'windowsInformationProtectionDataRecoveryCertificate', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.windowsInformationProtectionDataRecoveryCertificate') },
    subjectName: { read: stringReader({ singleLine: true }), nullable: true },
    description: { read: stringReader(), nullable: true },
    expirationDateTime: { read: readDateTime, nullable: true },
    certificate: { read: readCertificate, required: true },
  }, true);
}

// ---- the policies

const readDomainCollections = arrayReader(resourceCollectionReader(readDomainName));
const readProxyCollections = arrayReader(resourceCollectionReader(readProxyAddress));

const BASE_SPECS: PropertySpecs<WindowsInformationProtectionBase> = {
  id: { read: stringReader({ nonEmpty: true, singleLine: true }) },
  displayName: { read: stringReader({ nonEmpty: true, singleLine: true }), required: true },
  description: { read: stringReader(), nullable: true },
  createdDateTime: { read: readDateTime },
  lastModifiedDateTime: { read: readDateTime },
  version: { read: stringReader({ singleLine: true }), nullable: true },
  enforcementLevel: { read: enumReader(WIP_ENFORCEMENT_LEVELS), required: true },
  enterpriseDomain: { read: readDomainName, nullable: true },
  enterpriseProtectedDomainNames: { read: readDomainCollections },
  enterpriseNetworkDomainNames: { read: readDomainCollections },
  enterpriseProxyServers: { read: readProxyCollections },
  enterpriseInternalProxyServers: { read: readProxyCollections },
  neutralDomainResources: { read: readDomainCollections },
  smbAutoEncryptedFileExtensions: { read: arrayReader(resourceCollectionReader(readFileExtension)) },
  enterpriseProxiedDomains: { read: arrayReader(readProxiedDomainCollection) },
  enterpriseIPRanges: { read: arrayReader(readIpRangeCollection) },
  enterpriseIPRangesAreAuthoritative: { read: readBoolean },
  enterpriseProxyServersAreAuthoritative: { read: readBoolean },
  protectedApps: { read: arrayReader(readApp) },
  exemptApps: { read: arrayReader(readApp) },
  dataRecoveryCertificate: { read: readDataRecoveryCertificate, nullable: true },
  revokeOnUnenrollDisabled: { read: readBoolean },
  rightsManagementServicesTemplateId: { read: readGuid, nullable: true },
  azureRightsManagementServicesAllowed: { read: readBoolean },
  iconsVisible: { read: readBoolean },
};

const readPinRequirement = enumReader(WIP_PIN_CHARACTER_REQUIREMENTS);

/**
 * Ranges: PIN length 4-127 (PassportForWork MinimumPINLength, and no more than MaximumPINLength's 127), PIN history
 * 0-50, PIN expiration 0-730 days, inactivity 0-999 minutes and failed attempts 0-999 (Graph; the DeviceLock CSP
 * uses 4-16 on desktop, 0 = never wipe), days without contact 0-2^31-1 (DMClient int, no documented bound).
 */
export const MAM_SPECS: PropertySpecs<WindowsInformationProtectionPolicy> = {
  '@odata.type': { read: odataTypeReader(WIP_POLICY_TYPE.mam) },
  ...BASE_SPECS,
  revokeOnMdmHandoffDisabled: { read: readBoolean },
  mdmEnrollmentUrl: { read: readHttpsUrl, nullable: true },
  openMamMdmUpgradeOnHomeEdition: { read: readBoolean },
  windowsHelloForBusinessBlocked: { read: readBoolean },
  pinMinimumLength: { read: integerReader(4, 127) },
  pinUppercaseLetters: { read: readPinRequirement },
  pinLowercaseLetters: { read: readPinRequirement },
  pinSpecialCharacters: { read: readPinRequirement },
  pinExpirationDays: { read: integerReader(0, 730) },
  numberOfPastPinsRemembered: { read: integerReader(0, 50) },
  passwordMaximumAttemptCount: { read: integerReader(0, 999) },
  minutesOfInactivityBeforeDeviceLock: { read: integerReader(0, 999) },
  daysWithoutContactBeforeUnenroll: { read: integerReader(0, INT32_MAX) },
};

export const MDM_SPECS: PropertySpecs<MdmWindowsInformationProtectionPolicy> = {
  '@odata.type': { read: odataTypeReader(WIP_POLICY_TYPE.mdm) },
  ...BASE_SPECS,
};

// ---- rules across properties (complete policies only: a PATCH is checked again once merged)

/** WIP cannot run without the primary enterprise ID (EnterpriseProtectedDomainNames is mandatory). */
function checkEnterpriseDomainWhenProtecting(policy: WipPolicy): void {
  if (policy.enforcementLevel !== 'noProtection' && !policy.enterpriseDomain) {
    refuse('enterpriseDomain', `is required when enforcementLevel is ${policy.enforcementLevel}`);
  }
}

/** NetworkIsolation/EnterpriseCloudResources: "A proxy server used for this purpose must also be configured using the EnterpriseInternalProxyServers policy". */
function checkCloudResourceProxiesAreInternal(policy: WipPolicy): void {
  const internal = new Set((policy.enterpriseInternalProxyServers ?? []).flatMap((c) => c.resources));
  for (const [c, collection] of (policy.enterpriseProxiedDomains ?? []).entries()) {
    for (const [d, domain] of collection.proxiedDomains.entries()) {
      if (domain.proxy && !internal.has(domain.proxy)) {
        refuse(`enterpriseProxiedDomains[${c}].proxiedDomains[${d}].proxy`, `"${domain.proxy}" is not one of the enterpriseInternalProxyServers`);
      }
    }
  }
}

/** WIP guides: the (Internet) proxy server list "shouldn't include any servers listed in your Internal proxy servers list". */
function checkProxyListsAreDisjoint(policy: WipPolicy): void {
  const internal = new Set((policy.enterpriseInternalProxyServers ?? []).flatMap((c) => c.resources));
  for (const [c, collection] of (policy.enterpriseProxyServers ?? []).entries()) {
    for (const [r, resource] of collection.resources.entries()) {
      if (internal.has(resource)) refuse(`enterpriseProxyServers[${c}].resources[${r}]`, `"${resource}" is also an enterprise internal proxy server`);
    }
  }
}

const CROSS_PROPERTY_RULES: ReadonlyArray<(policy: WipPolicy) => void> = [
  checkEnterpriseDomainWhenProtecting,
  checkCloudResourceProxiesAreInternal,
  checkProxyListsAreDisjoint,
];

/**
 * Validates a Graph-shaped WIP policy body. `create` (and PUT): a complete policy, required properties enforced,
 * defaults filled, cross-property rules checked. `update` (PATCH): any subset; merge it into the stored policy and
 * validate the result as `create` again to check the cross-property rules.
 */
export function validateWipPolicy(input: unknown, kind: 'mam', mode: 'create'): WindowsInformationProtectionPolicy;
export function validateWipPolicy(input: unknown, kind: 'mdm', mode: 'create'): MdmWindowsInformationProtectionPolicy;
export function validateWipPolicy(input: unknown, kind: WipPolicyKind, mode: ValidationMode): WipPolicyInput;
export function validateWipPolicy(input: unknown, kind: WipPolicyKind, mode: ValidationMode): WipPolicyInput {
  const complete = mode === 'create';
  const policy =
    kind === 'mam'
      ? readObject<WindowsInformationProtectionPolicy>(input, '', 'windowsInformationProtectionPolicy', MAM_SPECS, complete)
      : readObject<MdmWindowsInformationProtectionPolicy>(input, '', 'mdmWindowsInformationProtectionPolicy', MDM_SPECS, complete);
  const typed: WipPolicy = Object.assign({ '@odata.type': WIP_POLICY_TYPE[kind] }, policy);
  if (complete) for (const rule of CROSS_PROPERTY_RULES) rule(typed);
  return typed;
}
