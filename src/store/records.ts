/**
 * What OpenMAM keeps, as plain records. Times are Unix epoch milliseconds. These types are shared by core (which
 * decides) and the store (which keeps); they carry no behaviour.
 */

/** `builtin`: tokens come from OpenMAM's own development identity provider; `entra`: from Entra ID. */
export type IdentityProviderKind = 'entra' | 'builtin';

/** DMClient/Provider/{id}/Poll: how often an enrolled device checks in. Intervals are minutes. */
export interface PollSchedule {
  numberOfFirstRetries: number;
  intervalForFirstSetOfRetries: number;
  numberOfSecondRetries: number;
  intervalForSecondSetOfRetries: number;
  /** 0 means: keep polling at the remaining interval forever. */
  numberOfRemainingScheduledRetries: number;
  intervalForRemainingScheduledRetries: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

export interface TenantSettings {
  /** Refuse enrollments that did not come through our Terms of Use page (EnrollmentData). */
  requireTermsOfUse: boolean;
  /** Shown on the Terms of Use page. Plain text; paragraphs separated by blank lines. */
  termsOfUseText: string;
  pollSchedule: PollSchedule;
}

export interface TenantRecord {
  /** The Entra tenant id (`tid` claim), lower-case GUID. */
  id: string;
  name: string;
  identityProvider: IdentityProviderKind;
  /** An admin can stop new enrollments without offboarding the tenant. */
  enrollmentAllowed: boolean;
  settings: TenantSettings;
  createdAt: number;
  updatedAt: number;
}

export type EnrollmentState = 'enrolled' | 'unenrolled';

/** What a device reported about itself in the enrollment request (AdditionalContext). */
export interface DeviceFacts {
  hwDevId: string | null;
  deviceName: string | null;
  deviceType: string | null;
  osEdition: string | null;
  osVersion: string | null;
  locale: string | null;
}

export interface EnrollmentRecord extends DeviceFacts {
  id: string;
  tenantId: string;
  /** The OMA-DM DevId (AdditionalContext DeviceID): what the device puts in SyncHdr/Source later. */
  devId: string;
  /** Entra object id of the user (`oid`). */
  userOid: string;
  upn: string | null;
  /** Entra device object id (`deviceid` claim), when the token carried one. */
  entraDeviceId: string | null;
  enrollmentType: 'MAM';
  state: EnrollmentState;
  applicationVersion: string | null;
  requestVersion: string | null;
  /** When the user accepted our Terms of Use for this enrollment, if they went through the page. */
  termsAcceptedAt: number | null;
  /** How many times this device and user enrolled (re-enrollment replaces the record and counts up). */
  enrollCount: number;
  createdAt: number;
  enrolledAt: number;
  updatedAt: number;
  unenrolledAt: number | null;
}

export interface DeviceRecord extends DeviceFacts {
  devId: string;
  tenantId: string;
  entraDeviceId: string | null;
  createdAt: number;
  updatedAt: number;
}
