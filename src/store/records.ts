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
  /** Entra's MAM user scope (core/mam-user-scope.ts); absent: `all`. */
  mamUserScope?: 'none' | 'selected' | 'all';
  /** With `selected`: the groups whose members are in scope (Graph `includedGroups`). */
  mamUserScopeGroupIds?: string[];
  /**
   * Devices with no check-in for this many days are retired by the hourly sweep (core/management/device-actions.ts):
   * their enrollment ends (reason `stale`); absent or null: never.
   */
  staleDeviceRetireAfterDays?: number | null;
  /** Days the audit trail keeps an event (core/tenant-settings.ts, 30..3650); absent: 365. */
  auditEventRetentionDays?: number;
  /**
   * Health attestation of the tenant's devices (core/management/health-attestation.ts); absent: off. `serviceUrl`
   * null: Microsoft's DHA-Cloud.
   */
  healthAttestation?: { enabled: boolean; serviceUrl: string | null };
  /**
   * Graph deviceManagementSettings.secureByDefault: true, devices with no compliance policy assigned are noncompliant;
   * false, compliant (Intune's default); absent or null: unknown (OpenMAM's default: never compliant by default).
   */
  secureByDefault?: boolean | null;
  /** Graph deviceManagementSettings.deviceComplianceCheckinThresholdDays (1..120); absent: 30. */
  deviceComplianceCheckinThresholdDays?: number;
}

export interface TenantRecord {
  /** The Entra tenant id (`tid` claim), lower-case GUID. */
  id: string;
  name: string;
  identityProvider: IdentityProviderKind;
  /** An admin can stop new enrollments without offboarding the tenant. */
  enrollmentAllowed: boolean;
  settings: TenantSettings;
  /** Bumped by every change of the fields above (admin writes are compare-and-sets on it); 1 when created. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type EnrollmentState = 'enrolled' | 'unenrolled';

/**
 * Graph's `managementState` of a managedDevice (learn.microsoft.com/graph/api/resources/intune-devices-managementstate),
 * the members a MAM device goes through: `managed`; an admin's retire or wipe `...Pending` until the device is told,
 * `...Issued` once it acknowledged the unenrollment (DMClient Unenroll answered 2xx), `...Failed` when it refused,
 * `...Canceled` when the user enrolled the device again before it was told.
 */
export const DEVICE_MANAGEMENT_STATES = ['managed', 'retirePending', 'retireIssued', 'retireFailed', 'retireCanceled', 'wipePending', 'wipeIssued', 'wipeFailed', 'wipeCanceled'] as const;
export type DeviceManagementState = (typeof DEVICE_MANAGEMENT_STATES)[number];

/**
 * Graph's `complianceState` of a managedDevice (learn.microsoft.com/graph/api/resources/intune-devices-compliancestate):
 * `unknown` until a compliance policy has judged evidence the device reported (and whenever the evidence cannot be
 * known, e.g. no health attestation service answered), never `compliant` by default.
 */
export const DEVICE_COMPLIANCE_STATES = ['unknown', 'compliant', 'noncompliant', 'conflict', 'error', 'inGracePeriod', 'configManager'] as const;
export type DeviceComplianceState = (typeof DEVICE_COMPLIANCE_STATES)[number];

/**
 * Why an enrollment ended: the device asked (alert 1226, the user removed the work account), an admin's retire or
 * wipe, no check-in for the tenant's stale-device limit, or an action for noncompliance.
 */
export type UnenrollReason = 'user' | 'admin' | 'stale' | 'compliance';

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
  /** Why the enrollment ended; null while enrolled. */
  unenrollReason: UnenrollReason | null;
  /** Retire and wipe progress (Graph managementState). A new enrollment starts `managed`. */
  managementState: DeviceManagementState;
  /** The device's compliance as OpenMAM's compliance policies judge it. A new enrollment starts `unknown`. */
  complianceState: DeviceComplianceState;
  /** While `inGracePeriod`: when the grace period ends (then `noncompliant`); otherwise null. */
  complianceGraceUntil: number | null;
  /** DevInfo/Man and DevInfo/Mod as the device last reported them (each session's first package). */
  manufacturer: string | null;
  model: string | null;
}

