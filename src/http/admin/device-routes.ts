import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WipLogService } from '../../core/management/wip-logs.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import type { EnrollmentRecord, WipLogRequestRecord } from '../../store/records.ts';
import type { EnrollmentStore, ManagementStore } from '../../store/roles.ts';
import { collection, GraphError } from './graph.ts';

/**
 * MAM-enrolled devices as Graph-shaped `managedDevices` (id = the enrollment id), and the WIP log retrieval an admin
 * asks for per device (Reporting CSP): `POST {id}/retrieveWipLogs`, `GET {id}/wipLogRequests`.
 */
export interface DeviceRoutesOptions {
  store: Pick<EnrollmentStore, 'listEnrollments' | 'getEnrollment'> & Pick<ManagementStore, 'getManagedDevice'>;
  wipLogs: WipLogService;
  statuses: PolicyStatusService;
  baseUrl: string;
}

/** A MAM enrollment as Graph's `managedDevice` (also a user's `managedDevices`, user-routes.ts). */
export function presentDevice(enrollment: EnrollmentRecord, lastCheckinAt: number | null): Record<string, unknown> {
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

function presentWipLogRequest(request: WipLogRequestRecord): Record<string, unknown> {
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

export async function deviceRoutes(app: FastifyInstance, options: DeviceRoutesOptions): Promise<void> {
  const { store } = options;
  const requireEnrollment = async (request: FastifyRequest, tenantId: string): Promise<EnrollmentRecord> => {
    const id = (request.params as { id: string }).id;
    const enrollment = await store.getEnrollment(id);
    if (!enrollment || enrollment.tenantId !== tenantId) throw new GraphError(404, 'ResourceNotFound', `No managed device with id ${id}.`);
    return enrollment;
  };

  app.get('/deviceManagement/managedDevices', async (request) => {
    const { caller } = request;
    const enrollments = await store.listEnrollments(caller.tenantId, { limit: 1000, state: 'enrolled' });
    const devices = await Promise.all(
      enrollments.map(async (e) => presentDevice(e, (await store.getManagedDevice(e.devId))?.management.lastCheckinAt ?? null)),
    );
    return collection(`${options.baseUrl}/$metadata#deviceManagement/managedDevices`, devices);
  });
  app.get('/deviceManagement/managedDevices/:id', async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request, caller.tenantId);
    return presentDevice(enrollment, (await store.getManagedDevice(enrollment.devId))?.management.lastCheckinAt ?? null);
  });
  // Every policy that targets the device, with its state there (pending, applied, failed, conflict, notApplicable).
  app.get('/deviceManagement/managedDevices/:id/policyStates', async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request, caller.tenantId);
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
  app.post('/deviceManagement/managedDevices/:id/retrieveWipLogs', async (request, reply) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request, caller.tenantId);
    if (enrollment.state !== 'enrolled') throw new GraphError(409, 'Conflict', 'The device is no longer enrolled.');
    const created = await options.wipLogs.request(caller.tenantId, enrollment.id, request.body);
    return reply.code(202).send(presentWipLogRequest(created));
  });
  app.get('/deviceManagement/managedDevices/:id/wipLogRequests', async (request) => {
    const { caller } = request;
    const enrollment = await requireEnrollment(request, caller.tenantId);
    return collection(`${options.baseUrl}/$metadata#wipLogRequests`, (await options.wipLogs.list(caller.tenantId, enrollment.id)).map(presentWipLogRequest));
  });
}
