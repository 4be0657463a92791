import type { StatusRow } from '../../core/app-protection/reports.ts';
import { readSystemOptions } from '../graph/odata.ts';
import { APP_REGISTRATIONS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { recordOperation } from '../graph/metadata-route.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, GuidString, IdString, NullableString, SafeString, UserGuidParams, NO_CONTENT_RESPONSES } from '../graph/schemas.ts';
import type { AppReportService } from '../../core/app-protection/reports.ts';
import type { SelectiveWipeService } from '../../core/app-protection/selective-wipe.ts';
import { OpenMamError } from '../../errors.ts';
import type { AppOperationRecord, AppPolicyRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import { auditContextOf, collection } from '../graph/graph-api.ts';
import type { DevicePictureStore } from '../../store/roles.ts';
import { SELECTIVE_WIPE_AUDIT } from '../../core/app-protection/selective-wipe.ts';

/**
 * Graph `managedAppRegistrations` (with appliedPolicies, intendedPolicies, operations), the `managedAppStatuses`
 * report, and the selective wipe actions on `users/{id}`.
 */
export interface AppRegistrationRoutesOptions {
  reports: AppReportService;
  /** The managedDevice (active MAM enrollment) of each Entra device id: registrations' `managedDeviceId`. */
  managedDevices: Pick<DevicePictureStore, 'managedDeviceIdsOf'>;
  wipes: SelectiveWipeService;
  baseUrl: string;
  skipTokens: SkipTokens;
}

const REGISTRATIONS = '/deviceAppManagement/managedAppRegistrations';
const STATUSES = '/deviceAppManagement/managedAppStatuses';
const REPORT_ID = 'windowsProtectionReport';
/**
 * OpenMAM's summary report (the console's Home tiles): a second `managedAppStatusRaw` beside the status report, in
 * the same collection, as Intune lists several app protection reports there.
 */
const SUMMARY_ID = 'openMamSummary';
const SUMMARY_NAME = 'Windows app protection summary';
const MAX_TOP = 10_000;

/** Graph `windowsManagedAppRegistration` as presentRegistration answers it. */
export const ManagedAppRegistration = EntityBody({
  id: Type.String(),
  createdDateTime: Type.String(),
  lastSyncDateTime: Type.String(),
  applicationVersion: Type.String(),
  managementSdkVersion: Type.String(),
  platformVersion: Type.String(),
  deviceType: Type.String(),
  deviceTag: Type.String(),
  deviceName: NullableString(),
  deviceModel: NullableString(),
  deviceManufacturer: NullableString(),
  managedDeviceId: NullableString(),
  azureADDeviceId: NullableString(),
  flaggedReasons: Type.Array(Type.String()),
  userId: Type.String(),
  appIdentifier: Type.Object({ '@odata.type': Type.String(), windowsAppId: Type.String() }),
  version: Type.String(),
  '@openmam.complianceState': Type.String(),
  '@openmam.complianceReasons': Type.Array(Type.String()),
  '@openmam.flaggedReasons': Type.Array(Type.String()),
  '@openmam.registrationState': Type.String(),
});

/** A policy a registration has or should have (Graph `managedAppPolicy`, the properties every kind shares). */
const PolicyRef = EntityBody({
  id: Type.String(),
  displayName: Type.Unknown(),
  description: Type.Unknown(),
  version: Type.String(),
  lastModifiedDateTime: Type.String(),
});

/** Graph `managedAppOperation`, with the wipe's reason and detail. */
const ManagedAppOperation = EntityBody({
  id: Type.String(),
  displayName: Type.String(),
  lastModifiedDateTime: Type.String(),
  state: Type.String(),
  version: Type.String(),
  reason: Type.String(),
  detail: NullableString(),
});

/** The status report's content: a table, as Intune's reports are (a header of typed columns, rows of values). */
const StatusTable = Type.Object({
  header: Type.Array(Type.Object({ name: Type.String(), dataType: Type.String() })),
  body: Type.Array(Type.Object({ values: Type.Array(Type.Union([Type.String(), Type.Null(), Type.Array(Type.String())])) })),
  skipToken: NullableString(),
});

/** The summary's content (presentSummary): counts only, whatever the number of registrations. */
const Counts = <K extends string>(keys: readonly K[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Type.Integer({ minimum: 0 })])) as Record<K, ReturnType<typeof Type.Integer>>);
const SummaryContent = Type.Object({
  complianceStates: Counts(['compliant', 'notCompliant', 'unknown'] as const),
  threatStates: Counts(['secured', 'low', 'medium', 'high'] as const),
  pendingWipes: Type.Integer({ minimum: 0 }),
  policies: Type.Array(Type.Object({ id: Type.String(), deployedUserCount: Type.Integer({ minimum: 0 }) })),
});

