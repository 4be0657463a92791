import type { WindowsInformationProtectionPinCharacterRequirements } from '../../policy/wip.ts';
import { childPath, expectPlainObject, readBoolean, readInteger, readObject, refuse, type PropertySpecs, type Reader } from '../../policy/validate.ts';

/**
 * EAS compliance of a MAM device-lock policy (seed 000, "Device lock policies and EAS"):
 *
 * > MAM supports device lock policies similar to MDM. The policies are configured by DeviceLock area of Policy CSP
 * > and PassportForWork CSP.
 * > We do not recommend configuring both Exchange Active Sync (EAS) and MAM policies for the same device. However, if
 * > both are configured, the client will behave as follows:
 * > 1. When EAS policies are sent to a device that already has MAM policies, Windows evaluates whether the existing
 * >    MAM policies are compliant with the configured EAS policies and reports compliance to EAS:
 * >    - If the device is found to be compliant, EAS will report compliance to the server to allow mail to sync. MAM
 * >      supports mandatory EAS policies only. Checking EAS compliance does not require device admin rights.
 * >    - If the device is found to be non-compliant, EAS will enforce its own policies to the device and the
 * >      resultant set of policies will be a superset of both. Applying EAS policies to the device requires admin
 * >      rights.
 * > 2. If a device that already has EAS policies is enrolled to MAM, the device will have both sets of policies: MAM,
 * >    EAS, and the resultant set of policies will be a superset of both.
 *
 * `evaluateEasCompliance` answers (1): is the MAM policy at least as strict as the EAS policy on every setting, and
 * what the superset (the stricter value of each setting) is. Windows does this with the EAS policy engine
 * (Windows.Security.ExchangeActiveSyncProvisioning.EasClientSecurityPolicy.CheckCompliance); the settings and their
 * "most secure value" rules are those of the DeviceLock CSP (policy-csp-devicelock.md), which is that engine's CSP face.
 *
 * "MAM supports mandatory EAS policies only" is read as: only the EAS policies that impose a requirement on the device
 * lock (the nine below, the ones EasClientSecurityPolicy evaluates) take part. EAS settings that merely allow or deny a
 * feature (AllowSimpleDevicePassword, AllowCamera, AllowBrowser, ...) are not evaluated by MAM: `validateEasPolicy`
 * refuses them by name rather than silently report "compliant" for something never checked. A setting the EAS policy
 * leaves unset (absent or null) requires nothing.
 *
 * Encryption: RequireDeviceEncryption asks for an encrypted device (BitLocker). MAM's device lock (DeviceLock +
 * PassportForWork) has no such setting, WIP encrypts only enterprise-tagged files (EFS), and the BitLocker CSP is
 * outside the MAM allow-list, so a MAM policy never satisfies it: when EAS requires encryption the result is a gap and
 * the resultant keeps the requirement (EAS enforces it itself, with admin rights). Whether the device happens to be
 * encrypted is a device fact (DeviceStatus/Compliance/EncryptionCompliance), not a policy one, and is not looked at.
 *
 * Values: "no requirement" is `null` in results. The encodings of the wire formats are accepted on input: 0 for
 * "never expires" / "no timeout" / "never wipe" / "no history", 1 for "no minimum length" (MS-ASPROV) and 1 complex
 * character group (any password has one).
 */

