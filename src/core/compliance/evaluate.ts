import { compareVersions, type ComplianceScheduledActionForRule, type OperatingSystemVersionRange } from '../../policy/compliance.ts';
import type { CompliancePolicyRecord, ComplianceSettingResult, ComplianceStateRecord, ComplianceStatus } from '../../store/compliance-records.ts';
import type { DeviceComplianceState, PolicyAssignment, TargetFilter } from '../../store/records.ts';

/** What a device with no compliance policy assigned is (see evaluateDevice). */
export type WithoutPolicyState = Extract<DeviceComplianceState, 'unknown' | 'compliant' | 'noncompliant'>;
import type { DeviceFacts, SecurityProductState } from '../devices/device-facts.ts';

/**
 * Device compliance, judged by OpenMAM on a MAM device from what the device itself evidenced (core/devices/
 * device-facts.ts: its enrollment's OS version and the DeviceStatus CSP) and, when a Device Health Attestation
 * service validated a report (H3), what that report says. Pure: the caller passes facts, policies and the time.
 *
 * Each setting a policy configures is `compliant`, `nonCompliant`, `unknown` (no evidence yet, or none OpenMAM can
 * trust) or `notApplicable` (a MAM device cannot evidence it: passwords, Defender's version and real-time protection,
 * threat protection level, Configuration Manager, custom scripts; Intune reports the same for settings a platform
 * does not support). A policy is nonCompliant when a setting fails, else unknown when one lacks evidence, else
 * compliant. The device (Graph complianceState, learn.microsoft.com/mem/intune/protect/compliance-policy-monitor):
 * - noncompliant when a policy is, but `inGracePeriod` until the grace period of that policy's `block` action ends
 *   (learn.microsoft.com/mem/intune/protect/actions-for-noncompliance: "Mark device noncompliant" after the days
 *   given); the end is fixed when the device first fails and kept while it keeps failing;
 * - unknown when no policy failed but evidence is missing;
 * - compliant only when every applicable setting of every policy assigned is evidenced compliant;
 * - with no policy assigned, `withoutPolicy`: `unknown` by default, as OpenMAM never makes a device compliant by
 *   default (store/records.ts DEVICE_COMPLIANCE_STATES) and a device nothing judged has evidenced nothing. Intune's
 *   "Mark devices with no compliance policy assigned as" (learn.microsoft.com/mem/intune/protect/
 *   device-compliance-get-started#compliance-policy-settings) defaults to Compliant, and Graph
 *   `deviceManagementSettings.secureByDefault` true makes it Not compliant: the tenant setting `secureByDefault`
 *   gives either (core/tenant-settings.ts complianceRulesOf);
 * - noncompliant, whatever its policies say, when it has not checked in within the tenant's validity period
 *   (`deviceComplianceCheckinThresholdDays`, checkinLapsed).
 */

/** What a Device Health Attestation service validated for the device (H3 supplies it; absent until then). */
export interface HealthAttestationFacts {
  /** `valid`: the service validated the report; `invalid`: it refused it; `unknown`: no report, or no service answered. */
  state: 'valid' | 'invalid' | 'unknown';
  bitLockerEnabled?: boolean;
  secureBootEnabled?: boolean;
  codeIntegrityEnabled?: boolean;
  earlyLaunchAntiMalwareDriverEnabled?: boolean;
  bootDebuggingEnabled?: boolean;
  validatedAt?: number;
}

export interface ComplianceEvidence {
  facts: DeviceFacts;
  attestation?: HealthAttestationFacts;
}

type Judge = (policyValue: unknown, evidence: ComplianceEvidence) => Omit<ComplianceSettingResult, 'setting'> | undefined;

const compliant = (currentValue: string | null): Omit<ComplianceSettingResult, 'setting'> => ({ state: 'compliant', currentValue });
const failing = (currentValue: string | null, reason: string): Omit<ComplianceSettingResult, 'setting'> => ({ state: 'nonCompliant', currentValue, reason });
const unknown = (reason: string, currentValue: string | null = null): Omit<ComplianceSettingResult, 'setting'> => ({ state: 'unknown', currentValue, reason });

/** A required security product (DeviceStatus Firewall/Antivirus/Antispyware Status): only `on` (0) complies. */
function productRequired(product: (facts: DeviceFacts) => SecurityProductState, name: string): Judge {
  return (value, { facts }) => {
    if (value !== true) return undefined;
    const state = product(facts);
    if (state === 'unreported') return unknown(`the device has not reported its ${name} status (DeviceStatus)`);
    return state === 'on' ? compliant(state) : failing(state, `${name} is ${state}, not on`);
  };
}

