import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import { gunzipSync } from 'node:zlib';
import type { MessageLog } from '../../core/management/message-log.ts';
import type { EnrollmentRecord, ManagementState, NodeStatus, WipLogRequestRecord } from '../../store/records.ts';
import type { EnrollmentStore, ManagementStore } from '../../store/roles.ts';
import { readInteger, readSystemOptions } from '../graph/odata.ts';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NO_CONTENT_RESPONSES, NullableString, SafeString } from '../graph/schemas.ts';
import { collection, GraphError } from '../graph/graph-api.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { MANAGED_DEVICES } from '../../store/collections.ts';
import { deviceActionResults, type DeviceActionService } from '../../core/management/device-actions.ts';
import type { DeviceActionRecord } from '../../store/records.ts';
import { DeviceActionResult } from './device-action-routes.ts';

/**
 * MAM-enrolled devices as Graph-shaped `managedDevices` (id = the enrollment id), and the WIP log retrieval an admin
 * asks for per device (Reporting CSP): `POST {id}/retrieveWipLogs`, `GET {id}/wipLogRequests`. For troubleshooting,
 * OpenMAM's own navigations (Graph has none for them): each OMA-DM setting's state with the device's SyncML status
 * code (`openMamNodeStates`), the inventory the device reported (`openMamInventory`), and the raw message log, kept
 * per device while an admin asks (`setMessageLog`) and read back by an admin (`openMamMessages`).
 */
export interface DeviceRoutesOptions {
  store: Pick<EnrollmentStore, 'queryManagedDevices' | 'getEnrollment'> &
    Pick<ManagementStore, 'getManagedDevice' | 'getManagementStatesOf' | 'getNodeStates' | 'listInventory' | 'listMessageLog'>;
  messageLog: Pick<MessageLog, 'enable'>;
  wipLogs: WipLogService;
  statuses: PolicyStatusService;
  /** Each device's retire, wipe and syncDevice actions, for its deviceActionResults (device-action-routes.ts). */
  actions: Pick<DeviceActionService, 'resultsOf'>;
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
  /** Until when the device's raw messages are kept (setMessageLog), null when they are not. */
  '@openmam.messageLogUntilDateTime': NullableString(),
  /** Retire and wipe progress (Graph managementState). */
  managementState: Type.String(),
  /** Graph's deviceActionResults: retire, wipe, syncDevice (present when read, as the routes here do). */
  deviceActionResults: Type.Array(DeviceActionResult),
});

/** Node states as OpenMAM stores them, in Graph's camelCase. */
const NODE_STATUS: Readonly<Record<NodeStatus, string>> = { applied: 'applied', failed: 'failed', exists: 'exists', not_applicable: 'notApplicable', conflict: 'conflict' };

/**
 * One OMA-DM setting's state on the device: its LocURI, the state, the SyncML status code the device answered
 * (null for states the server decided), and when. Never the value: a setting may be a secret (a PFX password, a SCEP
 * challenge) that the policy API never answers either.
 */
const NodeState = EntityBody({
  locUri: Type.String(),
  status: Type.String(),
  statusCode: NullableString(),
  lastReportedDateTime: Type.String(),
});

/** The latest value of an inventory node the device reported (DevInfo, DeviceStatus, ...). */
const InventoryValue = EntityBody({
  locUri: Type.String(),
  value: Type.String(),
  lastReportedDateTime: Type.String(),
});

/** One kept raw message, decompressed. */
const RawMessage = EntityBody({
  id: Type.String(),
  dateTime: Type.String(),
  direction: Type.String(),
  syncML: Type.String(),
});

/** Most minutes one `setMessageLog` keeps messages for: the log drops messages older than 7 days anyway (MessageLog). */
export const MAX_MESSAGE_LOG_MINUTES = 7 * 24 * 60;
/** Messages one read answers at most: MessageLog keeps at most 200 per device. */
const MAX_MESSAGES = 200;