/** The device-life fields of an enrollment the store sets when it records a new one (migration 019's defaults). */
export const NEW_ENROLLMENT_LIFE = {
  unenrollReason: null,
  managementState: 'managed',
  complianceState: 'unknown',
  complianceGraceUntil: null,
  manufacturer: null,
  model: null,
} as const satisfies Pick<EnrollmentRecord, 'unenrollReason' | 'managementState' | 'complianceState' | 'complianceGraceUntil' | 'manufacturer' | 'model'>;

export interface DeviceRecord extends DeviceFacts {
  devId: string;
  tenantId: string;
  entraDeviceId: string | null;
  createdAt: number;
  updatedAt: number;
}

// ---- OMA-DM management (desired state, node state, sessions, inventory)

/** One CSP node value the server wants on a device. `locUri` is normalised (see core/management/loc-uri.ts). */
export interface DesiredSetting {
  locUri: string;
  /** SyncML Meta Format: chr, int, bool, b64, xml, float, date, time, null. */
  format: string;
  value: string;
  /** Settings with the same group are sent together in one Atomic (all-or-nothing), e.g. DeviceLock. */
  atomicGroup?: string;
  /**
   * An action, not a value (e.g. ClientCertificateInstall SCEP `Install/Enroll`, DDF Format null): the planner sends
   * `Exec` on the node, with no Data, last in its atomicGroup's Atomic, whenever anything of that group is sent, and
   * otherwise once per version of the group (a digest of its other settings and of `value`): re-sent when the group
   * changes, never on a steady check-in. Its node state records that version with Format `null`.
   */
  exec?: boolean;  /**
   * A device filter rule (policy/assignment-filter-rule.ts, `device.*` properties) the device must match for this
   * node to apply (e.g. the WIP MDM upgrade leaves Home editions out): the planner judges it against the device's
   * facts, and a device that does not match records the node `not_applicable` and never receives it.
   */
  applicableWhen?: string;
}

/**
 * What a configuration set applies to: every device of the tenant, one device, or the devices whose user is in the
 * included groups (or any licensed user) and in none of the excluded groups: exclusion wins.
 */
export type ConfigurationTarget =
  | { kind: 'all_devices' }
  | { kind: 'device'; devId: string }
  | { kind: 'groups'; include: string[]; exclude: string[]; allUsers: boolean; filters?: TargetFilters };

/** A filter on an include assignment of a configuration set: the filter's id and whether matching includes or excludes. */
export interface TargetFilter {
  id: string;
  type: 'include' | 'exclude';
}

/**
 * The filters of a groups target's include assignments (absent when none has one): by included group id, and on the
 * all-licensed-users assignment. The planner judges them against the device's facts (desired-state.ts appliesTo).
 */
export interface TargetFilters {
  groups?: Record<string, TargetFilter>;
  allUsers?: TargetFilter;
}

/**
 * A named set of settings assigned to a target: what the desired state of a device is made of. Policies compile
 * into configuration sets; tests set them directly.
 */
export interface ConfigurationSetRecord {
  id: string;
  tenantId: string;
  name: string;
  target: ConfigurationTarget;
  settings: DesiredSetting[];
  createdAt: number;
  updatedAt: number;
}

/**
 * What the server knows about one node on one device, from the device's own answers.
 * - applied: the device acknowledged `value` (2xx);
 * - failed: the device refused `value` with `statusCode`; not sent again until the desired value changes;
 * - exists: an Add was answered 418 (already exists): the value goes again as Replace;
 * - not_applicable: the setting may not be sent to this enrollment (MAM allow-list); never on the wire;
 * - conflict: two configuration sets want different values; neither is sent.
 */
export type NodeStatus = 'applied' | 'failed' | 'exists' | 'not_applicable' | 'conflict';

export interface NodeStateRecord {
  locUri: string;
  format: string;
  value: string;
  status: NodeStatus;
  /** The SyncML status code of the device's answer, or null for states the server decided. */
  statusCode: string | null;
  updatedAt: number;
}

/** The latest value of an inventory node (DevInfo, DeviceStatus, HealthAttestation results) reported by a device. */
export interface InventoryValue {
  locUri: string;
  value: string;
  updatedAt: number;
}

