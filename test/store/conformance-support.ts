import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type {
  AccessPolicyRecord,
  AppOperationRecord,
  AppPolicyRecord,
  AppRegistrationRecord,
  ManagedAppCatalogueRecord,
  MtdConnectorRecord,
  ServicePrincipalRecord,
  ThreatReportRecord,
} from '../../src/store/app-protection-records.ts';
import type { AppProtectionStore } from '../../src/store/app-protection-roles.ts';
import type { ConfigurationSetRecord, EnrollmentRecord, GroupRecord, NodeStateRecord, PolicyRecord, TenantRecord } from '../../src/store/records.ts';
import type { EnrollmentInput, EnrollOutcome, SecretStore, Store } from '../../src/store/roles.ts';

/**
 * What the store conformance suites share: opening the store under test, a tenant, an enrolled device, an app
 * registration, a threat defense connector; the records they are made of; the assertions more than one role suite
 * makes. The role suites (./conformance/) reach src/ through this module only: eslint.config.js refuses a relative
 * import that climbs three folders (`../../../src`).
 */

export { isOpenMamError } from '../../src/errors.ts';
export { NEW_ENROLLMENT_LIFE } from '../../src/store/records.ts';
export type {
  ConfigurationSetRecord,
  EnrollmentRecord,
  GroupRecord,
  ManagementSessionRecord,
  ManagementState,
  MessageLogRecord,
  PolicyRecord,
  TenantRecord,
  TenantSettings,
  UserRecord,
  UserSighting,
  WipLogRequestRecord,
} from '../../src/store/records.ts';
export { MAX_WIP_LOG_REQUESTS_PER_DEVICE } from '../../src/store/roles.ts';
export type { CollectionQuery } from '../../src/store/collection-query.ts';
export type {
  ConfigurationStore,
  DeviceStore,
  EnrollmentStore,
  GroupStore,
  ManagementStore,
  PolicyStore,
  SecretStore,
  Store,
  SyncOutcome,
  TenantStore,
  UserStore,
  WipLogStore,
} from '../../src/store/roles.ts';
export type { AccessPolicyRecord, AppPolicyRecord, AppRegistrationRecord, DeviceComplianceRecord, MtdConnectorRecord } from '../../src/store/app-protection-records.ts';
export type {
  AccessPolicyStore,
  AppOperationStore,
  AppPolicyStore,
  AppProtectionRetention,
  AppRegistrationStore,
  BlockedUserStore,
  CatalogueStore,
  ThreatStore,
} from '../../src/store/app-protection-roles.ts';

/**
 * Opens the store in the enclosing suite's before hook and closes it in its after hook; answers a reader of it. Role
 * suites are declared before any hook runs: they read the store in their hooks and tests.
 */
function openedInSuite<S extends { close(): Promise<void> }>(open: () => Promise<S>): () => S {
  let opened: S | undefined;

  before(async () => {
    opened = await open();
  });

  after(async () => {
    await opened?.close();
  });

  return () => opened ?? assert.fail('the store is opened in the suite\'s before hook: read it in a hook or a test');
}

/**
 * The store under test, for a role suite that uses the roles `S` of it. The functions use no `this`: a suite may take
 * them out (`const { newTenant } = fixture`).
 */
export interface StoreFixture<S> {
  /** The store the suite opened; read it in a hook or a test, not while the suite is declared. */
  readonly store: S;
  /** Creates a tenant of its own (tenantRecord with `overrides`). */
  newTenant(overrides?: Partial<TenantRecord>): Promise<TenantRecord>;
  /** Enrolls a device of its own, in `tenantId` or in a new tenant. */
  newEnrollment(tenantId?: string): Promise<EnrollmentRecord>;
}

/**
 * The store of a conformance suite, opened before its tests and closed after them: call it first in the suite's body.
 * The database may hold data of earlier runs: everything made here has random ids.
 */
