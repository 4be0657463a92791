import { OpenMamError } from '../../errors.ts';
import { xmlAttr } from '../../protocol/xml/writer.ts';
import { efsRecoveryPolicyBlob } from './efs-recovery-policy.ts';
import { formatIp, parseCidr, parseIp, type IpFamily } from './ip.ts';
import { boolValue, cspSetting, flagValue, intValue, joinList, unique, type CspSetting } from './setting.ts';
import { isUuid, uuidV5 } from './uuid.ts';

/**
 * The WIP compiler: a Graph `windowsInformationProtectionPolicy` (MAM, "WIP without enrollment") or
 * `mdmWindowsInformationProtectionPolicy` in, the CSP nodes Windows needs out (../shared/spec/csp-reference.md;
 * windows-itpro-docs enterprisedataprotection-csp.md, policy-csp-networkisolation.md, applocker-csp.md,
 * passportforwork-csp.md, policy-csp-devicelock.md, dmclient-csp.md). Pure and deterministic: the same policy gives the
 * same settings in the same order, so re-compiling an unchanged policy changes nothing on devices.
 *
 * The input types below are the structural subset of the Graph model the compiler reads. They are declared here
 * because csp/ may not import policy/; policy/wip.ts's validated types are assignable to them (a test checks it).
 * Properties that are `undefined` or `null` produce no node, except the nodes WIP cannot work without.
 */

export const MAM_WIP_POLICY_TYPE = '#microsoft.graph.windowsInformationProtectionPolicy';
export const MDM_WIP_POLICY_TYPE = '#microsoft.graph.mdmWindowsInformationProtectionPolicy';

export type WipCompileEnforcementLevel = 'noProtection' | 'encryptAndAuditOnly' | 'encryptAuditAndPrompt' | 'encryptAuditAndBlock';
export type WipCompilePinRequirement = 'notAllow' | 'requireAtLeastOne' | 'allow';

export interface WipCompileResourceCollection {
  readonly resources: readonly string[];
}

export interface WipCompileProxiedDomain {
  readonly ipAddressOrFQDN: string;
  readonly proxy?: string | null;
}

export interface WipCompileProxiedDomainCollection {
  readonly proxiedDomains: readonly WipCompileProxiedDomain[];
}

export type WipCompileIpRange =
  | { readonly '@odata.type': '#microsoft.graph.iPv4Range' | '#microsoft.graph.iPv6Range'; readonly lowerAddress: string; readonly upperAddress: string }
  | { readonly '@odata.type': '#microsoft.graph.iPv4CidrRange' | '#microsoft.graph.iPv6CidrRange'; readonly cidrAddress: string };

export interface WipCompileIpRangeCollection {
  readonly ranges: readonly WipCompileIpRange[];
}

interface WipCompileAppCommon {
  readonly displayName: string;
  readonly description?: string | null;
  readonly publisherName: string;
  readonly productName: string;
  readonly denied: boolean;
}

export interface WipCompileDesktopApp extends WipCompileAppCommon {
  readonly '@odata.type': '#microsoft.graph.windowsInformationProtectionDesktopApp';
  readonly binaryName: string;
  readonly binaryVersionLow?: string | null;
  readonly binaryVersionHigh?: string | null;
}

export interface WipCompileStoreApp extends WipCompileAppCommon {
  readonly '@odata.type': '#microsoft.graph.windowsInformationProtectionStoreApp';
}

export type WipCompileApp = WipCompileDesktopApp | WipCompileStoreApp;

export interface WipCompileDataRecoveryCertificate {
  /** Base64 DER X.509 certificate. */
  readonly certificate: string;
}

