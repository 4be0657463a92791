import { compareVersions, parseVersion } from './versions.ts';

/**
 * The version health checks (conditional launch) of a Windows app protection policy: which setting bounds which
 * reported version, in which direction, with which action. The server judges them at every check-in and the app on
 * the device (offline too); both read this one table so they cannot disagree on a threshold's meaning
 * (learn.microsoft.com/mem/intune/apps/app-protection-policy-settings-windows, "Conditional launch").
 */
export type RemediationAction = 'block' | 'wipe' | 'warn';

export type VersionSubject = 'sdkVersion' | 'appVersion' | 'osVersion';

export type VersionBound = 'minimum' | 'maximum';

export interface VersionCheck {
  setting: VersionSetting;
  action: RemediationAction;
  subject: VersionSubject;
  /** `minimum`: the running version must be at or above the setting; `maximum`: at or below. */
  bound: VersionBound;
}

/** Per subject, most severe first: the order in which both sides list failures of one action. */
export const VERSION_CHECKS = [
  { setting: 'minimumWipeSdkVersion', action: 'wipe', subject: 'sdkVersion', bound: 'minimum' },
  { setting: 'minimumRequiredSdkVersion', action: 'block', subject: 'sdkVersion', bound: 'minimum' },
  { setting: 'minimumWipeAppVersion', action: 'wipe', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumRequiredAppVersion', action: 'block', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumWarningAppVersion', action: 'warn', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumWipeOsVersion', action: 'wipe', subject: 'osVersion', bound: 'minimum' },
  { setting: 'minimumRequiredOsVersion', action: 'block', subject: 'osVersion', bound: 'minimum' },
  { setting: 'minimumWarningOsVersion', action: 'warn', subject: 'osVersion', bound: 'minimum' },
  { setting: 'maximumWipeOsVersion', action: 'wipe', subject: 'osVersion', bound: 'maximum' },
  { setting: 'maximumRequiredOsVersion', action: 'block', subject: 'osVersion', bound: 'maximum' },
  { setting: 'maximumWarningOsVersion', action: 'warn', subject: 'osVersion', bound: 'maximum' },
] as const satisfies readonly { setting: string; action: RemediationAction; subject: VersionSubject; bound: VersionBound }[];

export type VersionSetting = (typeof VERSION_CHECKS)[number]['setting'];

/**
 * A running version that is not a version fails its subject's configured checks as one block per bound, named after
 * the "Required" setting: never a wipe on data nobody can read, never only a warning.
 */
export const UNREADABLE_VERSION_REASON: Record<VersionSubject, Record<VersionBound, VersionSetting>> = {
  sdkVersion: { minimum: 'minimumRequiredSdkVersion', maximum: 'minimumRequiredSdkVersion' },
  appVersion: { minimum: 'minimumRequiredAppVersion', maximum: 'minimumRequiredAppVersion' },
  osVersion: { minimum: 'minimumRequiredOsVersion', maximum: 'maximumRequiredOsVersion' },
};

/** wipe > block > warn. */
export const ACTION_PRECEDENCE: Record<RemediationAction, number> = { wipe: 0, block: 1, warn: 2 };

export interface VersionCheckFailure {
  setting: VersionSetting;
  action: RemediationAction;
}

export type RunningVersions = Record<VersionSubject, string>;

/**
 * Every configured check that the running versions fail, most severe action first and in table order within one.
 * A configured bound that is not a version counts as not configured (the server refuses such policies, and an
 * unreadable one must not lock every user out).
 */
export function failedVersionChecks(settings: Partial<Record<VersionSetting, unknown>>, running: RunningVersions): VersionCheckFailure[] {
  const failures: VersionCheckFailure[] = [];
  for (const subject of ['sdkVersion', 'appVersion', 'osVersion'] as const) {
    const configured = VERSION_CHECKS.flatMap((check) => {
      const value = settings[check.setting];
      const limit = check.subject === subject && typeof value === 'string' ? parseVersion(value) : undefined;
      return limit === undefined ? [] : [{ check, limit }];
    });
    if (configured.length === 0) continue;
    const version = parseVersion(running[subject]);
    if (version === undefined) {
      for (const bound of new Set(configured.map(({ check }) => check.bound))) failures.push({ setting: UNREADABLE_VERSION_REASON[subject][bound], action: 'block' });
      continue;
    }
    for (const { check, limit } of configured) {
      const order = compareVersions(version, limit);
      if (check.bound === 'minimum' ? order < 0 : order > 0) failures.push({ setting: check.setting, action: check.action });
    }
  }
  // Array.prototype.sort is stable: table order holds within one action.
  return failures.sort((a, b) => ACTION_PRECEDENCE[a.action] - ACTION_PRECEDENCE[b.action]);
}
