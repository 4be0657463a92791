import type { PolicyAssignment } from './records.ts';

/**
 * What the app protection service keeps (today's Intune model of Windows MAM, seeds 002-004): app protection and app
 * configuration policies, managed app registrations ("app instances": user + app + device), their operations
 * (selective wipes), users wiped-and-blocked, threat defense connectors and the health states they report, and
 * conditional access policies. Times are Unix epoch milliseconds; records carry no behaviour.
 */

/** The policies of the app protection service; each has target apps and assignments. */
export type AppPolicyKind = 'windowsManagedAppProtection' | 'targetedManagedAppConfiguration';

/** Graph `managedMobileApp` with a `windowsAppIdentifier`. */
export interface ManagedAppRef {
  /** The id of this entry in the policy's `apps` navigation. */
  id: string;
  /** `mobileAppIdentifier.windowsAppId`, e.g. `com.microsoft.edge`; compared case-insensitively (stored lower-case). */
  appId: string;
  version: string | null;
}

export interface AppPolicyRecord {
  tenantId: string;
  id: string;
  kind: AppPolicyKind;
  /** The Graph properties as the admin set them (validated, defaults filled in), without id, times, version, apps, assignments. */
  body: Record<string, unknown>;
  apps: ManagedAppRef[];
  assignments: PolicyAssignment[];
  /** Counts up with every change (Graph `version` is this number as a string). */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Graph `managedAppRegistration`: one managed app of one user on one device. */
export interface AppRegistrationRecord {
  tenantId: string;
  id: string;
  /** Entra object id of the signed-in work account. */
  userId: string;
  upn: string | null;
  /** Lower-case, as ManagedAppRef.appId. */
  appId: string;
  appVersion: string;
  sdkVersion: string;
  osVersion: string;
  deviceName: string | null;
  deviceModel: string | null;
  deviceManufacturer: string | null;
  /** Relates the apps of one device (the SDK's device tag). */
  deviceTag: string;
  /** Entra device object id, when the device is registered in Entra. */
  azureAdDeviceId: string | null;
  /** The device id came from the registering token's `deviceid` claim; otherwise it is only the app's claim (a hint). */
  azureAdDeviceIdVerified: boolean;
  /** The Entra client id (`azp`/`appid`) of the token that made the registration: only that client's tokens may use it. Null before migration 010. */
  clientId: string | null;
  createdAt: number;
  lastCheckInAt: number;
  /** The app protection policy (id and version) the app confirmed it holds at its last check-in; null for none. */
  appliedPolicyId: string | null;
  appliedPolicyVersion: number | null;
  /** Health-check failures the app reported at its last check-in (e.g. `minimumRequiredOsVersion`). */
  reportedFailures: string[];
  /** Compliance as last evaluated (see core/app-protection/compliance.ts) and why not. */
  complianceState: AppComplianceState;
  complianceReasons: string[];
  /** When complianceState last changed. */
  complianceChangedAt: number;
  /** `active` until a wipe of the registration succeeded (`wiped`) or it was retired for silence. */
  state: 'active' | 'wiped';
}

export type AppComplianceState = 'compliant' | 'notCompliant' | 'unknown';

export type AppOperationStatus = 'pending' | 'succeeded' | 'failed';

/** A selective wipe of one registration (Graph `managedAppOperation`). */
export interface AppOperationRecord {
  tenantId: string;
  id: string;
  registrationId: string;
  userId: string;
  kind: 'wipe';
  /** What asked for it: an admin action (by device tag, by Entra device, a wiped-and-blocked user) or a health check. */
  reason: 'deviceTag' | 'azureAdDeviceId' | 'userBlocked' | 'healthCheck';
  status: AppOperationStatus;
  /** The app's detail when it reported the result. */
  detail: string | null;
  createdAt: number;
  completedAt: number | null;
  /** When the record may be purged: pending ones at offline-wipe period + 4 days, completed ones 4 days after completion. */
  expiresAt: number;
}

/** A user an admin wiped and blocked: every check-in of their apps gets a wipe until an admin unblocks them. */
export interface BlockedUserRecord {
  tenantId: string;
  userId: string;
  blockedAt: number;
}

export type ThreatLevel = 'secured' | 'low' | 'medium' | 'high';

/** Graph `mobileThreatDefenseConnector` (Windows Security Center style). */
export interface MtdConnectorRecord {
  tenantId: string;
  id: string;
  partnerState: 'unavailable' | 'available' | 'enabled' | 'unresponsive' | 'notSetUp' | 'error';
  /** The last report or heartbeat from the connector; null before the first. */
  lastHeartbeatAt: number | null;
  windowsMobileApplicationManagementEnabled: boolean;
  windowsDeviceBlockedOnMissingPartnerData: boolean;
  partnerUnsupportedOsVersionBlocked: boolean;
  partnerUnresponsivenessThresholdInDays: number;
  /**
   * The Graph properties the admin set that OpenMAM stores without acting on them, validated by their Graph type and
   * nested as in Graph (`{ "conditions": { "users": { "excludeUsers": [...] } } }`). Nothing decides by them.
   */
  graphExtras: Record<string, unknown>;
  /** Counts up with every admin change and partner state change (not with heartbeats): the entity tag. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** The latest health state a connector reported for one user's app on one device. */
export interface ThreatReportRecord {
  tenantId: string;
  connectorId: string;
  userId: string;
  /** Lower-case. */
  appId: string;
  azureAdDeviceId: string;
  healthState: ThreatLevel;
  /** The connector's `lastUpdatedDateTime`. */
  reportedAt: number;
  receivedAt: number;
}

/**
 * A conditional access rule for one resource (an Entra `conditionalAccessPolicy` reduced to what the app protection
 * service decides): who it targets, the approved apps (app-based CA, seed 004) and the grant controls, any of which
 * grants access (`OR`, seed 004: app CA or device compliance).
 */
export interface AccessPolicyRecord {
  tenantId: string;
  id: string;
  displayName: string;
  state: 'enabled' | 'disabled';
  /** The resources (gateway `--resource` names or Entra application ids) the policy protects. */
  resources: string[];
  includeGroups: string[];
  excludeGroups: string[];
  includeAllUsers: boolean;
  /** Lower-case app ids allowed to reach the resources (`approvedApplication`). */
  approvedApps: string[];
  /** Entra's builtInControls that grant access, joined by OR. */
  grantControls: ('approvedApplication' | 'compliantApplication' | 'compliantDevice')[];
  /**
   * The Graph properties the admin set that OpenMAM stores without acting on them, validated by their Graph type and
   * nested as in Graph (`{ "conditions": { "users": { "excludeUsers": [...] } } }`). Nothing decides by them.
   */
  graphExtras: Record<string, unknown>;
  /** Counts up with every change: the entity tag. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** A device's compliance as an MDM reports it (the `compliantDevice` grant). */
export interface DeviceComplianceRecord {
  tenantId: string;
  azureAdDeviceId: string;
  compliant: boolean;
  reportedAt: number;
}

/**
 * An entry of a tenant's managed app catalogue (OpenMAM's `openMamManagedApp`): the Windows app id that policies
 * target and the Entra client ids (application ids, the `azp`/`appid` of its tokens) that speak for it. A token's
 * client id finds the app; nothing a caller writes does (docs/app-protection.md, "Trust model").
 */
export interface ManagedAppCatalogueRecord {
  tenantId: string;
  id: string;
  displayName: string;
  /** Lower-case, as ManagedAppRef.appId; unique in a tenant (built-in entries included). */
  windowsAppId: string;
  /** Lower-case GUIDs; each belongs to one entry of a tenant (built-in entries included). */
  clientIds: string[];
  /** Counts up with every change: the entity tag. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * Graph `servicePrincipal`, reduced to what access decisions need: a protected resource (a cloud app in Entra's
 * conditional access) with its application id and the audiences (`servicePrincipalNames`) its tokens are issued for.
 */
export interface ServicePrincipalRecord {
  tenantId: string;
  id: string;
  /** Lower-case GUID; unique in a tenant. CA policies name resources by it. */
  appId: string;
  displayName: string;
  /** The identifier URIs and the appId itself, as Entra lists them: a user token for the resource has one as `aud`. */
  servicePrincipalNames: string[];
  /**
   * The Graph properties the admin set that OpenMAM stores without acting on them, validated by their Graph type and
   * nested as in Graph (`{ "conditions": { "users": { "excludeUsers": [...] } } }`). Nothing decides by them.
   */
  graphExtras: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * One access decision, as Entra's sign-in log records a sign-in (Graph `signIn`, read at `auditLogs/signIns`): who,
 * with which client app, from which device (and whether a token vouched for it), to which resource, the decision and
 * why, and each conditional access policy that applied with its result. Kept 30 days by default.
 */
export interface SignInRecord {
  tenantId: string;
  id: string;
  createdAt: number;
  /** The user's object id and UPN, from the verified token; null when the token did not verify. */
  userId: string | null;
  userPrincipalName: string | null;
  /** The token's client id (`azp`/`appid`) and the catalogue's name for it; null when unknown. */
  appId: string | null;
  appDisplayName: string | null;
  /** The Windows app id the catalogue maps the client to. */
  windowsAppId: string | null;
  /** The resource's application id and display name; the name as the gateway sent it when no service principal matched. */
  resourceId: string | null;
  resourceDisplayName: string | null;
  /** The Entra device id the decision used, and whether the user's token carried it (`deviceid`) or it was only claimed. */
  deviceId: string | null;
  deviceIdVerified: boolean;
  /** The registration the decision judged, if any. */
  registrationId: string | null;
  ipAddress: string | null;
  /** The gateway request's id (the correlation id). */
  correlationId: string;
  decision: 'allow' | 'deny';
  /** The decision's reason codes (access-decision.ts). */
  reasons: string[];
  /** success: every applied policy satisfied; failure: one was not; notApplied: no policy applied. */
  conditionalAccessStatus: 'success' | 'failure' | 'notApplied';
  appliedPolicies: { id: string; displayName: string; enforcedGrantControls: string[]; result: 'success' | 'failure' }[];
}

/** Aggregates of a tenant's registrations for the console's Home (AppProtectionStore.summarizeRegistrations). */
export interface RegistrationSummary {
  /** Active registrations by their last verdict. */
  complianceStates: Record<AppComplianceState, number>;
  /** Distinct users whose active registrations hold each applied policy (the app confirmed it), by policy id. */
  deployedUsers: { policyId: string; users: number }[];
  /** Wipes issued and not yet completed. */
  pendingWipes: number;
  /** Devices (user + Entra device) by the level of their newest threat report (newest reportedAt; ties by connector, app). */
  threatStates: Record<ThreatLevel, number>;
}
