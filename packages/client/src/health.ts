import type { AppInfo, HealthCheckFailure, PolicySettings, RemediationAction } from './types.ts';
import { compareVersions, parseVersion } from './versions.ts';

/**
 * The version health checks (conditional launch) of a policy, evaluated on the device: SDK version, app version,
 * OS version (minimum and maximum), then the warnings, as the server orders them. The server evaluates the same
 * checks from what the app reports; checking locally keeps them enforced while the app is offline.
 */

interface VersionCheck {
  setting: keyof PolicySettings & string;
  action: RemediationAction;
  subject: 'sdkVersion' | 'appVersion' | 'osVersion';
  /** `minimum`: the running version must be at or above; `maximum`: at or below. */
  bound: 'minimum' | 'maximum';
}

const CHECKS: readonly VersionCheck[] = [
  { setting: 'minimumWipeSdkVersion', action: 'wipe', subject: 'sdkVersion', bound: 'minimum' },
  { setting: 'minimumRequiredSdkVersion', action: 'block', subject: 'sdkVersion', bound: 'minimum' },
  { setting: 'minimumWipeAppVersion', action: 'wipe', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumRequiredAppVersion', action: 'block', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumWipeOsVersion', action: 'wipe', subject: 'osVersion', bound: 'minimum' },
  { setting: 'maximumWipeOsVersion', action: 'wipe', subject: 'osVersion', bound: 'maximum' },
  { setting: 'minimumRequiredOsVersion', action: 'block', subject: 'osVersion', bound: 'minimum' },
  { setting: 'maximumRequiredOsVersion', action: 'block', subject: 'osVersion', bound: 'maximum' },
  { setting: 'minimumWarningAppVersion', action: 'warn', subject: 'appVersion', bound: 'minimum' },
  { setting: 'minimumWarningOsVersion', action: 'warn', subject: 'osVersion', bound: 'minimum' },
  { setting: 'maximumWarningOsVersion', action: 'warn', subject: 'osVersion', bound: 'maximum' },
];

export type RunningVersions = Pick<AppInfo, 'appVersion' | 'sdkVersion'> & { osVersion: string };

/**
 * Every check of `settings` the running versions fail. A running version that is not a version fails every check
 * configured for it (closed); a configured bound that is not a version is ignored (the server refuses such policies).
 */
export function evaluateHealthChecks(settings: PolicySettings, running: RunningVersions): HealthCheckFailure[] {
  const failures: HealthCheckFailure[] = [];
  for (const check of CHECKS) {
    const configured = settings[check.setting];
    if (typeof configured !== 'string' || configured === '') continue;
    const bound = parseVersion(configured);
    if (bound === undefined) continue;
    const version = parseVersion(running[check.subject]);
    const fails = version === undefined || (check.bound === 'minimum' ? compareVersions(version, bound) < 0 : compareVersions(version, bound) > 0);
    if (fails) failures.push({ setting: check.setting, action: check.action });
  }
  return failures;
}
