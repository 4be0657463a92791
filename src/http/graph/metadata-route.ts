import type { FastifyInstance } from 'fastify';
import { graphMetadata, type GraphVersion, type ServedCollection, type ServedOperation } from '../../core/graph-metadata.ts';

/**
 * `$metadata` of a version root (OData v4.01 Part 2 §10.1 "Metadata URL"), whose entity container lists the
 * collections `collectionRoute` recorded in this scope: the document cannot name a collection that is not served,
 * nor miss one that is. Served without a token, as Graph serves it: it describes the public schema, no tenant data.
 */
declare module 'fastify' {
  interface FastifyInstance {
    /** Admin API: the collections served under this version root (decorated by `graphApi` on its scope). */
    readonly graphCollections: ServedCollection[];
    /** Admin API: the bound actions and functions served under this version root. */
    readonly graphOperations: ServedOperation[];
  }
}

export const METADATA_PATH = '/$metadata';

export function metadataRoute(scope: FastifyInstance, version: GraphVersion): void {
  scope.decorate('graphCollections', []);
  scope.decorate('graphOperations', []);
  // Built on the first request, when every route of the scope is registered; it never changes afterwards.
  let document: string | undefined;
  // `security: []` tells the OpenAPI document that no bearer token is needed here.
  scope.get(METADATA_PATH, { config: { access: 'anonymous', odata: [] }, schema: { security: [], response: { 200: { type: 'string', description: 'OData CSDL XML (application/xml)' } } } }, async (_request, reply) => {
    document ??= graphMetadata(version, scope.graphCollections, scope.graphOperations);
    return reply.type('application/xml').send(document);
  });
}

/** Records a collection served in this scope (called by `collectionRoute`). */
export function recordCollection(scope: FastifyInstance, collection: ServedCollection): void {
  if (!scope.hasDecorator('graphCollections')) throw new Error(`${collection.path}: a collection is served outside a Graph version root`);
  scope.graphCollections.push(collection);
}

/** Records a bound action or function served in this scope, for `$metadata`. */
export function recordOperation(scope: FastifyInstance, operation: ServedOperation): void {
  if (!scope.hasDecorator('graphOperations')) throw new Error(`${operation.name}: an operation is served outside a Graph version root`);
  scope.graphOperations.push(operation);
}