export interface WipCompilePolicy {
  readonly '@odata.type': typeof MAM_WIP_POLICY_TYPE | typeof MDM_WIP_POLICY_TYPE;
  /** Names the AppLocker groupings and seeds the rule Ids. */
  readonly id: string;
  readonly enforcementLevel: WipCompileEnforcementLevel;
  readonly enterpriseDomain?: string | null;
  readonly enterpriseProtectedDomainNames?: readonly WipCompileResourceCollection[] | null;
  readonly enterpriseNetworkDomainNames?: readonly WipCompileResourceCollection[] | null;
  readonly enterpriseProxyServers?: readonly WipCompileResourceCollection[] | null;
  readonly enterpriseInternalProxyServers?: readonly WipCompileResourceCollection[] | null;
  readonly neutralDomainResources?: readonly WipCompileResourceCollection[] | null;
  readonly smbAutoEncryptedFileExtensions?: readonly WipCompileResourceCollection[] | null;
  readonly enterpriseProxiedDomains?: readonly WipCompileProxiedDomainCollection[] | null;
  readonly enterpriseIPRanges?: readonly WipCompileIpRangeCollection[] | null;
  readonly enterpriseIPRangesAreAuthoritative?: boolean | null;
  readonly enterpriseProxyServersAreAuthoritative?: boolean | null;
  readonly protectedApps?: readonly WipCompileApp[] | null;
  readonly exemptApps?: readonly WipCompileApp[] | null;
  readonly dataRecoveryCertificate?: WipCompileDataRecoveryCertificate | null;
  readonly revokeOnUnenrollDisabled?: boolean | null;
  readonly rightsManagementServicesTemplateId?: string | null;
  readonly azureRightsManagementServicesAllowed?: boolean | null;
  readonly iconsVisible?: boolean | null;
  // MAM (windowsInformationProtectionPolicy) only; ignored for an MDM policy.
  readonly revokeOnMdmHandoffDisabled?: boolean | null;
  readonly mdmEnrollmentUrl?: string | null;
  readonly openMamMdmUpgradeOnHomeEdition?: boolean | null;
  readonly windowsHelloForBusinessBlocked?: boolean | null;
  readonly pinMinimumLength?: number | null;
  readonly pinUppercaseLetters?: WipCompilePinRequirement | null;
  readonly pinLowercaseLetters?: WipCompilePinRequirement | null;
  readonly pinSpecialCharacters?: WipCompilePinRequirement | null;
  readonly pinExpirationDays?: number | null;
  readonly numberOfPastPinsRemembered?: number | null;
  readonly passwordMaximumAttemptCount?: number | null;
  readonly minutesOfInactivityBeforeDeviceLock?: number | null;
  readonly daysWithoutContactBeforeUnenroll?: number | null;
}

export interface WipCompileContext {
  /** Entra tenant id (GUID): the PassportForWork `{TenantId}` node. */
  tenantId: string;
  /** DMClient `{ProviderID}` of the enrollment (OpenMAM's PROVIDER-ID); needed only for the DMClient nodes. */
  providerId?: string;
}

const EDP = './Vendor/MSFT/EnterpriseDataProtection/Settings';
const NETWORK_ISOLATION = './Vendor/MSFT/Policy/Config/NetworkIsolation';
const DEVICE_LOCK = './Vendor/MSFT/Policy/Config/DeviceLock';
const APPLOCKER_EDP = './Vendor/MSFT/AppLocker/EnterpriseDataProtection';
const DEVICE_LOCK_ATOMIC_GROUP = 'DeviceLock';

/** EDPEnforcementLevel: 0 off, 1 silent (encrypt + audit), 2 allow overrides, 3 hide overrides. */
const ENFORCEMENT_LEVEL: Record<WipCompileEnforcementLevel, number> = {
  noProtection: 0,
  encryptAndAuditOnly: 1,
  encryptAuditAndPrompt: 2,
  encryptAuditAndBlock: 3,
};

/** PassportForWork PINComplexity character rules: 0 allowed, 1 at least one required, 2 not allowed. */
const PIN_REQUIREMENT: Record<WipCompilePinRequirement, number> = { allow: 0, requireAtLeastOne: 1, notAllow: 2 };

