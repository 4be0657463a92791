/**
 * `@openmam/client`: the app side of OpenMAM's app protection service. See README.md.
 * The JSON-file storage lives in its own entry point, `@openmam/client/json-file-storage` (Node only).
 */
/** The version of this SDK: pass it as `app.sdkVersion` (policies may require a minimum SDK version). */
export const SDK_VERSION = '0.1.0';

export { MamClient, systemClock, accountOfToken, DEFAULT_OFFLINE_ACCESS_CHECK_MS, DEFAULT_OFFLINE_WIPE_MS } from './client.ts';
export type { CheckInResult, Clock, MamClientOptions, WipeContext, WipeHandler } from './client.ts';
export {
  AccountDisabledError,
  AccountMismatchError,
  MamError,
  MamHttpError,
  MamNetworkError,
  NotOnboardedError,
  TryLaterError,
  WipedError,
  WrongAccountError,
  isAccountDisabled,
} from './errors.ts';
export { MemoryStorage, emptySnapshot, normaliseSnapshot } from './storage.ts';
export type { MamSnapshot, MamStorage, PendingResult, WipeRecord } from './storage.ts';
export { evaluateHealthChecks } from './health.ts';
export type { RunningVersions } from './health.ts';
export { compareVersions, parseVersion, parseIsoDuration } from '@openmam/contract';
export { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelayMs, retryLaterDelayMs } from './backoff.ts';
export { LOCAL_MESSAGES } from './messages.ts';
export type {
  AccessState,
  AccessStatus,
  ActionMessage,
  AppInfo,
  ComplianceState,
  ConfigurationDocument,
  DeviceInfo,
  HealthCheckFailure,
  MamAction,
  PolicyDocument,
  PolicySettings,
  RemediationAction,
} from './types.ts';
