import type { ComplianceStore } from './compliance-records.ts';
import type { AuditStore } from './audit-records.ts';
import type { CollectionPage, CollectionQuery, CollectionStore } from './collection-query.ts';
import type {
  ActivityHourRecord,
  AssignmentFilterRecord,
  ConfigurationSetRecord,
  DeviceActionRecord,
  DeviceActionResult,
  DeviceManagementState,
  DeviceRecord,
  GroupRecord,
  PolicyKind,
  PolicyRecord,
  EnrollmentRecord,
  InventoryValue,
  ManagementSessionRecord,
  ManagementState,
  MessageLogRecord,
  NodeStateRecord,
  TenantRecord,
  UnenrollReason,
  UserRecord,
  UserSighting,
  WipLogRequestRecord,
} from './records.ts';
import type { AppProtectionStore, SignInStore } from './app-protection-roles.ts';
import type { AppPolicyRecord } from './app-protection-records.ts';
import type { HealthAttestationChange, HealthAttestationStore } from './health-attestation-records.ts';

/**
 * Storage, as small role interfaces. Each consumer takes the narrowest one it needs. One implementation
 * (store/kysely-store.ts, a facade over one repository per role in store/repositories/) serves both SQLite and
 * PostgreSQL; test/store/conformance.ts is the contract every backend must pass.
 */

export interface TenantStore {
  /** Undefined when the tenant was never onboarded. */
  getTenant(id: string): Promise<TenantRecord | undefined>;
  /** Ordered by creation time, oldest first. */
  listTenants(): Promise<TenantRecord[]>;
  /** Refuses (OpenMamError `conflict`) when the id exists. */
  createTenant(tenant: TenantRecord): Promise<void>;
  /** Replaces name, identityProvider, enrollmentAllowed and settings; `not_found` when absent. */
  /**
   * Writes the tenant's name, enrollment switch, settings and updatedAt if it is still at `tenant.version`
   * (compare-and-set; the version goes up by one), else says why not: `stale` (another write came first) or
   * `not_found`. Nothing is written then. With `set`, that configuration set is put in the same transaction (a
   * changed poll schedule reaches devices exactly as the tenant row says it). With `complianceRun`, the tenant is owed
   * a device compliance run in the same transaction (its compliance settings changed; migration 021 compliance_runs).
   */
  updateTenant(tenant: TenantRecord, set?: ConfigurationSetRecord, options?: { complianceRun?: boolean }): Promise<VersionedWrite>;
}

/** What an enrollment request brings; the store assigns nothing but what `EnrollmentStore.enroll` says. */
export type EnrollmentInput = Omit<
  EnrollmentRecord,
  'state' | 'enrollCount' | 'createdAt' | 'enrolledAt' | 'updatedAt' | 'unenrolledAt' | 'unenrollReason' | 'managementState' | 'complianceState' | 'complianceGraceUntil' | 'manufacturer' | 'model'
>;

export type EnrollOutcome =
  | { kind: 'enrolled'; enrollment: EnrollmentRecord; replaced: boolean }
  /** The device already has an active MAM enrollment of another user (or in another tenant). Nothing was written. */
  | { kind: 'device_taken'; existing: EnrollmentRecord }
  /** The user has `maxActivePerUser` active enrollments on other devices already. Nothing was written. */
  | { kind: 'user_limit'; active: number };

export interface EnrollmentStore {
  /**
   * Records an enrollment atomically, keeping the rule "one active MAM work account per device":
   * - no active enrollment on `input.devId`: inserts one (state enrolled, enrollCount 1, createdAt = enrolledAt = now);
   * - an active one of the same tenant and user: replaces it in place, keeping its `id` and `createdAt`,
   *   taking every other field from `input`, enrolledAt = now, enrollCount + 1; its management state, node states
   *   and sessions are dropped (management starts over);
   * - an active one of another user or tenant: writes nothing and answers `device_taken`.
   * The device record (DeviceStore) is upserted in the same transaction. Concurrent calls for one devId never
   * leave two active enrollments. The enrolling user is recorded too (UserStore), with `displayName` (the token's
   * `name` claim; absent: not carried).
   * With `maxActivePerUser`, a device new to the user is refused (`user_limit`) when the user holds that many active
   * enrollments in the tenant already; counted under the user's row lock, so concurrent enrollments cannot pass it.
   */
  enroll(input: EnrollmentInput, now: number, displayName?: string | null, maxActivePerUser?: number): Promise<EnrollOutcome>;
  getEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  /** The active (state enrolled) enrollment of a device, if any. */
  getActiveEnrollmentByDevId(devId: string): Promise<EnrollmentRecord | undefined>;
  /** A tenant's enrollments, newest enrolledAt first, at most `limit`. */
  listEnrollments(tenantId: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]>;
  /** One page of the tenant's active enrollments as Graph's managedDevices (collections.ts MANAGED_DEVICES). */
  queryManagedDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>>;
  /** One page of the tenant's ended enrollments (collections.ts RETIRED_DEVICES: beta `openMamRetiredDevices`). */
  queryRetiredDevices(tenantId: string, query: CollectionQuery): Promise<CollectionPage<EnrollmentRecord>>;
  /** A user's enrollments in a tenant (by `userOid`), newest enrolledAt first, at most `limit`. */
  listEnrollmentsOfUser(tenantId: string, userOid: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]>;
  /** Marks an active enrollment unenrolled; false when there was none active with that id. */
  markUnenrolled(id: string, now: number): Promise<boolean>;
}

