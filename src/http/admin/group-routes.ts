import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { GROUPS } from '../../store/collections.ts';
import { resourceRoutes } from '../graph/resource-routes.ts';
import { CollectionBody, EntityAnnotations, ERROR_RESPONSES, GuidParams, IdString, SafeString, NO_CONTENT_RESPONSES } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { GroupRecord } from '../../store/records.ts';
import type { GroupStore } from '../../store/roles.ts';
import { GROUP_AUDIT, type GroupService } from '../../core/groups.ts';
import { auditContextOf, collection, GraphError } from '../graph/graph-api.ts';

/**
 * Graph `groups` with members (`/groups/{id}/members/$ref`). Membership here adds to the `groups` claim of a
 * user's token; a change is O(1) (one bump of the tenant's configuration version).
 */
export interface GroupRoutesOptions {
  /** Reads. */
  groups: GroupStore;
  /** Changes, each recorded in the audit trail. */
  changes: GroupService;
  newId: () => string;
  clock: () => number;
  baseUrl: string;
  skipTokens: SkipTokens;
}

/** Graph `group` as OpenMAM keeps it: security groups only (learn.microsoft.com/graph/api/resources/group). */
export const Group = Type.Object({
  ...EntityAnnotations,
  id: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  securityEnabled: Type.Optional(Type.Boolean()),
  mailEnabled: Type.Optional(Type.Boolean()),
  mailNickname: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  groupTypes: Type.Optional(Type.Array(Type.String())),
  createdDateTime: Type.Optional(Type.String()),
  members: Type.Optional(Type.Array(Type.Object({ '@odata.type': Type.String(), id: Type.String() }))),
});

/**
 * What a POST may say. OpenMAM's groups are security groups: `securityEnabled` true, `mailEnabled` false and no
 * `groupTypes`, as Graph's create-group example for a security group; `mailNickname`, which Graph requires, is
 * kept and shown (OpenMAM's groups have no mail).
 */
const NewGroup = Type.Object(
  {
    '@odata.type': Type.Optional(Type.Literal('#microsoft.graph.group')),
    displayName: SafeString({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.Union([SafeString({ maxLength: 1024 }), Type.Null()])),
    mailEnabled: Type.Optional(Type.Literal(false)),
    mailNickname: Type.Optional(SafeString({ maxLength: 64 })),
    securityEnabled: Type.Optional(Type.Literal(true)),
    groupTypes: Type.Optional(Type.Array(Type.String(), { maxItems: 0 })),
  },
  { additionalProperties: false },
);

/**
 * What a PATCH may change (learn.microsoft.com/graph/api/group-update): the name, description and mail nickname of a
 * security group; it stays one (securityEnabled true, mailEnabled false, no groupTypes).
 */
const GroupChange = Type.Partial(NewGroup, { additionalProperties: false });

const MemberRef = Type.Object({ '@odata.id': SafeString({ maxLength: 2048 }) }, { additionalProperties: false });

/** A group as Graph's `group` (also a user's `memberOf`, user-routes.ts). */
export function presentGroup(group: GroupRecord): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.group',
    id: group.id,
    displayName: group.displayName,
    description: group.description,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    mailNickname: group.mailNickname,
    createdDateTime: new Date(group.createdAt).toISOString(),
  };
}

/** `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}` -> the member's object id. */
function readMemberRef(body: Static<typeof MemberRef>): string {
  const ref = body['@odata.id'];
  const id = typeof ref === 'string' ? /\/(?:directoryObjects|users)\/([0-9a-fA-F-]{36})\/?$/.exec(ref)?.[1] : undefined;
  if (!id || !isGuid(id)) throw new OpenMamError('malformed_request', '@odata.id: must reference a directory object, e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}');
  return id.toLowerCase();
}

const GROUP_PROPERTIES = ['id', 'displayName', 'description', 'securityEnabled', 'mailEnabled', 'mailNickname', 'groupTypes', 'createdDateTime'];