/** The mandatory EAS device-lock policies (MS-ASPROV names, camelCase), as an admin submits them. */
export interface EasPolicy {
  /** DevicePasswordEnabled: a device password is required. The other password settings need it. */
  devicePasswordEnabled: boolean;
  /** 1-16 (MS-ASPROV; 1 = no minimum). Windows itself never goes below 4 (DeviceLock/MinDevicePasswordLength 4-16). */
  minDevicePasswordLength?: number | null;
  /** A password mixing digits and non-digits (an alphanumeric PIN rather than a numeric one). */
  alphanumericDevicePasswordRequired?: boolean | null;
  /** 1-4 character groups (upper, lower, digits, symbols); at least 2 when alphanumeric is required. */
  minDevicePasswordComplexCharacters?: number | null;
  /** Minutes, 0-999 (DeviceLock/MaxInactivityTimeDeviceLock; 0 = no timeout). */
  maxInactivityTimeDeviceLock?: number | null;
  /** 4-16 (MS-ASPROV, DeviceLock on desktop), or 0 = never wipe / lock out. */
  maxDevicePasswordFailedAttempts?: number | null;
  /** Days, 0-730 (0 = never expires). */
  devicePasswordExpiration?: number | null;
  /** Passwords remembered, 0-50. */
  devicePasswordHistory?: number | null;
  /** RequireDeviceEncryption. */
  requireDeviceEncryption?: boolean | null;
}

/** A device-lock policy in one normalised form: `null` = no requirement. Used for EAS, MAM and the resultant. */
export interface DeviceLockRequirements {
  devicePasswordEnabled: boolean;
  minDevicePasswordLength: number | null;
  alphanumericDevicePasswordRequired: boolean;
  minDevicePasswordComplexCharacters: number | null;
  maxInactivityTimeDeviceLock: number | null;
  maxDevicePasswordFailedAttempts: number | null;
  devicePasswordExpiration: number | null;
  devicePasswordHistory: number | null;
  requireDeviceEncryption: boolean;
}

export type DeviceLockSetting = keyof DeviceLockRequirements;

/** The effective device lock of a MAM policy, and which Graph property each value comes from (null: none can). */
export interface MamDeviceLock {
  requirements: DeviceLockRequirements;
  /** The MAM policy properties each setting comes from (empty: MAM has no such setting). */
  sources: Record<DeviceLockSetting, string[]>;
  notes: string[];
}

export interface EasComplianceGap {
  setting: DeviceLockSetting;
  /** What EAS requires (normalised). */
  eas: number | boolean;
  /** What the MAM policy enforces (normalised; null = nothing). */
  mam: number | boolean | null;
  /** The MAM policy properties that drive this setting; empty when MAM has no setting for it. */
  mamProperties: string[];
}

export interface EasComplianceResult {
  compliant: boolean;
  gaps: EasComplianceGap[];
  /** The superset: for each setting the stricter of the EAS and the MAM value. */
  resultant: DeviceLockRequirements;
  notes: string[];
}

// ---- what is stricter

/**
 * - `higher`: a larger value is stricter (minimum length, complex characters, history); `noneAtOrBelow` and below
 *   mean no requirement.
 * - `lowerPositive`: a smaller positive value is stricter (inactivity timeout, failed attempts, expiration); 0 means
 *   no requirement and is the least strict (DeviceLock CSP: "If all policy values = 0 then 0; otherwise, Min policy
 *   value is the most secure value").
 * - `flag`: true (required) is stricter than false.
 */
type Ordering = { kind: 'higher'; noneAtOrBelow: number } | { kind: 'lowerPositive' } | { kind: 'flag' };

const ORDERING: Record<DeviceLockSetting, Ordering> = {
  devicePasswordEnabled: { kind: 'flag' },
  minDevicePasswordLength: { kind: 'higher', noneAtOrBelow: 1 },
  alphanumericDevicePasswordRequired: { kind: 'flag' },
  minDevicePasswordComplexCharacters: { kind: 'higher', noneAtOrBelow: 1 },
  maxInactivityTimeDeviceLock: { kind: 'lowerPositive' },
  maxDevicePasswordFailedAttempts: { kind: 'lowerPositive' },
  devicePasswordExpiration: { kind: 'lowerPositive' },
  devicePasswordHistory: { kind: 'higher', noneAtOrBelow: 0 },
  requireDeviceEncryption: { kind: 'flag' },
};

export const DEVICE_LOCK_SETTINGS = Object.keys(ORDERING) as DeviceLockSetting[];

