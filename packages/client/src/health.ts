import { failedVersionChecks, type RunningVersions } from '@openmam/contract';
import type { HealthCheckFailure, PolicySettings } from './types.ts';

/**
 * The version health checks (conditional launch) of a policy, evaluated on the device with the server's own rule
 * (@openmam/contract): checking locally keeps them enforced while the app is offline, and the app reports the same
 * failures the server would find.
 */
export type { RunningVersions };

/**
 * Every check of `settings` the running versions fail, wipe before block before warn. A running version that is not
 * a version fails as a block (never a wipe on a version nobody can read); a configured bound that is not a version is
 * ignored (the server refuses such policies).
 */
export function evaluateHealthChecks(settings: PolicySettings, running: RunningVersions): HealthCheckFailure[] {
  return failedVersionChecks(settings, running);
}
