import {
  arrayReader,
  childPath,
  enumReader,
  indexPath,
  integerReader,
  INT32_MAX,
  INT32_MIN,
  odataTypeReader,
  readBoolean,
  readDateTime,
  readObject,
  readString,
  refuse,
  stringReader,
  type PropertySpecs,
  type Reader,
  type ValidationMode,
} from './validate.ts';

/**
 * Device compliance policies for Windows, shaped like Graph `windows10CompliancePolicy`
 * (learn.microsoft.com/graph/api/resources/intune-deviceconfig-windows10compliancepolicy, v1.0 and beta) with its
 * `scheduledActionsForRule` (intune-deviceconfig-devicecompliancescheduledactionforrule,
 * intune-deviceconfig-devicecomplianceactionitem). The specs below are the settings OpenMAM judges on a MAM device
 * (core/compliance/evaluate.ts): the OS version against the enrollment's, what the DeviceStatus CSP reports, and what
 * a Device Health Attestation report vouches for. Every other Graph property (passwords, Defender version and
 * real-time protection, threat protection level, Configuration Manager, custom compliance scripts, ...) is checked
 * against its EDM type, stored as given and shown as not applicable: a MAM device evidences none of it.
 */

export const WINDOWS10_COMPLIANCE_TYPE = '#microsoft.graph.windows10CompliancePolicy';

/** Graph `deviceComplianceActionType`. */
export const COMPLIANCE_ACTION_TYPES = ['noAction', 'notification', 'block', 'retire', 'wipe', 'removeResourceAccessProfiles', 'pushNotification', 'remoteLock'] as const;
export type ComplianceActionType = (typeof COMPLIANCE_ACTION_TYPES)[number];

/** Intune's longest grace period ("Schedule (days after noncompliance)": 365 days). */
export const MAX_GRACE_PERIOD_HOURS = 365 * 24;
const MAX_ACTIONS = 16;
const MAX_RANGES = 64;

export interface ComplianceActionItem {
  '@odata.type'?: '#microsoft.graph.deviceComplianceActionItem';
  id?: string;
  actionType: ComplianceActionType;
  gracePeriodHours: number;
  notificationTemplateId?: string | null;
  notificationMessageCCList?: string[] | null;
}

export interface ComplianceScheduledActionForRule {
  '@odata.type'?: '#microsoft.graph.deviceComplianceScheduledActionForRule';
  id?: string;
  ruleName?: string | null;
  scheduledActionConfigurations: ComplianceActionItem[];
}

export interface OperatingSystemVersionRange {
  description?: string | null;
  lowestVersion: string;
  highestVersion: string;
}

export interface Windows10CompliancePolicy {
  '@odata.type': typeof WINDOWS10_COMPLIANCE_TYPE;
  id?: string;
  displayName: string;
  description?: string | null;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  version?: number;
  scheduledActionsForRule: ComplianceScheduledActionForRule[];
  osMinimumVersion?: string | null;
  osMaximumVersion?: string | null;
  validOperatingSystemBuildRanges?: OperatingSystemVersionRange[] | null;
  activeFirewallRequired?: boolean;
  antivirusRequired?: boolean;
  antiSpywareRequired?: boolean;
  signatureOutOfDate?: boolean;
  storageRequireEncryption?: boolean;
  tpmRequired?: boolean;
  bitLockerEnabled?: boolean;
  secureBootEnabled?: boolean;
  codeIntegrityEnabled?: boolean;
  earlyLaunchAntiMalwareDriverEnabled?: boolean;
  requireHealthyDeviceReport?: boolean;
}

// ---- versions

/** Windows versions as Intune takes them: `major.minor[.build[.revision]]`, each part a decimal number (e.g. 10.0.19045.4529). */
const VERSION = /^\d{1,9}(\.\d{1,9}){1,3}$/;

export function readWindowsVersion(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true, maxLength: 64 }).trim();
  if (!VERSION.test(text)) refuse(path, `"${text}" is not a Windows version (major.minor.build.revision, e.g. 10.0.19045.0)`);
  return text;
}