type SettingValue = number | boolean | null;
type FlagSetting = { [K in DeviceLockSetting]: DeviceLockRequirements[K] extends boolean ? K : never }[DeviceLockSetting];
type NumberSetting = Exclude<DeviceLockSetting, FlagSetting>;

/** A number setting's value with "no requirement" as null. */
function normaliseNumber(setting: NumberSetting, value: number | null | undefined): number | null {
  const ordering = ORDERING[setting];
  if (typeof value !== 'number') return null;
  if (ordering.kind === 'higher') return value <= ordering.noneAtOrBelow ? null : value;
  return value === 0 ? null : value;
}

function isFlag(setting: DeviceLockSetting): setting is FlagSetting {
  return ORDERING[setting].kind === 'flag';
}

function normalise(setting: DeviceLockSetting, value: SettingValue | undefined): SettingValue {
  if (isFlag(setting)) return value === true;
  return normaliseNumber(setting, typeof value === 'number' ? value : null);
}

/** A number that grows with strictness; -Infinity for no requirement. */
function strictness(setting: DeviceLockSetting, value: SettingValue | undefined): number {
  const ordering = ORDERING[setting];
  const normal = normalise(setting, value);
  if (ordering.kind === 'flag') return normal === true ? 1 : 0;
  if (typeof normal !== 'number') return -Infinity;
  return ordering.kind === 'higher' ? normal : -normal;
}

/** Positive when `a` is stricter than `b`, 0 when as strict, negative when less strict. */
export function compareStrictness(setting: DeviceLockSetting, a: SettingValue | undefined, b: SettingValue | undefined): number {
  const x = strictness(setting, a);
  const y = strictness(setting, b);
  return x === y ? 0 : x > y ? 1 : -1;
}

/** The stricter of two values of one setting, normalised (as strict: the first). */
export function stricter(setting: DeviceLockSetting, a: SettingValue | undefined, b: SettingValue | undefined): SettingValue {
  return compareStrictness(setting, a, b) >= 0 ? normalise(setting, a) : normalise(setting, b);
}

/** Builds a normalised policy setting by setting (so no setting is forgotten, and each keeps its type). */
function requirementsOf(value: (setting: DeviceLockSetting) => SettingValue | undefined): DeviceLockRequirements {
  const flag = (setting: FlagSetting): boolean => normalise(setting, value(setting)) === true;
  const number = (setting: NumberSetting): number | null => {
    const v = value(setting);
    return normaliseNumber(setting, typeof v === 'number' ? v : null);
  };
  return {
    devicePasswordEnabled: flag('devicePasswordEnabled'),
    minDevicePasswordLength: number('minDevicePasswordLength'),
    alphanumericDevicePasswordRequired: flag('alphanumericDevicePasswordRequired'),
    minDevicePasswordComplexCharacters: number('minDevicePasswordComplexCharacters'),
    maxInactivityTimeDeviceLock: number('maxInactivityTimeDeviceLock'),
    maxDevicePasswordFailedAttempts: number('maxDevicePasswordFailedAttempts'),
    devicePasswordExpiration: number('devicePasswordExpiration'),
    devicePasswordHistory: number('devicePasswordHistory'),
    requireDeviceEncryption: flag('requireDeviceEncryption'),
  };
}

// ---- the EAS policy

/** Mandatory settings that only make sense with a password. */
const PASSWORD_SETTINGS = [
  'minDevicePasswordLength',
  'alphanumericDevicePasswordRequired',
  'minDevicePasswordComplexCharacters',
  'maxInactivityTimeDeviceLock',
  'maxDevicePasswordFailedAttempts',
  'devicePasswordExpiration',
  'devicePasswordHistory',
] as const satisfies readonly (keyof EasPolicy)[];

/**
 * MS-ASPROV EASProvisionDoc settings that allow or deny a feature instead of requiring something of the device lock:
 * not mandatory policies, which MAM does not evaluate. Named so that a refusal can say why.
 */
