import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import type { ExpectedVersion } from '../../core/versioned-write.ts';
import type { AuditActivity, AuditContext } from '../../core/audit/audit-trail.ts';
import { expectedVersion } from './etag.ts';
import { collectionRoute, type CollectionSpec } from './collection-routes.ts';
import { recordCollection } from './metadata-route.ts';
import { auditContextOf, collection } from './graph-api.ts';
import { CollectionBody, ERROR_RESPONSES, GuidParams, NO_CONTENT_RESPONSES, OpenObject } from './schemas.ts';
import type { SkipTokens } from './skip-token.ts';

/**
 * The one route factory of the admin API's entity collections: from a resource's declaration, its collection GET
 * (the Graph layer's OData query and keyset pages, collection-routes.ts), and GET, POST, PATCH and DELETE of one
 * entity as Graph answers them (learn.microsoft.com/graph/use-the-api: 201 with `Location` and the entity, 200 with
 * the entity, 204). The bodies are read by the services' models, which name the field they refuse; answers carry
 * `@odata.context`, and `If-Match` conditions every write (etag.ts).
 */
export interface GraphResource<R extends { id: string }> {
  /** Under the version root, e.g. `deviceManagement/mobileThreatDefenseConnectors`. */
  readonly path: string;
  /** The response schema of one entity: an answer carries nothing it does not list. */
  readonly entity: TSchema;
  /** The properties `$select` may name (the collection's and the entity's); any OData identifier when absent. */
  readonly selectable?: readonly string[];
  /**
   * The schema of a POST body when the route reads it itself (a closed object); by default any object, read by the
   * service's model, which names the field it refuses.
   */
  readonly createBody?: TSchema;
  /** Bodies larger than this are a 413 (Fastify's default is 1 MiB). */
  readonly bodyLimit?: number;
  /** The collection's GET, on the Graph layer (OData options, keyset pages); its path and presenter are this resource's. */
  readonly collection: Omit<CollectionSpec<R>, 'path' | 'present' | 'entity'> | { readonly entityType: string; readonly listAll: (tenantId: string) => Promise<R[]> };
  /** The records as Graph entities, in order (one call per page or entity: presenters may batch their reads). */
  readonly present: (records: readonly R[], tenantId: string) => Promise<Record<string, unknown>[]> | Record<string, unknown>[];
  readonly get: (tenantId: string, id: string) => Promise<R>;
  /**
   * Where the audit trail files the resource's writes (core/audit): the area and the entity ("Create <entity>").
   * The writes take the request's AuditContext (who, which tenant, which request) in place of a tenant id.
   */
  readonly audit: Omit<AuditActivity, 'verb'>;
  readonly create?: (caller: AuditContext, body: object) => Promise<R>;
  readonly update?: (caller: AuditContext, id: string, patch: object, expected: ExpectedVersion) => Promise<R>;
  /**
   * What a PATCH answers: Intune's resources the entity (200), directory and identity objects nothing (204: e.g.
   * learn.microsoft.com/graph/api/conditionalaccesspolicy-update, /serviceprincipal-update). 200 by default.
   */
  readonly patchAnswer?: 'entity' | 'noContent';
  /** The schema of a PATCH body when the route reads it itself (a closed object), as `createBody`. */
  readonly updateBody?: TSchema;
  readonly delete?: (caller: AuditContext, id: string, expected: ExpectedVersion) => Promise<void>;
}

export interface ResourceContext {
  /** e.g. https://openmam.example/graph/beta */
  readonly baseUrl: string;
  readonly skipTokens: SkipTokens;
}

