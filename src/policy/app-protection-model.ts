/**
 * The admin-facing models of the app protection service, Graph-shaped (beta `windowsManagedAppProtection`,
 * `targetedManagedAppConfiguration`, `mobileThreatDefenseConnector`, and Entra's `conditionalAccessPolicy` reduced
 * to what OpenMAM decides). Validators live in app-protection.ts; defaults are filled in at creation, so a stored
 * policy always has every property.
 */

export type DataTransferLevel = 'allApps' | 'none';
export type ClipboardSharingLevel = 'anyDestinationAnySource' | 'none' | 'orgDestinationAnySource' | 'orgDestinationOrgSource';
export type RemediationAction = 'block' | 'wipe' | 'warn';
export type DeviceThreatLevel = 'notConfigured' | 'secured' | 'low' | 'medium' | 'high';

export interface WindowsManagedAppProtection {
  displayName: string;
  description: string | null;

  // Data protection (apply to the work account's data only: multi-identity).
  allowedInboundDataTransferSources: DataTransferLevel;
  allowedOutboundDataTransferDestinations: DataTransferLevel;
  allowedOutboundClipboardSharingLevel: ClipboardSharingLevel;
  printBlocked: boolean;
  /** Legacy app protection features (seed 003), enforced by the app: encrypt org data, app PIN. */
  encryptAppData: boolean;
  pinRequired: boolean;
  minimumPinLength: number;
  /** Failed PIN attempts before the app wipes the work account's data. */
  maximumPinRetries: number;
  /** Open links from org data only in a managed browser. */
  managedBrowserRequired: boolean;

  // Health checks (conditional launch).
  /** ISO 8601 duration; default PT720M; PT0S blocks as soon as the app is offline. */
  periodOfflineBeforeAccessCheck: string;
  /** ISO 8601 duration; default P90D; PT0S never wipes for being offline. */
  periodOfflineBeforeWipeIsEnforced: string;
  appActionIfUnableToAuthenticateUser: 'block' | 'wipe' | null;
  minimumWarningAppVersion: string | null;
  minimumRequiredAppVersion: string | null;
  minimumWipeAppVersion: string | null;
  minimumRequiredSdkVersion: string | null;
  minimumWipeSdkVersion: string | null;
  minimumWarningOsVersion: string | null;
  minimumRequiredOsVersion: string | null;
  minimumWipeOsVersion: string | null;
  maximumWarningOsVersion: string | null;
  maximumRequiredOsVersion: string | null;
  maximumWipeOsVersion: string | null;
  maximumAllowedDeviceThreatLevel: DeviceThreatLevel;
  /** Warn is not supported for threat level. */
  mobileThreatDefenseRemediationAction: 'block' | 'wipe';
}

export interface KeyValuePair {
  name: string;
  value: string;
}

export interface TargetedManagedAppConfiguration {
  displayName: string;
  description: string | null;
  customSettings: KeyValuePair[];
  appGroupType: 'selectedPublicApps' | 'allCoreMicrosoftApps' | 'allMicrosoftApps' | 'allApps';
  targetedAppManagementLevels: 'unspecified' | 'unmanaged' | 'mdm' | 'androidEnterprise';
}

/** A target app as `POST {id}/targetApps` takes it, already normalised (appId lower-case). */
export interface TargetApp {
  appId: string;
  version: string | null;
}