const NON_MANDATORY_EAS_SETTINGS: ReadonlySet<string> = new Set([
  'allowSimpleDevicePassword',
  'passwordRecoveryEnabled',
  'attachmentsEnabled',
  'maxAttachmentSize',
  'allowStorageCard',
  'requireStorageCardEncryption',
  'allowCamera',
  'allowWiFi',
  'allowTextMessaging',
  'allowPOPIMAPEmail',
  'allowBluetooth',
  'allowIrDA',
  'requireManualSyncWhenRoaming',
  'allowDesktopSync',
  'maxCalendarAgeFilter',
  'allowHTMLEmail',
  'maxEmailAgeFilter',
  'maxEmailBodyTruncationSize',
  'maxEmailHTMLBodyTruncationSize',
  'requireSignedSMIMEMessages',
  'requireEncryptedSMIMEMessages',
  'requireSignedSMIMEAlgorithm',
  'requireEncryptionSMIMEAlgorithm',
  'allowSMIMEEncryptionAlgorithmNegotiation',
  'allowSMIMESoftCerts',
  'allowBrowser',
  'allowConsumerEmail',
  'allowRemoteDesktop',
  'allowInternetSharing',
  'allowUnsignedApplications',
  'allowUnsignedInstallationPackages',
  'unapprovedInROMApplicationList',
  'approvedApplicationList',
]);

/** An integer in [min, max], or one of `also` (e.g. 0 = none). */
function rangeReader(min: number, max: number, also: readonly number[] = []): Reader<number> {
  return (value, path) => {
    if (typeof value === 'number' && also.includes(value)) return value;
    if (typeof value === 'number' && Number.isInteger(value) && (value < min || value > max) && also.length > 0) {
      refuse(path, `must be ${also.join(' or ')} or between ${min} and ${max}, not ${value}`);
    }
    return readInteger(value, path, min, max);
  };
}

const EAS_SPECS: PropertySpecs<EasPolicy> = {
  devicePasswordEnabled: { read: readBoolean, default: false },
  minDevicePasswordLength: { read: rangeReader(1, 16), nullable: true },
  alphanumericDevicePasswordRequired: { read: readBoolean, nullable: true },
  minDevicePasswordComplexCharacters: { read: rangeReader(1, 4), nullable: true },
  maxInactivityTimeDeviceLock: { read: rangeReader(0, 999), nullable: true },
  maxDevicePasswordFailedAttempts: { read: rangeReader(4, 16, [0]), nullable: true },
  devicePasswordExpiration: { read: rangeReader(0, 730), nullable: true },
  devicePasswordHistory: { read: rangeReader(0, 50), nullable: true },
  requireDeviceEncryption: { read: readBoolean, nullable: true },
};

/**
 * Validates an EAS policy body (refusals are malformed_request errors whose message starts with the JSON path, like
 * every admin-model validator). Refuses: non-mandatory EAS settings by name, unknown properties, values outside the
 * ranges above, password settings while devicePasswordEnabled is false (EAS ignores them then: EasClientSecurityPolicy
 * "do not set ... for evaluation"), and fewer than 2 complex character groups with an alphanumeric password
 * (EasClientSecurityPolicy: "If ... AlphanumericDevicePasswordRequired equal to TRUE, then MinPasswordComplexCharacters
 * must be set to be equal or greater than 2").
 */
