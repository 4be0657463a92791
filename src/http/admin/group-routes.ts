import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import { readString } from '../../policy/validate.ts';
import type { GroupRecord } from '../../store/records.ts';
import type { GroupStore } from '../../store/roles.ts';
import { adminCaller, collection, GraphError } from './graph.ts';

/**
 * Graph `groups` with members (`/groups/{id}/members/$ref`). Membership here adds to the `groups` claim of a
 * user's token; a change is O(1) (one bump of the tenant's configuration version).
 */
export interface GroupRoutesOptions {
  verifier: TokenVerifier;
  groups: GroupStore;
  newId: () => string;
  clock: () => number;
  baseUrl: string;
}

const GROUP_PROPERTIES: ReadonlySet<string> = new Set(['displayName', 'description', 'mailEnabled', 'mailNickname', 'securityEnabled', 'groupTypes']);

function present(group: GroupRecord): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.group',
    id: group.id,
    displayName: group.displayName,
    description: group.description,
    securityEnabled: true,
    mailEnabled: false,
    createdDateTime: new Date(group.createdAt).toISOString(),
  };
}

function readGroup(body: unknown): { displayName: string; description: string | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OpenMamError('malformed_request', '$: the body must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const name of Object.keys(input)) if (!GROUP_PROPERTIES.has(name)) throw new OpenMamError('malformed_request', `${name}: unknown property`);
  const displayName = input['displayName'];
  // The shared text check (validate.ts): no NUL or other control character, no lone surrogate, as in policy names.
  if (typeof displayName === 'string') readString(displayName, 'displayName');
  if (typeof input['description'] === 'string') readString(input['description'], 'description');
  if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > 256) {
    throw new OpenMamError('malformed_request', 'displayName: a name of 1 to 256 characters is required');
  }
  const description = input['description'];
  if (description !== undefined && description !== null && typeof description !== 'string') throw new OpenMamError('malformed_request', 'description: must be a string');
  return { displayName: displayName.trim(), description: typeof description === 'string' ? description : null };
}

/** `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}` -> the member's object id. */
function readMemberRef(body: unknown): string {
  const ref = (body as { '@odata.id'?: unknown } | null)?.['@odata.id'];
  const id = typeof ref === 'string' ? /\/(?:directoryObjects|users)\/([0-9a-fA-F-]{36})\/?$/.exec(ref)?.[1] : undefined;
  if (!id || !isGuid(id)) throw new OpenMamError('malformed_request', '@odata.id: must reference a directory object, e.g. https://graph.microsoft.com/v1.0/directoryObjects/{id}');
  return id.toLowerCase();
}

export async function groupRoutes(app: FastifyInstance, options: GroupRoutesOptions): Promise<void> {
  const { verifier, groups } = options;
  const idOf = (request: FastifyRequest): string => (request.params as { id: string }).id.toLowerCase();
  const requireGroup = async (tenantId: string, id: string): Promise<GroupRecord> => {
    const group = await groups.getGroup(tenantId, id);
    if (!group) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist.`);
    return group;
  };

  app.get('/groups', async (request) => {
    const caller = await adminCaller(verifier, request, 'read');
    return collection(`${options.baseUrl}/$metadata#groups`, (await groups.listGroups(caller.tenantId)).map(present));
  });
  app.post('/groups', async (request, reply) => {
    const caller = await adminCaller(verifier, request, 'write');
    const input = readGroup(request.body);
    const group: GroupRecord = { tenantId: caller.tenantId, id: options.newId(), ...input, createdAt: options.clock() };
    await groups.createGroup(group);
    return reply.code(201).send(present(group));
  });
  app.get('/groups/:id', async (request) => {
    const caller = await adminCaller(verifier, request, 'read');
    return present(await requireGroup(caller.tenantId, idOf(request)));
  });
  app.delete('/groups/:id', async (request, reply) => {
    const caller = await adminCaller(verifier, request, 'write');
    if (!(await groups.deleteGroup(caller.tenantId, idOf(request)))) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${idOf(request)}' does not exist.`);
    return reply.code(204).send();
  });
  app.get('/groups/:id/members', async (request) => {
    const caller = await adminCaller(verifier, request, 'read');
    const group = await requireGroup(caller.tenantId, idOf(request));
    const members = await groups.listGroupMembers(caller.tenantId, group.id);
    return collection(`${options.baseUrl}/$metadata#directoryObjects`, members.map((id) => ({ '@odata.type': '#microsoft.graph.user', id })));
  });
  app.post('/groups/:id/members/$ref', async (request, reply) => {
    const caller = await adminCaller(verifier, request, 'write');
    const group = await requireGroup(caller.tenantId, idOf(request));
    if (!(await groups.addGroupMember(caller.tenantId, group.id, readMemberRef(request.body)))) {
      throw new GraphError(400, 'Request_BadRequest', 'One or more added object references already exist for the following modified properties: \'members\'.');
    }
    return reply.code(204).send();
  });
  app.delete('/groups/:id/members/:memberId/$ref', async (request, reply) => {
    const caller = await adminCaller(verifier, request, 'write');
    const group = await requireGroup(caller.tenantId, idOf(request));
    const memberId = (request.params as { memberId: string }).memberId.toLowerCase();
    if (!(await groups.removeGroupMember(caller.tenantId, group.id, memberId))) throw new GraphError(404, 'Request_ResourceNotFound', `Member '${memberId}' is not in the group.`);
    return reply.code(204).send();
  });
}
