import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { EntityBody, GraphTypeProperties, NotApplicableProperties } from '../graph/schemas.ts';
import { graphPropertyNames } from '../../core/graph-types.ts';
import { isBuiltInManagedApp } from '../../core/app-protection/app-catalogue.ts';
import type { ManagedAppCatalogueService } from '../../core/app-protection/managed-app-catalogue.ts';
import type { ServicePrincipalService } from '../../core/app-protection/service-principals.ts';
import type { ManagedAppCatalogueRecord, ServicePrincipalRecord } from '../../store/app-protection-records.ts';
import { etagAnnotation } from '../graph/etag.ts';
import { SERVICE_PRINCIPALS } from '../../store/collections.ts';
import { entityOperations, resourceRoutes } from '../graph/resource-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { MANAGED_APP_AUDIT } from '../../core/app-protection/managed-app-catalogue.ts';
import { SERVICE_PRINCIPAL_AUDIT } from '../../core/app-protection/service-principals.ts';

/**
 * Who speaks for which app, and what is protected (docs/app-protection.md "Managed app catalogue" and "Protected
 * resources"):
 * - beta `deviceAppManagement/openMamManagedApps` (OpenMAM's own type): list (built-in entries first), create, get,
 *   PATCH, delete; built-in entries are read-only (403);
 * - `servicePrincipals`, in beta and v1.0 as in Graph: list, create, get, PATCH, delete.
 * Readers (OpenMAM.Reader) read; writes need OpenMAM.Admin; another tenant's ids are 404; If-Match as everywhere.
 */
export interface CatalogueRoutesOptions {
  managedApps: ManagedAppCatalogueService;
  servicePrincipals: ServicePrincipalService;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
  version: string;
  skipTokens: SkipTokens;
}

const MANAGED_APPS_PATH = 'deviceAppManagement/openMamManagedApps';
const SERVICE_PRINCIPALS_PATH = 'servicePrincipals';

const iso = (time: number): string => new Date(time).toISOString();

/** OpenMAM's `openMamManagedApp` as presentManagedApp answers it. */
const ManagedApp = EntityBody({
  id: Type.String(),
  displayName: Type.String(),
  windowsAppId: Type.String(),
  clientIds: Type.Array(Type.String()),
  isBuiltIn: Type.Boolean(),
  createdDateTime: Type.String(),
  lastModifiedDateTime: Type.String(),
});

/** Graph `servicePrincipal`: every Graph property (the stored-only ones too), OpenMAM's typed. */
const ServicePrincipal = EntityBody({
  ...GraphTypeProperties('servicePrincipal'),
  id: Type.String(),
  appId: Type.String(),
  displayName: Type.String(),
  servicePrincipalNames: Type.Array(Type.String()),
  ...NotApplicableProperties,
});

function presentManagedApp(app: ManagedAppCatalogueRecord): Static<typeof ManagedApp> {
  return {
    '@odata.type': '#microsoft.graph.openMamManagedApp',
    ...etagAnnotation(app.version),
    id: app.id,
    displayName: app.displayName,
    windowsAppId: app.windowsAppId,
    clientIds: [...app.clientIds],
    isBuiltIn: isBuiltInManagedApp(app.id),
    createdDateTime: iso(app.createdAt),
    lastModifiedDateTime: iso(app.updatedAt),
  };
}

/** `notApplicable`: the paths of the stored-only properties the service principal has set (ServicePrincipalService). */
function presentServicePrincipal(principal: ServicePrincipalRecord, notApplicable: readonly string[]): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.servicePrincipal',
    ...etagAnnotation(principal.version),
    id: principal.id,
    // Stored only (tags, notes, accountEnabled, ...): before what OpenMAM keeps, which a stored value never replaces.
    ...principal.graphExtras,
    appId: principal.appId,
    displayName: principal.displayName,
    servicePrincipalNames: [...principal.servicePrincipalNames],
    ...(notApplicable.length > 0 ? { '@openmam.notApplicableProperties': [...notApplicable] } : {}),
  };
}

export async function catalogueRoutes(app: FastifyInstance, options: CatalogueRoutesOptions): Promise<void> {
  const context = { baseUrl: options.baseUrl, skipTokens: options.skipTokens };
  // servicePrincipals are in v1.0 and beta, as in Graph; the catalogue is OpenMAM's own, beta only.
  const principals = options.servicePrincipals;
  resourceRoutes<ServicePrincipalRecord>(
    app,
    {
      path: SERVICE_PRINCIPALS_PATH,
      entity: ServicePrincipal,
      patchAnswer: 'noContent',
      collection: {
        entityType: 'servicePrincipal',
        fields: SERVICE_PRINCIPALS.fields,
        properties: [...new Set(['id', ...graphPropertyNames('servicePrincipal')])],
        navigations: [],
        defaultOrder: [{ field: 'displayName', descending: false }],
        pageSize: 100,
        maxPageSize: 999,
        countNeedsConsistencyLevel: true,
        list: (tenantId, query) => principals.query(tenantId, query),
      },
      present: (list) => list.map((principal) => presentServicePrincipal(principal, principals.notApplicableProperties(principal))),
      audit: SERVICE_PRINCIPAL_AUDIT,
      ...entityOperations(principals),
    },
    context,
  );
  if (options.version !== 'beta') return;
  const apps = options.managedApps;
  resourceRoutes<ManagedAppCatalogueRecord>(
    app,
    { path: MANAGED_APPS_PATH, entity: ManagedApp, collection: { entityType: 'openMamManagedApp', listAll: (tenantId) => apps.list(tenantId) }, present: (list) => list.map(presentManagedApp), audit: MANAGED_APP_AUDIT, ...entityOperations(apps) },
    context,
  );
}