export function validateEasPolicy(input: unknown, path = ''): EasPolicy {
  const record = expectPlainObject(input, path);
  for (const key of Object.keys(record)) {
    if (NON_MANDATORY_EAS_SETTINGS.has(key)) {
      refuse(childPath(path, key), `is not a mandatory EAS device-lock policy; MAM supports mandatory EAS policies only (evaluated: devicePasswordEnabled, ${PASSWORD_SETTINGS.join(', ')}, requireDeviceEncryption)`);
    }
  }
  const policy = readObject<EasPolicy>(record, path, 'easPolicy', EAS_SPECS, true);
  if (!policy.devicePasswordEnabled) {
    const set = PASSWORD_SETTINGS.find((name) => policy[name] !== undefined && policy[name] !== null);
    if (set !== undefined) refuse(childPath(path, set), 'requires devicePasswordEnabled: true (EAS ignores password settings while no device password is required)');
  }
  const complex = policy.minDevicePasswordComplexCharacters;
  if (policy.alphanumericDevicePasswordRequired === true && typeof complex === 'number' && complex < 2) {
    refuse(childPath(path, 'minDevicePasswordComplexCharacters'), 'must be at least 2 when alphanumericDevicePasswordRequired is true (an alphanumeric password has digits and letters)');
  }
  return policy;
}

/** An EAS policy in the normalised form. An alphanumeric password counts as at least 2 complex character groups. */
export function easRequirements(eas: EasPolicy): DeviceLockRequirements {
  const requirements = requirementsOf((setting) => eas[setting]);
  if (requirements.alphanumericDevicePasswordRequired) {
    requirements.minDevicePasswordComplexCharacters = Math.max(requirements.minDevicePasswordComplexCharacters ?? 0, 2);
  }
  return requirements;
}

// ---- the MAM side

/** What the derivation reads of a MAM policy (windowsInformationProtectionPolicy). */
export interface MamDeviceLockPolicy {
  readonly windowsHelloForBusinessBlocked?: boolean | null;
  readonly pinMinimumLength?: number | null;
  readonly pinUppercaseLetters?: WindowsInformationProtectionPinCharacterRequirements | null;
  readonly pinLowercaseLetters?: WindowsInformationProtectionPinCharacterRequirements | null;
  readonly pinSpecialCharacters?: WindowsInformationProtectionPinCharacterRequirements | null;
  readonly pinExpirationDays?: number | null;
  readonly numberOfPastPinsRemembered?: number | null;
  readonly passwordMaximumAttemptCount?: number | null;
  readonly minutesOfInactivityBeforeDeviceLock?: number | null;
}

const isSet = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

/**
 * The device lock a MAM policy enforces, as csp/compile/wip.ts delivers it:
 * - DeviceLock: `passwordMaximumAttemptCount` -> MaxDevicePasswordFailedAttempts and
 *   `minutesOfInactivityBeforeDeviceLock` -> MaxInactivityTimeDeviceLock, sent with DevicePasswordEnabled = 0
 *   (password required) whenever either is set;
 * - PassportForWork (the Windows Hello for Business PIN, whose complexity overrides DeviceLock/EAS complexity):
 *   `pinMinimumLength`, the character rules, `numberOfPastPinsRemembered`, `pinExpirationDays`; in force unless
 *   `windowsHelloForBusinessBlocked` is true. `windowsHelloForBusinessBlocked: false` (UsePassportForWork = true)
 *   requires the user to set up a PIN.
 * A setting the policy leaves unset enforces nothing (Windows defaults are not counted: something else may have
 * changed them). Character groups: PINComplexity/Digits is not in the Graph model and keeps its default (at least one
 * digit), so a PIN has the digit group plus each letter/special group set to requireAtLeastOne; the PIN is
 * alphanumeric when a letter group is required.
 */
