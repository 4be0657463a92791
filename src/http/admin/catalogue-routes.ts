import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, OpenObject } from '../graph/schemas.ts';
import { isBuiltInManagedApp } from '../../core/app-protection/app-catalogue.ts';
import type { ManagedAppCatalogueService } from '../../core/app-protection/managed-app-catalogue.ts';
import type { ServicePrincipalService } from '../../core/app-protection/service-principals.ts';
import type { ExpectedVersion } from '../../core/versioned-write.ts';
import type { ManagedAppCatalogueRecord, ServicePrincipalRecord } from '../../store/app-protection-records.ts';
import { etagAnnotation, expectedVersion } from './etag.ts';
import { collection } from '../graph/graph-api.ts';
import { SERVICE_PRINCIPALS } from '../../store/collections.ts';
import { collectionRoute, type CollectionSpec } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';

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

/** Graph `servicePrincipal`, reduced to what OpenMAM keeps. */
const ServicePrincipal = EntityBody({ id: Type.String(), appId: Type.String(), displayName: Type.String(), servicePrincipalNames: Type.Array(Type.String()) });

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

function presentServicePrincipal(principal: ServicePrincipalRecord): Static<typeof ServicePrincipal> {
  return {
    '@odata.type': '#microsoft.graph.servicePrincipal',
    ...etagAnnotation(principal.version),
    id: principal.id,
    appId: principal.appId,
    displayName: principal.displayName,
    servicePrincipalNames: [...principal.servicePrincipalNames],
  };
}

/**
 * The five routes of one collection over a service with Graph's list/create/get/PATCH/delete. With `collection`, the
 * list is the Graph layer's (OData query, keyset pages); without, the whole list in one answer.
 */
function crudRoutes<R extends { id: string }>(
  base: FastifyInstance,
  options: {
    baseUrl: string;
    path: string;
    entity: TSchema;
    present: (record: R) => object;
    collection?: { spec: Omit<CollectionSpec<R>, 'path' | 'present'>; skipTokens: SkipTokens };
  },
  service: {
    list(tenantId: string): Promise<R[]>;
    get(tenantId: string, id: string): Promise<R>;
    create(tenantId: string, input: unknown): Promise<R>;
    update(tenantId: string, id: string, patch: unknown, expected: ExpectedVersion): Promise<R>;
    delete(tenantId: string, id: string, expected: ExpectedVersion): Promise<void>;
  },
): void {
  const { baseUrl, path, entity, present } = options;
  const response = { 200: entity, 201: entity, ...ERROR_RESPONSES };
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const url = `/${path}`;
  // The entities' bodies are read by their models (core/app-protection), which name the field they refuse.
  if (options.collection) {
    const spec: CollectionSpec<R> = { ...options.collection.spec, path, present: (page) => page.map((r) => present(r) as Record<string, unknown>) };
    collectionRoute(app, spec, { baseUrl, skipTokens: options.collection.skipTokens });
  } else {
    app.get(url, { schema: { response: { 200: CollectionBody(entity), ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      return collection(`${baseUrl}/$metadata#${path}`, (await service.list(caller.tenantId)).map(present));
    });
  }
  app.post(url, { schema: { body: OpenObject, response } }, async (request, reply) => {
    const { caller } = request;
    const created = await service.create(caller.tenantId, request.body);
    return reply.code(201).header('location', `${baseUrl}${url}/${created.id}`).send(present(created));
  });
  app.get(`${url}/:id`, { schema: { params: GuidParams, response } }, async (request) => {
    const { caller } = request;
    return present(await service.get(caller.tenantId, request.params.id));
  });
  app.patch(`${url}/:id`, { schema: { params: GuidParams, body: OpenObject, response } }, async (request) => {
    const { caller } = request;
    return present(await service.update(caller.tenantId, request.params.id, request.body, expectedVersion(request)));
  });
  app.delete(`${url}/:id`, { schema: { params: GuidParams } }, async (request, reply) => {
    const { caller } = request;
    await service.delete(caller.tenantId, request.params.id, expectedVersion(request));
    return reply.code(204).send();
  });
}

export async function catalogueRoutes(app: FastifyInstance, options: CatalogueRoutesOptions): Promise<void> {
  const { baseUrl } = options;
  // servicePrincipals are in v1.0 and beta, as in Graph; the catalogue is OpenMAM's own, beta only.
  const principals = options.servicePrincipals;
  crudRoutes(
    app,
    {
      baseUrl,
      path: SERVICE_PRINCIPALS_PATH,
      entity: ServicePrincipal,
      present: presentServicePrincipal,
      collection: {
        spec: {
          entityType: 'servicePrincipal',
          fields: SERVICE_PRINCIPALS.fields,
          properties: ['id', 'appId', 'displayName', 'servicePrincipalNames'],
          navigations: [],
          defaultOrder: [{ field: 'displayName', descending: false }],
          pageSize: 100,
          maxPageSize: 999,
          countNeedsConsistencyLevel: true,
          list: (tenantId, query) => principals.query(tenantId, query),
        },
        skipTokens: options.skipTokens,
      },
    },
    principals,
  );
  if (options.version !== 'beta') return;
  crudRoutes(app, { baseUrl, path: MANAGED_APPS_PATH, entity: ManagedApp, present: presentManagedApp }, options.managedApps);
}
