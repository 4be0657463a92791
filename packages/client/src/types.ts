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

export type RemediationAction = 'block' | 'wipe' | 'warn';

/**
 * The settings of an app protection policy (Graph `windowsManagedAppProtection`, defaults filled in by the server).
 * The data protection settings apply to the work account's data only; the health checks are re-checked locally.
 */
export interface PolicySettings {
  allowedInboundDataTransferSources?: 'allApps' | 'none';
  allowedOutboundDataTransferDestinations?: 'allApps' | 'none';
  allowedOutboundClipboardSharingLevel?: 'anyDestinationAnySource' | 'none' | 'orgDestinationAnySource' | 'orgDestinationOrgSource';
  printBlocked?: boolean;
  encryptAppData?: boolean;
  pinRequired?: boolean;
  minimumPinLength?: number;
  maximumPinRetries?: number;
  managedBrowserRequired?: boolean;
  /** ISO 8601 duration (default `PT720M`); `PT0S` blocks as soon as the app cannot reach OpenMAM. */
  periodOfflineBeforeAccessCheck?: string;
  /** ISO 8601 duration (default `P90D`); `PT0S` never wipes for being offline. */
  periodOfflineBeforeWipeIsEnforced?: string;
  appActionIfUnableToAuthenticateUser?: 'block' | 'wipe' | null;
  minimumWarningAppVersion?: string | null;
  minimumRequiredAppVersion?: string | null;
  minimumWipeAppVersion?: string | null;
  minimumRequiredSdkVersion?: string | null;
  minimumWipeSdkVersion?: string | null;
  minimumWarningOsVersion?: string | null;
  minimumRequiredOsVersion?: string | null;
  minimumWipeOsVersion?: string | null;
  maximumWarningOsVersion?: string | null;
  maximumRequiredOsVersion?: string | null;
  maximumWipeOsVersion?: string | null;
  maximumAllowedDeviceThreatLevel?: 'notConfigured' | 'secured' | 'low' | 'medium' | 'high';
  mobileThreatDefenseRemediationAction?: 'block' | 'wipe';
  /** Settings a newer server may add. */
  [setting: string]: unknown;
}

/** The app protection policy that applies to the work account in this app. */
export interface PolicyDocument {
  id: string;
  /** Opaque; sent back at check-in as `policyVersion`. */
  version: string;
  displayName: string;
  settings: PolicySettings;
}

/** App configuration: the custom settings of every app configuration policy that targets the user and app. */
export interface ConfigurationDocument {
  /** Opaque; sent back at check-in as `configurationVersion`. */
  version: string;
  settings: { name: string; value: string }[];
}

/** What the app shows the user. */
export interface ActionMessage {
  title: string;
  text: string;
  remediation: string;
}

/** Something the server asks the app to do: wipe the work account's data, block access to it, or warn. */
export interface MamAction {
  id: string;
  type: RemediationAction;
  /** E.g. `adminWipe`, `offlineWipe`, `minimumRequiredOsVersion`, `deviceThreatLevel`. */
  reason: string;
  message: ActionMessage;
}

export type ComplianceState = 'compliant' | 'notCompliant' | 'unknown';

/** A health check (conditional launch) the app failed, as evaluated on the device. */
export interface HealthCheckFailure {
  /** The policy setting, e.g. `minimumRequiredOsVersion`. */
  setting: string;
  action: RemediationAction;
}

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