/**
 * Graph `managedAppStatusRaw` (its `content` is free JSON in Graph): the reports' entries, and with `content` a
 * report: the status table, or the summary.
 */
const StatusReport = EntityBody({
  id: Type.String(),
  displayName: Type.String(),
  version: Type.String(),
  content: Type.Union([StatusTable, SummaryContent]),
});

/** The wipe actions' bodies (learn.microsoft.com/graph/api/user-wipemanagedappregistrationsbydevicetag, ...byazureaddeviceid). */
const WipeByDeviceTagBody = Type.Object({ deviceTag: SafeString({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const WipeByAzureAdDeviceIdBody = Type.Object({ azureAdDeviceId: GuidString() }, { additionalProperties: false });

/**
 * The managedDevice of each registration, in order: the active MAM enrollment in the registration's tenant whose Entra
 * device id is the registration's, when a token proved that id (`azureAdDeviceIdVerified`); null otherwise (an app's
 * own claim of a device id links nothing). One read for the lot, at read time: the app check-in path stays as it is.
 */
export async function managedDeviceIdsOf(source: Pick<DevicePictureStore, 'managedDeviceIdsOf'>, tenantId: string, registrations: readonly AppRegistrationRecord[]): Promise<(string | null)[]> {
  const proven = registrations.filter((r) => r.azureAdDeviceIdVerified && r.azureAdDeviceId !== null && r.tenantId === tenantId);
  const byDevice = proven.length === 0 ? new Map<string, string>() : await source.managedDeviceIdsOf(tenantId, proven.map((r) => r.azureAdDeviceId!));
  return registrations.map((r) => (r.azureAdDeviceIdVerified && r.azureAdDeviceId !== null && r.tenantId === tenantId ? byDevice.get(r.azureAdDeviceId.toLowerCase()) ?? null : null));
}

/** Registrations as Graph's `windowsManagedAppRegistration`, with their managedDeviceId (one read for the page). */
export async function presentRegistrations(source: Pick<DevicePictureStore, 'managedDeviceIdsOf'>, tenantId: string, registrations: readonly AppRegistrationRecord[]): Promise<Static<typeof ManagedAppRegistration>[]> {
  const devices = await managedDeviceIdsOf(source, tenantId, registrations);
  return registrations.map((r, i) => presentRegistration(r, devices[i] ?? null));
}

/** A registration as Graph's `windowsManagedAppRegistration` (also a user's `managedAppRegistrations`, user-routes.ts). */
export function presentRegistration(r: AppRegistrationRecord, managedDeviceId: string | null): Static<typeof ManagedAppRegistration> {
  return {
    '@odata.type': '#microsoft.graph.windowsManagedAppRegistration',
    id: r.id,
    createdDateTime: new Date(r.createdAt).toISOString(),
    lastSyncDateTime: new Date(r.lastCheckInAt).toISOString(),
    applicationVersion: r.appVersion,
    managementSdkVersion: r.sdkVersion,
    platformVersion: r.osVersion,
    deviceType: 'windows',
    deviceTag: r.deviceTag,
    deviceName: r.deviceName,
    deviceModel: r.deviceModel,
    deviceManufacturer: r.deviceManufacturer,
    // Beta: the managedDevice on the same Entra device (learn.microsoft.com/graph/api/resources/intune-mam-managedappregistration?view=graph-rest-beta).
    managedDeviceId,
    azureADDeviceId: r.azureAdDeviceId,
    // Graph's managedAppFlaggedReason is about the device (rooted, ...): a policy conflict is OpenMAM's annotation.
    flaggedReasons: [],
    userId: r.userId,
    appIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: r.appId },
    version: String(r.appliedPolicyVersion ?? ''),
    // OpenMAM extensions: the evaluated state the access decisions use.
    '@openmam.complianceState': r.complianceState,
    '@openmam.complianceReasons': r.complianceReasons,
    '@openmam.flaggedReasons': r.complianceReasons.includes('policyConflict') ? ['policyConflict'] : [],
    '@openmam.registrationState': r.state,
  };
}

function presentPolicyRef(p: AppPolicyRecord): Static<typeof PolicyRef> {
  return {
    '@odata.type': `#microsoft.graph.${p.kind}`,
    id: p.id,
    displayName: p.body['displayName'],
    description: p.body['description'] ?? null,
    version: String(p.version),
    lastModifiedDateTime: new Date(p.updatedAt).toISOString(),
  };
}

/**
 * The report's columns, in order, with their types: Intune's app protection status reports answer
 * `content: {header: [{name, dataType}], body: [{values: [...]}], skipToken}` (the skipToken goes back as
 * `?$skiptoken=` or `?skipToken=` for the next rows, null on the last page), and admins' scripts read them so.
 */
const STATUS_COLUMNS: readonly (readonly [keyof StatusRow, 'string' | 'dateTime' | 'stringCollection'])[] = [
  ['userId', 'string'],
  ['userPrincipalName', 'string'],
  ['appId', 'string'],
  ['appVersion', 'string'],
  ['sdkVersion', 'string'],
  ['platformVersion', 'string'],
  ['deviceName', 'string'],
  ['deviceModel', 'string'],
  ['deviceManufacturer', 'string'],
  ['deviceTag', 'string'],
  ['azureADDeviceId', 'string'],
  ['managementLevel', 'string'],
  ['policyId', 'string'],
  ['policyName', 'string'],
  ['lastCheckInDateTime', 'dateTime'],
  ['complianceState', 'string'],
  ['complianceReasons', 'stringCollection'],
  ['deviceHealth', 'string'],
  ['registrationState', 'string'],
];

function statusReportContent(rows: readonly StatusRow[], skipToken: string | null): Static<typeof StatusTable> {
  return {
    header: STATUS_COLUMNS.map(([name, dataType]) => ({ name, dataType })),
    body: rows.map((row) => ({ values: STATUS_COLUMNS.map(([name]) => row[name]) })),
    skipToken,
  };
}

function presentOperation(o: AppOperationRecord): Static<typeof ManagedAppOperation> {
  return {
    '@odata.type': '#microsoft.graph.managedAppOperation',
    id: o.id,
    displayName: 'Selective wipe',
    lastModifiedDateTime: new Date(o.completedAt ?? o.createdAt).toISOString(),
    state: o.status,
    version: '1',
    reason: o.reason,
    detail: o.detail,
  };
}

function topOf(query: unknown): number {
  const top = Number((query as { $top?: string }).$top ?? 1000);
  if (!Number.isInteger(top) || top < 1) throw new OpenMamError('malformed_request', '$top: must be a positive integer');
  return Math.min(top, MAX_TOP);
}

export async function appRegistrationRoutes(base: FastifyInstance, options: AppRegistrationRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { reports, wipes, baseUrl } = options;

  collectionRoute<AppRegistrationRecord>(
    app,
    {
      path: REGISTRATIONS.slice(1),
      entityType: 'managedAppRegistration',
      entity: ManagedAppRegistration,
      fields: APP_REGISTRATIONS.fields,
      navigations: [],
      defaultOrder: [{ field: 'createdDateTime', descending: false }],
      pageSize: 100,
      maxPageSize: 1000,
      list: (tenantId, query) => reports.queryRegistrations(tenantId, query),
      present: (list, tenantId) => presentRegistrations(options.managedDevices, tenantId, list),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );

  app.get(`${REGISTRATIONS}/:id`, { schema: { params: GuidParams, response: { 200: ManagedAppRegistration, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const [presented] = await presentRegistrations(options.managedDevices, caller.tenantId, [await reports.getRegistration(caller.tenantId, request.params.id)]);
    return presented!;
  });

  app.get(`${REGISTRATIONS}/:id/appliedPolicies`, { schema: { params: GuidParams, response: { 200: CollectionBody(PolicyRef), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const policies = await reports.appliedPolicies(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/appliedPolicies`, policies.map(presentPolicyRef));
  });

  app.get(`${REGISTRATIONS}/:id/intendedPolicies`, { schema: { params: GuidParams, response: { 200: CollectionBody(PolicyRef), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const policies = await reports.intendedPolicies(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/intendedPolicies`, policies.map(presentPolicyRef));
  });

  app.get(`${REGISTRATIONS}/:id/operations`, { schema: { params: GuidParams, response: { 200: CollectionBody(ManagedAppOperation), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const operations = await reports.operations(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/operations`, operations.map(presentOperation));
  });

  app.get(STATUSES, { schema: { response: { 200: CollectionBody(StatusReport), ...ERROR_RESPONSES } } }, async () => {
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppStatuses`, [
      { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: REPORT_ID, displayName: 'Windows app protection status', version: '1' },
      { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: SUMMARY_ID, displayName: SUMMARY_NAME, version: '1' },
    ]);
  });

  app.get(`${STATUSES}/:id`, { config: { odata: ['$top', '$skiptoken', '$select'] }, schema: { params: Type.Object({ id: IdString() }), response: { 200: StatusReport, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const given = readSystemOptions(request.query, ['$top', '$skiptoken', '$select']);
    if (request.params.id === SUMMARY_ID) {
      if (given.has('$top') || given.has('$skiptoken')) throw new OpenMamError('malformed_request', `$top, $skiptoken: the ${SUMMARY_ID} report is one answer, not paged`);
      const summary = await reports.summary(caller.tenantId);
      const content: Static<typeof SummaryContent> = {
        complianceStates: summary.complianceStates,
        threatStates: summary.threatStates,
        pendingWipes: summary.pendingWipes,
        policies: summary.deployedUsers.map((d) => ({ id: d.policyId, deployedUserCount: d.users })),
      };
      return { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: SUMMARY_ID, displayName: SUMMARY_NAME, version: '1', content };
    }
    if (request.params.id !== REPORT_ID) throw new OpenMamError('not_found', `no managedAppStatus ${request.params.id}; the reports are ${REPORT_ID} and ${SUMMARY_ID}`);
    const binding = JSON.stringify([caller.tenantId, STATUSES]);
    const token = given.get('$skiptoken');
    const after = token === undefined ? undefined : await options.skipTokens.read(binding, token);
    const page = await reports.statusReport(caller.tenantId, { top: topOf(request.query), ...(after ? { after } : {}) });
    const skipToken = page.next === undefined ? null : await options.skipTokens.issue(binding, page.next);
    return { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: REPORT_ID, displayName: 'Windows app protection status', version: '1', content: statusReportContent(page.rows, skipToken) };
  });

  // The user actions and function (learn.microsoft.com/graph/api/resources/user: "Actions"), for $metadata.
  for (const [name, parameters] of [
    ['wipeManagedAppRegistrationsByDeviceTag', [{ name: 'deviceTag', type: 'Edm.String' }]],
    ['wipeManagedAppRegistrationsByAzureAdDeviceId', [{ name: 'azureAdDeviceId', type: 'Edm.String' }]],
    ['wipeAndBlockManagedApps', []],
    ['unblockManagedApps', []],
  ] as const) recordOperation(app, { kind: 'action', name, bindingType: 'user', parameters });
  recordOperation(app, { kind: 'function', name: 'isManagedAppUserBlocked', bindingType: 'user', parameters: [], returns: { type: 'Edm.Boolean' } });

  app.post('/users/:id/wipeManagedAppRegistrationsByDeviceTag', { config: { audit: { ...SELECTIVE_WIPE_AUDIT, verb: 'WipeManagedAppRegistrationsByDeviceTag' } }, schema: { params: UserGuidParams, body: WipeByDeviceTagBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    await wipes.wipeByDeviceTag(auditContextOf(request), request.params.id.toLowerCase(), request.body.deviceTag);
    return reply.code(204).send(null);
  });

  app.post('/users/:id/wipeManagedAppRegistrationsByAzureAdDeviceId', { config: { audit: { ...SELECTIVE_WIPE_AUDIT, verb: 'WipeManagedAppRegistrationsByAzureAdDeviceId' } }, schema: { params: UserGuidParams, body: WipeByAzureAdDeviceIdBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    await wipes.wipeByAzureAdDeviceId(auditContextOf(request), request.params.id.toLowerCase(), request.body.azureAdDeviceId);
    return reply.code(204).send(null);
  });

  app.post('/users/:id/wipeAndBlockManagedApps', { config: { audit: { ...SELECTIVE_WIPE_AUDIT, verb: 'WipeAndBlockManagedApps' } }, schema: { params: UserGuidParams, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    await wipes.wipeAndBlock(auditContextOf(request), request.params.id.toLowerCase());
    return reply.code(204).send(null);
  });

  app.post('/users/:id/unblockManagedApps', { config: { audit: { ...SELECTIVE_WIPE_AUDIT, verb: 'UnblockManagedApps' } }, schema: { params: UserGuidParams, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    await wipes.unblock(auditContextOf(request), request.params.id.toLowerCase());
    return reply.code(204).send(null);
  });

  // A Graph function: GET /users/{id}/isManagedAppUserBlocked.
  app.get('/users/:id/isManagedAppUserBlocked', { schema: { params: UserGuidParams, response: { 200: Type.Object({ '@odata.context': Type.String(), value: Type.Boolean() }), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    return { '@odata.context': `${baseUrl}/$metadata#Edm.Boolean`, value: await wipes.isBlocked(caller.tenantId, request.params.id.toLowerCase()) };
  });
}
