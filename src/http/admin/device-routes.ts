import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import { gunzipSync } from 'node:zlib';
import type { MessageLog } from '../../core/management/message-log.ts';
import type { EnrollmentRecord, NodeStatus, WipLogRequestRecord } from '../../store/records.ts';
import type { EnrollmentStore, ManagementStore } from '../../store/roles.ts';
import { readInteger, readSystemOptions } from '../graph/odata.ts';
import { CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NO_CONTENT_RESPONSES, NullableString, SafeString } from '../graph/schemas.ts';
import { auditContextOf, collection, GraphError } from '../graph/graph-api.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { MANAGED_DEVICES } from '../../store/collections.ts';
import type { AppReportService } from '../../core/app-protection/reports.ts';
import { ManagedAppRegistration, presentRegistration } from './app-registration-routes.ts';
import { loadDevicePictures, MANAGED_DEVICE_PROPERTIES, ManagedDevice, presentDevice, presentDevices, type DevicePictureSource } from './managed-device.ts';
import { WIP_LOG_AUDIT } from '../../core/management/wip-logs.ts';

/**
 * MAM-enrolled devices as Graph-shaped `managedDevices` (id = the enrollment id; the entity in managed-device.ts), and the WIP log retrieval an admin
 * asks for per device (Reporting CSP): `POST {id}/retrieveWipLogs`, `GET {id}/wipLogRequests`. For troubleshooting,
 * OpenMAM's own navigations (Graph has none for them): each OMA-DM setting's state with the device's SyncML status
 * code (`openMamNodeStates`), the inventory the device reported (`openMamInventory`), and the raw message log, kept
 * per device while an admin asks (`setMessageLog`) and read back by an admin (`openMamMessages`). One device, one
 * picture: `openMamAppRegistrations` lists the managed app registrations a token proved to be on the device's Entra
 * device (each with `managedDeviceId`, the device's id), as `managedAppRegistrations` answers them.
 */
export interface DeviceRoutesOptions {
  store: Pick<EnrollmentStore, 'queryManagedDevices' | 'getEnrollment'> &
    Pick<ManagementStore, 'getNodeStates' | 'listInventory' | 'listMessageLog'> &
    DevicePictureSource;
  messageLog: Pick<MessageLog, 'enable'>;
  wipLogs: WipLogService;
  statuses: PolicyStatusService;
  /** The app registrations on a device (`openMamAppRegistrations`). */
  reports: Pick<AppReportService, 'listRegistrations'>;
  baseUrl: string;
  skipTokens: SkipTokens;
}

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
/** App registrations `openMamAppRegistrations` answers at most (a device has a few managed apps per user). */
const MAX_DEVICE_REGISTRATIONS = 1000;

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
      properties: MANAGED_DEVICE_PROPERTIES,
      navigations: [],
      defaultOrder: [{ field: 'enrolledDateTime', descending: true }],
      pageSize: 100,
      maxPageSize: 1000,
      list: (tenantId, query) => store.queryManagedDevices(tenantId, query),
      // The page's check-ins, inventory and user names in one read each (not one per device).
      present: (page, tenantId) => presentDevices(store, tenantId, page),
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
  app.get('/deviceManagement/managedDevices/:id', { schema: { params: GuidParams, response: { 200: ManagedDevice, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    const pictures = await loadDevicePictures(store, caller.tenantId, [enrollment]);
    return { '@odata.context': `${options.baseUrl}/$metadata#deviceManagement/managedDevices/$entity`, ...presentDevice(enrollment, pictures.get(enrollment.id)!) };
  });
  // The managed app registrations on this device: those whose token-proven Entra device id is the enrollment's.
  app.get('/deviceManagement/managedDevices/:id/openMamAppRegistrations', { schema: { params: GuidParams, response: { 200: CollectionBody(ManagedAppRegistration), ...ERROR_RESPONSES } } }, async (request) => {
    const { tenantId } = request.caller;
    const enrollment = await requireEnrollment(request.params.id, tenantId);
    const context = `${options.baseUrl}/$metadata#deviceManagement/managedDevices('${enrollment.id}')/openMamAppRegistrations`;
    if (enrollment.entraDeviceId === null || enrollment.state !== 'enrolled') return collection(context, []);
    const registrations = await options.reports.listRegistrations(tenantId, { azureAdDeviceId: enrollment.entraDeviceId }, MAX_DEVICE_REGISTRATIONS);
    return collection(context, registrations.filter((r) => r.azureAdDeviceIdVerified).map((r) => presentRegistration(r, enrollment.id)));
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
  app.post('/deviceManagement/managedDevices/:id/retrieveWipLogs', { config: { audit: { ...WIP_LOG_AUDIT, verb: 'RetrieveWipLogs' } }, schema: { params: GuidParams, body: RetrieveWipLogsBody, response: { 202: WipLogRequest, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request.params.id, caller.tenantId);
    if (enrollment.state !== 'enrolled') throw new GraphError(409, 'Conflict', 'The device is no longer enrolled.');
    const created = await options.wipLogs.request(auditContextOf(request), enrollment.id, request.body);
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
  app.post('/deviceManagement/managedDevices/:id/setMessageLog', { config: { audit: { ...WIP_LOG_AUDIT, verb: 'SetMessageLog' } }, schema: { params: GuidParams, body: SetMessageLogBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
    const enrollment = await requireEnrollment(request.params.id, request.caller.tenantId);
    if (enrollment.state !== 'enrolled') throw new GraphError(409, 'Conflict', 'The device is no longer enrolled.');
    await options.messageLog.enable(enrollment.id, request.body.durationInMinutes * 60_000, auditContextOf(request));
    return reply.code(204).send(null);
  });
}