/** Management bookkeeping of an enrollment: what makes "nothing to send" an O(1) decision at check-in. */
export interface ManagementState {
  enrollmentId: string;
  /** The tenant configuration version the device's node states were settled against (0: never). */
  settledVersion: number;
  /** Some user-scoped settings wait for a signed-in user (LoginStatus user). */
  waitingForUser: boolean;
  inventoryAt: number | null;
  lastCheckinAt: number | null;
  /** Raw messages of this device are kept until then (troubleshooting), else not at all. */
  messageLogUntil: number | null;
  /** The `groups` claim of the user's latest verified token (sorted), or null before the first check-in. */
  tokenGroups: string[] | null;
}

/** A management session between messages: lives in the store so that any node can serve the next message. */
export interface ManagementSessionRecord {
  enrollmentId: string;
  sessionId: string;
  /** The device MsgID last accepted; the next must be exactly one more. */
  lastDeviceMsgId: number;
  lastServerMsgId: number;
  /** Opaque to the store: the session engine's own JSON. */
  state: string;
  expiresAt: number;
}

export interface MessageLogRecord {
  enrollmentId: string;
  at: number;
  direction: 'in' | 'out';
  /** gzip of the raw SyncML. */
  body: Uint8Array;
}

// ---- Groups and policies (admin API)

export interface GroupRecord {
  tenantId: string;
  /** Object id (GUID), as in Entra and Graph. */
  id: string;
  displayName: string;
  description: string | null;
  /** Graph requires it when a group is created; kept and shown, OpenMAM's groups have no mail. */
  mailNickname: string | null;
  createdAt: number;
}

/**
 * A user OpenMAM has seen (migration 012): what verified tokens proved of them, and a bare id for a member an admin
 * put in a group (a reference proves the id and nothing else). Graph's `user`, reduced to what is known.
 */
export interface UserRecord {
  tenantId: string;
  /** `oid`: the object id in the tenant. */
  id: string;
  /** `upn` (or `preferred_username`) of the newest token that carried one; null when none did. */
  userPrincipalName: string | null;
  /** `name` of the newest token that carried one; null when none did. */
  displayName: string | null;
  /** When a token of theirs was first and last recorded (enrollment, app registration, sign-in); null: only a group reference. */
  firstSeenAt: number | null;
  lastSeenAt: number | null;
}

/** One sighting of a user: in a verified token at `at` (claims as carried, null when absent), or a reference (`at` null). */
export type UserSighting = Omit<UserRecord, 'firstSeenAt' | 'lastSeenAt'> & { at: number | null };

/** The kinds of policy the admin API manages; each compiles into one configuration set of the same id. */
export type PolicyKind =
  | 'windowsInformationProtectionPolicy'
  | 'mdmWindowsInformationProtectionPolicy'
  | 'windows10CustomConfiguration'
  | 'windows81TrustedRootCertificate'
  | 'windowsPfxCertificate'
  | 'windowsScepCertificate';

