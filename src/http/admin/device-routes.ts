import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import type { EnrollmentRecord, WipLogRequestRecord } from '../../store/records.ts';
import type { EnrollmentStore, ManagementStore } from '../../store/roles.ts';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NullableString, SafeString } from '../graph/schemas.ts';
import { collection, GraphError } from '../graph/graph-api.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { MANAGED_DEVICES } from '../../store/collections.ts';

/**
 * MAM-enrolled devices as Graph-shaped `managedDevices` (id = the enrollment id), and the WIP log retrieval an admin
 * asks for per device (Reporting CSP): `POST {id}/retrieveWipLogs`, `GET {id}/wipLogRequests`.
 */
export interface DeviceRoutesOptions {
  store: Pick<EnrollmentStore, 'queryManagedDevices' | 'getEnrollment'> & Pick<ManagementStore, 'getManagedDevice' | 'getManagementStatesOf'>;
  wipLogs: WipLogService;
  statuses: PolicyStatusService;
  baseUrl: string;
  skipTokens: SkipTokens;
}

/** Graph `managedDevice` as OpenMAM answers it (presentDevice), also a user's `managedDevices`. */
export const ManagedDevice = EntityBody({
  id: Type.String(),
  deviceName: NullableString(),
  managementAgent: Type.String(),
  deviceEnrollmentType: Type.String(),
  '@openmam.managementAgent': Type.String(),
  '@openmam.enrollmentType': Type.String(),
  operatingSystem: Type.String(),
  osVersion: NullableString(),
  azureADDeviceId: NullableString(),
  userId: Type.String(),
  userPrincipalName: NullableString(),
  enrolledDateTime: Type.String(),
  lastSyncDateTime: NullableString(),
  '@openmam.devId': Type.String(),
});

/** A device's policy state (OpenMAM's own: Graph's deviceConfigurationStates are per setting). */
const PolicyState = EntityBody({
  id: Type.String(),
  policyKind: Type.String(),
  displayName: Type.Unknown(),
  version: Type.String(),
  status: Type.String(),
  statusCode: NullableString(),
  lastReportedDateTime: NullableString(),
});

/** A WIP log retrieval as presentWipLogRequest answers it. */
const WipLogRequest = EntityBody({
  id: Type.String(),
  mode: Type.String(),
  startDateTime: NullableString(),
  endDateTime: NullableString(),
  count: Type.Union([Type.Integer(), Type.Null()]),
  learningLogs: Type.Boolean(),
  status: Type.String(),
  statusCode: NullableString(),
  requestedDateTime: Type.String(),
  completedDateTime: NullableString(),
  entries: Type.Union([Type.Array(Type.Record(Type.String(), Type.String())), Type.Null()]),
  rawLogs: NullableString(),
});

/**
 * `retrieveWipLogs`: exactly one of byTimeRange and byCount, the dates and count checked by core/management/wip-logs.ts
 * (which names the field); here only the shape, so that a stray property or a deep value never reaches it.
 */