export function storeFixture(open: () => Promise<Store & SecretStore>): StoreFixture<Store & SecretStore> {
  const opened = openedInSuite(open);
  const fixture: StoreFixture<Store & SecretStore> = {
    get store() {
      return opened();
    },
    async newTenant(overrides: Partial<TenantRecord> = {}): Promise<TenantRecord> {
      const tenant = tenantRecord(overrides);
      await opened().createTenant(tenant);
      return tenant;
    },
    async newEnrollment(tenantId?: string): Promise<EnrollmentRecord> {
      return expectEnrolled(await opened().enroll(enrollmentInput(tenantId ?? (await fixture.newTenant()).id), T0));
    },
  };
  return fixture;
}

/**
 * The app protection store under test as the roles `A` of it (`ap`), and the roles `S` of the rest of the store, as
 * StoreFixture.
 */
export interface AppProtectionFixture<A, S = unknown> {
  readonly store: S;
  readonly ap: A;
  /** Creates a tenant of its own; answers its id. */
  newTenant(): Promise<string>;
  /** Upserts a registration and checks that it was stored as given (a new one). */
  newRegistration(tenantId: string, overrides?: Partial<AppRegistrationRecord>): Promise<AppRegistrationRecord>;
  newConnector(tenantId: string, overrides?: Partial<MtdConnectorRecord>): Promise<MtdConnectorRecord>;
}

/** storeFixture for the app protection suites; `open` must return a migrated store. */
export function appProtectionFixture(open: () => Promise<Store>): AppProtectionFixture<AppProtectionStore, Store> {
  const opened = openedInSuite(open);
  return {
    get store() {
      return opened();
    },
    get ap() {
      return opened().appProtection;
    },
    async newTenant(): Promise<string> {
      const tenant = appProtectionTenantRecord();
      await opened().createTenant(tenant);
      return tenant.id;
    },
    async newRegistration(tenantId: string, overrides: Partial<AppRegistrationRecord> = {}): Promise<AppRegistrationRecord> {
      const registration = registrationRecord(tenantId, overrides);
      assert.deepEqual(await opened().appProtection.upsertRegistration(registration), registration);
      return registration;
    },
    async newConnector(tenantId: string, overrides: Partial<MtdConnectorRecord> = {}): Promise<MtdConnectorRecord> {
      const connector = connectorRecord(tenantId, overrides);
      await opened().appProtection.createConnector(connector);
      return connector;
    },
  };
}

/** 2025-06-15: well past 2^32, so a backend that loses bigint precision or returns strings fails. */
export const T0 = 1_750_000_000_000;

export function tenantRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id: randomUUID(),
    name: 'Contoso',
    identityProvider: 'entra',
    enrollmentAllowed: true,
    settings: {
      requireTermsOfUse: true,
      termsOfUseText: 'Company data stays protected.\n\nÄnderungen vorbehalten — “quotes” ✓',
      pollSchedule: {
        numberOfFirstRetries: 8,
        intervalForFirstSetOfRetries: 15,
        numberOfSecondRetries: 5,
        intervalForSecondSetOfRetries: 60,
        numberOfRemainingScheduledRetries: 0,
        intervalForRemainingScheduledRetries: 480,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: false,
      },
    },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function enrollmentInput(tenantId: string, overrides: Partial<EnrollmentInput> = {}): EnrollmentInput {
  return {
    id: randomUUID(),
    tenantId,
    devId: `dev-${randomUUID()}`,
    userOid: randomUUID(),
    upn: 'alice@contoso.com',
    entraDeviceId: randomUUID(),
    enrollmentType: 'MAM',
    applicationVersion: '10.0.22631.2861',
    requestVersion: '4.0',
    termsAcceptedAt: T0 - 60_000,
    hwDevId: `HW-${randomUUID()}`,
    deviceName: 'DESKTOP-ALICE',
    deviceType: 'CloudPC',
    osEdition: '4',
    osVersion: '10.0.22631.2861',
    locale: 'en-US',
    ...overrides,
  };
}