/** A DeviceStatus flag that must be true. */
function flagRequired(flag: (facts: DeviceFacts) => boolean | null, what: string): Judge {
  return (value, { facts }) => {
    if (value !== true) return undefined;
    const reported = flag(facts);
    if (reported === null) return unknown(`the device has not reported ${what} (DeviceStatus)`);
    return reported ? compliant('true') : failing('false', `${what}: no`);
  };
}

/** A health attestation flag that must be true; only a report the service validated counts. */
function attested(flag: keyof Omit<HealthAttestationFacts, 'state' | 'validatedAt'>, what: string): Judge {
  return (value, { attestation }) => {
    if (value !== true) return undefined;
    if (attestation === undefined || attestation.state === 'unknown') return unknown(`no validated health attestation report (${what})`);
    if (attestation.state === 'invalid') return unknown(`the health attestation service did not validate the report (${what})`);
    const reported = attestation[flag];
    if (reported === undefined) return unknown(`the health attestation report does not say ${what}`);
    return reported ? compliant('true') : failing('false', `${what}: no (health attestation)`);
  };
}

function osVersionOf(facts: DeviceFacts): string | null {
  const version = facts.osVersion?.trim();
  return version !== undefined && /^\d+(\.\d+){1,3}$/.test(version) ? version : null;
}

/**
 * The settings OpenMAM judges, by Graph property, in report order. A setting that is not configured (false, null,
 * empty) gives no result, as Intune reports only configured settings.
 */
export const JUDGED_SETTINGS: Readonly<Record<string, Judge>> = {
  osMinimumVersion: (value, { facts }) => {
    if (typeof value !== 'string') return undefined;
    const version = osVersionOf(facts);
    if (version === null) return unknown('the device stated no OS version');
    return compareVersions(version, value) >= 0 ? compliant(version) : failing(version, `OS ${version} is below ${value}`);
  },
  osMaximumVersion: (value, { facts }) => {
    if (typeof value !== 'string') return undefined;
    const version = osVersionOf(facts);
    if (version === null) return unknown('the device stated no OS version');
    return compareVersions(version, value) <= 0 ? compliant(version) : failing(version, `OS ${version} is above ${value}`);
  },
  validOperatingSystemBuildRanges: (value, { facts }) => {
    if (!Array.isArray(value) || value.length === 0) return undefined;
    const version = osVersionOf(facts);
    if (version === null) return unknown('the device stated no OS version');
    const ranges = value as OperatingSystemVersionRange[];
    const inside = ranges.some((range) => compareVersions(version, range.lowestVersion) >= 0 && compareVersions(version, range.highestVersion) <= 0);
    return inside ? compliant(version) : failing(version, `OS ${version} is in none of the valid build ranges`);
  },
  activeFirewallRequired: productRequired((facts) => facts.firewall, 'the firewall'),
  antivirusRequired: productRequired((facts) => facts.antivirus, 'antivirus'),
  antiSpywareRequired: productRequired((facts) => facts.antispyware, 'antispyware'),
  // Graph's name reads backwards: true requires the antivirus signatures to be up to date.
  signatureOutOfDate: flagRequired((facts) => facts.antivirusSignaturesCurrent, 'antivirus signatures up to date'),
  storageRequireEncryption: flagRequired((facts) => facts.encrypted, 'the OS drive encrypted'),
  tpmRequired: (value, { facts }) => {
    if (value !== true) return undefined;
    if (facts.tpmVersion !== null) return compliant(facts.tpmVersion);
    // DeviceStatus answered, without a TPM specification version: no TPM is available.
    if (facts.deviceStatusReportedAt !== null) return failing(null, 'no TPM reported');
    return unknown('the device has not reported its TPM (DeviceStatus)');
  },
  bitLockerEnabled: attested('bitLockerEnabled', 'BitLocker'),
  secureBootEnabled: attested('secureBootEnabled', 'Secure Boot'),
  codeIntegrityEnabled: attested('codeIntegrityEnabled', 'code integrity'),
  earlyLaunchAntiMalwareDriverEnabled: attested('earlyLaunchAntiMalwareDriverEnabled', 'early launch antimalware'),
  requireHealthyDeviceReport: (value, { attestation }) => {
    if (value !== true) return undefined;
    if (attestation === undefined || attestation.state === 'unknown') return unknown('no health attestation report validated yet');
    return attestation.state === 'valid' ? compliant('valid') : failing('invalid', 'the health attestation service did not validate the report');
  },
};

