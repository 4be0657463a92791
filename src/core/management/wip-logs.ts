import { OpenMamError } from '../../errors.ts';
import type { WipLogRequestRecord } from '../../store/records.ts';
import type { WipLogStore } from '../../store/roles.ts';
import type { PlannedCommand } from './desired-state.ts';
import type { AuditActivity, AuditContext, AuditTrail } from '../audit/audit-trail.ts';

/**
 * WIP audit logs through the Reporting CSP (./Vendor/MSFT/Reporting/EnterpriseDataProtection): Replace the retrieval
 * parameters, then Get Logs. RetrieveByTimeRange takes StartTime/StopTime (ISO 8601; absent = first/last log),
 * RetrieveByCount takes LogCount and StartTime; Type 0 is the audit log, 1 the app learning log (Windows 10 1703+).
 */
const REPORTING = './Vendor/MSFT/Reporting/EnterpriseDataProtection';

export function wipLogCommands(request: WipLogRequestRecord): PlannedCommand[] {
  const node = `${REPORTING}/${request.mode === 'timeRange' ? 'RetrieveByTimeRange' : 'RetrieveByCount'}`;
  const purpose = { wipLogRequest: request.id };
  const replace = (name: string, format: string, value: string): PlannedCommand => ({ verb: 'Replace', item: { locUri: `${node}/${name}`, format, value }, purpose });
  const commands: PlannedCommand[] = [replace('Type', 'int', String(request.logType))];
  if (request.startTime !== null) commands.push(replace('StartTime', 'chr', request.startTime));
  if (request.mode === 'timeRange' && request.stopTime !== null) commands.push(replace('StopTime', 'chr', request.stopTime));
  if (request.mode === 'count' && request.logCount !== null) commands.push(replace('LogCount', 'int', String(request.logCount)));
  commands.push({ verb: 'Get', item: { locUri: `${node}/Logs`, format: 'xml', value: '' }, purpose });
  return commands;
}

export interface WipLogRequestInput {
  byTimeRange?: { startDateTime?: string; endDateTime?: string };
  byCount?: { count: number; startDateTime?: string };
  /** App learning logs (Type 1) instead of the audit log (Type 0). */
  learningLogs?: boolean;
}

/** The audit trail's subject of a WIP log request ("RetrieveWipLogs ManagedDevice"). */
export const WIP_LOG_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'devices', entity: 'ManagedDevice' };

/** An admin asks for a device's WIP logs: recorded now, retrieved at the device's next check-in. */
export class WipLogService {
  constructor(
    private readonly store: WipLogStore,
    private readonly clock: () => number,
    private readonly newId: () => string,
    /** Every request is recorded in its own transaction (core/audit). */
    private readonly audit: AuditTrail,
  ) {}

  async request(caller: AuditContext, enrollmentId: string, input: unknown): Promise<WipLogRequestRecord> {
    const { tenantId } = caller;
    const parsed = readRequest(input);
    const request: WipLogRequestRecord = {
      id: this.newId(),
      tenantId,
      enrollmentId,
      ...parsed,
      status: 'pending',
      statusCode: null,
      requestedAt: this.clock(),
      completedAt: null,
      logs: null,
      entries: null,
    };
    await this.audit.attach(caller, { activity: { ...WIP_LOG_AUDIT, verb: 'RetrieveWipLogs' }, resourceId: enrollmentId, after: parsed }, () => this.store.requestWipLogs(request));
    return request;
  }

  list(tenantId: string, enrollmentId: string, limit = 50): Promise<WipLogRequestRecord[]> {
    return this.store.listWipLogRequests(tenantId, enrollmentId, limit);
  }
}

const MAX_LOG_COUNT = 100_000;

function isoTime(value: unknown, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new OpenMamError('malformed_request', `${path}: must be an ISO 8601 date and time, e.g. 2026-11-01T00:00:00Z`);
  }
  return value;
}

function readRequest(input: unknown): Pick<WipLogRequestRecord, 'mode' | 'startTime' | 'stopTime' | 'logCount' | 'logType'> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new OpenMamError('malformed_request', '$: the body must be a JSON object');
  const body = input as Record<string, unknown>;
  for (const name of Object.keys(body)) {
    if (!['byTimeRange', 'byCount', 'learningLogs'].includes(name)) throw new OpenMamError('malformed_request', `${name}: unknown property`);
  }
  const logType = body['learningLogs'] === true ? 1 : 0;
  if (body['learningLogs'] !== undefined && typeof body['learningLogs'] !== 'boolean') throw new OpenMamError('malformed_request', 'learningLogs: must be true or false');
  const byCount = body['byCount'] as Record<string, unknown> | undefined;
  const byTimeRange = body['byTimeRange'] as Record<string, unknown> | undefined;
  if ((byCount === undefined) === (byTimeRange === undefined)) throw new OpenMamError('malformed_request', '$: give exactly one of byTimeRange and byCount');
  if (byCount !== undefined) {
    const count = byCount['count'];
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_LOG_COUNT) {
      throw new OpenMamError('malformed_request', `byCount.count: must be a whole number from 1 to ${MAX_LOG_COUNT}`);
    }
    return { mode: 'count', startTime: isoTime(byCount['startDateTime'], 'byCount.startDateTime'), stopTime: null, logCount: count, logType };
  }
  const startTime = isoTime(byTimeRange!['startDateTime'], 'byTimeRange.startDateTime');
  const stopTime = isoTime(byTimeRange!['endDateTime'], 'byTimeRange.endDateTime');
  if (startTime !== null && stopTime !== null && Date.parse(startTime) > Date.parse(stopTime)) {
    throw new OpenMamError('malformed_request', 'byTimeRange.endDateTime: must not be before startDateTime');
  }
  return { mode: 'timeRange', startTime, stopTime, logCount: null, logType };
}
