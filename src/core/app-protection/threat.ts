import type { DeviceThreatLevel } from '../../policy/app-protection-model.ts';
import { compareVersions, parseVersion, type Version } from '../../../packages/contract/src/versions.ts';
import type { MtdConnectorRecord, ThreatLevel, ThreatReportRecord } from '../../store/app-protection-records.ts';

/**
 * The device threat level a health check compares with the policy's maximum (spec "Mobile threat defense"): which
 * connectors count, when a silent connector is ignored, and which report wins. Pure: `now` is the only clock.
 */

export type ThreatVerdict =
  /** The policy does not ask for a threat level. */
  | { kind: 'notRequired' }
  /**
   * Nothing to judge, and the connectors' settings say not to block for it: no connector counts, the connectors went
   * silent, none has reported on this device yet, or the device's Windows is older than the partner supports.
   */
  | { kind: 'ignored'; why: 'noConnector' | 'unresponsive' | 'noReport' | 'unsupportedOs' }
  /** No data where a connector asks to block on missing data (`windowsDeviceBlockedOnMissingPartnerData`): fails. */
  | { kind: 'missing' }
  /** The device's Windows is older than the partner supports, and a connector asks to block it: fails. */
  | { kind: 'unsupportedOs' }
  | { kind: 'reported'; level: ThreatLevel; connectorId: string; reportedAt: number };

export interface ThreatInput {
  policyLevel: DeviceThreatLevel;
  /** The tenant's connectors. */
  connectors: readonly MtdConnectorRecord[];
  /** The reports about this user's device, as the caller selected them; reports of other connectors are dropped here. */
  reports: readonly ThreatReportRecord[];
  /** The OS version the app reports for the device (e.g. 10.0.22631.3155); null when unknown. */
  osVersion: string | null;
  now: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The oldest Windows the threat partner reports on: the Mobile Threat Defense connector for Windows Security Center
 * "is only supported on Windows 11 version 22631 (23H2) or later" (learn.microsoft.com/mem/intune/protect/
 * mtd-app-protection-policy, quoted in seed 002).
 */
const PARTNER_MINIMUM_OS: Version = [10, 0, 22631];
const THREAT_RANK: Record<ThreatLevel, number> = { secured: 0, low: 1, medium: 2, high: 3 };

/**
 * In order: a report of a responsive connector is judged; without one, nothing blocks unless a connector's own
 * setting asks for it (Graph mobileThreatDefenseConnector): `partnerUnsupportedOsVersionBlocked` for a device below
 * the partner's supported Windows, `windowsDeviceBlockedOnMissingPartnerData` for missing data (no report yet, or
 * silent connectors). So adding a connector to a tenant whose devices have not reported yet changes nothing.
 */
export function threatVerdict(input: ThreatInput): ThreatVerdict {
  if (input.policyLevel === 'notConfigured') return { kind: 'notRequired' };
  const counting = input.connectors.filter(countsForWindowsMam);
  if (counting.length === 0) return { kind: 'ignored', why: 'noConnector' };
  const responsive = counting.filter((c) => !isUnresponsive(c, input.now));
  const report = newestReport(input.reports, new Set(responsive.map((c) => c.id)));
  if (report !== undefined) return { kind: 'reported', level: report.healthState, connectorId: report.connectorId, reportedAt: report.reportedAt };
  if (belowPartnerMinimum(input.osVersion)) {
    return counting.some((c) => c.partnerUnsupportedOsVersionBlocked) ? { kind: 'unsupportedOs' } : { kind: 'ignored', why: 'unsupportedOs' };
  }
  if (counting.some((c) => c.windowsDeviceBlockedOnMissingPartnerData)) return { kind: 'missing' };
  return { kind: 'ignored', why: responsive.length === 0 ? 'unresponsive' : 'noReport' };
}

/** Only a connector turned on for Windows MAM, whose partner is enabled (or went unresponsive since), speaks for MAM devices. */
export function countsForWindowsMam(connector: MtdConnectorRecord): boolean {
  return connector.windowsMobileApplicationManagementEnabled && (connector.partnerState === 'enabled' || connector.partnerState === 'unresponsive');
}

/** An OS version that cannot be read is not taken as old: the partner may well support it. */
function belowPartnerMinimum(osVersion: string | null): boolean {
  const version = osVersion === null ? undefined : parseVersion(osVersion);
  return version !== undefined && compareVersions(version, PARTNER_MINIMUM_OS) < 0;
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