export function configurationSet(tenantId: string, id: string, overrides: Partial<ConfigurationSetRecord> = {}): ConfigurationSetRecord {
  return {
    id,
    tenantId,
    name: `Set ${id}`,
    target: { kind: 'all_devices' },
    settings: [
      { locUri: './Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', format: 'int', value: '0', atomicGroup: 'DeviceLock' },
      { locUri: './User/Vendor/MSFT/Policy/Config/Browser/HomePages', format: 'chr', value: '<https://contoso.com/ä?a=1&b=2>' },
    ],
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

export function groupRecord(tenantId: string, overrides: Partial<GroupRecord> = {}): GroupRecord {
  return { tenantId, id: randomUUID(), displayName: 'Sales', description: 'The sales team', mailNickname: 'sales', createdAt: T0, ...overrides };
}

export function policyRecord(tenantId: string, overrides: Partial<PolicyRecord> = {}): PolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    kind: 'mdmWindowsInformationProtectionPolicy',
    body: {
      displayName: 'Protect Contoso data',
      description: 'Ä ✓ "quoted"',
      enforcementLevel: 'encryptAndAuditOnly',
      enterpriseDomain: 'contoso.com',
      protectedApps: [{ displayName: 'Edge', productName: 'Microsoft.MicrosoftEdge', denied: false }],
      revokeOnUnenrollDisabled: false,
      azureRightsManagementServicesAllowed: null,
    },
    assignments: [
      { id: 'a-1', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'g-include' } },
      { id: 'a-2', target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: 'g-exclude' } },
    ],
    version: 1,
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function nodeState(locUri: string, overrides: Partial<NodeStateRecord> = {}): NodeStateRecord {
  return { locUri, format: 'int', value: '1', status: 'applied', statusCode: '200', updatedAt: T0, ...overrides };
}

