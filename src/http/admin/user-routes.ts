import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { isGuid } from '../../config.ts';
import type { AppReportService } from '../../core/app-protection/reports.ts';
import { USERS } from '../../store/collections.ts';
import type { UserRecord } from '../../store/records.ts';
import type { EnrollmentStore, GroupStore, UserStore } from '../../store/roles.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { CollectionBody, EntityAnnotations, ERROR_RESPONSES, SafeString } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { ManagedAppRegistration, presentRegistrations } from './app-registration-routes.ts';
import { ManagedDevice, presentDevices, type DevicePictureSource } from './managed-device.ts';
import { collection, GraphError } from '../graph/graph-api.ts';
import { Group, presentGroup } from './group-routes.ts';

/**
 * Graph `users` (learn.microsoft.com/graph/api/resources/user), read-only: the users OpenMAM has seen in verified
 * tokens or as group members (store UserStore), so that an admin finds one without decoding a token; with the
 * navigations an admin follows from a user: `managedAppRegistrations`, `managedDevices` (MAM enrollments) and
 * `memberOf` (the groups an admin put them in).
 */
export interface UserRoutesOptions {
  users: Pick<UserStore, 'queryUsers' | 'getUser' | 'getUserByPrincipalName'>;
  enrollments: Pick<EnrollmentStore, 'listEnrollmentsOfUser'> & DevicePictureSource;
  groups: Pick<GroupStore, 'listGroupsOfMember'>;
  reports: Pick<AppReportService, 'listRegistrations'>;
  baseUrl: string;
  skipTokens: SkipTokens;
}

/**
 * Graph `user`, only what OpenMAM knows from tokens: the object id (`oid`), the user principal name (`upn`) and the
 * display name (`name`), null when no token carried them. Nothing else is answered rather than invented.
 */
const User = Type.Object({
  ...EntityAnnotations,
  id: Type.Optional(Type.String()),
  userPrincipalName: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  displayName: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** What `$select` may name: the schema's properties. */
const USER_PROPERTIES = Object.keys(User.properties).filter((name) => !name.startsWith('@'));

/** `{id | userPrincipalName}`; a UPN is at most 113 characters in Entra, so this bound names nothing real. */
const UserParams = Type.Object({ id: SafeString({ minLength: 1, maxLength: 1024 }) });

/** Most enrollments or registrations one navigation answers (a user has a few devices and apps). */
const MAX_NAVIGATION = 1000;

function presentUser(user: UserRecord): Record<string, unknown> {
  return { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName };
}

export async function userRoutes(base: FastifyInstance, options: UserRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { users, baseUrl } = options;

  /** By object id, or by UPN ignoring case ("{id | userPrincipalName}", learn.microsoft.com/graph/api/user-get). */
  const requireUser = async (tenantId: string, key: string): Promise<UserRecord> => {
    const user = isGuid(key) ? await users.getUser(tenantId, key.toLowerCase()) : key.includes('@') ? await users.getUserByPrincipalName(tenantId, key) : undefined;
    if (user === undefined) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${key.slice(0, 200)}' does not exist or one of its queried reference-property objects are not present.`);
    return user;
  };
  const navigationContext = (user: UserRecord, navigation: string): string => `${baseUrl}/$metadata#users('${user.id}')/${navigation}`;

  collectionRoute<UserRecord>(
    app,
    {
      path: 'users',
      entityType: 'user',
      entity: User,
      fields: USERS.fields,
      properties: USER_PROPERTIES,
      navigations: [],
      // The primary key's order: a page is a range of it, O(page) however many users.
      defaultOrder: [],
      pageSize: 100,
      maxPageSize: 999,
      countNeedsConsistencyLevel: true,
      list: (tenantId, query) => users.queryUsers(tenantId, query),
      present: (page) => page.map(presentUser),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );

  app.get('/users/:id', { schema: { params: UserParams, response: { 200: User, ...ERROR_RESPONSES } } }, async (request) => {
    return { '@odata.context': `${baseUrl}/$metadata#users/$entity`, ...presentUser(await requireUser(request.caller.tenantId, request.params.id)) };
  });

  app.get('/users/:id/managedAppRegistrations', { schema: { params: UserParams, response: { 200: CollectionBody(ManagedAppRegistration), ...ERROR_RESPONSES } } }, async (request) => {
    const { tenantId } = request.caller;
    const user = await requireUser(tenantId, request.params.id);
    const registrations = await options.reports.listRegistrations(tenantId, { userId: user.id }, MAX_NAVIGATION);
    return collection(navigationContext(user, 'managedAppRegistrations'), await presentRegistrations(options.enrollments.devicePicture, tenantId, registrations));
  });

  // The user's active MAM enrollments, as deviceManagement/managedDevices lists them.
  app.get('/users/:id/managedDevices', { schema: { params: UserParams, response: { 200: CollectionBody(ManagedDevice), ...ERROR_RESPONSES } } }, async (request) => {
    const { tenantId } = request.caller;
    const user = await requireUser(tenantId, request.params.id);
    const enrollments = await options.enrollments.listEnrollmentsOfUser(tenantId, user.id, { limit: MAX_NAVIGATION, state: 'enrolled' });
    return collection(navigationContext(user, 'managedDevices'), await presentDevices(options.enrollments, tenantId, enrollments));
  });

  // Graph's memberOf is a collection of directoryObjects; here only groups an admin put the user in.
  app.get('/users/:id/memberOf', { schema: { params: UserParams, response: { 200: CollectionBody(Group), ...ERROR_RESPONSES } } }, async (request) => {
    const { tenantId } = request.caller;
    const user = await requireUser(tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#directoryObjects`, (await options.groups.listGroupsOfMember(tenantId, user.id)).map(presentGroup));
  });
}
