import type { WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import { parseIsoDuration } from '../../../packages/contract/src/duration.ts';
import { threatAllowed, type ThreatVerdict } from './threat.ts';
import { compareVersions, parseVersion, type Version } from '../../../packages/contract/src/versions.ts';
import { ACTION_PRECEDENCE, UNREADABLE_VERSION_REASON, VERSION_CHECKS, type RemediationAction, type VersionCheck, type VersionSubject } from '../../../packages/contract/src/health.ts';

/**
 * The health checks (conditional launch) of a Windows app protection policy, evaluated by the service for one
 * registration at `now`: SDK version, app version, OS version (minimum and maximum), then the device threat level,
 * the offline periods, and the failures the app reported from its own local checks. Every failing check yields an
 * action named after its setting (docs/app-protection.md, "Action"); actions come out by precedence
 * wipe > block > warn, in that evaluation order within a type, and warnings stay listed after a block or wipe.
 *
 * Interpretations:
 * - A reported version the rules cannot read (the HTTP layer already refuses those, so this is defence in depth)
 *   fails every configured check of its kind as a block: never a wipe on data we cannot read, never only a warning.
 *   The reason is the kind's "Required" one (`minimumRequiredOsVersion`, or `maximumRequiredOsVersion` when only
 *   maximums are set).
 * - An equal version passes both a minimum and a maximum; a version above a maximum fails it.
 * - A threshold the rules cannot read counts as not configured: stored policies are validated, and an unreadable
 *   one must not lock every user out.
 * - Offline is measured from `lastCheckInAt` (the previous check-in; null for the first: never offline). The app
 *   cannot check in more often than every 30 minutes, so an access period below that, and PT0S ("block whenever
 *   offline"), mean "no check-in for longer than 30 minutes". A wipe period of PT0S never wipes. An unreadable period
 *   falls back to the documented default (PT720M, P90D). A caller evaluating at a check-in knows the app is online
 *   and may drop `offlineBlock`.
 */

export type HealthActionType = RemediationAction;

export interface HealthAction {
  type: HealthActionType;
  reason: string;
}

export interface HealthOutcome {
  actions: HealthAction[];
  /** False when any block or wipe applies; warnings keep compliance. */
  compliant: boolean;
  /** Every failing reason once, most severe first. */
  reasons: string[];
}

export interface ReportedFailure {
  setting: string;
  action: HealthActionType;
}

export interface HealthFacts {
  appVersion: string;
  sdkVersion: string;
  osVersion: string;
  /** The previous check-in; null for the first. */
  lastCheckInAt: number | null;
  now: number;
  threat: ThreatVerdict;
  reportedFailures: readonly ReportedFailure[];
}

/** How often a registered app checks in while in use: the shortest offline period the service can see. */
export const CHECK_IN_INTERVAL_MS = 30 * 60 * 1000;
export const DEFAULT_OFFLINE_ACCESS_PERIOD_MS = 720 * 60 * 1000;
export const DEFAULT_OFFLINE_WIPE_PERIOD_MS = 90 * 24 * 60 * 60 * 1000;

/** One subject's configured checks, from the table the SDK reads too (@openmam/contract). */
interface VersionKind {
  subject: VersionSubject;
  checks: readonly VersionCheck[];
}

const kindOf = (subject: VersionSubject): VersionKind => ({ subject, checks: VERSION_CHECKS.filter((check) => check.subject === subject) });
const SDK = kindOf('sdkVersion');
const APP = kindOf('appVersion');
const OS = kindOf('osVersion');

export function evaluateHealthChecks(policy: WindowsManagedAppProtection, facts: HealthFacts): HealthOutcome {
  const failing = [
    ...versionChecks(policy, SDK, facts.sdkVersion),
    ...versionChecks(policy, APP, facts.appVersion),
    ...versionChecks(policy, OS, facts.osVersion),
    ...threatLevelCheck(policy, facts.threat),
    ...offlineChecks(policy, facts.lastCheckInAt, facts.now),
    ...reportedFailureChecks(facts.reportedFailures),
  ];
  const actions = byPrecedence(distinct(failing));
  return {
    actions,
    compliant: actions.every((action) => action.type === 'warn'),
    reasons: [...new Set(actions.map((action) => action.reason))],
  };
}

type ConfiguredChecks = readonly { check: VersionCheck; limit: Version }[];

/** A policy's thresholds, parsed once per policy object (tenant snapshots keep them for every check-in). */
const configuredChecks = new WeakMap<WindowsManagedAppProtection, Map<VersionKind, ConfiguredChecks>>();

function configuredOf(policy: WindowsManagedAppProtection, kind: VersionKind): ConfiguredChecks {
  let byKind = configuredChecks.get(policy);
  if (byKind === undefined) configuredChecks.set(policy, (byKind = new Map()));
  let configured = byKind.get(kind);
  if (configured === undefined) {
    configured = kind.checks.flatMap((check) => {
      const limit = parseVersion(policy[check.setting] ?? '');
      return limit === undefined ? [] : [{ check, limit }];
    });
    byKind.set(kind, configured);
  }
  return configured;
}

/** The configured checks of one kind that the reported version fails. */
function versionChecks(policy: WindowsManagedAppProtection, kind: VersionKind, reportedText: string): HealthAction[] {
  const configured = configuredOf(policy, kind);
  if (configured.length === 0) return [];
  const reported = parseVersion(reportedText);
  if (reported === undefined) {
    const bounds = [...new Set(configured.map(({ check }) => check.bound))];
    return bounds.map((bound) => ({ type: 'block', reason: UNREADABLE_VERSION_REASON[kind.subject][bound] }));
  }
  return configured
    .filter(({ check, limit }) => (check.bound === 'minimum' ? compareVersions(reported, limit) < 0 : compareVersions(reported, limit) > 0))
    .map(({ check }) => ({ type: check.action, reason: check.setting }));
}

function threatLevelCheck(policy: WindowsManagedAppProtection, verdict: ThreatVerdict): HealthAction[] {
  if (policy.maximumAllowedDeviceThreatLevel === 'notConfigured') return [];
  if (!threatFails(verdict, policy)) return [];
  // What the user can do differs: update Windows, or resolve what Windows Security shows.
  return [{ type: policy.mobileThreatDefenseRemediationAction, reason: verdict.kind === 'unsupportedOs' ? 'threatDefenseUnsupportedOs' : 'deviceThreatLevel' }];
}

/** Missing data or an unsupported OS fails (the connector asked for it); ignored passes; a report passes at or below the maximum. */
export function threatFails(verdict: ThreatVerdict, policy: Pick<WindowsManagedAppProtection, 'maximumAllowedDeviceThreatLevel'>): boolean {
  switch (verdict.kind) {
    case 'notRequired':
    case 'ignored':
      return false;
    case 'missing':
    case 'unsupportedOs':
      return true;
    case 'reported':
      return !threatAllowed(verdict.level, policy.maximumAllowedDeviceThreatLevel);
  }
}

function offlineChecks(policy: WindowsManagedAppProtection, lastCheckInAt: number | null, now: number): HealthAction[] {
  if (lastCheckInAt === null) return [];
  const offlineFor = now - lastCheckInAt;
  const actions: HealthAction[] = [];
  if (offlineWipeDue(policy.periodOfflineBeforeWipeIsEnforced, offlineFor)) actions.push({ type: 'wipe', reason: 'offlineWipe' });
  if (offlineBlockDue(policy.periodOfflineBeforeAccessCheck, offlineFor)) actions.push({ type: 'block', reason: 'offlineBlock' });
  return actions;
}

/** Policies share a handful of periods: each is parsed once (bounded, in case of many distinct ones). */
const parsedPeriods = new Map<string, number | undefined>();
export const MAX_PARSED_PERIODS = 1024;

/** How many periods the memo holds now (tests: it never holds more than MAX_PARSED_PERIODS). */
export function parsedPeriodsHeld(): number {
  return parsedPeriods.size;
}

function periodMs(period: string): number | undefined {
  if (parsedPeriods.has(period)) return parsedPeriods.get(period);
  const ms = parseIsoDuration(period);
  if (parsedPeriods.size >= MAX_PARSED_PERIODS) parsedPeriods.clear();
  parsedPeriods.set(period, ms);
  return ms;
}

/** Past periodOfflineBeforeWipeIsEnforced; PT0S never wipes. */
export function offlineWipeDue(period: string, offlineFor: number): boolean {
  const limit = periodMs(period) ?? DEFAULT_OFFLINE_WIPE_PERIOD_MS;
  return limit > 0 && offlineFor > limit;
}

/** Past periodOfflineBeforeAccessCheck, but never sooner than one missed check-in (so PT0S = offline after 30 min). */
export function offlineBlockDue(period: string, offlineFor: number): boolean {
  const limit = Math.max(periodMs(period) ?? DEFAULT_OFFLINE_ACCESS_PERIOD_MS, CHECK_IN_INTERVAL_MS);
  return offlineFor > limit;
}

/** The app's own checks count with the action it took; a failure without a setting names nothing and is dropped. */
function reportedFailureChecks(failures: readonly ReportedFailure[]): HealthAction[] {
  return failures.filter((failure) => failure.setting !== '').map((failure) => ({ type: failure.action, reason: failure.setting }));
}

/** One action per type and reason: the service and the app often find the same failure. */
function distinct(actions: readonly HealthAction[]): HealthAction[] {
  const seen = new Set<string>();
  return actions.filter((action) => {
    const key = `${action.type}:${action.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** wipe > block > warn; Array.prototype.sort is stable, so evaluation order holds within a type. */
function byPrecedence(actions: HealthAction[]): HealthAction[] {
  return actions.sort((a, b) => ACTION_PRECEDENCE[a.type] - ACTION_PRECEDENCE[b.type]);
}
