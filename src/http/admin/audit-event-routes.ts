import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditCategories } from '../../core/audit/audit-trail.ts';
import type { GraphVersion } from '../../core/graph-metadata.ts';
import { graphPropertyNames } from '../../core/graph-types.ts';
import type { AuditEventRecord, AuditStore } from '../../store/audit-records.ts';
import { AUDIT_EVENTS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { collection, GraphError } from '../graph/graph-api.ts';
import { recordOperation } from '../graph/metadata-route.ts';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';

/**
 * The audit trail as Intune's: Graph `deviceManagement/auditEvents` in v1.0 and beta (learn.microsoft.com/graph/api/
 * intune-auditing-auditevent-list), one trail answered in each version with that version's properties (v1.0's
 * auditActor and auditResource have fewer, graph-schema/audit.ts), newest first in keyset pages, filtered on the
 * fields of store/collections.ts AUDIT_EVENTS (`actor/userPrincipalName` among them), and `{id}`. Admin or Reader:
 * the Graph layer's `read` access (a token without either app role is a 403). Append-only: the collection and its
 * entities have no POST, PATCH or DELETE, which the Graph layer answers 405. The function `getAuditCategories()`
 * lists the categories events are filed under (core/audit AUDIT_AREAS), and `getAuditActivityTypes(category='...')`
 * the activity types of one, as the admin API's write routes declare them; both declared in `$metadata` as Graph
 * declares them, bound to the collection (graph.microsoft.com/{version}/$metadata, `Collection(graph.auditEvent)`).
 */
export interface AuditEventRoutesOptions {
  events: Pick<AuditStore, 'queryAuditEvents' | 'getAuditEvent'>;
  baseUrl: string;
  skipTokens: SkipTokens;
  version: GraphVersion;
}

const PATH = 'deviceManagement/auditEvents';
/** Page size when `$top` is absent, and the most a page holds (as the sign-in log's). */
const MAX_PAGE = 1000;

/** The properties an auditEvent answers (and `$select` may name): Graph's, every one, in both versions (graph-schema/audit.ts). */
const PROPERTIES = ['id', 'displayName', 'componentName', 'actor', 'activity', 'activityDateTime', 'activityType', 'activityOperationType', 'activityResult', 'correlationId', 'resources', 'category'] as const;

/** The named members of a record, in the order named (the allow-list of a Graph type in one version). */
function pick<T extends object>(record: T, names: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names) if (Object.hasOwn(record, name)) picked[name] = record[name as keyof T];
  return picked;
}

/**
 * The presenter of one version root: an event's actor and resources carry the properties the Graph tables declare for
 * the version (v1.0 without what is beta only, as its `$metadata` says), read once here rather than per request.
 */
export function auditEventPresenter(version: GraphVersion): (event: AuditEventRecord) => Record<(typeof PROPERTIES)[number], unknown> {
  const actorProperties = graphPropertyNames('auditActor', version);
  const resourceProperties = graphPropertyNames('auditResource', version);
  return (event) => ({
    id: event.id,
    displayName: event.displayName,
    componentName: event.componentName,
    actor: { '@odata.type': '#microsoft.graph.auditActor', ...pick(event.actor, actorProperties) },
    activity: event.activity,
    activityDateTime: new Date(event.activityDateTime).toISOString(),
    activityType: event.activityType,
    activityOperationType: event.activityOperationType,
    activityResult: event.activityResult,
    correlationId: event.correlationId,
    resources: event.resources.map((resource) => ({
      '@odata.type': '#microsoft.graph.auditResource',
      ...pick(resource, resourceProperties),
      modifiedProperties: resource.modifiedProperties.map((property) => ({ '@odata.type': '#microsoft.graph.auditProperty', ...property })),
    })),
    category: event.category,
  });
}

/** The response schema of an auditEvent: its properties, each as presentAuditEvent writes it. */
const AuditEvent = EntityBody(Object.fromEntries(PROPERTIES.map((name) => [name, Type.Unknown()])));

export async function auditEventRoutes(base: FastifyInstance, options: AuditEventRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { events, baseUrl } = options;
  const presentAuditEvent = auditEventPresenter(options.version);
  collectionRoute<AuditEventRecord>(
    app,
    {
      path: PATH,
      entityType: 'auditEvent',
      entity: AuditEvent,
      fields: AUDIT_EVENTS.fields,
      properties: PROPERTIES,
      navigations: [],
      // Newest first, on the index audit_events_page.
      defaultOrder: [{ field: 'activityDateTime', descending: true }],
      pageSize: MAX_PAGE,
      maxPageSize: MAX_PAGE,
      list: (tenantId, query) => events.queryAuditEvents(tenantId, query),
      present: (page) => page.map(presentAuditEvent),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );
  recordOperation(app, { kind: 'function', name: 'getAuditCategories', bindingType: 'auditEvent', boundToCollection: true, parameters: [], returns: { type: 'Edm.String', collection: true } });
  recordOperation(app, {
    kind: 'function',
    name: 'getAuditActivityTypes',
    bindingType: 'auditEvent',
    boundToCollection: true,
    parameters: [{ name: 'category', type: 'Edm.String' }],
    returns: { type: 'Edm.String', collection: true },
  });
  // Graph's function bound to the collection (`getAuditCategories()`, rewritten to a plain segment by graph-url.ts).
  app.get(`/${PATH}/getAuditCategories`, { config: { odata: [] }, schema: { response: { 200: CollectionBody(Type.String()), ...ERROR_RESPONSES } } }, async () => {
    return collection(`${baseUrl}/$metadata#Collection(Edm.String)`, auditCategories());
  });
  // Graph's `getAuditActivityTypes(category='...')` (its parameter a segment, graph-url.ts): the activity types the
  // write routes of this version root declare for the category (an unknown category has none), sorted.
  app.get(
    `/${PATH}/getAuditActivityTypes/:category`,
    { config: { odata: [] }, schema: { params: Type.Object({ category: Type.String({ maxLength: 256 }) }), response: { 200: CollectionBody(Type.String()), ...ERROR_RESPONSES } } },
    async (request) => {
      const wanted = request.params.category.toLowerCase();
      const types = [...base.auditActivityTypes].filter(([category]) => category.toLowerCase() === wanted).flatMap(([, names]) => [...names]);
      return collection(`${baseUrl}/$metadata#Collection(Edm.String)`, types.sort());
    },
  );
  app.get(`/${PATH}/:id`, { config: { selectable: PROPERTIES }, schema: { params: GuidParams, response: { 200: AuditEvent, ...ERROR_RESPONSES } } }, async (request) => {
    const event = await events.getAuditEvent(request.caller.tenantId, request.params.id.toLowerCase());
    if (event === undefined) throw new GraphError(404, 'ResourceNotFound', `No auditEvent with id ${request.params.id}.`);
    return { '@odata.context': `${baseUrl}/$metadata#${PATH}/$entity`, ...presentAuditEvent(event) };
  });
}
