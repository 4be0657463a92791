import type { DeviceThreatLevel } from '../../policy/app-protection-model.ts';
import type { MtdConnectorRecord, ThreatLevel, ThreatReportRecord } from '../../store/app-protection-records.ts';

/**
 * The device threat level a health check compares with the policy's maximum (spec "Mobile threat defense"): which
 * connectors count, when a silent connector is ignored, and which report wins. Pure: `now` is the only clock.
 */

export type ThreatVerdict =
  /** The policy does not ask for a threat level. */
  | { kind: 'notRequired' }
  /** No connector can speak for the device, and the tenant did not ask to block on missing data: the check passes. */
  | { kind: 'ignored'; why: 'noConnector' | 'unresponsive' }
  /** A connector should have reported and did not (or went silent with blocking on missing data): the check fails. */
  | { kind: 'missing' }
  | { kind: 'reported'; level: ThreatLevel; connectorId: string; reportedAt: number };

export interface ThreatInput {
  policyLevel: DeviceThreatLevel;
  /** The tenant's connectors. */
  connectors: readonly MtdConnectorRecord[];
  /** The reports about this user's device, as the caller selected them; reports of other connectors are dropped here. */
  reports: readonly ThreatReportRecord[];
  now: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const THREAT_RANK: Record<ThreatLevel, number> = { secured: 0, low: 1, medium: 2, high: 3 };

export function threatVerdict(input: ThreatInput): ThreatVerdict {
  if (input.policyLevel === 'notConfigured') return { kind: 'notRequired' };
  const counting = input.connectors.filter(countsForWindowsMam);
  if (counting.length === 0) return { kind: 'ignored', why: 'noConnector' };
  const responsive = counting.filter((c) => !isUnresponsive(c, input.now));
  if (responsive.length === 0) {
    return counting.some((c) => c.windowsDeviceBlockedOnMissingPartnerData) ? { kind: 'missing' } : { kind: 'ignored', why: 'unresponsive' };
  }
  const report = newestReport(input.reports, new Set(responsive.map((c) => c.id)));
  if (report === undefined) return { kind: 'missing' };
  return { kind: 'reported', level: report.healthState, connectorId: report.connectorId, reportedAt: report.reportedAt };
}

/** Only a connector turned on for Windows MAM, and set up with its partner, speaks for MAM devices. */
export function countsForWindowsMam(connector: MtdConnectorRecord): boolean {
  return connector.windowsMobileApplicationManagementEnabled && connector.partnerState !== 'notSetUp';
}

/**
 * Silent for longer than its threshold (a connector that never reported is measured from its creation, so a new
 * connector has its threshold to start), or marked unresponsive.
 */
export function isUnresponsive(connector: MtdConnectorRecord, now: number): boolean {
  if (connector.partnerState === 'unresponsive') return true;
  const heardAt = connector.lastHeartbeatAt ?? connector.createdAt;
  return now - heardAt > connector.partnerUnresponsivenessThresholdInDays * DAY_MS;
}

/** The latest report (by the connector's own time, then by arrival) of a connector that counts. */
export function newestReport(reports: readonly ThreatReportRecord[], connectorIds: ReadonlySet<string>): ThreatReportRecord | undefined {
  let newest: ThreatReportRecord | undefined;
  for (const report of reports) {
    if (!connectorIds.has(report.connectorId)) continue;
    if (newest === undefined || report.reportedAt > newest.reportedAt || (report.reportedAt === newest.reportedAt && report.receivedAt > newest.receivedAt)) {
      newest = report;
    }
  }
  return newest;
}

/** At or below the maximum passes (secured < low < medium < high); no maximum allows every level. */
export function threatAllowed(level: ThreatLevel, maximum: DeviceThreatLevel): boolean {
  return maximum === 'notConfigured' || THREAT_RANK[level] <= THREAT_RANK[maximum];
}
