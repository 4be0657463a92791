import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { AppRegistrationRecord, MtdConnectorRecord, ThreatLevel } from '../../store/app-protection-records.ts';
import type { AppRegistrationStore, ThreatStore } from '../../store/app-protection-roles.ts';
import { judge, readFacts, type FactsStore } from './evaluation.ts';
import type { TenantAppSnapshots } from './tenant-snapshot.ts';

/**
 * Health states from a threat defense connector (Windows Security Center style, spec "Mobile threat defense"). A
 * report is stored as the latest state of the user's device, and the registrations of that user on that device are
 * judged again before the connector gets its answer: a decision asked for after the report already sees it.
 */
export interface ThreatReportInput {
  connectorId: string | null;
  userId: string;
  appId: string;
  azureAdDeviceId: string;
  healthState: ThreatLevel;
  reportedAt: number;
}

const HEARTBEAT_REFRESH_MS = 60 * 60 * 1000;
const LEVELS: readonly ThreatLevel[] = ['secured', 'low', 'medium', 'high'];

export interface ThreatReportServiceOptions {
  store: AppRegistrationStore & ThreatStore & FactsStore;
  snapshots: TenantAppSnapshots;
  clock: () => number;
}

export class ThreatReportService {
  constructor(private readonly options: ThreatReportServiceOptions) {}

  async report(tenantId: string, input: ThreatReportInput): Promise<void> {
    const { store, clock } = this.options;
    const connector = await this.connectorFor(tenantId, input.connectorId);
    const registrations = await store.listRegistrations(tenantId, { userId: input.userId, azureAdDeviceId: input.azureAdDeviceId }, 100);
    if (registrations.length === 0) throw new OpenMamError('not_found', `user ${input.userId} has no managed apps on Entra device ${input.azureAdDeviceId}`);
    const now = clock();
    requireNotFuture(input.reportedAt, now);
    await store.saveThreatReport({
      tenantId,
      connectorId: connector.id,
      userId: input.userId,
      appId: input.appId,
      azureAdDeviceId: input.azureAdDeviceId,
      healthState: input.healthState,
      reportedAt: input.reportedAt,
      receivedAt: now,
    });
    // A report is a sign of life: the connector's heartbeat (in the cached tenant snapshot, so written with a
    // version bump) is refreshed at most hourly, so that unresponsiveness is judged on days, never on the cache.
    if (connector.lastHeartbeatAt === null || now - connector.lastHeartbeatAt > HEARTBEAT_REFRESH_MS) {
      await store.recordConnectorHeartbeat(tenantId, connector.id, now, false);
    }
    await this.rejudge(tenantId, registrations, now);
  }

  /** A heartbeat keeps the connector responsive without a report. */
  async heartbeat(tenantId: string, connectorId: string | null): Promise<void> {
    const connector = await this.connectorFor(tenantId, connectorId);
    // Only the connector's own fields: an admin's concurrent change of its settings is never overwritten.
    if (!(await this.options.store.recordConnectorHeartbeat(tenantId, connector.id, this.options.clock(), true))) {
      throw new OpenMamError('not_found', `no connector ${connector.id}`);
    }
  }

  /** The connector a report names, or the tenant's only one. Refused: unknown (`not_found`), not enabled for MAM (`conflict`). */
  private async connectorFor(tenantId: string, connectorId: string | null): Promise<MtdConnectorRecord> {
    const connectors = await this.options.store.listConnectors(tenantId);
    const connector = connectorId === null ? (connectors.length === 1 ? connectors[0] : undefined) : connectors.find((c) => c.id === connectorId);
    if (!connector) {
      throw new OpenMamError('not_found', connectorId === null ? `the tenant has ${connectors.length} connectors: name one with connectorId` : `no connector ${connectorId}`);
    }
    if (!connector.windowsMobileApplicationManagementEnabled || connector.partnerState === 'notSetUp') {
      throw new OpenMamError('conflict', `connector ${connector.id} is not enabled for Windows MAM`);
    }
    return connector;
  }

  /** Stores the new compliance of the user's registrations on the device (for reports and the next check-in). */
  private async rejudge(tenantId: string, registrations: readonly AppRegistrationRecord[], now: number): Promise<void> {
    const snapshot = await this.options.snapshots.get(tenantId);
    // The groups an admin put the user in: the token's groups are not at hand for a connector's report (access
    // decisions, which have the user's token, judge with both).
    const groups = await this.options.snapshots.groupsOf(tenantId, registrations[0]!.userId, []);
    const changes = [];
    for (const registration of registrations) {
      const verdict = judge(await readFacts(this.options.store, snapshot, registration, groups, now), now, false);
      if (verdict.complianceState !== registration.complianceState || verdict.complianceReasons.join() !== registration.complianceReasons.join()) {
        changes.push({ id: registration.id, state: verdict.complianceState, reasons: verdict.complianceReasons, changedAt: now });
      }
    }
    if (changes.length > 0) await this.options.store.setCompliance(changes);
  }
}

/**
 * A connector's clock may run a little ahead of ours, no more: the newest report of a connector is the one that
 * counts, so a report dated in the future would outrank every later one until that date.
 */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

function requireNotFuture(reportedAt: number, now: number): void {
  if (reportedAt > now + MAX_CLOCK_AHEAD_MS) {
    throw new OpenMamError('malformed_request', `lastUpdatedDateTime: ${new Date(reportedAt).toISOString()} is in the future (more than 5 minutes ahead of this server)`);
  }
}

export function readThreatReport(body: unknown): ThreatReportInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OpenMamError('malformed_request', '$: must be a JSON object');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((name) => !['connectorId', 'userId', 'appId', 'azureAdDeviceId', 'healthState', 'lastUpdatedDateTime'].includes(name));
  if (unknown !== undefined) throw new OpenMamError('malformed_request', `${unknown}: unknown property`);
  const guid = (field: string): string => {
    const value = input[field];
    if (typeof value !== 'string' || !isGuid(value)) throw new OpenMamError('malformed_request', `${field}: must be a GUID`);
    return value.toLowerCase();
  };
  const healthState = input['healthState'];
  if (typeof healthState !== 'string' || !(LEVELS as readonly string[]).includes(healthState)) {
    throw new OpenMamError('malformed_request', `healthState: must be one of ${LEVELS.join(', ')}`);
  }
  const appId = input['appId'];
  if (typeof appId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/.test(appId)) throw new OpenMamError('malformed_request', 'appId: required app id');
  const updated = input['lastUpdatedDateTime'];
  const reportedAt = typeof updated === 'string' ? Date.parse(updated) : Number.NaN;
  if (Number.isNaN(reportedAt)) throw new OpenMamError('malformed_request', 'lastUpdatedDateTime: must be an ISO 8601 date and time');
  const connectorId = input['connectorId'];
  if (connectorId !== undefined && connectorId !== null && typeof connectorId !== 'string') throw new OpenMamError('malformed_request', 'connectorId: must be text');
  return {
    connectorId: typeof connectorId === 'string' ? connectorId : null,
    userId: guid('userId'),
    appId: appId.toLowerCase(),
    azureAdDeviceId: guid('azureAdDeviceId'),
    healthState: healthState as ThreatLevel,
    reportedAt,
  };
}
