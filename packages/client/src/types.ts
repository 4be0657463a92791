import type { ActionMessage, PolicyDocument as ContractPolicyDocument, PolicySettings as ContractPolicySettings } from '@openmam/contract';

/**
 * The documents and shapes of OpenMAM's managed-app interface (`/mam/v1`, docs/app-protection.md in the OpenMAM
 * repository), as the app sees them.
 */

/** The app as it registers: its id (package-style name or GUID), its version, and the SDK version it is built with. */
export interface AppInfo {
  appId: string;
  /** Numbers separated by dots, e.g. `4.2.0`. */
  appVersion: string;
  /** The version of the MAM SDK the app is built with (numbers separated by dots). */
  sdkVersion: string;
}

/** The device the app runs on. `deviceTag` relates the managed apps of one device; keep it stable per device. */
export interface DeviceInfo {
  /** Windows version, e.g. `10.0.22631.3155`. */
  osVersion: string;
  deviceName?: string;
  deviceModel?: string;
  deviceManufacturer?: string;
  deviceTag: string;
  /** The Entra device object id (GUID) when the device is registered in Entra. */
  azureAdDeviceId?: string;
}

export type { ActionMessage, ComplianceState, ConfigurationDocument, HealthCheckFailure, MamAction, RemediationAction } from '@openmam/contract';

/**
 * The settings of an app protection policy (Graph `windowsManagedAppProtection`, defaults filled in by the server),
 * as the contract lists them; a newer server may add settings. The data protection settings apply to the work
 * account's data only; the health checks are re-checked locally.
 */
export type PolicySettings = Partial<ContractPolicySettings> & { [setting: string]: unknown };

/** The app protection policy that applies to the work account in this app; `version` is sent back at check-in. */
export type PolicyDocument = Omit<ContractPolicyDocument, 'settings'> & { settings: PolicySettings };

/**
 * Where the work account's data stands on this device:
 * - `allowed` / `warned`: the app may open org data (`warned`: show `warnings`);
 * - `blocked`: it may not (a block action, the offline grace period, a disabled account, a failed wipe...);
 * - `wiped`: the org data was removed; the user must sign in again (`register()`);
 * - `wrongAccount`: another work account is managed on this device (show `message`);
 * - `notRegistered`: the app has not registered yet (or its registration could not be read);
 * - `unmanaged`: the user's organization does not use OpenMAM (tenant not onboarded): nothing to enforce.
 */
export type AccessStatus = 'allowed' | 'warned' | 'blocked' | 'wiped' | 'wrongAccount' | 'notRegistered' | 'unmanaged';

export interface AccessState {
  status: AccessStatus;
  /**
   * Why, most important first: server action reasons (`minimumRequiredOsVersion`, `deviceThreatLevel`...), the
   * settings of local health-check failures, and local reasons: `offlineBlock`, `offlineWipe`, `accountDisabled`,
   * `wipePending`, `wipeFailed`, `wipe`, `wrongAccount`, `notRegistered`, `notOnboarded`.
   */
  reasons: string[];
  /** What to show for a status other than allowed/warned/unmanaged. */
  message?: ActionMessage;
  /** Warnings to show (the app stays usable). */
  warnings: ActionMessage[];
}