export async function groupRoutes(base: FastifyInstance, options: GroupRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { groups } = options;
  const requireGroup = async (tenantId: string, id: string): Promise<GroupRecord> => {
    const group = await groups.getGroup(tenantId, id.toLowerCase());
    if (!group) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist.`);
    return group;
  };
  const memberList = (ids: readonly string[]) => ids.map((id) => ({ '@odata.type': '#microsoft.graph.user', id }));

  resourceRoutes<GroupRecord>(
    app,
    {
      path: 'groups',
      entity: Group,
      createBody: NewGroup,
      collection: {
        entityType: 'group',
        fields: GROUPS.fields,
        properties: GROUP_PROPERTIES,
        navigations: ['members'],
        defaultOrder: [{ field: 'displayName', descending: false }],
        pageSize: 100,
        maxPageSize: 999,
        countNeedsConsistencyLevel: true,
        list: (tenantId, query) => groups.queryGroups(tenantId, query),
        expand: { members: (page, tenantId) => Promise.all(page.map(async (g) => memberList(await groups.listGroupMembers(tenantId, g.id)))) },
      },
      present: (page) => page.map(presentGroup),
      get: requireGroup,
      audit: GROUP_AUDIT,
      create: async (caller, body) => {
        // Checked by NewGroup (createBody) before the handler runs.
        const { displayName, description, mailNickname } = body as Static<typeof NewGroup>;
        const group: GroupRecord = { tenantId: caller.tenantId, id: options.newId(), displayName: displayName.trim(), description: description ?? null, mailNickname: mailNickname ?? null, createdAt: options.clock() };
        return options.changes.create(caller, group);
      },
      // Graph answers a group's PATCH with 204.
      patchAnswer: 'noContent',
      updateBody: GroupChange,
      update: async (caller, id, body) => {
        // Checked by GroupChange (updateBody) before the handler runs.
        const { displayName, description, mailNickname } = body as Static<typeof GroupChange>;
        const change = { ...(displayName === undefined ? {} : { displayName: displayName.trim() }), ...(description === undefined ? {} : { description }), ...(mailNickname === undefined ? {} : { mailNickname }) };
        await requireGroup(caller.tenantId, id);
        return options.changes.update(caller, id.toLowerCase(), change);
      },
      // Groups have no version (membership changes are single statements): If-Match does not apply.
      delete: async (caller, id) => {
        await requireGroup(caller.tenantId, id);
        await options.changes.delete(caller, id.toLowerCase());
      },
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
  app.get('/groups/:id/members', { schema: { params: GuidParams, response: { 200: CollectionBody(Type.Object({ '@odata.type': Type.String(), id: Type.String() })), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const group = await requireGroup(caller.tenantId, request.params.id);
    return collection(`${options.baseUrl}/$metadata#directoryObjects`, memberList(await groups.listGroupMembers(caller.tenantId, group.id)));
  });
  app.post('/groups/:id/members/$ref', { config: { audit: { ...GROUP_AUDIT, verb: 'AddMember' } }, schema: { params: GuidParams, body: MemberRef, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    const { caller } = request;
    const group = await requireGroup(caller.tenantId, request.params.id);
    if (!(await options.changes.addMember(auditContextOf(request), group, readMemberRef(request.body)))) {
      throw new GraphError(400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.");
    }
    return reply.code(204).send(null);
  });
  app.delete('/groups/:id/members/:memberId/$ref', { config: { audit: { ...GROUP_AUDIT, verb: 'RemoveMember' } }, schema: { params: Type.Object({ id: IdString(), memberId: IdString() }), response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    const { caller } = request;
    const group = await requireGroup(caller.tenantId, request.params.id);
    const memberId = request.params.memberId.toLowerCase();
    if (!(await options.changes.removeMember(auditContextOf(request), group, memberId))) throw new GraphError(404, 'Request_ResourceNotFound', `Member '${memberId}' is not in the group.`);
    return reply.code(204).send(null);
  });
}