export function mamDeviceLock(policy: MamDeviceLockPolicy): MamDeviceLock {
  const notes: string[] = [];
  const helloBlocked = policy.windowsHelloForBusinessBlocked === true;
  const deviceLockSent = isSet(policy.passwordMaximumAttemptCount) || isSet(policy.minutesOfInactivityBeforeDeviceLock);
  const pin = !helloBlocked;
  if (helloBlocked) notes.push('windowsHelloForBusinessBlocked is true: the PIN settings (length, character rules, history, expiration) are not in force.');

  const required = (rule: WindowsInformationProtectionPinCharacterRequirements | null | undefined) => rule === 'requireAtLeastOne';
  const letters = [policy.pinUppercaseLetters, policy.pinLowercaseLetters].filter(required).length;
  const groups = 1 + letters + (required(policy.pinSpecialCharacters) ? 1 : 0);
  const pinValue = <T>(value: T | null | undefined): T | null => (pin && isSet(value) ? value : null);

  const requirements: DeviceLockRequirements = requirementsOf((setting) => {
    switch (setting) {
      case 'devicePasswordEnabled':
        return deviceLockSent || policy.windowsHelloForBusinessBlocked === false;
      case 'minDevicePasswordLength':
        return pinValue(policy.pinMinimumLength);
      case 'alphanumericDevicePasswordRequired':
        return pin && letters > 0;
      case 'minDevicePasswordComplexCharacters':
        return pin ? groups : null;
      case 'maxInactivityTimeDeviceLock':
        return policy.minutesOfInactivityBeforeDeviceLock;
      case 'maxDevicePasswordFailedAttempts':
        return policy.passwordMaximumAttemptCount;
      case 'devicePasswordExpiration':
        return pinValue(policy.pinExpirationDays);
      case 'devicePasswordHistory':
        return pinValue(policy.numberOfPastPinsRemembered);
      case 'requireDeviceEncryption':
        return false;
    }
  });
  const sources: Record<DeviceLockSetting, string[]> = {
    devicePasswordEnabled: ['windowsHelloForBusinessBlocked', 'passwordMaximumAttemptCount', 'minutesOfInactivityBeforeDeviceLock'],
    minDevicePasswordLength: ['pinMinimumLength'],
    alphanumericDevicePasswordRequired: ['pinUppercaseLetters', 'pinLowercaseLetters'],
    minDevicePasswordComplexCharacters: ['pinUppercaseLetters', 'pinLowercaseLetters', 'pinSpecialCharacters'],
    maxInactivityTimeDeviceLock: ['minutesOfInactivityBeforeDeviceLock'],
    maxDevicePasswordFailedAttempts: ['passwordMaximumAttemptCount'],
    devicePasswordExpiration: ['pinExpirationDays'],
    devicePasswordHistory: ['numberOfPastPinsRemembered'],
    requireDeviceEncryption: [],
  };
  return { requirements, sources, notes };
}

// ---- the evaluation

/**
 * Compares an EAS policy with the effective MAM device lock of a device (`mamDeviceLock(policy)`): compliant when the
 * MAM value is at least as strict as the EAS value on every setting; `gaps` lists the others; `resultant` is the
 * superset Windows ends up with when EAS enforces its own policies.
 */
export function evaluateEasCompliance(eas: EasPolicy, mam: MamDeviceLock): EasComplianceResult {
  const required = easRequirements(eas);
  const gaps: EasComplianceGap[] = [];
  for (const setting of DEVICE_LOCK_SETTINGS) {
    const easValue = required[setting];
    const mamValue = mam.requirements[setting];
    if (easValue !== null && compareStrictness(setting, mamValue, easValue) < 0) {
      gaps.push({ setting, eas: easValue, mam: mamValue, mamProperties: mam.sources[setting] });
    }
  }
  const resultant = requirementsOf((setting) => stricter(setting, required[setting], mam.requirements[setting]));
  const notes = [
    'MAM supports mandatory EAS policies only: the device-lock requirements above are evaluated, EAS settings that allow or deny features are not.',
    ...mam.notes,
  ];
  if (required.requireDeviceEncryption) {
    notes.push('requireDeviceEncryption: MAM has no device-encryption setting (WIP encrypts enterprise files only; BitLocker is outside the MAM allow-list), so EAS enforces it itself.');
  }
  if (gaps.length > 0) {
    notes.push('Non-compliant: EAS enforces its own policies on the device (this needs admin rights on the device); the resultant set is the superset of both.');
  }
  return { compliant: gaps.length === 0, gaps, resultant, notes };
}