export interface DeviceStore {
  getDevice(devId: string): Promise<DeviceRecord | undefined>;
}

/**
 * Configuration sets (what devices should have) and the tenant's configuration version, which every change bumps:
 * a device whose settled version equals it has nothing new to receive (the O(1) check-in decision).
 */
export interface ConfigurationStore {
  /**
   * Creates or replaces the set (by id; a replacement keeps the stored createdAt) and bumps its tenant's
   * configuration version, atomically; returns the new version. `not_found` when the tenant does not exist.
   */
  putConfigurationSet(set: ConfigurationSetRecord): Promise<number>;
  /** Deletes the set and bumps the version; false (nothing bumped) when there was none with that id in the tenant. */
  deleteConfigurationSet(tenantId: string, id: string, now: number): Promise<boolean>;
  getConfigurationSet(tenantId: string, id: string): Promise<ConfigurationSetRecord | undefined>;
  /**
   * The sets that may apply to a device: the tenant's all-devices and group-targeted sets, and those targeting this
   * devId. Ordered by id. Group targeting is decided by the caller, who knows the user's groups.
   */
  configurationSetsFor(tenantId: string, devId: string): Promise<ConfigurationSetRecord[]>;
  /** 0 for a tenant that never had a set. */
  getConfigurationVersion(tenantId: string): Promise<number>;
}

/** What one check-in reads first, in one query. */
export interface ManagedDevice {
  enrollment: EnrollmentRecord;
  management: ManagementState;
  /** The tenant's current configuration version. */
  configVersion: number;
}

/** Everything one SyncML message changes, written in one transaction (or not at all). */
/**
 * WIP log requests (with the logs retrieved) kept per device: the newest ones, whatever their state. An admin reads
 * the last few (the console shows the latest); each holds at most one management message of logs (1 MiB).
 */
export const MAX_WIP_LOG_REQUESTS_PER_DEVICE = 20;

/** Live OMA-DM sessions one device may hold; a new one evicts the oldest beyond (SyncOutcome `session`). */
export const MAX_LIVE_SESSIONS_PER_DEVICE = 4;

export interface SyncOutcome {
  enrollmentId: string;
  /** When the message was handled: a stored session whose expiresAt is at or before `now` has expired. */
  now: number;
  session:
    | { kind: 'none' }
    /**
     * Insert (expected null: a new session; an expired row of the same id is replaced; the device's oldest live
     * sessions beyond MAX_LIVE_SESSIONS_PER_DEVICE are dropped) or compare-and-set on lastDeviceMsgId.
     */
    | { kind: 'save'; record: ManagementSessionRecord; expectedLastDeviceMsgId: number | null }
    /** Deletes the stored session, under the same compare-and-set: the message that ends it is applied once. */
    | { kind: 'end'; sessionId: string; expectedLastDeviceMsgId: number };
  /** Upserted by (enrollment, locUri). */
  nodeStates: readonly NodeStateRecord[];
  /** Node states removed (the device acknowledged a Delete). */
  forgetNodes: readonly string[];
  /** Upserted by (enrollment, locUri). */
  inventory: readonly InventoryValue[];
  /**
   * When set, the device may hold at most this many inventory nodes once `inventory` is written: checked under a
   * lock of the enrollment's row, and past it nothing of the message is written (false, as for a stale message).
   * Core counts before it answers; this catches two sessions of one device adding nodes at once.
   */
  inventoryLimit?: number;
  /** Fields of the management state to set; absent fields are kept. */
  management?: Partial<Omit<ManagementState, 'enrollmentId' | 'messageLogUntil'>>;
  /** The enrollment ends (the device asked to leave management, or acknowledged a retire): it becomes unenrolled. */
  unenrolledAt?: number;
  /** Why, with `unenrolledAt`; absent: `user`. */
  unenrollReason?: UnenrollReason;
  /** What the device reported about itself in this message (DevInfo), kept on the enrollment; absent fields are kept. */
  deviceReport?: { manufacturer?: string; model?: string };
  /** Device actions (retire, wipe, syncDevice) this message answered (store/repositories/device-actions-store.ts). */
  deviceActions?: readonly DeviceActionResult[];
  /**
   * The Entra device id (lower-case) a verified user token of this session carried, for an enrollment that has none:
   * written only where the enrollment still has none (core/management/device-link.ts).
   */
  entraDeviceLink?: string;
  /** WIP log requests this message answered (completed or failed). */
  wipLogResults?: readonly Pick<WipLogRequestRecord, 'id' | 'status' | 'statusCode' | 'logs' | 'entries' | 'completedAt'>[];
  /** What the message changed of the HealthAttestation flow (core/management/health-attestation.ts). */
  healthAttestation?: HealthAttestationChange;
}