export function resourceRoutes<R extends { id: string }>(base: FastifyInstance, resource: GraphResource<R>, context: ResourceContext): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { path } = resource;
  const url = `/${path}`;
  const entityContext = `${context.baseUrl}/$metadata#${path}/$entity`;
  const presentOne = async (record: R, tenantId: string): Promise<Record<string, unknown>> => ({ '@odata.context': entityContext, ...(await resource.present([record], tenantId))[0]! });
  const response = { 200: resource.entity, 201: resource.entity, ...ERROR_RESPONSES };
  const bodyLimit = resource.bodyLimit === undefined ? {} : { bodyLimit: resource.bodyLimit };

  if ('listAll' in resource.collection) {
    const { listAll, entityType } = resource.collection;
    // A bounded list answered whole (no query options but $select): declared in $metadata all the same.
    recordCollection(app, { path, entityType });
    app.get(url, { schema: { response: { 200: CollectionBody(resource.entity), ...ERROR_RESPONSES } } }, async (request) => {
      const { tenantId } = request.caller;
      return collection(`${context.baseUrl}/$metadata#${path}`, await resource.present(await listAll(tenantId), tenantId));
    });
  } else {
    const properties = resource.collection.properties ?? resource.selectable;
    collectionRoute<R>(app, { ...resource.collection, ...(properties === undefined ? {} : { properties }), path, entity: resource.entity, present: resource.present }, context);
  }
  const selectable = resource.selectable === undefined ? {} : { config: { selectable: resource.selectable } };
  app.get(`${url}/:id`, { ...selectable, schema: { params: GuidParams, response } }, async (request) => {
    const { tenantId } = request.caller;
    return presentOne(await resource.get(tenantId, request.params.id), tenantId);
  });
  const { create, update, delete: remove } = resource;
  const audited = (verb: string): { config: { audit: AuditActivity } } => ({ config: { audit: { ...resource.audit, verb } } });
  if (create !== undefined) {
    app.post(url, { ...bodyLimit, ...audited('Create'), schema: { body: resource.createBody ?? OpenObject, response } }, async (request, reply) => {
      const { tenantId } = request.caller;
      const created = await create(auditContextOf(request), request.body as object);
      return reply.code(201).header('location', `${context.baseUrl}${url}/${created.id}`).send(await presentOne(created, tenantId));
    });
  }
  if (update !== undefined) {
    if (resource.patchAnswer === 'noContent') {
      app.patch(`${url}/:id`, { ...bodyLimit, ...audited('Patch'), schema: { params: GuidParams, body: resource.updateBody ?? OpenObject, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
        const { tenantId } = request.caller;
        const updated = await presentOne(await update(auditContextOf(request), request.params.id, request.body as object, expectedVersion(request)), tenantId);
        // No body, but the entity tag of what was written, for the next If-Match.
        const tag = updated['@odata.etag'];
        if (typeof tag === 'string') void reply.header('etag', tag);
        return reply.code(204).send(null);
      });
    } else {
      app.patch(`${url}/:id`, { ...bodyLimit, ...audited('Patch'), schema: { params: GuidParams, body: resource.updateBody ?? OpenObject, response } }, async (request) => {
        const { tenantId } = request.caller;
        return presentOne(await update(auditContextOf(request), request.params.id, request.body as object, expectedVersion(request)), tenantId);
      });
    }
  }
  if (remove !== undefined) {
    app.delete(`${url}/:id`, { ...audited('Delete'), schema: { params: GuidParams, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
      await remove(auditContextOf(request), request.params.id, expectedVersion(request));
      return reply.code(204).send(null);
    });
  }
}

/** A service with Graph's get, create, PATCH and delete (bound: the factory calls them detached). */
export function entityOperations<R extends { id: string }>(service: {
  get(tenantId: string, id: string): Promise<R>;
  create(caller: AuditContext, input: unknown): Promise<R>;
  update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion): Promise<R>;
  delete(caller: AuditContext, id: string, expected: ExpectedVersion): Promise<void>;
}): Pick<GraphResource<R>, 'get' | 'create' | 'update' | 'delete'> {
  return {
    get: (tenantId, id) => service.get(tenantId, id),
    create: (caller, body) => service.create(caller, body),
    update: (caller, id, patch, expected) => service.update(caller, id, patch, expected),
    delete: (caller, id, expected) => service.delete(caller, id, expected),
  };
}