/** Graph assignment targets. */
export type AssignmentTarget =
  | ({ '@odata.type': '#microsoft.graph.groupAssignmentTarget'; groupId: string } & AssignmentFilterRef)
  | { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget'; groupId: string }
  | ({ '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } & AssignmentFilterRef);

/**
 * An include target's assignment filter (Graph deviceAndAppManagementAssignmentTarget's filter id and type): absent
 * when none. `include`: the target reaches only what matches the filter's rule; `exclude`: only what does not.
 */
export interface AssignmentFilterRef {
  deviceAndAppManagementAssignmentFilterId?: string;
  deviceAndAppManagementAssignmentFilterType?: 'include' | 'exclude';
}

/** Graph deviceAndAppManagementAssignmentFilter as OpenMAM stores it (migration 023). */
export interface AssignmentFilterRecord {
  tenantId: string;
  id: string;
  displayName: string;
  description: string | null;
  /** Graph devicePlatformType: windows10AndLater (devices) or windowsMobileApplicationManagement (apps). */
  platform: string;
  /** The rule as the admin wrote it (policy/assignment-filter-rule.ts). */
  rule: string;
  managementType: 'devices' | 'apps';
  roleScopeTags: string[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface PolicyAssignment {
  id: string;
  target: AssignmentTarget;
}

export interface PolicyRecord {
  tenantId: string;
  id: string;
  kind: PolicyKind;
  /** The policy's Graph properties as the admin set them (validated), without id, times and version. */
  body: Record<string, unknown>;
  assignments: PolicyAssignment[];
  /** Counts up with every change (Graph `version`). */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * An admin's request for a device's WIP audit logs (Reporting CSP): sent at the device's next session (Replace of
 * the retrieval parameters, then Get of Logs), answered with the raw log XML and its parsed entries.
 */
export interface WipLogRequestRecord {
  id: string;
  tenantId: string;
  enrollmentId: string;
  mode: 'timeRange' | 'count';
  /** ISO 8601, or null for "from the first log". */
  startTime: string | null;
  /** timeRange only: ISO 8601, or null for "up to the last log". */
  stopTime: string | null;
  /** count only. */
  logCount: number | null;
  /** Reporting CSP Type: 0 WIP audit logs, 1 WIP app learning logs. */
  logType: 0 | 1;
  status: 'pending' | 'completed' | 'failed';
  /** The device's SyncML status code when it failed. */
  statusCode: string | null;
  requestedAt: number;
  completedAt: number | null;
  /** The Logs node as the device returned it (XML). */
  logs: string | null;
  /** Parsed log entries: one object of field -> value per log record. */
  entries: Record<string, string>[] | null;
}

/**
 * The counters of a tenant's hour of activity (migration 017), named as the Graph properties of
 * `openMamActivityHour` that show them: app check-ins (a registration's first answer included), OMA-DM sessions
 * (each counted once, at its first message), access decisions by result, and the app check-ins whose verdict was
 * compliant or not compliant (a check-in with no app protection policy is neither: `unknown`).
 */
export const ACTIVITY_COUNTERS = ['appCheckIns', 'omaDmSessions', 'accessAllowed', 'accessDenied', 'compliantCheckIns', 'noncompliantCheckIns'] as const;
export type ActivityCounter = (typeof ACTIVITY_COUNTERS)[number];
export type ActivityCounts = Record<ActivityCounter, number>;

/** One tenant's hour: `hourStart` is epoch ms at the start of a UTC hour. */
export interface ActivityHourRecord {
  tenantId: string;
  hourStart: number;
  counts: ActivityCounts;
}

// ---- Device actions (migration 020; store/repositories/device-actions-store.ts): what an admin or the stale-device sweep asked of a device

/**
 * Graph's managedDevice actions OpenMAM carries out (learn.microsoft.com/graph/api/intune-devices-manageddevice-retire,
 * -wipe, -syncdevice). On a MAM device `retire` removes management (DMClient Unenroll), `wipe` removes it and revokes
 * the WIP-protected data first (EnterpriseDataProtection RevokeOnUnenroll 1): never a factory reset. `syncDevice` has
 * no push channel to wake the device: the device re-plans and re-reads its inventory at its next check-in.
 */
export const DEVICE_ACTIONS = ['retire', 'wipe', 'syncDevice'] as const;
export type DeviceActionKind = (typeof DEVICE_ACTIONS)[number];

/** pending until the device answers; done (2xx, or the device left by itself); failed (its status code); canceled (re-enrolled before it was told). */
export const DEVICE_ACTION_STATES = ['pending', 'done', 'failed', 'canceled'] as const;
export type DeviceActionState = (typeof DEVICE_ACTION_STATES)[number];

/** Who asked: an admin, the stale-device sweep (tenant setting staleDeviceRetireAfterDays), or a compliance action. */
export type DeviceActionReason = 'admin' | 'stale' | 'compliance';

export interface DeviceActionRecord {
  tenantId: string;
  id: string;
  enrollmentId: string;
  action: DeviceActionKind;
  state: DeviceActionState;
  /** The SyncML status the device answered the action's command with (failed: why), null while pending or when none came. */
  statusCode: string | null;
  reason: DeviceActionReason;
  requestedAt: number;
  updatedAt: number;
}

/** The device's answer to an action, as one session's outcome carries it (SyncOutcome.deviceActions). */
export interface DeviceActionResult {
  id: string;
  action: DeviceActionKind;
  state: 'done' | 'failed';
  statusCode: string | null;
}