export interface ManagementStore {
  /** The active enrollment of a device with its management state and its tenant's configuration version. */
  getManagedDevice(devId: string): Promise<ManagedDevice | undefined>;
  getNodeStates(enrollmentId: string): Promise<NodeStateRecord[]>;
  /**
   * The node states of many enrollments at once (admin status reports): every given id is a key, mapped to its states
   * ordered by locUri ([] when none). A bounded number of queries whatever the count: ids go in chunks that stay far
   * below either database's parameter limit.
   */
  getNodeStatesOf(enrollmentIds: readonly string[]): Promise<Map<string, NodeStateRecord[]>>;
  /**
   * The management states of many enrollments at once, like getManagedDevice's: every given id is a key; an
   * enrollment with no management row yet gets the defaults (settledVersion 0, tokenGroups null, ...).
   */
  getManagementStatesOf(enrollmentIds: readonly string[]): Promise<Map<string, ManagementState>>;
  /** The session, if it exists and has not expired at `now`. */
  getSession(enrollmentId: string, sessionId: string, now: number): Promise<ManagementSessionRecord | undefined>;
  /**
   * Applies `outcome` atomically. Answers false and writes nothing when the session compare-and-set fails: the
   * session was saved by another message meanwhile (a replayed or out-of-sequence MsgID), or a new session's id is
   * live already.
   */
  applySyncOutcome(outcome: SyncOutcome): Promise<boolean>;
  /** Last check-in times, written in bulk (check-ins are buffered, see core/management/checkin-recorder.ts). */
  recordCheckins(checkins: ReadonlyMap<string, number>): Promise<void>;
  listInventory(enrollmentId: string): Promise<InventoryValue[]>;
  /** Keep raw messages of this enrollment until `until` (null: stop). */
  setMessageLogUntil(enrollmentId: string, until: number | null): Promise<void>;
  /** Appends records; keeps at most `keep` newest per enrollment and drops records older than `olderThan`. */
  appendMessageLog(records: readonly MessageLogRecord[], keep: number, olderThan: number): Promise<void>;
  /** Newest first. */
  listMessageLog(enrollmentId: string, limit: number): Promise<MessageLogRecord[]>;
}

/**
 * Groups of the admin API. Membership here is what an admin sets; the `groups` claim of a user's token adds to it.
 * Every change of membership bumps the tenant's configuration version (devices re-evaluate their targeting).
 */
