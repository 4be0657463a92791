import type { FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import { CollectionBody, ERROR_RESPONSES } from './schemas.ts';
import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import { readCollectionOptions, type CollectionOptionsSpec } from './odata.ts';
import { recordCollection } from './metadata-route.ts';
import type { SkipTokens } from './skip-token.ts';

/**
 * The GET of a collection, as Graph serves it (learn.microsoft.com/graph/query-parameters, /graph/paging):
 * `$filter`, `$orderby`, `$top`, `$skip`, `$count`, `$select`, `$expand` checked against the collection's
 * declaration, one page read by the store (keyset paging, O(page) however deep), `@odata.count` when asked, and
 * `@odata.nextLink` with a signed `$skiptoken` while more rows follow.
 */
export interface CollectionSpec<Entity> extends CollectionOptionsSpec {
  /** Under the version root, e.g. `groups` or `deviceManagement/deviceConfigurations`. */
  readonly path: string;
  /** The Graph entity type of the collection's members (their base type), as `$metadata` declares it. */
  readonly entityType: string;
  /** The response schema of one member, expanded navigations included: a page carries nothing it does not list. */
  readonly entity: TSchema;
  readonly list: (tenantId: string, query: CollectionQuery) => Promise<CollectionPage<Entity>>;
  /** The page's entities as Graph entities, in order (one call per page: presenters may batch their reads). */
  readonly present: (entities: readonly Entity[], tenantId: string) => Promise<Record<string, unknown>[]> | Record<string, unknown>[];
  /** Per navigation `$expand` may name: its value for each entity of the page, in order. */
  readonly expand?: Readonly<Record<string, (entities: readonly Entity[], tenantId: string) => Promise<unknown[]> | unknown[]>>;
}

/** The query options a collection route reads. */
export const COLLECTION_QUERY_OPTIONS = ['$filter', '$select', '$expand', '$orderby', '$top', '$skip', '$count', '$skiptoken'];

export function collectionRoute<Entity>(app: FastifyInstance, spec: CollectionSpec<Entity>, context: { baseUrl: string; skipTokens: SkipTokens }): void {
  // A declaration mistake fails at start-up, not as a 500 on the first list.
  for (const key of spec.defaultOrder) if (!Object.hasOwn(spec.fields, key.field)) throw new Error(`${spec.path}: the default order names ${key.field}, which is not a field`);
  for (const navigation of spec.navigations) if (spec.expand?.[navigation] === undefined) throw new Error(`${spec.path}: ${navigation} is a navigation without an expansion`);
  recordCollection(app, { path: spec.path, entityType: spec.entityType });
  app.get(`/${spec.path}`, { config: { odata: COLLECTION_QUERY_OPTIONS }, schema: { response: { 200: CollectionBody(spec.entity), ...ERROR_RESPONSES } } }, async (request) => {
    const { tenantId } = request.caller;
    const options = readCollectionOptions(request.query, request.headers, spec);
    // A token is good only for the query it was issued for: same tenant, collection, filter and order.
    const binding = JSON.stringify([tenantId, spec.path, options.filter ?? null, options.orderBy]);
    const after = options.skipToken === undefined ? undefined : await context.skipTokens.read(binding, options.skipToken);
    const page = await spec.list(tenantId, {
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      orderBy: options.orderBy,
      top: options.top,
      skip: options.skip,
      count: options.count,
      ...(after === undefined ? {} : { after }),
    });
    const value = await spec.present(page.rows, tenantId);
    for (const navigation of options.expand) {
      const expanded = await spec.expand![navigation]!(page.rows, tenantId);
      value.forEach((entity, i) => (entity[navigation] = expanded[i]));
    }
    const body: Record<string, unknown> = { '@odata.context': `${context.baseUrl}/$metadata#${spec.path}` };
    if (page.count !== undefined) body['@odata.count'] = page.count;
    body['value'] = value;
    if (page.next !== undefined) {
      const kept = [...options.given].filter(([name]) => name !== '$skip' && name !== '$skiptoken' && name !== '$count');
      const parameters = [...kept.map(([name, text]) => `${name}=${encodeURIComponent(text)}`), `$skiptoken=${await context.skipTokens.issue(binding, page.next)}`];
      body['@odata.nextLink'] = `${context.baseUrl}/${spec.path}?${parameters.join('&')}`;
    }
    return body;
  });
}
