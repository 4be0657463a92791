import type { CollectionPage, CollectionQuery } from './collection-query.ts';
import type {
  RegistrationSummary,
  AccessPolicyRecord,
  AppComplianceState,
  AppOperationRecord,
  AppPolicyKind,
  AppPolicyRecord,
  AppRegistrationRecord,
  BlockedUserRecord,
  DeviceComplianceRecord,
  ManagedAppCatalogueRecord,
  MtdConnectorRecord,
  ServicePrincipalRecord,
  SignInRecord,
  ThreatReportRecord,
} from './app-protection-records.ts';
import type { VersionedDelete, VersionedWrite } from './roles.ts';

export interface CheckInState {
  registration: AppRegistrationRecord;
  appConfigVersion: number;
  configVersion: number;
  userBlocked: boolean;
  hasPendingOperations: boolean;
  /** The reports about the registration's device (its user and azureAdDeviceId), every connector's, in no order. */
  threatReports: ThreatReportRecord[];
}

/** What registerOnDevice did. */
export type DeviceRegistration =
  | { kind: 'saved'; registration: AppRegistrationRecord }
  | { kind: 'device_taken'; holders: AppRegistrationRecord[] }
  /** The user holds `maxActivePerUser` active registrations already and this one would be another: nothing written. */
  | { kind: 'user_limit'; active: number };

/**
 * Storage of the app protection service (see app-protection-records.ts), one role per concern so that a service takes
 * only the part it uses. Every write that changes what a check-in or an access decision would answer for a whole
 * tenant (a policy, its apps or assignments, a connector, an access policy, a catalogue entry) bumps the tenant's app
 * configuration version in the same transaction: nodes cache the tenant's policies by that version, so a check-in
 * whose registration saw the current version needs no policy query.
 */
export interface AppProtectionStore
  extends AppPolicyStore,
    AppRegistrationStore,
    AppOperationStore,
    BlockedUserStore,
    ThreatStore,
    AccessPolicyStore,
    CatalogueStore,
    AppProtectionRetention {}

/** App protection and app configuration policies (windowsManagedAppProtection, targetedManagedAppConfiguration), and the version that caches them. */
export interface AppPolicyStore {
  /** 0 for a tenant that never had an app policy. Group membership changes bump ConfigurationStore's version instead. */
  getAppConfigVersion(tenantId: string): Promise<number>;

  /** A plain insert (`conflict` when the id exists, `not_found` when the tenant does not); returns the new app configuration version. */
  createAppPolicy(policy: AppPolicyRecord): Promise<number>;
  /** Compare-and-set: writes `policy` (read at `policy.version`) as version + 1 while the stored version is still `policy.version`; bumps. */
  updateAppPolicy(policy: AppPolicyRecord): Promise<VersionedWrite>;
  getAppPolicy(tenantId: string, id: string): Promise<AppPolicyRecord | undefined>;
  /** Ordered by createdAt, then id; every kind when `kind` is omitted. */
  listAppPolicies(tenantId: string, kind?: AppPolicyKind): Promise<AppPolicyRecord[]>;
  /** One page of the tenant's policies of `kind` (collections.ts APP_POLICIES). */
  queryAppPolicies(tenantId: string, kind: AppPolicyKind, query: CollectionQuery): Promise<CollectionPage<AppPolicyRecord>>;
  /** Deletes (only at `expectedVersion` when given) and bumps the version. */
  deleteAppPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
}