/** Graph properties of windows10CompliancePolicy that configure something a MAM device cannot evidence (reported notApplicable when set). */
export const NOT_APPLICABLE_SETTINGS: readonly string[] = [
  'passwordRequired',
  'passwordBlockSimple',
  'passwordRequiredToUnlockFromIdle',
  'passwordMinutesOfInactivityBeforeLock',
  'passwordExpirationDays',
  'passwordMinimumLength',
  'passwordMinimumCharacterSetCount',
  'passwordRequiredType',
  'passwordPreviousPasswordBlockCount',
  'mobileOsMinimumVersion',
  'mobileOsMaximumVersion',
  'defenderEnabled',
  'defenderVersion',
  'rtpEnabled',
  'deviceThreatProtectionEnabled',
  'deviceThreatProtectionRequiredSecurityLevel',
  'configurationManagerComplianceRequired',
  'deviceCompliancePolicyScript',
  'firmwareProtectionEnabled',
  'kernelDmaProtectionEnabled',
  'memoryIntegrityEnabled',
  'virtualizationBasedSecurityEnabled',
  'wslDistributions',
];

/** Whether a stored value configures anything (Intune exports every property: false, null, 'deviceDefault', 'unavailable'...). */
export function configured(name: string, value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (name === 'passwordRequiredType') return value !== 'deviceDefault';
  if (name === 'deviceThreatProtectionRequiredSecurityLevel') return value !== 'unavailable' && value !== 'notSet';
  return true;
}

/** Each configured setting of a policy with its result, in report order. */
export function evaluateSettings(body: Readonly<Record<string, unknown>>, evidence: ComplianceEvidence): ComplianceSettingResult[] {
  const results: ComplianceSettingResult[] = [];
  for (const [setting, judge] of Object.entries(JUDGED_SETTINGS)) {
    const result = judge(body[setting], evidence);
    if (result !== undefined) results.push({ setting, ...result });
  }
  for (const setting of NOT_APPLICABLE_SETTINGS) {
    const value = body[setting];
    if (configured(setting, value)) results.push({ setting, state: 'notApplicable', currentValue: null, reason: 'a MAM device cannot evidence it' });
  }
  return results;
}

/** A policy's state from its settings' (nonCompliant > unknown > compliant; not applicable ones count for nothing). */
export function policyState(settings: readonly ComplianceSettingResult[]): ComplianceStatus {
  if (settings.some((s) => s.state === 'nonCompliant')) return 'nonCompliant';
  if (settings.some((s) => s.state === 'unknown')) return 'unknown';
  return 'compliant';
}

/**
 * The group target of a policy's assignments, as the OMA-DM kinds' (desired-state.ts appliesTo): exclusion wins; an
 * include assignment with an assignment filter reaches the device only when `filters` lets it (never without a judge:
 * a filter never widens an assignment).
 */
export function targetsDevice(assignments: readonly PolicyAssignment[], groups: ReadonlySet<string>, filters?: (filter: TargetFilter) => boolean): boolean {
  let included = false;
  for (const { target } of assignments) {
    if (target['@odata.type'] === '#microsoft.graph.exclusionGroupAssignmentTarget') {
      if (groups.has(target.groupId)) return false;
      continue;
    }
    const id = target.deviceAndAppManagementAssignmentFilterId;
    const passes = id === undefined || (filters?.({ id, type: target.deviceAndAppManagementAssignmentFilterType ?? 'include' }) ?? false);
    if (target['@odata.type'] === '#microsoft.graph.groupAssignmentTarget') {
      if (groups.has(target.groupId) && passes) included = true;
    } else if (passes) {
      included = true;
    }
  }
  return included;
}

/** The assignment filter ids a tenant's compliance policies name. */
export function complianceFilterIds(policies: readonly CompliancePolicyRecord[]): string[] {
  const ids = new Set<string>();
  for (const policy of policies) {
    for (const { target } of policy.assignments) if ('deviceAndAppManagementAssignmentFilterId' in target && target.deviceAndAppManagementAssignmentFilterId !== undefined) ids.add(target.deviceAndAppManagementAssignmentFilterId);
  }
  return [...ids];
}

/** The grace period of a policy's `block` action, in milliseconds (0: noncompliant at once). */
export function blockGraceMs(body: Readonly<Record<string, unknown>>): number {
  const rules = body['scheduledActionsForRule'] as ComplianceScheduledActionForRule[] | undefined;
  const block = rules?.flatMap((rule) => rule.scheduledActionConfigurations).find((item) => item.actionType === 'block');
  return (block?.gracePeriodHours ?? 0) * 3_600_000;
}

/**
 * The grace period of a policy's `retire` action, in milliseconds; null when the policy has none. Intune: "Retire the
 * noncompliant device" after the days given, counted from when the device became noncompliant
 * (learn.microsoft.com/mem/intune/protect/actions-for-noncompliance; Graph deviceComplianceActionItem gracePeriodHours).
 */
export function retireGraceMs(body: Readonly<Record<string, unknown>>): number | null {
  const rules = body['scheduledActionsForRule'] as ComplianceScheduledActionForRule[] | undefined;
  const retire = rules?.flatMap((rule) => rule.scheduledActionConfigurations).find((item) => item.actionType === 'retire');
  return retire === undefined ? null : (retire.gracePeriodHours ?? 0) * 3_600_000;
}

