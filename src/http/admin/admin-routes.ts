import type { FastifyInstance } from 'fastify';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyService } from '../../core/policies.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import type { TenantSettingsService } from '../../core/tenant-settings.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import type { SignInLog } from '../../core/app-protection/sign-in-log.ts';
import type { AppReportService } from '../../core/app-protection/reports.ts';
import type { SelectiveWipeService } from '../../core/app-protection/selective-wipe.ts';
import { appRegistrationRoutes } from './app-registration-routes.ts';
import { signInRoutes } from './sign-in-routes.ts';
import { activityRoutes } from './activity-routes.ts';
import { assignmentFilterRoutes } from './assignment-filter-routes.ts';
import type { AssignmentFilterService } from '../../core/assignment-filters.ts';
import type { ActivityStore, GroupStore, SecretStore, UserStore } from '../../store/roles.ts';
import { appProtectionRoutes, type AppProtectionRoutesOptions } from './app-protection-routes.ts';
import { catalogueRoutes, type CatalogueRoutesOptions } from './catalogue-routes.ts';
import { complianceRoutes, type ComplianceRoutesOptions } from './compliance-routes.ts';
import { deviceRoutes, type DeviceRoutesOptions } from './device-routes.ts';
import { deviceActionRoutes, type DeviceActionRoutesOptions } from './device-action-routes.ts';
import { healthAttestationRoutes, type HealthAttestationRoutesOptions } from './health-attestation-routes.ts';
import { entityTagHeaders } from '../graph/etag.ts';
import { graphApi, graphRootNotFound } from '../graph/graph-api.ts';
import { SkipTokens } from '../graph/skip-token.ts';
import { validationMessage } from '../app-protection/json-api.ts';
import { groupRoutes } from './group-routes.ts';
import { auditEventRoutes, type AuditEventRoutesOptions } from './audit-event-routes.ts';
import type { AuditTrail } from '../../core/audit/audit-trail.ts';
import type { GroupService } from '../../core/groups.ts';
import { policyRoutes } from './policy-routes.ts';
import { tenantSettingsRoutes } from './tenant-settings-routes.ts';
import { userRoutes, type UserRoutesOptions } from './user-routes.ts';
import { wipToolsRoutes } from './wip-tools-routes.ts';

export interface AdminRoutesOptions {
  verifier: TokenVerifier;
  policies: PolicyService;
  statuses: PolicyStatusService;
  groups: GroupStore;
  /** Group and membership changes, recorded in the audit trail. */
  groupChanges: GroupService;
  /** Records refused admin writes (successes are recorded by core in their own transactions). */
  audit: AuditTrail;
  /** The audit trail's reads (`deviceManagement/auditEvents`, v1.0 and beta). */
  auditEvents: AuditEventRoutesOptions['events'];
  devices: DeviceRoutesOptions['store'] & UserRoutesOptions['enrollments'] & DeviceActionRoutesOptions['devices'];
  /** Retire, wipe and syncDevice (core/management/device-actions.ts). */
  deviceActions: DeviceActionRoutesOptions['actions'];
  /** Switches a device's raw message log on and off (troubleshooting). */
  messageLog: DeviceRoutesOptions['messageLog'];
  /** The users seen in verified tokens or as group members. */
  users: Pick<UserStore, 'queryUsers' | 'getUser' | 'getUserByPrincipalName'>;
  wipLogs: WipLogService;
  /** Devices' health attestation (`managedDevices/{id}/openMamHealthAttestation`); absent: the route is not there. */
  healthAttestations?: HealthAttestationRoutesOptions['attestations'];
  tenantSettings: Pick<TenantSettingsService, 'get' | 'update'>;
  /** App protection and configuration policies, threat defense connectors, access policies. */
  appProtection: Pick<AppProtectionRoutesOptions, 'deploymentSummaries' | 'connectors' | 'accessPolicies'>;
  /** The managed app catalogue and service principals. */
  catalogue: Pick<CatalogueRoutesOptions, 'managedApps' | 'servicePrincipals'>;
  /** Managed app registrations, the status report and selective wipes. */
  reports: AppReportService;
  wipes: SelectiveWipeService;
  signIns: SignInLog;
  /** Per-tenant hourly activity (beta `deviceManagement/openMamActivityHours`). */
  activity: Pick<ActivityStore, 'queryActivityHours'>;
  /** Assignment filters (beta `deviceManagement/assignmentFilters`). */
  assignmentFilters: AssignmentFilterService;
  /** Keeps the key of `$skiptoken`s, shared by every node. */
  secrets: SecretStore;
  newId: () => string;
  clock: () => number;
  publicUrl: string;
  /** Device compliance reports (absent: not served). */
  compliance?: ComplianceRoutesOptions['reports'];
}