export function bytes(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

export function expectEnrolled(outcome: EnrollOutcome): EnrollmentRecord {
  assert.equal(outcome.kind, 'enrolled', `expected enrolled, got ${JSON.stringify(outcome)}`);
  assert.ok(outcome.kind === 'enrolled');
  return outcome.enrollment;
}

export function assertOneWinner(outcomes: EnrollOutcome[], active: EnrollmentRecord | undefined): void {
  const winners = outcomes.filter((o) => o.kind === 'enrolled');
  const losers = outcomes.filter((o) => o.kind === 'device_taken');
  assert.equal(winners.length, 1, `exactly one enroll must win, got ${JSON.stringify(outcomes.map((o) => o.kind))}`);
  assert.equal(losers.length, outcomes.length - 1);
  const winner = winners[0]!;
  assert.ok(winner.kind === 'enrolled');
  assert.equal(winner.replaced, false);
  assert.deepEqual(active, winner.enrollment);
  for (const loser of losers) {
    assert.ok(loser.kind === 'device_taken');
    assert.deepEqual(loser.existing, winner.enrollment);
  }
}

export async function assertRejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isOpenMamError(err), `expected an OpenMamError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** 2001: the retention tests' times, before every other test's. */
export const P = 1_000_000_000_000;
export const DAY = 86_400_000;

/** The app protection suites' tenant: no terms of use. */
export function appProtectionTenantRecord(): TenantRecord {
  const tenant = tenantRecord();
  return { ...tenant, settings: { ...tenant.settings, requireTermsOfUse: false, termsOfUseText: '' } };
}

export function appPolicyRecord(tenantId: string, overrides: Partial<AppPolicyRecord> = {}): AppPolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    kind: 'windowsManagedAppProtection',
    body: {
      displayName: 'Protect Contoso data',
      description: 'Ä ✓ "quoted"',
      allowedInboundDataTransferSources: 'allApps',
      periodOfflineBeforeWipeIsEnforced: 'P90D',
      minimumWipeSdkVersion: null,
      printBlocked: true,
    },
    apps: [
      { id: 'app-1', appId: 'com.microsoft.edge', version: null },
      { id: 'app-2', appId: 'com.microsoft.word', version: '16.0' },
    ],
    assignments: [
      { id: 'a-1', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'g-include' } },
      { id: 'a-2', target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: 'g-exclude' } },
    ],
    version: 1,
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

export function registrationRecord(tenantId: string, overrides: Partial<AppRegistrationRecord> = {}): AppRegistrationRecord {
  return {
    tenantId,
    id: randomUUID(),
    userId: randomUUID(),
    upn: 'alice@contoso.com',
    appId: 'com.microsoft.edge',
    appVersion: '1.0.0',
    sdkVersion: '0.1.0',
    osVersion: '10.0.22631.2861',
    deviceName: 'DESKTOP-ALICE',
    deviceModel: 'Surface Laptop 5',
    deviceManufacturer: 'Microsoft',
    deviceTag: randomUUID(),
    azureAdDeviceId: randomUUID(),
    azureAdDeviceIdVerified: true,
    clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a',
    createdAt: T0,
    lastCheckInAt: T0,
    appliedPolicyId: null,
    appliedPolicyVersion: null,
    reportedFailures: [],
    complianceState: 'unknown',
    complianceReasons: [],
    complianceChangedAt: T0,
    state: 'active',
    ...overrides,
  };
}

export function operationRecord(registration: AppRegistrationRecord, overrides: Partial<AppOperationRecord> = {}): AppOperationRecord {
  return {
    tenantId: registration.tenantId,
    id: randomUUID(),
    registrationId: registration.id,
    userId: registration.userId,
    kind: 'wipe',
    reason: 'deviceTag',
    status: 'pending',
    detail: null,
    createdAt: T0,
    completedAt: null,
    expiresAt: T0 + 94 * DAY,
    ...overrides,
  };
}

export function connectorRecord(tenantId: string, overrides: Partial<MtdConnectorRecord> = {}): MtdConnectorRecord {
  return {
    tenantId,
    id: randomUUID(),
    partnerState: 'enabled',
    lastHeartbeatAt: null,
    windowsMobileApplicationManagementEnabled: true,
    windowsDeviceBlockedOnMissingPartnerData: false,
    partnerUnsupportedOsVersionBlocked: false,
    partnerUnresponsivenessThresholdInDays: 7,
    graphExtras: {},
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function threatReportRecord(connector: MtdConnectorRecord, overrides: Partial<ThreatReportRecord> = {}): ThreatReportRecord {
  return {
    tenantId: connector.tenantId,
    connectorId: connector.id,
    userId: randomUUID(),
    appId: 'com.microsoft.edge',
    azureAdDeviceId: randomUUID(),
    healthState: 'low',
    reportedAt: T0,
    receivedAt: T0 + 1,
    ...overrides,
  };
}

export function accessPolicyRecord(tenantId: string, overrides: Partial<AccessPolicyRecord> = {}): AccessPolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName: 'Require approved apps for the intranet',
    state: 'enabled',
    resources: ['intranet', '00000003-0000-0ff1-ce00-000000000000'],
    includeGroups: ['g-1', 'g-2'],
    excludeGroups: [],
    includeAllUsers: false,
    approvedApps: ['com.microsoft.edge'],
    grantControls: ['approvedApplication', 'compliantApplication'],
    graphExtras: {},
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function managedAppRecord(tenantId: string, overrides: Partial<ManagedAppCatalogueRecord> = {}): ManagedAppCatalogueRecord {
  return {
    tenantId,
    id: randomUUID(),
    displayName: 'Contoso Notes',
    windowsAppId: `com.contoso.${randomUUID().slice(0, 8)}`,
    clientIds: [randomUUID()],
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function servicePrincipalRecord(tenantId: string, overrides: Partial<ServicePrincipalRecord> = {}): ServicePrincipalRecord {
  const appId = overrides.appId ?? randomUUID();
  return { tenantId, id: randomUUID(), appId, displayName: 'Exchange', servicePrincipalNames: [appId], graphExtras: {}, version: 1, createdAt: T0, updatedAt: T0, ...overrides };
}