/**
 * Since when a policy has been nonCompliant on a device and when its retire action is due: the start is set when the
 * policy turns nonCompliant and kept while it stays so; any other state clears both (a device that became compliant
 * again before the retire was due is not retired, and a later failure starts the count anew).
 */
export function nonCompliantSpan(state: ComplianceStatus, previousSince: number | undefined, now: number, retireMs: number | null): { nonCompliantSince: number | null; retireAt: number | null } {
  if (state !== 'nonCompliant') return { nonCompliantSince: null, retireAt: null };
  const since = previousSince !== undefined && previousSince <= now ? previousSince : now;
  return { nonCompliantSince: since, retireAt: retireMs === null ? null : since + retireMs };
}

/** 1..120 days, 30 by default (Graph deviceManagementSettings.deviceComplianceCheckinThresholdDays). */
export const DEFAULT_CHECKIN_THRESHOLD_DAYS = 30;
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a device's compliance status has lapsed: no OMA-DM check-in for the tenant's validity period. Intune's
 * "Compliance status validity period (days)": a device that does not report within it is noncompliant
 * (learn.microsoft.com/mem/intune/protect/device-compliance-get-started#compliance-policy-settings).
 */
export function checkinLapsed(lastSeenAt: number, thresholdDays: number, now: number): boolean {
  return now - lastSeenAt >= thresholdDays * DAY_MS;
}

export interface DeviceEvaluationInput {
  enrollmentId: string;
  tenantId: string;
  /** The device's groups: its user's memberships and token groups. */
  groups: ReadonlySet<string>;
  /** Judges an assignment's filter against the device (core/devices/device-filters.ts); absent: filtered assignments miss. */
  filters?: (filter: TargetFilter) => boolean;
  evidence: ComplianceEvidence;
  /** What the device's enrollment holds now (the grace end is kept while it keeps failing). */
  previous: { state: DeviceComplianceState; graceUntil: number | null };
  /** The tenant's compliance policies. */
  policies: readonly CompliancePolicyRecord[];
  /** What a device with no policy assigned is (unknown: OpenMAM's default). */
  withoutPolicy: WithoutPolicyState;
  now: number;
  /** Policy id -> since when it has been nonCompliant on the device (the stored states'). */
  nonCompliantSince?: ReadonlyMap<string, number>;
  /** The device's last check-in and the tenant's validity period: lapsed, it is noncompliant whatever its policies say. */
  checkin?: { lastSeenAt: number; thresholdDays: number };
}

export interface DeviceEvaluation {
  state: DeviceComplianceState;
  graceUntil: number | null;
  policies: ComplianceStateRecord[];
  /** Noncompliant because the device has not checked in within the validity period. */
  lapsed?: boolean;
}

export function evaluateDevice(input: DeviceEvaluationInput): DeviceEvaluation {
  const evaluation = evaluatePolicies(input);
  const { checkin } = input;
  if (checkin !== undefined && checkinLapsed(checkin.lastSeenAt, checkin.thresholdDays, input.now)) {
    return { state: 'noncompliant', graceUntil: null, policies: evaluation.policies, lapsed: true };
  }
  return evaluation;
}

function evaluatePolicies(input: DeviceEvaluationInput): DeviceEvaluation {
  const { now } = input;
  const policies: ComplianceStateRecord[] = [];
  let graceMs: number | undefined;
  for (const policy of input.policies) {
    if (!targetsDevice(policy.assignments, input.groups, input.filters)) continue;
    const settings = evaluateSettings(policy.body, input.evidence);
    const state = policyState(settings);
    if (state === 'nonCompliant') graceMs = Math.min(graceMs ?? Number.POSITIVE_INFINITY, blockGraceMs(policy.body));
    const span = nonCompliantSpan(state, input.nonCompliantSince?.get(policy.id), now, retireGraceMs(policy.body));
    policies.push({ enrollmentId: input.enrollmentId, policyId: policy.id, tenantId: input.tenantId, state, settings, policyVersion: policy.version, evaluatedAt: now, ...span });
  }
  if (policies.length === 0) return { state: input.withoutPolicy, graceUntil: null, policies };
  if (graceMs !== undefined) {
    const { previous } = input;
    const failingBefore = previous.state === 'inGracePeriod' || previous.state === 'noncompliant';
    // The grace period runs from the first failure; a device that keeps failing keeps its end (never extended).
    const graceUntil = failingBefore && previous.graceUntil !== null ? Math.min(previous.graceUntil, now + graceMs) : failingBefore ? now : now + graceMs;
    return { state: graceUntil > now ? 'inGracePeriod' : 'noncompliant', graceUntil, policies };
  }
  if (policies.some((p) => p.state === 'unknown')) return { state: 'unknown', graceUntil: null, policies };
  return { state: 'compliant', graceUntil: null, policies };
}
