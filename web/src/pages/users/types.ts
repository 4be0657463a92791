/**
 * The Graph entities of Users and apps as the admin API answers them (src/http/admin/app-registration-routes.ts,
 * user-routes.ts): only the properties these pages read.
 */
export interface ManagedAppRegistration {
  id: string;
  createdDateTime: string;
  lastSyncDateTime: string;
  applicationVersion: string;
  managementSdkVersion: string;
  platformVersion: string;
  deviceTag: string;
  deviceName: string | null;
  deviceModel: string | null;
  deviceManufacturer: string | null;
  azureADDeviceId: string | null;
  /** The managedDevice (MAM enrollment) on the same Entra device, when a token proved the device. */
  managedDeviceId?: string | null;
  userId: string;
  appIdentifier: { windowsAppId: string };
  version: string;
  '@openmam.complianceState': 'compliant' | 'notCompliant' | 'unknown';
  '@openmam.complianceReasons': string[];
  '@openmam.registrationState': 'active' | 'wiped';
}

/** Graph `managedAppOperation`: a selective wipe and how it went. */
export interface ManagedAppOperation {
  id: string;
  displayName: string;
  lastModifiedDateTime: string;
  state: 'pending' | 'succeeded' | 'failed';
  reason: 'deviceTag' | 'azureAdDeviceId' | 'userBlocked' | 'healthCheck';
  detail: string | null;
}

/** A policy a registration has or should have. */
export interface PolicyRef {
  '@odata.type': string;
  id: string;
  displayName: string | null;
  version: string;
  lastModifiedDateTime: string;
}

export interface User {
  id: string;
  userPrincipalName: string | null;
  displayName: string | null;
}

export interface Group {
  id: string;
  displayName: string;
}

/** Graph `managedAppStatusRaw` with its report: a header of columns and rows of values in that order. */
export interface StatusReport {
  id: string;
  displayName: string;
  content: {
    header: { name: string; dataType: 'string' | 'dateTime' | 'stringCollection' }[];
    body: { values: (string | null | string[])[] }[];
    skipToken: string | null;
  };
}