/** `setMessageLog`: keep the device's raw messages for this many minutes from now; 0 stops. */
const SetMessageLogBody = Type.Object({ durationInMinutes: Type.Integer({ minimum: 0, maximum: MAX_MESSAGE_LOG_MINUTES }) }, { additionalProperties: false });

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
export function presentDevice(
  enrollment: EnrollmentRecord,
  management: Pick<ManagementState, 'lastCheckinAt' | 'messageLogUntil'> | undefined,
  actions?: readonly DeviceActionRecord[],
): Static<typeof ManagedDevice> {
  const lastCheckinAt = management?.lastCheckinAt ?? null;
  const messageLogUntil = management?.messageLogUntil ?? null;
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
    '@openmam.messageLogUntilDateTime': messageLogUntil === null ? null : new Date(messageLogUntil).toISOString(),
    managementState: enrollment.managementState,
    ...(actions === undefined ? {} : { deviceActionResults: deviceActionResults(actions) }),
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
      present: async (page, tenantId) => {
        const ids = page.map((e) => e.id);
        const [states, actions] = await Promise.all([store.getManagementStatesOf(ids), options.actions.resultsOf(tenantId, ids)]);
        return page.map((e) => presentDevice(e, states.get(e.id), actions.get(e.id) ?? []));
      },
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
  app.get('/deviceManagement/managedDevices/:id', { schema: { params: GuidParams, response: { 200: ManagedDevice, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    // An ended enrollment stays readable (its DevId's active enrollment, if any, is another one).
    const [managed, actions] = await Promise.all([store.getManagedDevice(enrollment.devId), options.actions.resultsOf(caller.tenantId, [enrollment.id])]);
    const management = managed?.enrollment.id === enrollment.id ? managed.management : (await store.getManagementStatesOf([enrollment.id])).get(enrollment.id);
    return presentDevice(enrollment, management, actions.get(enrollment.id) ?? []);
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
  // Each setting sent to the device, with the device's answer: a failure's SyncML status code names what went wrong.
  app.get('/deviceManagement/managedDevices/:id/openMamNodeStates', { schema: { params: GuidParams, response: { 200: CollectionBody(NodeState), ...ERROR_RESPONSES } } }, async (request) => {
    const enrollment = await requireEnrollment(request.params.id, request.caller.tenantId);
    const nodes = await store.getNodeStates(enrollment.id);
    return collection(
      `${options.baseUrl}/$metadata#openMamNodeStates`,
      nodes.map((n) => ({ locUri: n.locUri, status: NODE_STATUS[n.status], statusCode: n.statusCode, lastReportedDateTime: new Date(n.updatedAt).toISOString() })),
    );
  });
  app.get('/deviceManagement/managedDevices/:id/openMamInventory', { schema: { params: GuidParams, response: { 200: CollectionBody(InventoryValue), ...ERROR_RESPONSES } } }, async (request) => {
    const enrollment = await requireEnrollment(request.params.id, request.caller.tenantId);
    const values = await store.listInventory(enrollment.id);
    return collection(
      `${options.baseUrl}/$metadata#openMamInventory`,
      values.map((v) => ({ locUri: v.locUri, value: v.value, lastReportedDateTime: new Date(v.updatedAt).toISOString() })),
    );
  });
  // Admin only, though a read: a message may carry what the policy API never answers (a PFX password, a SCEP challenge).
  app.get('/deviceManagement/managedDevices/:id/openMamMessages', { config: { access: 'write', odata: ['$top', '$select'] }, schema: { params: GuidParams, response: { 200: CollectionBody(RawMessage), ...ERROR_RESPONSES } } }, async (request) => {
    const enrollment = await requireEnrollment(request.params.id, request.caller.tenantId);
    const top = readInteger(readSystemOptions(request.query, ['$top', '$select']).get('$top'), '$top', 1, MAX_MESSAGES) ?? 50;
    const records = await store.listMessageLog(enrollment.id, top);
    return collection(
      `${options.baseUrl}/$metadata#openMamMessages`,
      records.map((r) => ({
        id: `${r.at}-${r.direction}`,
        dateTime: new Date(r.at).toISOString(),
        direction: r.direction === 'in' ? 'deviceToServer' : 'serverToDevice',
        syncML: gunzipSync(r.body).toString('utf8'),
      })),
    );
  });
  app.post('/deviceManagement/managedDevices/:id/setMessageLog', { schema: { params: GuidParams, body: SetMessageLogBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    const enrollment = await requireEnrollment(request.params.id, request.caller.tenantId);
    if (enrollment.state !== 'enrolled') throw new GraphError(409, 'Conflict', 'The device is no longer enrolled.');
    await options.messageLog.enable(enrollment.id, request.body.durationInMinutes * 60_000);
    return reply.code(204).send(null);
  });
}
