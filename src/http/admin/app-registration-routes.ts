import type { StatusRow } from '../../core/app-protection/reports.ts';
import { readSystemOptions } from '../graph/odata.ts';
import { APP_REGISTRATIONS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import type { FastifyInstance } from 'fastify';
import type { AppReportService } from '../../core/app-protection/reports.ts';
import type { SelectiveWipeService } from '../../core/app-protection/selective-wipe.ts';
import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { AppOperationRecord, AppPolicyRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import { collection } from './graph.ts';

/**
 * Graph `managedAppRegistrations` (with appliedPolicies, intendedPolicies, operations), the `managedAppStatuses`
 * report, and the selective wipe actions on `users/{id}`.
 */
export interface AppRegistrationRoutesOptions {
  reports: AppReportService;
  wipes: SelectiveWipeService;
  baseUrl: string;
  skipTokens: SkipTokens;
}

const REGISTRATIONS = '/deviceAppManagement/managedAppRegistrations';
const STATUSES = '/deviceAppManagement/managedAppStatuses';
const REPORT_ID = 'windowsProtectionReport';
const MAX_TOP = 10_000;

/** A registration as Graph's `windowsManagedAppRegistration` (also a user's `managedAppRegistrations`, user-routes.ts). */
export function presentRegistration(r: AppRegistrationRecord): Record<string, unknown> {
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
    managedDeviceId: null,
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

function presentPolicyRef(p: AppPolicyRecord): Record<string, unknown> {
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

function statusReportContent(rows: readonly StatusRow[], skipToken: string | null): Record<string, unknown> {
  return {
    header: STATUS_COLUMNS.map(([name, dataType]) => ({ name, dataType })),
    body: rows.map((row) => ({ values: STATUS_COLUMNS.map(([name]) => row[name]) })),
    skipToken,
  };
}

function presentOperation(o: AppOperationRecord): Record<string, unknown> {
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

function userIdOf(params: unknown): string {
  const id = (params as { id: string }).id;
  if (!isGuid(id)) throw new OpenMamError('malformed_request', 'users/{id}: must be the user object id (GUID)');
  return id.toLowerCase();
}

function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (typeof value !== 'string' || value.trim() === '' || value.length > 256) throw new OpenMamError('malformed_request', `${name}: required text`);
  return value;
}

export async function appRegistrationRoutes(app: FastifyInstance, options: AppRegistrationRoutesOptions): Promise<void> {
  const { reports, wipes, baseUrl } = options;

  collectionRoute<AppRegistrationRecord>(
    app,
    {
      path: REGISTRATIONS.slice(1),
      entityType: 'managedAppRegistration',
      fields: APP_REGISTRATIONS.fields,
      navigations: [],
      defaultOrder: [{ field: 'createdDateTime', descending: false }],
      pageSize: 100,
      maxPageSize: 1000,
      list: (tenantId, query) => reports.queryRegistrations(tenantId, query),
      present: (list) => list.map(presentRegistration),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );

  app.get<{ Params: { id: string } }>(`${REGISTRATIONS}/:id`, async (request) => {
    const { caller } = request;
    return presentRegistration(await reports.getRegistration(caller.tenantId, request.params.id));
  });

  app.get<{ Params: { id: string } }>(`${REGISTRATIONS}/:id/appliedPolicies`, async (request) => {
    const { caller } = request;
    const policies = await reports.appliedPolicies(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/appliedPolicies`, policies.map(presentPolicyRef));
  });

  app.get<{ Params: { id: string } }>(`${REGISTRATIONS}/:id/intendedPolicies`, async (request) => {
    const { caller } = request;
    const policies = await reports.intendedPolicies(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/intendedPolicies`, policies.map(presentPolicyRef));
  });

  app.get<{ Params: { id: string } }>(`${REGISTRATIONS}/:id/operations`, async (request) => {
    const { caller } = request;
    const operations = await reports.operations(caller.tenantId, request.params.id);
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppRegistrations('${request.params.id}')/operations`, operations.map(presentOperation));
  });

  app.get(STATUSES, async () => {
    return collection(`${baseUrl}/$metadata#deviceAppManagement/managedAppStatuses`, [
      { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: REPORT_ID, displayName: 'Windows app protection status', version: '1' },
    ]);
  });

  app.get<{ Params: { id: string } }>(`${STATUSES}/:id`, { config: { odata: ['$top', '$skiptoken', '$select'] } }, async (request) => {
    const { caller } = request;
    if (request.params.id !== REPORT_ID) throw new OpenMamError('not_found', `no managedAppStatus ${request.params.id}; the report is ${REPORT_ID}`);
    const given = readSystemOptions(request.query, ['$top', '$skiptoken', '$select']);
    const binding = JSON.stringify([caller.tenantId, STATUSES]);
    const token = given.get('$skiptoken');
    const after = token === undefined ? undefined : await options.skipTokens.read(binding, token);
    const page = await reports.statusReport(caller.tenantId, { top: topOf(request.query), ...(after ? { after } : {}) });
    const skipToken = page.next === undefined ? null : await options.skipTokens.issue(binding, page.next);
    return { '@odata.type': '#microsoft.graph.managedAppStatusRaw', id: REPORT_ID, displayName: 'Windows app protection status', version: '1', content: statusReportContent(page.rows, skipToken) };
  });

  app.post('/users/:id/wipeManagedAppRegistrationsByDeviceTag', async (request, reply) => {
    const { caller } = request;
    await wipes.wipeByDeviceTag(caller.tenantId, userIdOf(request.params), field(request.body, 'deviceTag'));
    return reply.code(204).send();
  });

  app.post('/users/:id/wipeManagedAppRegistrationsByAzureAdDeviceId', async (request, reply) => {
    const { caller } = request;
    const deviceId = field(request.body, 'azureAdDeviceId');
    if (!isGuid(deviceId)) throw new OpenMamError('malformed_request', 'azureAdDeviceId: must be a GUID');
    await wipes.wipeByAzureAdDeviceId(caller.tenantId, userIdOf(request.params), deviceId);
    return reply.code(204).send();
  });

  app.post('/users/:id/wipeAndBlockManagedApps', async (request, reply) => {
    const { caller } = request;
    await wipes.wipeAndBlock(caller.tenantId, userIdOf(request.params));
    return reply.code(204).send();
  });

  app.post('/users/:id/unblockManagedApps', async (request, reply) => {
    const { caller } = request;
    await wipes.unblock(caller.tenantId, userIdOf(request.params));
    return reply.code(204).send();
  });

  // A Graph function: GET /users/{id}/isManagedAppUserBlocked.
  app.get('/users/:id/isManagedAppUserBlocked', async (request) => {
    const { caller } = request;
    return { '@odata.context': `${baseUrl}/$metadata#Edm.Boolean`, value: await wipes.isBlocked(caller.tenantId, userIdOf(request.params)) };
  });
}
