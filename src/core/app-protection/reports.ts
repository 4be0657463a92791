import type { CollectionPage, CollectionQuery, FieldValue } from '../../store/collection-query.ts';
import { OpenMamError } from '../../errors.ts';
import type { AppOperationRecord, AppPolicyRecord, AppRegistrationRecord, RegistrationSummary } from '../../store/app-protection-records.ts';
import type { AppOperationStore, AppProtectionRetention, AppRegistrationStore, ThreatStore } from '../../store/app-protection-roles.ts';
import { appFilterContext, intendedPolicies } from './targeting.ts';
import type { TenantAppSnapshots } from './tenant-snapshot.ts';

/**
 * What admins see of managed apps: registrations with their applied and intended policies and operations, and the
 * app protection status report (one row per user + app + device, kept 90 days after the app's last check-in).
 */
export const REGISTRATION_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** Reports are one row per user, device, app and connector: a bound well above any report's registrations. */
const MAX_THREAT_REPORTS = 100_000;

export interface RegistrationFilter {
  userId?: string;
  appId?: string;
  deviceTag?: string;
  azureAdDeviceId?: string;
}

export interface StatusRow {
  userId: string;
  userPrincipalName: string | null;
  appId: string;
  appVersion: string;
  sdkVersion: string;
  platformVersion: string;
  deviceName: string | null;
  deviceModel: string | null;
  deviceManufacturer: string | null;
  deviceTag: string;
  azureADDeviceId: string | null;
  managementLevel: 'unmanaged';
  policyId: string | null;
  policyName: string | null;
  lastCheckInDateTime: string;
  complianceState: string;
  complianceReasons: string[];
  /** The latest threat defense state of the device, when a connector reported one. */
  deviceHealth: string | null;
  registrationState: string;
}

export class AppReportService {
  constructor(
    private readonly store: AppRegistrationStore & AppOperationStore & ThreatStore & AppProtectionRetention,
    private readonly snapshots: TenantAppSnapshots,
  ) {}

  queryRegistrations(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AppRegistrationRecord>> {
    return this.store.queryRegistrations(tenantId, query);
  }

  listRegistrations(tenantId: string, filter: RegistrationFilter, limit: number): Promise<AppRegistrationRecord[]> {
    return this.store.listRegistrations(tenantId, { ...filter, includeWiped: true }, limit);
  }

  async getRegistration(tenantId: string, id: string): Promise<AppRegistrationRecord> {
    const registration = await this.store.getRegistration(id);
    if (!registration || registration.tenantId !== tenantId) throw new OpenMamError('not_found', `no managedAppRegistration with id ${id}`);
    return registration;
  }

  /** The protection policy the app confirmed holding at its last check-in. */
  async appliedPolicies(tenantId: string, id: string): Promise<AppPolicyRecord[]> {
    const registration = await this.getRegistration(tenantId, id);
    const snapshot = await this.snapshots.get(tenantId);
    return snapshot.policies.filter((p) => p.id === registration.appliedPolicyId);
  }

  /** What the admin intends now for the user and app (group memberships the admin set; token groups add at check-in). */
  async intendedPolicies(tenantId: string, id: string): Promise<AppPolicyRecord[]> {
    const registration = await this.getRegistration(tenantId, id);
    const snapshot = await this.snapshots.get(tenantId);
    const groups = await this.snapshots.groupsOf(tenantId, registration.userId, []);
    const intended = intendedPolicies(snapshot.policies, groups, registration.appId, appFilterContext(snapshot.appFilters, registration));
    return [...intended.protectionCandidates, ...intended.configurations];
  }

  async operations(tenantId: string, id: string): Promise<AppOperationRecord[]> {
    await this.getRegistration(tenantId, id);
    return this.store.listOperations(id);
  }

  /** One page of the status report: a row per registration (wiped ones included), in creation order. */
  async statusReport(tenantId: string, page: { top: number; after?: readonly FieldValue[] }): Promise<{ rows: StatusRow[]; next?: readonly FieldValue[] }> {
    const [registrations, snapshot, reports] = await Promise.all([
      this.store.queryRegistrations(tenantId, { orderBy: [{ field: 'createdDateTime', descending: false }], top: page.top, skip: 0, count: false, ...(page.after ? { after: page.after } : {}) }),
      this.snapshots.get(tenantId),
      this.store.listThreatReports(tenantId, MAX_THREAT_REPORTS),
    ]);
    const names = new Map(snapshot.policies.map((p) => [p.id, String(p.body['displayName'] ?? p.id)]));
    // The newest report per user and device (reports come newest first): one read for the whole report.
    const deviceHealth = new Map<string, string>();
    for (const report of reports) {
      const key = `${report.userId}|${report.azureAdDeviceId}`;
      if (!deviceHealth.has(key)) deviceHealth.set(key, report.healthState);
    }
    const rows = registrations.rows.map(
      (r): StatusRow => ({
        userId: r.userId,
        userPrincipalName: r.upn,
        appId: r.appId,
        appVersion: r.appVersion,
        sdkVersion: r.sdkVersion,
        platformVersion: r.osVersion,
        deviceName: r.deviceName,
        deviceModel: r.deviceModel,
        deviceManufacturer: r.deviceManufacturer,
        deviceTag: r.deviceTag,
        azureADDeviceId: r.azureAdDeviceId,
        managementLevel: 'unmanaged',
        policyId: r.appliedPolicyId,
        policyName: r.appliedPolicyId === null ? null : (names.get(r.appliedPolicyId) ?? null),
        lastCheckInDateTime: new Date(r.lastCheckInAt).toISOString(),
        complianceState: r.complianceState,
        complianceReasons: r.complianceReasons,
        deviceHealth: r.azureAdDeviceId === null ? null : (deviceHealth.get(`${r.userId}|${r.azureAdDeviceId}`) ?? null),
        registrationState: r.state,
      }),
    );
    return { rows, ...(registrations.next === undefined ? {} : { next: registrations.next }) };
  }

  /**
   * The tenant at a glance (the console's Home): active registrations by compliance state, distinct users holding
   * each applied policy, pending wipes and devices by their newest threat level, as aggregates the store answers from
   * indexes (AppRegistrationStore.summarizeRegistrations), whatever the number of registrations.
   */
  summary(tenantId: string): Promise<RegistrationSummary> {
    return this.store.summarizeRegistrations(tenantId);
  }

  /** Drops expired operations and registrations silent for longer than the report retention. */
  purge(now: number): Promise<{ operations: number; registrations: number }> {
    return this.store.purgeAppProtection(now, now - REGISTRATION_RETENTION_MS);
  }
}