/** The Graph-shaped admin API, under /graph/beta and /graph/v1.0 (Graph has every resource here in both). */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const skipTokens = new SkipTokens(options.secrets);
  await app.register(async (root) => graphRootNotFound(root), { prefix: '/graph' });
  // One audit trail, read under both roots: an event written through a beta-only route (an assignment filter) is
  // listed in v1.0 too, so both roots' getAuditActivityTypes() answer the activity types of every write route.
  const auditActivityTypes = new Map<string, Set<string>>();
  for (const version of ['beta', 'v1.0'] as const) {
    await app.register(
      async (scope) => {
        graphApi(scope, { verifier: options.verifier, version, audit: options.audit, auditActivityTypes });
        // One refusal naming the field, as the app protection surfaces word it (an unknown property by its name).
        scope.setSchemaErrorFormatter((errors, dataVar) => new Error(validationMessage(errors, dataVar)));
        entityTagHeaders(scope);
        const baseUrl = `${options.publicUrl}/graph/${version}`;
        await scope.register(appRegistrationRoutes, { skipTokens, reports: options.reports, wipes: options.wipes, managedDevices: options.devices.devicePicture, baseUrl });
        await scope.register(signInRoutes, { signIns: options.signIns, baseUrl, skipTokens });
        if (version === 'beta') await scope.register(activityRoutes, { activity: options.activity, baseUrl, skipTokens });
        if (version === 'beta') await scope.register(assignmentFilterRoutes, { filters: options.assignmentFilters, baseUrl, skipTokens });
        await scope.register(policyRoutes, { skipTokens, policies: options.policies, statuses: options.statuses, baseUrl, version });
        await scope.register(wipToolsRoutes, { policies: options.policies });
        await scope.register(deviceRoutes, { store: options.devices, messageLog: options.messageLog, wipLogs: options.wipLogs, statuses: options.statuses, reports: options.reports, baseUrl, skipTokens });
        await scope.register(deviceActionRoutes, { actions: options.deviceActions, devices: options.devices, baseUrl, version, skipTokens });
        if (options.healthAttestations) await scope.register(healthAttestationRoutes, { enrollments: options.devices, attestations: options.healthAttestations, baseUrl });
        await scope.register(auditEventRoutes, { events: options.auditEvents, baseUrl, skipTokens, version });
        await scope.register(groupRoutes, { groups: options.groups, changes: options.groupChanges, skipTokens, newId: options.newId, clock: options.clock, baseUrl });
        await scope.register(userRoutes, { users: options.users, enrollments: options.devices, groups: options.groups, reports: options.reports, skipTokens, baseUrl });
        await scope.register(tenantSettingsRoutes, { tenantSettings: options.tenantSettings, baseUrl });
        await scope.register(appProtectionRoutes, { skipTokens, ...options.appProtection, policies: options.policies, clock: options.clock, baseUrl, version });
        await scope.register(catalogueRoutes, { ...options.catalogue, baseUrl, version, skipTokens });
        if (options.compliance !== undefined) await scope.register(complianceRoutes, { reports: options.compliance, baseUrl, skipTokens });
      },
      { prefix: `/graph/${version}` },
    );
  }
}
