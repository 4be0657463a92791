import type { AppPolicyRecord } from '../../store/app-protection-records.ts';
import type { AppRegistrationStore } from '../../store/app-protection-roles.ts';

/**
 * Graph beta `managedAppPolicyDeploymentSummary` of an app protection policy, computed when asked: who holds the
 * policy now, i.e. the registrations whose app confirmed it at its last check-in (appliedPolicyId), counted as distinct
 * users overall and per app.
 */
export interface DeploymentSummary {
  displayName: string;
  configurationDeployedUserCount: number;
  lastRefreshTime: number;
  configurationDeploymentSummaryPerApp: { appId: string; configurationAppliedUserCount: number }[];
  /** True when the tenant has more registrations than the summary counted. */
  truncated: boolean;
}

export interface DeploymentSummariesOptions {
  store: Pick<AppRegistrationStore, 'listRegistrations'>;
  clock: () => number;
  /** How many of a tenant's registrations (newest check-in first) a summary counts; 50,000 by default. */
  summaryLimit?: number;
}

const DEFAULT_SUMMARY_LIMIT = 50_000;

export class DeploymentSummaries {
  constructor(private readonly options: DeploymentSummariesOptions) {}

  /**
   * Each of the policy's target apps is listed (0 when none applied it yet), then any other app that still holds it,
   * by app id.
   */
  async summarize(policy: AppPolicyRecord): Promise<DeploymentSummary> {
    const limit = this.options.summaryLimit ?? DEFAULT_SUMMARY_LIMIT;
    const registrations = await this.options.store.listRegistrations(policy.tenantId, {}, limit);
    const users = new Set<string>();
    const usersPerApp = new Map<string, Set<string>>(policy.apps.map((app) => [app.appId, new Set<string>()]));
    for (const registration of registrations) {
      if (registration.appliedPolicyId !== policy.id) continue;
      users.add(registration.userId);
      let appUsers = usersPerApp.get(registration.appId);
      if (appUsers === undefined) {
        appUsers = new Set<string>();
        usersPerApp.set(registration.appId, appUsers);
      }
      appUsers.add(registration.userId);
    }
    const targeted = new Set(policy.apps.map((app) => app.appId));
    const order = [...policy.apps.map((app) => app.appId), ...[...usersPerApp.keys()].filter((appId) => !targeted.has(appId)).sort()];
    return {
      displayName: String(policy.body['displayName']),
      configurationDeployedUserCount: users.size,
      lastRefreshTime: this.options.clock(),
      configurationDeploymentSummaryPerApp: order.map((appId) => ({ appId, configurationAppliedUserCount: usersPerApp.get(appId)?.size ?? 0 })),
      truncated: registrations.length >= limit,
    };
  }
}