/** Compares two versions part by part as numbers; a missing part counts as 0. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

// ---- nested objects

const readActionItem: Reader<ComplianceActionItem> = (value, path) =>
  readObject<ComplianceActionItem>(value, path, 'deviceComplianceActionItem', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.deviceComplianceActionItem') },
    id: { read: stringReader({ singleLine: true, maxLength: 64 }) },
    actionType: { read: enumReader(COMPLIANCE_ACTION_TYPES), required: true },
    gracePeriodHours: { read: integerReader(0, MAX_GRACE_PERIOD_HOURS), default: 0 },
    notificationTemplateId: { read: stringReader({ singleLine: true, maxLength: 64 }), nullable: true },
    notificationMessageCCList: { read: arrayReader(stringReader({ singleLine: true, maxLength: 64 }), { maxItems: 64 }), nullable: true },
  }, true);

const readRule: Reader<ComplianceScheduledActionForRule> = (value, path) => {
  const rule = readObject<ComplianceScheduledActionForRule>(value, path, 'deviceComplianceScheduledActionForRule', {
    '@odata.type': { read: odataTypeReader('#microsoft.graph.deviceComplianceScheduledActionForRule') },
    id: { read: stringReader({ singleLine: true, maxLength: 64 }) },
    ruleName: { read: stringReader({ singleLine: true, maxLength: 128 }), nullable: true },
    scheduledActionConfigurations: { read: arrayReader(readActionItem, { minItems: 1, maxItems: MAX_ACTIONS }), required: true },
  }, true);
  const blocks = rule.scheduledActionConfigurations.filter((item) => item.actionType === 'block').length;
  if (blocks > 1) refuse(childPath(path, 'scheduledActionConfigurations'), 'has more than one block action');
  return rule;
};

/**
 * Intune requires every compliance policy to carry exactly one rule with one `block` action (the action that marks
 * the device noncompliant, after its grace period): learn.microsoft.com/mem/intune/protect/actions-for-noncompliance
 * ("Mark device noncompliant" is the default action and cannot be removed).
 */
function readRules(value: unknown, path: string): ComplianceScheduledActionForRule[] {
  const rules = arrayReader(readRule, { minItems: 1, maxItems: 1 })(value, path);
  if (!rules[0]!.scheduledActionConfigurations.some((item) => item.actionType === 'block')) {
    refuse(childPath(indexPath(path, 0), 'scheduledActionConfigurations'), 'must have a block action (mark the device noncompliant)');
  }
  return rules;
}

const readRange: Reader<OperatingSystemVersionRange> = (value, path) => {
  const range = readObject<OperatingSystemVersionRange>(value, path, 'operatingSystemVersionRange', {
    description: { read: stringReader({ maxLength: 1024 }), nullable: true },
    lowestVersion: { read: readWindowsVersion, required: true },
    highestVersion: { read: readWindowsVersion, required: true },
  }, true);
  if (compareVersions(range.lowestVersion, range.highestVersion) > 0) refuse(childPath(path, 'highestVersion'), `is below lowestVersion ${range.lowestVersion}`);
  return range;
};

/** The default rule when a body has none: mark noncompliant at once, as Intune's portal does. */
export function defaultScheduledActions(): ComplianceScheduledActionForRule[] {
  return [{ ruleName: 'PasswordRequired', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0, notificationTemplateId: null, notificationMessageCCList: [] }] }];
}

const displayName = { read: stringReader({ nonEmpty: true, singleLine: true, maxLength: 1024 }), required: true } as const;
const flag = { read: readBoolean } as const;

export const COMPLIANCE_SPECS: PropertySpecs<Windows10CompliancePolicy> = {
  '@odata.type': { read: odataTypeReader(WINDOWS10_COMPLIANCE_TYPE) },
  id: { read: stringReader({ nonEmpty: true, singleLine: true }) },
  displayName,
  description: { read: stringReader({ maxLength: 10_000 }), nullable: true },
  createdDateTime: { read: readDateTime },
  lastModifiedDateTime: { read: readDateTime },
  version: { read: integerReader(INT32_MIN, INT32_MAX) },
  scheduledActionsForRule: { read: readRules, default: defaultScheduledActions() },
  osMinimumVersion: { read: readWindowsVersion, nullable: true },
  osMaximumVersion: { read: readWindowsVersion, nullable: true },
  validOperatingSystemBuildRanges: { read: arrayReader(readRange, { maxItems: MAX_RANGES }), nullable: true },
  activeFirewallRequired: flag,
  antivirusRequired: flag,
  antiSpywareRequired: flag,
  signatureOutOfDate: flag,
  storageRequireEncryption: flag,
  tpmRequired: flag,
  bitLockerEnabled: flag,
  secureBootEnabled: flag,
  codeIntegrityEnabled: flag,
  earlyLaunchAntiMalwareDriverEnabled: flag,
  requireHealthyDeviceReport: flag,
};

/** `create`: a whole policy (cross-field rules applied); `update`: the properties of a PATCH, each checked. */
export function validateWindows10CompliancePolicy(input: unknown, mode: ValidationMode): Record<string, unknown> {
  const policy = readObject<Windows10CompliancePolicy>(input, '', 'windows10CompliancePolicy', COMPLIANCE_SPECS, mode === 'create');
  if (mode === 'create' && typeof policy.osMinimumVersion === 'string' && typeof policy.osMaximumVersion === 'string' && compareVersions(policy.osMinimumVersion, policy.osMaximumVersion) > 0) {
    refuse('osMaximumVersion', `is below osMinimumVersion ${policy.osMinimumVersion}`);
  }
  return Object.assign({ '@odata.type': WINDOWS10_COMPLIANCE_TYPE }, policy) as unknown as Record<string, unknown>;
}