/** Managed app registrations: registration, check-in state and check-ins, compliance, summaries, one work account per device. */
export interface AppRegistrationStore {
  /**
   * Inserts the registration, unless the same user already has an active registration of the same app on the same
   * deviceTag: then that one is updated in place (its id and createdAt kept) with the input's other fields. Returns
   * the stored record. Its user is recorded in the same transaction (UserStore), with `displayName` (the token's
   * `name` claim; absent: not carried).
   */
  upsertRegistration(registration: AppRegistrationRecord, displayName?: string | null): Promise<AppRegistrationRecord>;
  /**
   * upsertRegistration, unless another user holds an active registration on the same device (deviceTag, or a
   * verified azureAdDeviceId when this one's is verified): then nothing is written and the holders come back. Check and write are one
   * transaction, serialised per tenant: one MAM work account per device holds under concurrent registrations.
   * With `maxActivePerUser`, a registration that would be new (not the update of the same user, app and deviceTag)
   * is refused (`user_limit`) when the user holds that many active ones already, in the same transaction: the bound
   * holds under concurrent registrations too. Wiped registrations do not count.
   */
  registerOnDevice(registration: AppRegistrationRecord, displayName?: string | null, maxActivePerUser?: number): Promise<DeviceRegistration>;
  /** One indexed read. Undefined for an unknown id; the caller checks the tenant and user. */
  getRegistration(id: string): Promise<AppRegistrationRecord | undefined>;
  /**
   * What a check-in or an access decision reads first, in one query: the registration, its tenant's two versions
   * (app configuration, and ConfigurationStore's), whether its user is wiped-and-blocked and whether it has pending
   * operations. Undefined for an unknown id.
   */
  getCheckInState(registrationId: string): Promise<CheckInState | undefined>;
  /**
   * Changes of one check-in. Only the given fields are written. Answers false when the registration does not exist.
   */
  updateRegistration(
    id: string,
    change: Partial<Pick<AppRegistrationRecord, 'appVersion' | 'sdkVersion' | 'osVersion' | 'deviceName' | 'deviceModel' | 'deviceManufacturer' | 'appliedPolicyId' | 'appliedPolicyVersion' | 'reportedFailures' | 'complianceState' | 'complianceReasons' | 'complianceChangedAt' | 'state' | 'lastCheckInAt' | 'clientId'>>,
  ): Promise<boolean>;
  /** Last check-in times written in bulk (check-ins are buffered like OMA-DM ones). */
  recordAppCheckins(checkins: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Active registrations of a tenant matching every given filter, newest lastCheckInAt first, at most `limit`.
   * `userId`, `appId`, `deviceTag`, `azureAdDeviceId` are exact matches.
   */
  listRegistrations(
    tenantId: string,
    filter: { userId?: string; appId?: string; deviceTag?: string; azureAdDeviceId?: string; includeWiped?: boolean },
    limit: number,
  ): Promise<AppRegistrationRecord[]>;
  /**
   * The active registrations of another user than `userId` on the device (same deviceTag, or same verified
   * azureAdDeviceId when the given one is verified): one MAM work account per device.
   */
  otherUsersOnDevice(tenantId: string, userId: string, device: { deviceTag: string; azureAdDeviceId: string | null; azureAdDeviceIdVerified: boolean }): Promise<AppRegistrationRecord[]>;
  /**
   * The tenant's registrations in aggregate (RegistrationSummary): a few GROUP BY statements on indexes (migration
   * 018), whatever the number of registrations, no row read.
   */
  summarizeRegistrations(tenantId: string): Promise<RegistrationSummary>;
  /** Sets compliance of many registrations at once (a threat report, a policy change). */
  setCompliance(changes: readonly { id: string; state: AppComplianceState; reasons: string[]; changedAt: number }[]): Promise<void>;
  /** One page of the tenant's app registrations, wiped ones included (collections.ts APP_REGISTRATIONS). */
  queryRegistrations(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AppRegistrationRecord>>;
}

/** Operations on registrations (selective wipe). */
export interface AppOperationStore {
  /** Inserts operations; for a registration that already has a pending wipe, none is added. Returns those inserted. */
  addOperations(operations: readonly AppOperationRecord[]): Promise<AppOperationRecord[]>;
  getOperation(id: string): Promise<AppOperationRecord | undefined>;
  /** Pending ones first (oldest first), then completed newest first. */
  listOperations(registrationId: string): Promise<AppOperationRecord[]>;
  /** The registration's pending operations, oldest first (what a check-in delivers). */
  pendingOperations(registrationId: string): Promise<AppOperationRecord[]>;
  /**
   * pending -> succeeded | failed, once. Answers false (nothing written) when the operation is not pending. When a
   * wipe succeeds the registration becomes `wiped` in the same transaction.
   */
  completeOperation(id: string, result: { status: 'succeeded' | 'failed'; detail: string | null; completedAt: number; expiresAt: number }): Promise<boolean>;
}

/** Wiped-and-blocked users. */
export interface BlockedUserStore {
  /** True when added, false when already blocked. */
  blockUser(record: BlockedUserRecord): Promise<boolean>;
  /** True when removed. */
  unblockUser(tenantId: string, userId: string): Promise<boolean>;
  isUserBlocked(tenantId: string, userId: string): Promise<boolean>;
}

/** Mobile threat defense: connectors, their heartbeats and their threat reports. */
export interface ThreatStore {
  /** A plain insert (`conflict` when the id exists, `not_found` when the tenant does not); bumps the app configuration version. */
  createConnector(connector: MtdConnectorRecord): Promise<void>;
  /**
   * Compare-and-set of an admin's change: writes the settings and updatedAt of `connector` (read at
   * `connector.version`) as version + 1; the heartbeat stays the stored one. Bumps.
   */
  updateConnector(connector: MtdConnectorRecord): Promise<VersionedWrite>;
  /**
   * The connector's own sign of life: sets lastHeartbeatAt (and partnerState `enabled` when `enable`, with a version
   * bump of the connector when that changes it), whatever the admin changed meanwhile. Bumps the app configuration
   * version (the heartbeat is in the cached tenant snapshot); false when the connector does not exist.
   */
  recordConnectorHeartbeat(tenantId: string, id: string, at: number, enable: boolean): Promise<boolean>;
  getConnector(tenantId: string, id: string): Promise<MtdConnectorRecord | undefined>;
  listConnectors(tenantId: string): Promise<MtdConnectorRecord[]>;
  /** One page of the tenant's connectors (collections.ts CONNECTORS). */
  queryConnectors(tenantId: string, query: CollectionQuery): Promise<CollectionPage<MtdConnectorRecord>>;
  /** Deletes the connector (only at `expectedVersion` when given) and every report it made; bumps the version. */
  deleteConnector(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
  /** Upserts the latest report by (tenant, connector, user, app, device) and the connector's heartbeat, atomically. */
  saveThreatReport(report: ThreatReportRecord): Promise<void>;
  /** The latest reports for a user's device (every app), newest first. */
  threatReportsFor(tenantId: string, userId: string, azureAdDeviceId: string): Promise<ThreatReportRecord[]>;
  /** A tenant's latest reports (every user, device, app and connector), newest first, at most `limit`: for reports. */
  listThreatReports(tenantId: string, limit: number): Promise<ThreatReportRecord[]>;
}

/** Conditional access: the policies, and device compliance as gateways report it. */
export interface AccessPolicyStore {
  /** A plain insert (`conflict` when the id exists, `not_found` when the tenant does not); bumps the version. */
  createAccessPolicy(policy: AccessPolicyRecord): Promise<void>;
  /** Compare-and-set: writes `policy` (read at `policy.version`) as version + 1 while the stored version is still `policy.version`; bumps. */
  updateAccessPolicy(policy: AccessPolicyRecord): Promise<VersionedWrite>;
  getAccessPolicy(tenantId: string, id: string): Promise<AccessPolicyRecord | undefined>;
  listAccessPolicies(tenantId: string): Promise<AccessPolicyRecord[]>;
  /** One page of the tenant's conditional access policies (collections.ts ACCESS_POLICIES). */
  queryAccessPolicies(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AccessPolicyRecord>>;
  /** Deletes (only at `expectedVersion` when given) and bumps the version. */
  deleteAccessPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
  saveDeviceCompliance(record: DeviceComplianceRecord): Promise<void>;
  getDeviceCompliance(tenantId: string, azureAdDeviceId: string): Promise<DeviceComplianceRecord | undefined>;
}

/** The managed app catalogue (tenant entries; built-in ones are core's: app-catalogue.ts) and service principals (protected resources). */
export interface CatalogueStore {
  /** A plain insert; throws OpenMamError `conflict` when the id, the windowsAppId or a client id is taken in the tenant; bumps the version. */
  createManagedApp(app: ManagedAppCatalogueRecord): Promise<void>;
  /** Compare-and-set at `app.version` (as updateAccessPolicy); throws `conflict` when the new windowsAppId or a client id is another entry's; bumps. */
  updateManagedApp(app: ManagedAppCatalogueRecord): Promise<VersionedWrite>;
  getManagedApp(tenantId: string, id: string): Promise<ManagedAppCatalogueRecord | undefined>;
  /** Ordered by createdAt, then id. */
  listManagedApps(tenantId: string): Promise<ManagedAppCatalogueRecord[]>;
  deleteManagedApp(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;

  /** A plain insert; throws `conflict` when the id or the appId is taken in the tenant; bumps the version. */
  createServicePrincipal(principal: ServicePrincipalRecord): Promise<void>;
  updateServicePrincipal(principal: ServicePrincipalRecord): Promise<VersionedWrite>;
  getServicePrincipal(tenantId: string, id: string): Promise<ServicePrincipalRecord | undefined>;
  /** Ordered by createdAt, then id. */
  listServicePrincipals(tenantId: string): Promise<ServicePrincipalRecord[]>;
  /** One page of the tenant's service principals (collections.ts SERVICE_PRINCIPALS). */
  queryServicePrincipals(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ServicePrincipalRecord>>;
  deleteServicePrincipal(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete>;
}

/** Retention of the app protection tables. */
export interface AppProtectionRetention {
  /**
   * Drops operations whose expiresAt is at or before `now`, and registrations (with their operations) whose last
   * check-in is before `silentBefore` (apps silent longer than the report retention). Returns how many of each.
   */
  purgeAppProtection(now: number, silentBefore: number): Promise<{ operations: number; registrations: number }>;
}

// ---- the sign-in log (migration 011; store/repositories/sign-in-store.ts, reached as `store.signIns`)

/**
 * The sign-in log (Graph `auditLogs/signIns`): append-only, written in batches behind the request path
 * (core/app-protection/sign-in-log.ts), read newest first by keyset pages, dropped after the retention period.
 */
export interface SignInStore {
  /** Inserts the records, in as few multi-row statements as the databases' parameter limits allow, one transaction. */
  appendSignIns(records: readonly SignInRecord[]): Promise<void>;
  /** One page of a tenant's records (collections.ts SIGN_INS), by keyset. */
  querySignIns(tenantId: string, query: CollectionQuery): Promise<CollectionPage<SignInRecord>>;
  getSignIn(tenantId: string, id: string): Promise<SignInRecord | undefined>;
  /** Deletes records created before `before` (every tenant), in bounded transactions; returns how many. */
  purgeSignIns(before: number): Promise<number>;
}
