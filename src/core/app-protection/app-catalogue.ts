import { audienceForms } from '../../identity/token-validator.ts';
import type { ManagedAppCatalogueRecord, ServicePrincipalRecord } from '../../store/app-protection-records.ts';

/**
 * Who a token's client is, and which resource a token is for: the tenant's managed app catalogue (built-in entries for
 * Microsoft's Windows MAM apps, then the admin's) and its service principals, indexed once per tenant snapshot so that
 * an access decision resolves both with a map lookup.
 */

/**
 * Microsoft's Windows MAM apps, read-only in every tenant. Client ids are the first-party application ids Entra shows
 * in sign-in logs for these apps: "Verify first-party Microsoft applications in sign-in reports"
 * (learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in). Microsoft Edge is the
 * app Intune supports for Windows MAM ("Data protection for Windows MAM", learn.microsoft.com/mem/intune/apps/
 * protect-mam-windows); its windowsAppId is the one Intune's Windows app protection policies target.
 */
export const MICROSOFT_EDGE_CLIENT_ID = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';

export const BUILT_IN_MANAGED_APPS: readonly Omit<ManagedAppCatalogueRecord, 'tenantId'>[] = [
  {
    id: 'builtin-microsoft-edge',
    displayName: 'Microsoft Edge',
    windowsAppId: 'com.microsoft.edge',
    clientIds: [MICROSOFT_EDGE_CLIENT_ID, 'e9c51622-460d-4d3d-952d-966a5b1da34c'],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  },
];

export function isBuiltInManagedApp(id: string): boolean {
  return BUILT_IN_MANAGED_APPS.some((app) => app.id === id);
}

/** The built-in entries as a tenant's records. */
export function builtInManagedApps(tenantId: string): ManagedAppCatalogueRecord[] {
  return BUILT_IN_MANAGED_APPS.map((app) => ({ ...app, clientIds: [...app.clientIds], tenantId }));
}

export class AppCatalogue {
  readonly #byClientId = new Map<string, ManagedAppCatalogueRecord>();
  readonly #byWindowsAppId = new Map<string, ManagedAppCatalogueRecord>();
  readonly #byAudience = new Map<string, ServicePrincipalRecord>();
  readonly #audiences = new Map<ServicePrincipalRecord, readonly string[]>();

  constructor(tenantId: string, apps: readonly ManagedAppCatalogueRecord[], principals: readonly ServicePrincipalRecord[]) {
    for (const app of [...builtInManagedApps(tenantId), ...apps]) {
      this.#byWindowsAppId.set(app.windowsAppId, app);
      for (const clientId of app.clientIds) this.#byClientId.set(clientId, app);
    }
    for (const principal of principals) {
      this.#byAudience.set(principal.appId, principal);
      for (const name of principal.servicePrincipalNames) this.#byAudience.set(name.toLowerCase(), principal);
      this.#audiences.set(principal, [...new Set([principal.appId, ...principal.servicePrincipalNames].flatMap(audienceForms))]);
    }
  }

  /** The managed app a token's client id (`azp`/`appid`) speaks for; undefined for a client not in the catalogue. */
  appOfClient(clientId: string | undefined): ManagedAppCatalogueRecord | undefined {
    return clientId === undefined ? undefined : this.#byClientId.get(clientId.toLowerCase());
  }

  appOf(windowsAppId: string): ManagedAppCatalogueRecord | undefined {
    return this.#byWindowsAppId.get(windowsAppId.toLowerCase());
  }

  /** A resource named by its application id or by one of its audiences (servicePrincipalNames). */
  resource(name: string): ServicePrincipalRecord | undefined {
    return this.#byAudience.get(name.toLowerCase());
  }

  /** The audiences a user token for `resource` may carry: its appId and servicePrincipalNames (v1 URIs with or without the trailing slash). */
  audiencesOf(resource: ServicePrincipalRecord): readonly string[] {
    return this.#audiences.get(resource) ?? [];
  }
}