const IP_RANGE_FAMILY: Record<WipCompileIpRange['@odata.type'], IpFamily> = {
  '#microsoft.graph.iPv4Range': 4,
  '#microsoft.graph.iPv6Range': 6,
  '#microsoft.graph.iPv4CidrRange': 4,
  '#microsoft.graph.iPv6CidrRange': 6,
};

function refuse(path: string, message: string): never {
  throw new OpenMamError('malformed_request', `${path}: ${message}`);
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

function resourcesOf(collections: readonly WipCompileResourceCollection[] | null | undefined): string[] {
  return (collections ?? []).flatMap((c) => c.resources);
}

export function compileWipPolicy(policy: WipCompilePolicy, context: WipCompileContext): CspSetting[] {
  const mam = isMamPolicy(policy);
  return [
    ...edpSettings(policy, mam),
    ...networkIsolationSettings(policy),
    ...appLockerSettings(policy),
    ...(mam ? [...passportForWorkSettings(policy, context), ...deviceLockSettings(policy), ...dmClientSettings(policy, context)] : []),
  ];
}

function isMamPolicy(policy: WipCompilePolicy): boolean {
  const type = policy['@odata.type'];
  if (type === MAM_WIP_POLICY_TYPE) return true;
  if (type === MDM_WIP_POLICY_TYPE) return false;
  return refuse('@odata.type', `"${String(type)}" is neither ${MAM_WIP_POLICY_TYPE} nor ${MDM_WIP_POLICY_TYPE}`);
}

function isWipOn(policy: WipCompilePolicy): boolean {
  return policy.enforcementLevel !== 'noProtection';
}

// ---- EnterpriseDataProtection/Settings

function edpSettings(policy: WipCompilePolicy, mam: boolean): CspSetting[] {
  const level = ENFORCEMENT_LEVEL[policy.enforcementLevel];
  if (level === undefined) refuse('enforcementLevel', `"${String(policy.enforcementLevel)}" is not a WIP enforcement level`);
  const settings = [cspSetting(`${EDP}/EDPEnforcementLevel`, 'int', intValue(level))];

  const domains = protectedDomainNames(policy);
  if (domains.length > 0) {
    settings.push(cspSetting(`${EDP}/EnterpriseProtectedDomainNames`, 'chr', joinList(domains, '|', 'enterpriseProtectedDomainNames')));
  } else if (isWipOn(policy)) {
    refuse('enterpriseDomain', 'WIP is on but there is no enterprise domain: EnterpriseProtectedDomainNames is mandatory');
  }
  if (isSet(policy.dataRecoveryCertificate)) {
    settings.push(cspSetting(`${EDP}/DataRecoveryCertificate`, 'b64', dataRecoveryBlob(policy.dataRecoveryCertificate.certificate)));
  }
  if (isSet(policy.revokeOnUnenrollDisabled)) {
    settings.push(cspSetting(`${EDP}/RevokeOnUnenroll`, 'int', flagValue(!policy.revokeOnUnenrollDisabled)));
  }
  if (mam && isSet(policy.revokeOnMdmHandoffDisabled)) {
    settings.push(cspSetting(`${EDP}/RevokeOnMDMHandoff`, 'int', flagValue(!policy.revokeOnMdmHandoffDisabled)));
  }
  if (isSet(policy.rightsManagementServicesTemplateId)) {
    const id = policy.rightsManagementServicesTemplateId;
    if (!isUuid(id)) refuse('rightsManagementServicesTemplateId', `"${id}" is not a GUID`);
    settings.push(cspSetting(`${EDP}/RMSTemplateIDForEDP`, 'chr', id.toLowerCase()));
  }
  if (isSet(policy.azureRightsManagementServicesAllowed)) {
    settings.push(cspSetting(`${EDP}/AllowAzureRMSForEDP`, 'int', flagValue(policy.azureRightsManagementServicesAllowed)));
  }
  if (isSet(policy.iconsVisible)) settings.push(cspSetting(`${EDP}/EDPShowIcons`, 'int', flagValue(policy.iconsVisible)));
  const extensions = unique(resourcesOf(policy.smbAutoEncryptedFileExtensions));
  if (extensions.length > 0) {
    settings.push(cspSetting(`${EDP}/SMBAutoEncryptedFileExtensions`, 'chr', joinList(extensions, ';', 'smbAutoEncryptedFileExtensions')));
  }
  return settings;
}

/**
 * `|`-separated; the first entry is the primary enterprise ID (enterpriseDomain), which the MAM-to-MDM handoff
 * compares across both policies. Canonical domains are lower-case: ASCII letters are lowered here once more.
 */
function protectedDomainNames(policy: WipCompilePolicy): string[] {
  const all = [...(isSet(policy.enterpriseDomain) ? [policy.enterpriseDomain] : []), ...resourcesOf(policy.enterpriseProtectedDomainNames)];
  return unique(all.map((d) => d.toLowerCase()));
}

/**
 * The DER certificate wrapped in the EFS recovery policy blob the CSP requires (see efs-recovery-policy.ts); Windows
 * refuses a bare certificate here.
 */
function dataRecoveryBlob(certificateBase64: string): string {
  const der = Buffer.from(certificateBase64, 'base64');
  if (der.length === 0 || der[0] !== 0x30) refuse('dataRecoveryCertificate.certificate', 'is not a base64 DER certificate');
  return efsRecoveryPolicyBlob([der]).toString('base64');
}

// ---- Policy/Config/NetworkIsolation

function networkIsolationSettings(policy: WipCompilePolicy): CspSetting[] {
  const settings: CspSetting[] = [];
  const list = (name: string, items: string[], separator: string, field: string): void => {
    const values = unique(items);
    if (values.length > 0) settings.push(cspSetting(`${NETWORK_ISOLATION}/${name}`, 'chr', joinList(values, separator, field)));
  };
  const flag = (name: string, value: boolean | null | undefined): void => {
    if (isSet(value)) settings.push(cspSetting(`${NETWORK_ISOLATION}/${name}`, 'int', flagValue(value)));
  };
  // Separators: EnterpriseIPRange, EnterpriseNetworkDomainNames and NeutralResources are comma lists,
  // EnterpriseCloudResources a `|` list of `resource[,proxy]` (policy-csp-networkisolation.md). The two proxy lists are
  // `;` lists: the CSP page says "comma-separated", but the GP element both are ADMX-mapped to
  // (WF_NetIsolation_Domain_Proxies / WF_NetIsolation_Intranet_Proxies in NetworkIsolation.admx) documents a
  // semicolon-separated list, and the WIP guides for Intune and Configuration Manager require the ";" delimiter
  // (`proxy.contoso.com:80;proxy2.contoso.com:443`).
  list('EnterpriseIPRange', ipRanges(policy), ',', 'enterpriseIPRanges');
  flag('EnterpriseIPRangesAreAuthoritative', policy.enterpriseIPRangesAreAuthoritative);
  list('EnterpriseNetworkDomainNames', resourcesOf(policy.enterpriseNetworkDomainNames), ',', 'enterpriseNetworkDomainNames');
  list('EnterpriseCloudResources', cloudResources(policy), '|', 'enterpriseProxiedDomains');
  list('EnterpriseProxyServers', resourcesOf(policy.enterpriseProxyServers), ';', 'enterpriseProxyServers');
  list('EnterpriseInternalProxyServers', resourcesOf(policy.enterpriseInternalProxyServers), ';', 'enterpriseInternalProxyServers');
  flag('EnterpriseProxyServersAreAuthoritative', policy.enterpriseProxyServersAreAuthoritative);
  list('NeutralResources', resourcesOf(policy.neutralDomainResources), ',', 'neutralDomainResources');
  return settings;
}

/** `first-last` per range; a CIDR block becomes its first and last address (the CSP has no CIDR syntax). */
function ipRanges(policy: WipCompilePolicy): string[] {
  return (policy.enterpriseIPRanges ?? []).flatMap((collection, c) =>
    collection.ranges.map((range, r) => {
      const path = `enterpriseIPRanges[${c}].ranges[${r}]`;
      const family = IP_RANGE_FAMILY[range['@odata.type']];
      if (family === undefined) return refuse(path, `"${String(range['@odata.type'])}" is not an IP range type`);
      if ('cidrAddress' in range) {
        const block = parseCidr(range.cidrAddress, family);
        if (!block) return refuse(`${path}.cidrAddress`, `"${range.cidrAddress}" is not an IPv${family} CIDR block`);
        return `${formatIp({ family, value: block.first })}-${formatIp({ family, value: block.last })}`;
      }
      const lower = parseIp(range.lowerAddress);
      const upper = parseIp(range.upperAddress);
      if (!lower || lower.family !== family) return refuse(`${path}.lowerAddress`, `"${range.lowerAddress}" is not an IPv${family} address`);
      if (!upper || upper.family !== family) return refuse(`${path}.upperAddress`, `"${range.upperAddress}" is not an IPv${family} address`);
      if (lower.value > upper.value) return refuse(`${path}.upperAddress`, 'is below lowerAddress');
      return `${formatIp(lower)}-${formatIp(upper)}`;
    }),
  );
}

function cloudResources(policy: WipCompilePolicy): string[] {
  return (policy.enterpriseProxiedDomains ?? []).flatMap((collection, c) =>
    collection.proxiedDomains.map((domain, d) => {
      if (domain.ipAddressOrFQDN.includes(',')) {
        refuse(`enterpriseProxiedDomains[${c}].proxiedDomains[${d}].ipAddressOrFQDN`, 'contains ","');
      }
      return isSet(domain.proxy) && domain.proxy !== '' ? `${domain.ipAddressOrFQDN},${domain.proxy}` : domain.ipAddressOrFQDN;
    }),
  );
}

// ---- AppLocker/EnterpriseDataProtection

type AppRole = 'protected' | 'exempt';

/**
 * One grouping for protected apps, one for exempt apps; Windows tells them apart by "EdpExempt" in the grouping name
 * (case-insensitive). The names are a UUID derived from the policy id: stable across compiles, unique to the policy
 * (so removing the policy deletes exactly its nodes), and free of characters a LocURI segment cannot carry.
 */
export function appLockerGroupings(policyId: string): Record<AppRole, string> {
  const base = uuidV5(`wip-applocker-grouping\n${policyId}`);
  return { protected: base, exempt: `${base}-EdpExempt` };
}

function appLockerSettings(policy: WipCompilePolicy): CspSetting[] {
  const groupings = appLockerGroupings(policy.id);
  const settings: CspSetting[] = [];
  for (const role of ['protected', 'exempt'] as const) {
    const apps = (role === 'protected' ? policy.protectedApps : policy.exemptApps) ?? [];
    const grouping = `${APPLOCKER_EDP}/${groupings[role]}`;
    const desktop = apps.filter((a): a is WipCompileDesktopApp => a['@odata.type'] === '#microsoft.graph.windowsInformationProtectionDesktopApp');
    const store = apps.filter((a): a is WipCompileStoreApp => a['@odata.type'] === '#microsoft.graph.windowsInformationProtectionStoreApp');
    if (desktop.length + store.length !== apps.length) refuse(role === 'protected' ? 'protectedApps' : 'exemptApps', 'holds an app of unknown type');
    if (desktop.length > 0) {
      settings.push(cspSetting(`${grouping}/EXE/Policy`, 'chr', ruleCollectionXml('Exe', desktop.map((a) => desktopRule(a)), policy.id, role)));
    }
    if (store.length > 0) {
      settings.push(cspSetting(`${grouping}/StoreApps/Policy`, 'chr', ruleCollectionXml('Appx', store.map((a) => storeRule(a)), policy.id, role)));
    }
  }
  return settings;
}

interface PublisherRule {
  name: string;
  description: string;
  action: 'Allow' | 'Deny';
  publisherName: string;
  productName: string;
  binaryName: string;
  lowSection: string;
  highSection: string;
}

function desktopRule(app: WipCompileDesktopApp): PublisherRule {
  return {
    ...commonRule(app),
    binaryName: app.binaryName || '*',
    lowSection: app.binaryVersionLow || '*',
    highSection: app.binaryVersionHigh || '*',
  };
}

/** Store apps are whole packages: any binary, any version (applocker-csp.md publisher rule example). */
function storeRule(app: WipCompileStoreApp): PublisherRule {
  return { ...commonRule(app), binaryName: '*', lowSection: '*', highSection: '*' };
}

function commonRule(app: WipCompileAppCommon): Pick<PublisherRule, 'name' | 'description' | 'action' | 'publisherName' | 'productName'> {
  return {
    name: app.displayName,
    description: app.description ?? '',
    action: app.denied ? 'Deny' : 'Allow',
    publisherName: app.publisherName,
    productName: app.productName || '*',
  };
}

/**
 * One AppLocker RuleCollection, the exact content of an EnterpriseDataProtection `.../Policy` node. Every attribute
 * goes through xmlAttr. Rule Ids are name-based UUIDs of the policy id, the grouping role and what the rule matches,
 * so they survive re-compiles and reordering; a rule repeated in one collection is written once (AppLocker refuses
 * duplicate Ids).
 */
function ruleCollectionXml(type: 'Exe' | 'Appx', rules: PublisherRule[], policyId: string, role: AppRole): string {
  const written = new Set<string>();
  let xml = `<RuleCollection Type="${type}" EnforcementMode="Enabled">`;
  for (const rule of rules) {
    const id = uuidV5(
      ['wip-applocker-rule', policyId, role, type, rule.action, rule.publisherName, rule.productName, rule.binaryName, rule.lowSection, rule.highSection].join('\n'),
    );
    if (written.has(id)) continue;
    written.add(id);
    xml +=
      `<FilePublisherRule Id="${id}" Name="${xmlAttr(rule.name)}" Description="${xmlAttr(rule.description)}" UserOrGroupSid="S-1-1-0" Action="${rule.action}">` +
      `<Conditions><FilePublisherCondition PublisherName="${xmlAttr(rule.publisherName)}" ProductName="${xmlAttr(rule.productName)}" BinaryName="${xmlAttr(rule.binaryName)}">` +
      `<BinaryVersionRange LowSection="${xmlAttr(rule.lowSection)}" HighSection="${xmlAttr(rule.highSection)}"/>` +
      '</FilePublisherCondition></Conditions></FilePublisherRule>';
  }
  return `${xml}</RuleCollection>`;
}

// ---- MAM only: PassportForWork, DeviceLock, DMClient

function passportForWorkSettings(policy: WipCompilePolicy, context: WipCompileContext): CspSetting[] {
  const pin = [
    ['MinimumPINLength', policy.pinMinimumLength],
    ['UppercaseLetters', isSet(policy.pinUppercaseLetters) ? PIN_REQUIREMENT[policy.pinUppercaseLetters] : undefined],
    ['LowercaseLetters', isSet(policy.pinLowercaseLetters) ? PIN_REQUIREMENT[policy.pinLowercaseLetters] : undefined],
    ['SpecialCharacters', isSet(policy.pinSpecialCharacters) ? PIN_REQUIREMENT[policy.pinSpecialCharacters] : undefined],
    ['History', policy.numberOfPastPinsRemembered],
    ['Expiration', policy.pinExpirationDays],
  ] as const;
  const hello = policy.windowsHelloForBusinessBlocked;
  if (!isSet(hello) && pin.every(([, value]) => !isSet(value))) return [];

  const tenant = context.tenantId.toLowerCase();
  if (!isUuid(tenant)) refuse('context.tenantId', `"${context.tenantId}" is not a GUID (PassportForWork/{TenantId})`);
  const policies = `./Vendor/MSFT/PassportForWork/${tenant}/Policies`;
  const settings: CspSetting[] = [];
  if (isSet(hello)) settings.push(cspSetting(`${policies}/UsePassportForWork`, 'bool', boolValue(!hello)));
  for (const [node, value] of pin) {
    if (value === undefined || value === null) continue;
    if (!Number.isInteger(value)) refuse(node, `${String(value)} is not an integer`);
    settings.push(cspSetting(`${policies}/PINComplexity/${node}`, 'int', intValue(value)));
  }
  return settings;
}

/**
 * DeviceLock policies must go in one Atomic (policy-csp-devicelock.md: "This policy must be wrapped in an Atomic
 * command"), and MaxDevicePasswordFailedAttempts / MaxInactivityTimeDeviceLock "take effect" only while
 * DevicePasswordEnabled is 0 (0 = password enabled; 1 disables the lock and its child policies). 0 is the default,
 * but a value of 1 left by another source would silently void these settings, so it is sent explicitly, first.
 */
function deviceLockSettings(policy: WipCompilePolicy): CspSetting[] {
  const attempts = policy.passwordMaximumAttemptCount;
  const inactivity = policy.minutesOfInactivityBeforeDeviceLock;
  if (!isSet(attempts) && !isSet(inactivity)) return [];
  const settings = [cspSetting(`${DEVICE_LOCK}/DevicePasswordEnabled`, 'int', '0', DEVICE_LOCK_ATOMIC_GROUP)];
  if (isSet(attempts)) settings.push(cspSetting(`${DEVICE_LOCK}/MaxDevicePasswordFailedAttempts`, 'int', intValue(attempts), DEVICE_LOCK_ATOMIC_GROUP));
  if (isSet(inactivity)) settings.push(cspSetting(`${DEVICE_LOCK}/MaxInactivityTimeDeviceLock`, 'int', intValue(inactivity), DEVICE_LOCK_ATOMIC_GROUP));
  return settings;
}

function dmClientSettings(policy: WipCompilePolicy, context: WipCompileContext): CspSetting[] {
  const days = policy.daysWithoutContactBeforeUnenroll;
  const upgradeTo = policy.mdmEnrollmentUrl;
  if (!isSet(days) && !isSet(upgradeTo)) return [];
  const providerId = context.providerId;
  if (providerId === undefined || providerId === '' || providerId.includes('/')) {
    refuse('context.providerId', 'a DMClient provider id (one LocURI segment) is needed for daysWithoutContactBeforeUnenroll and mdmEnrollmentUrl');
  }
  const provider = `./Vendor/MSFT/DMClient/Provider/${providerId}`;
  const settings: CspSetting[] = [];
  if (isSet(days)) settings.push(cspSetting(`${provider}/NumberOfDaysAfterLostContactToUnenroll`, 'int', intValue(days)));
  if (isSet(upgradeTo)) {
    const upgrade = cspSetting(`${provider}/ManagementServerToUpgradeTo`, 'chr', upgradeTo);
    settings.push(policy.openMamMdmUpgradeOnHomeEdition === true ? upgrade : { ...upgrade, applicableWhen: NOT_HOME_EDITION });
  }
  return settings;
}

/**
 * The Home editions by the names Intune's filters give `device.operatingSystemSKU` (GetProductInfo PRODUCT_CORE 101 and
 * its N, country-specific and single-language variants; core/devices/device-facts.ts HOME_SKUS, kept equal by a test).
 */
export const HOME_EDITION_SKUS = ['Core', 'CoreN', 'CoreCountrySpecific', 'CoreSingleLanguage'] as const;

/**
 * Users who upgrade from MAM to MDM on Windows Home edition lose access to WIP (seed 000, "WIP without
 * enrollment"): the upgrade goes only to devices known not to be Home. A device whose edition is not known yet
 * does not match, and gets the upgrade once its edition is reported.
 */
export const NOT_HOME_EDITION = `(device.operatingSystemSKU -notIn [${HOME_EDITION_SKUS.map((sku) => `"${sku}"`).join(', ')}])`;