export interface GroupStore {
  /** `conflict` when the id exists in the tenant. */
  createGroup(group: GroupRecord): Promise<void>;
  getGroup(tenantId: string, id: string): Promise<GroupRecord | undefined>;
  /** Ordered by displayName, then id. */
  listGroups(tenantId: string): Promise<GroupRecord[]>;
  /** One page of the tenant's groups (collections.ts GROUPS). */
  queryGroups(tenantId: string, query: CollectionQuery): Promise<CollectionPage<GroupRecord>>;
  /**
   * Changes a group's name, description or mail nickname (one statement; what it describes targets nothing, so no
   * version moves); the group as written, undefined when absent.
   */
  updateGroup(tenantId: string, id: string, change: Partial<Pick<GroupRecord, 'displayName' | 'description' | 'mailNickname'>>): Promise<GroupRecord | undefined>;
  /** Deletes the group and its memberships, bumps the version; false when absent. */
  deleteGroup(tenantId: string, id: string): Promise<boolean>;
  /**
   * Adds a member (user object id); true when added, false when already a member. `not_found` for an unknown group.
   * Bumps the version when added; the id becomes a known user (UserStore) if it was not one.
   */
  addGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean>;
  /** false when it was not a member. Bumps the version when removed. */
  removeGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean>;
  /** Member object ids, ordered. */
  listGroupMembers(tenantId: string, groupId: string): Promise<string[]>;
  /** The ids of the groups `memberId` was added to, ordered. */
  groupsOfMember(tenantId: string, memberId: string): Promise<string[]>;
  /** The groups `memberId` was added to, ordered by displayName, then id. */
  listGroupsOfMember(tenantId: string, memberId: string): Promise<GroupRecord[]>;
  /** groupsOfMember for many members at once: every given id is a key ([] when in no group); chunked like getNodeStatesOf. */
  groupsOfMembers(tenantId: string, memberIds: readonly string[]): Promise<Map<string, string[]>>;
}

/**
 * The users OpenMAM has seen in verified tokens or as group members (records.ts UserRecord). Enrollments, app
 * registrations, sign-ins and memberships record them in their own transactions (store/user-sightings.ts).
 */
