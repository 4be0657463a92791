import type { FastifyInstance } from 'fastify';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyService } from '../../core/policies.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import type { TenantSettingsService } from '../../core/tenant-settings.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import type { EnrollmentStore, GroupStore, ManagementStore } from '../../store/roles.ts';
import { appProtectionRoutes, type AppProtectionRoutesOptions } from './app-protection-routes.ts';
import { catalogueRoutes, type CatalogueRoutesOptions } from './catalogue-routes.ts';
import { deviceRoutes } from './device-routes.ts';
import { entityTagHeaders } from './etag.ts';
import { graphErrorHandler } from './graph.ts';
import { groupRoutes } from './group-routes.ts';
import { policyRoutes } from './policy-routes.ts';
import { tenantSettingsRoutes } from './tenant-settings-routes.ts';
import { wipToolsRoutes } from './wip-tools-routes.ts';

export interface AdminRoutesOptions {
  verifier: TokenVerifier;
  policies: PolicyService;
  statuses: PolicyStatusService;
  groups: GroupStore;
  devices: Pick<EnrollmentStore, 'listEnrollments' | 'getEnrollment'> & Pick<ManagementStore, 'getManagedDevice'>;
  wipLogs: WipLogService;
  tenantSettings: Pick<TenantSettingsService, 'get' | 'update'>;
  /** App protection and configuration policies, threat defense connectors, access policies. */
  appProtection: Pick<AppProtectionRoutesOptions, 'appPolicies' | 'connectors' | 'accessPolicies'>;
  /** The managed app catalogue and service principals. */
  catalogue: Pick<CatalogueRoutesOptions, 'managedApps' | 'servicePrincipals'>;
  newId: () => string;
  clock: () => number;
  publicUrl: string;
}

/** The Graph-shaped admin API, under /graph/beta and /graph/v1.0 (Graph has every resource here in both). */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  for (const version of ['beta', 'v1.0']) {
    await app.register(
      async (scope) => {
        scope.setErrorHandler(graphErrorHandler);
        entityTagHeaders(scope);
        const baseUrl = `${options.publicUrl}/graph/${version}`;
        await scope.register(policyRoutes, { verifier: options.verifier, policies: options.policies, statuses: options.statuses, baseUrl });
        await scope.register(wipToolsRoutes, { verifier: options.verifier, policies: options.policies });
        await scope.register(deviceRoutes, { verifier: options.verifier, store: options.devices, wipLogs: options.wipLogs, statuses: options.statuses, baseUrl });
        await scope.register(groupRoutes, { verifier: options.verifier, groups: options.groups, newId: options.newId, clock: options.clock, baseUrl });
        await scope.register(tenantSettingsRoutes, { verifier: options.verifier, tenantSettings: options.tenantSettings, baseUrl });
        await scope.register(appProtectionRoutes, { verifier: options.verifier, ...options.appProtection, clock: options.clock, baseUrl, version });
        await scope.register(catalogueRoutes, { verifier: options.verifier, ...options.catalogue, baseUrl, version });
      },
      { prefix: `/graph/${version}` },
    );
  }
}