const RetrieveWipLogsBody = Type.Object(
  {
    byTimeRange: Type.Optional(Type.Object({ startDateTime: Type.Optional(Type.Union([SafeString({ maxLength: 64 }), Type.Null()])), endDateTime: Type.Optional(Type.Union([SafeString({ maxLength: 64 }), Type.Null()])) }, { additionalProperties: false })),
    byCount: Type.Optional(Type.Object({ count: Type.Integer(), startDateTime: Type.Optional(Type.Union([SafeString({ maxLength: 64 }), Type.Null()])) }, { additionalProperties: false })),
    learningLogs: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** A MAM enrollment as Graph's `managedDevice` (also a user's `managedDevices`, user-routes.ts). */
export function presentDevice(enrollment: EnrollmentRecord, lastCheckinAt: number | null): Static<typeof ManagedDevice> {
  return {
    '@odata.type': '#microsoft.graph.managedDevice',
    id: enrollment.id,
    deviceName: enrollment.deviceName,
    // Graph's managementAgentType and deviceEnrollmentType have no member for a MAM enrollment: unknown, with
    // OpenMAM's own words as annotations.
    managementAgent: 'unknown',
    deviceEnrollmentType: 'unknown',
    '@openmam.managementAgent': 'mam',
    '@openmam.enrollmentType': 'windowsMam',
    operatingSystem: 'Windows',
    osVersion: enrollment.osVersion,
    azureADDeviceId: enrollment.entraDeviceId,
    userId: enrollment.userOid,
    userPrincipalName: enrollment.upn,
    enrolledDateTime: new Date(enrollment.enrolledAt).toISOString(),
    lastSyncDateTime: lastCheckinAt === null ? null : new Date(lastCheckinAt).toISOString(),
    '@openmam.devId': enrollment.devId,
  };
}

function presentWipLogRequest(request: WipLogRequestRecord): Static<typeof WipLogRequest> {
  return {
    id: request.id,
    mode: request.mode,
    startDateTime: request.startTime,
    endDateTime: request.stopTime,
    count: request.logCount,
    learningLogs: request.logType === 1,
    status: request.status,
    statusCode: request.statusCode,
    requestedDateTime: new Date(request.requestedAt).toISOString(),
    completedDateTime: request.completedAt === null ? null : new Date(request.completedAt).toISOString(),
    entries: request.entries,
    rawLogs: request.logs,
  };
}

export async function deviceRoutes(base: FastifyInstance, options: DeviceRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = options;
  const requireEnrollment = async (id: string, tenantId: string): Promise<EnrollmentRecord> => {
    const enrollment = await store.getEnrollment(id);
    if (!enrollment || enrollment.tenantId !== tenantId) throw new GraphError(404, 'ResourceNotFound', `No managed device with id ${id}.`);
    return enrollment;
  };

  collectionRoute<EnrollmentRecord>(
    app,
    {
      path: 'deviceManagement/managedDevices',
      entityType: 'managedDevice',
      entity: ManagedDevice,
      fields: MANAGED_DEVICES.fields,
      properties: Object.keys(ManagedDevice.properties).filter((name) => !name.startsWith('@')),
      navigations: [],
      defaultOrder: [{ field: 'enrolledDateTime', descending: true }],
      pageSize: 100,
      maxPageSize: 1000,
      list: (tenantId, query) => store.queryManagedDevices(tenantId, query),
      // The page's last check-ins in one read (not one per device).
      present: async (page) => {
        const states = await store.getManagementStatesOf(page.map((e) => e.id));
        return page.map((e) => presentDevice(e, states.get(e.id)?.lastCheckinAt ?? null));
      },
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
  app.get('/deviceManagement/managedDevices/:id', { schema: { params: GuidParams, response: { 200: ManagedDevice, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    return presentDevice(enrollment, (await store.getManagedDevice(enrollment.devId))?.management.lastCheckinAt ?? null);
  });
  // Every policy that targets the device, with its state there (pending, applied, failed, conflict, notApplicable).
  app.get('/deviceManagement/managedDevices/:id/policyStates', { schema: { params: GuidParams, response: { 200: CollectionBody(PolicyState), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    const states = await options.statuses.policyStatesOf(enrollment);
    return collection(
      `${options.baseUrl}/$metadata#policyStates`,
      states.map((s) => ({
        id: s.policy.id,
        policyKind: s.policy.kind,
        displayName: s.policy.body['displayName'] ?? null,
        version: String(s.policy.version),
        status: s.status,
        statusCode: s.statusCode,
        lastReportedDateTime: s.lastReportedAt === null ? null : new Date(s.lastReportedAt).toISOString(),
      })),
    );
  });
  app.post('/deviceManagement/managedDevices/:id/retrieveWipLogs', { schema: { params: GuidParams, body: RetrieveWipLogsBody, response: { 202: WipLogRequest, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    if (enrollment.state !== 'enrolled') throw new GraphError(409, 'Conflict', 'The device is no longer enrolled.');
    const created = await options.wipLogs.request(caller.tenantId, enrollment.id, request.body);
    return reply.code(202).send(presentWipLogRequest(created));
  });
  app.get('/deviceManagement/managedDevices/:id/wipLogRequests', { schema: { params: GuidParams, response: { 200: CollectionBody(WipLogRequest), ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    return collection(`${options.baseUrl}/$metadata#wipLogRequests`, (await options.wipLogs.list(caller.tenantId, enrollment.id)).map(presentWipLogRequest));
  });
}
