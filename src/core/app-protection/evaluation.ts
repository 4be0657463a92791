import type { WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppComplianceState, AppOperationRecord, AppRegistrationRecord, ThreatReportRecord } from '../../store/app-protection-records.ts';
import type { AppOperationStore, BlockedUserStore, ThreatStore } from '../../store/app-protection-roles.ts';
import { evaluateHealthChecks, type HealthOutcome } from './health-checks.ts';
import { appFilterContext, memoizedIntendedPolicies, type IntendedPolicies } from './targeting.ts';
import type { TenantAppSnapshot } from './tenant-snapshot.ts';
import { threatVerdict, type ThreatVerdict } from './threat.ts';

/**
 * Everything that decides one registration's state, read with as few queries as the policy needs, and the verdict:
 * health checks, compliance. Shared by check-ins (which act on it) and access decisions (which only read it).
 */
export interface RegistrationFacts {
  registration: AppRegistrationRecord;
  intended: IntendedPolicies;
  policy: WindowsManagedAppProtection | undefined;
  threat: ThreatVerdict;
  blocked: boolean;
  pending: AppOperationRecord[];
}

export interface Verdict {
  health: HealthOutcome;
  complianceState: AppComplianceState;
  complianceReasons: string[];
  /** The intended protection policy is the one the app reported holding (any version of it). */
  applied: boolean;
}

export type FactsStore = Pick<BlockedUserStore, 'isUserBlocked'> & Pick<AppOperationStore, 'pendingOperations'> & Pick<ThreatStore, 'threatReportsFor'>;

/**
 * `known`: what the caller already read with the registration (getCheckInState): then the blocked flag and the
 * threat reports need no query, and pending operations are read only when there are some.
 */
export async function readFacts(
  store: FactsStore,
  snapshot: TenantAppSnapshot,
  registration: AppRegistrationRecord,
  groups: ReadonlySet<string>,
  now: number,
  known?: { userBlocked: boolean; hasPendingOperations: boolean; threatReports: readonly ThreatReportRecord[] },
): Promise<RegistrationFacts> {
  const intended = memoizedIntendedPolicies(snapshot.policies, groups, registration.appId, appFilterContext(snapshot.appFilters, registration));
  const policy = intended.protection?.body as unknown as WindowsManagedAppProtection | undefined;
  const needsThreat = policy !== undefined && policy.maximumAllowedDeviceThreatLevel !== 'notConfigured';
  const [blocked, pending, reports] = await Promise.all([
    known ? known.userBlocked : store.isUserBlocked(registration.tenantId, registration.userId),
    known && !known.hasPendingOperations ? [] : store.pendingOperations(registration.id),
    !needsThreat || registration.azureAdDeviceId === null
      ? []
      : known
        ? known.threatReports
        : store.threatReportsFor(registration.tenantId, registration.userId, registration.azureAdDeviceId),
  ]);
  const threat = threatVerdict({
    policyLevel: policy?.maximumAllowedDeviceThreatLevel ?? 'notConfigured',
    connectors: snapshot.connectors,
    // Threat state is the device's: the newest report for the user's device counts, whichever app it came through.
    reports,
    osVersion: registration.osVersion,
    now,
  });
  return { registration, intended, policy, threat, blocked, pending };
}

/**
 * The verdict at `now`. `online` says the app is checking in right now: then being offline cannot block it (only an
 * offline period long enough to wipe, measured from its previous check-in, still counts).
 */
export function judge(facts: RegistrationFacts, now: number, online: boolean): Verdict {
  const { registration, policy } = facts;
  const health: HealthOutcome = policy
    ? evaluateHealthChecks(policy, {
        appVersion: registration.appVersion,
        sdkVersion: registration.sdkVersion,
        osVersion: registration.osVersion,
        lastCheckInAt: registration.lastCheckInAt,
        now,
        threat: facts.threat,
        reportedFailures: registration.reportedFailures.map(reportedFailure),
      })
    : { actions: [], compliant: true, reasons: [] };
  if (online) dropOfflineBlock(health);
  const reasons = [...health.reasons];
  if (!policy) reasons.push('appNotSetUp');
  if (facts.blocked) reasons.push('userBlocked');
  if (facts.pending.length > 0) reasons.push('wipePending');
  if (facts.intended.protectionCandidates.length > 1) reasons.push('policyConflict');
  const failing = !health.compliant || facts.blocked || facts.pending.length > 0;
  const complianceState: AppComplianceState = failing ? 'notCompliant' : policy ? 'compliant' : 'unknown';
  const applied = policy !== undefined && registration.appliedPolicyId === facts.intended.protection?.id;
  return { health, complianceState, complianceReasons: reasons, applied };
}

function dropOfflineBlock(health: HealthOutcome): void {
  health.actions = health.actions.filter((a) => a.reason !== 'offlineBlock');
  health.reasons = health.reasons.filter((r) => r !== 'offlineBlock');
  health.compliant = !health.actions.some((a) => a.type !== 'warn');
}

/** Failures are stored as `setting:action` (e.g. `minimumRequiredOsVersion:block`). */
export function reportedFailure(stored: string): { setting: string; action: 'block' | 'wipe' | 'warn' } {
  const [setting = '', action = 'block'] = stored.split(':');
  return { setting, action: action === 'wipe' || action === 'warn' ? action : 'block' };
}