/** Per-tenant hourly activity (store/repositories/activity-store.ts, migration 017). */
export interface ActivityStore {
  /**
   * Adds each record's counts to its (tenant, hour) row, creating it when absent: one statement for the lot, so that
   * every node's flushes add up (never a read-modify-write). At most one record per (tenant, hour).
   */
  addActivity(records: readonly ActivityHourRecord[]): Promise<void>;
  /** One page of a tenant's hours (collections.ts ACTIVITY_HOURS), by keyset. */
  queryActivityHours(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ActivityHourRecord>>;
  /** Deletes at most `limit` hours (of any tenant) that started before `before`; returns how many. */
  purgeActivity(before: number, limit: number): Promise<number>;
}

export interface UserStore {
  /** One page of the tenant's users (collections.ts USERS). */
  queryUsers(tenantId: string, query: CollectionQuery): Promise<CollectionPage<UserRecord>>;
  /** By object id, exactly. */
  getUser(tenantId: string, id: string): Promise<UserRecord | undefined>;
  /** By userPrincipalName ignoring case, as Entra compares it; when two users carried it, the one seen last. */
  getUserByPrincipalName(tenantId: string, userPrincipalName: string): Promise<UserRecord | undefined>;
  /** Records sightings in a transaction of their own (imports, tests); the rules of user-sightings.ts. */
  recordUsers(sightings: readonly UserSighting[]): Promise<void>;
}

/**
 * The outcome of a compare-and-set write of an admin object (policy, app policy, threat defense connector,
 * conditional access policy): `saved` at its new version; `stale` when the stored version is another one (given as
 * `current`); `not_found` when the object is not there (deleted meanwhile: it is never re-created). Nothing is
 * written unless `saved`.
 */
export type VersionedWrite = { kind: 'saved'; version: number } | { kind: 'stale'; current: number } | { kind: 'not_found' };

/** The outcome of a delete of an admin object, which may be conditioned on its version; nothing is written unless `deleted`. */
export type VersionedDelete = { kind: 'deleted' } | { kind: 'stale'; current: number } | { kind: 'not_found' };

/**
 * Policies of the admin API. A policy and its compiled configuration set (same id) are always written together,
 * with one bump of the tenant's configuration version: nothing half-written, O(1) whatever the number of devices.
 */
export interface PolicyStore {
  /**
   * Inserts a new policy and its set (never replaces one: `conflict` when the id exists, `not_found` when the tenant
   * does not); returns the tenant's new configuration version.
   */
  createPolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<number>;
  /**
   * Compare-and-set: writes `policy` (read at `policy.version`) and its set, as version + 1, only while the stored
   * version is still `policy.version`; one bump of the configuration version. See VersionedWrite.
   */
  updatePolicy(policy: PolicyRecord, set: ConfigurationSetRecord): Promise<VersionedWrite>;
  getPolicy(tenantId: string, id: string): Promise<PolicyRecord | undefined>;
  /** Ordered by createdAt, then id. */
  listPolicies(tenantId: string, kind: PolicyKind): Promise<PolicyRecord[]>;
  /** One page of the tenant's policies of `kinds` (collections.ts POLICIES). */
  queryPolicies(tenantId: string, kinds: readonly PolicyKind[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord>>;
  /** Deletes the policy and its set (only at `expectedVersion` when given), bumps the version. See VersionedDelete. */
  deletePolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
  /**
   * One page of the managed app policies of both tables (OMA-DM's WIP policies and the app protection service's
   * policies: collections.ts MANAGED_APP_POLICIES) of `kinds`.
   */
  queryManagedAppPolicies(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord | AppPolicyRecord>>;
}

/** WIP log requests (Reporting CSP). */
export interface WipLogStore {
  /**
   * Records the request and marks the enrollment's management as unsettled (so its next check-in plans the
   * retrieval), in one transaction. `not_found` when the enrollment does not exist in that tenant. The device keeps
   * its newest MAX_WIP_LOG_REQUESTS_PER_DEVICE requests: older ones (and the logs they hold) go in the same write.
   */
  requestWipLogs(request: WipLogRequestRecord): Promise<void>;
  /** The enrollment's pending requests, oldest first. */
  pendingWipLogRequests(enrollmentId: string): Promise<WipLogRequestRecord[]>;
  /** A tenant's requests for one enrollment, newest first. */
  listWipLogRequests(tenantId: string, enrollmentId: string, limit: number): Promise<WipLogRequestRecord[]>;
}

/** What asking a device action came to (DeviceActionStore.requestDeviceAction); nothing is written unless `requested`. */
export type DeviceActionRequest =
  | { kind: 'requested'; action: DeviceActionRecord }
  /** No enrollment with that id in that tenant. */
  | { kind: 'not_found' }
  /** The enrollment ended already (retired, wiped, unenrolled by its user, or stale). */
  | { kind: 'not_enrolled'; managementState: DeviceManagementState }
  /** A retire or wipe of this enrollment is pending already. */
  | { kind: 'already_pending'; managementState: DeviceManagementState };

/** Retire, wipe and syncDevice of MAM-enrolled devices (store/repositories/device-actions-store.ts, migration 020). */
export interface DeviceActionStore {
  /**
   * Records the action, in one transaction with its effects: a retire or wipe moves the active enrollment's
   * managementState to retirePending / wipePending (a compare-and-set: of two racing requests one wins); a syncDevice
   * marks its inventory stale. Either way the device's management becomes unsettled, so its next check-in plans.
   */
  requestDeviceAction(action: DeviceActionRecord): Promise<DeviceActionRequest>;
  /** The enrollment's pending actions, oldest first. */
  pendingDeviceActions(enrollmentId: string): Promise<DeviceActionRecord[]>;
  /** The actions of many enrollments of a tenant (every given id a key, [] when none), newest first; chunked reads. */
  deviceActionsOf(tenantId: string, enrollmentIds: readonly string[]): Promise<Map<string, DeviceActionRecord[]>>;
  /**
   * Ends at most `limit` of the tenant's active enrollments whose last check-in (or enrollment, when none) is before
   * `silentSince`, in one transaction: unenrolled at `now` with reason `stale`, managementState retirePending, and a
   * pending retire action (reason `stale`) each. Answers their ids.
   */
  retireStaleEnrollments(tenantId: string, silentSince: number, now: number, limit: number, newId: () => string): Promise<string[]>;
}

/** The whole store as the composition root sees it. */
export interface Store extends CollectionStore, TenantStore, EnrollmentStore, DeviceStore, ConfigurationStore, ManagementStore, GroupStore, UserStore, PolicyStore, WipLogStore {
  readonly backend: 'sqlite' | 'postgres';
  /** The app protection service's tables (store/app-protection-store.ts). */
  readonly appProtection: AppProtectionStore;
  /** The sign-in log of access decisions (store/repositories/sign-in-store.ts). */
  readonly signIns: SignInStore;
  /** Per-tenant hourly activity counters (store/repositories/activity-store.ts). */
  readonly activity: ActivityStore;
  /** Assignment filters (store/repositories/assignment-filter-store.ts). */
  readonly assignmentFilters: AssignmentFilterStore;
  /** Retire, wipe and syncDevice of enrolled devices (store/repositories/device-actions-store.ts). */
  readonly deviceActions: DeviceActionStore;
  /** The HealthAttestation CSP flow and verdicts per enrollment (store/repositories/health-attestation-store.ts). */
  readonly healthAttestation: HealthAttestationStore;
  /** The admin API's device picture reads (store/repositories/device-picture-store.ts). */
  readonly devicePicture: DevicePictureStore;
  /** Device compliance policies and states (store/repositories/compliance-store.ts, migration 021). */
  readonly compliance: ComplianceStore;
  /** The audit trail of admin changes (store/repositories/audit-store.ts, migration 026). */
  readonly audit: AuditStore;
  /** Applies pending numbered migrations; idempotent. */
  migrate(): Promise<void>;
  /** Cheap liveness probe for /healthz. */
  ping(): Promise<void>;
  /** From now on, tells `observer` the kind and duration of every query the store runs (undefined: stop telling). */
  observeQueries(observer: QueryObserver | undefined): void;
  /** Waits for running queries, then releases the database. */
  close(): Promise<void>;
}

/** What a store query does, by its statement (never its text: a bounded label for the metrics). */
export type QueryKind = 'select' | 'insert' | 'update' | 'delete' | 'transaction' | 'other';

/** Hears each query a store ran: its kind, how long it took (seconds) and whether it failed. Cheap; never throws. */
export type QueryObserver = (kind: QueryKind, seconds: number, failed: boolean) => void;

/**
 * Server-wide secrets shared by every node of one installation (for example the key that signs Terms of Use
 * acceptances), kept in the database so stateless nodes agree on them.
 */
export interface SecretStore {
  /** The secret named `name`; the first caller stores `candidate`, every later caller gets what was stored. */
  getOrCreateSecret(name: string, candidate: Uint8Array): Promise<Uint8Array>;
  /**
   * Deletes the secrets whose name starts with `prefix` stored more than `ageMs` ago, by the store's own clock (the
   * one it stamps them with), at most `limit` of them; how many. For markers that are useless after a while.
   */
  deleteSecretsOlderThan(prefix: string, ageMs: number, limit: number): Promise<number>;
}

/**
 * Assignment filters (Graph deviceAndAppManagementAssignmentFilter, migration 023), versioned like every admin object
 * (writes after the tenant row: the one lock order of admin writers).
 */
export interface AssignmentFilterStore {
  /** A plain insert (no bump: no assignment names a new filter). `not_found` when the tenant does not exist. */
  createAssignmentFilter(filter: AssignmentFilterRecord): Promise<void>;
  /**
   * Compare-and-set at `filter.version`. When `replan`, the tenant's configuration version (device filters) or app
   * configuration version (app filters) is bumped in the same transaction, so every device or app is judged again at
   * its next check-in: O(1) whatever the fleet.
   */
  updateAssignmentFilter(filter: AssignmentFilterRecord, replan: boolean): Promise<VersionedWrite>;
  getAssignmentFilter(tenantId: string, id: string): Promise<AssignmentFilterRecord | undefined>;
  /** The tenant's filters among `ids` (unknown ids are left out). */
  getAssignmentFilters(tenantId: string, ids: readonly string[]): Promise<AssignmentFilterRecord[]>;
  /** One page (collections.ts ASSIGNMENT_FILTERS). */
  queryAssignmentFilters(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AssignmentFilterRecord>>;
  /**
   * Deletes the filter (only at `expectedVersion` when given). Refused with `conflict` (naming the policy) while an
   * assignment of any policy names it: checked under the tenant row, which every policy write takes first.
   */
  deleteAssignmentFilter(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
}

/**
 * What the admin API's picture of a MAM device reads beside its enrollment row, a page at a time (never one query per
 * device): a few stored inventory values (DeviceStatus's EncryptionCompliance, ...), the users' display names
 * (Graph `userDisplayName`), and, for app registrations, the active enrollment of each Entra device id (Graph
 * `managedDeviceId`). Reached as `store.devicePicture` (store/repositories/device-picture-store.ts).
 */
export interface DevicePictureStore {
  /**
   * The stored inventory values at `locUris` of each enrollment: every given enrollment id is a key (an empty map
   * when it has none of them).
   */
  inventoryOf(enrollmentIds: readonly string[], locUris: readonly string[]): Promise<Map<string, Map<string, { value: string; updatedAt: number }>>>;
  /** The display names of the tenant's users the ids name (null when no token carried one); unknown ids are absent. */
  userDisplayNamesOf(tenantId: string, userIds: readonly string[]): Promise<Map<string, string | null>>;
  /**
   * The id of the active enrollment (the managedDevice) of each Entra device id in the tenant, by the lower-case
   * device id; ids no active enrollment carries are absent. Served by migration 024's index.
   */
  managedDeviceIdsOf(tenantId: string, entraDeviceIds: readonly string[]): Promise<Map<string, string>>;
}
