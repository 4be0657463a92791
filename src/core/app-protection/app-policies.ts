import { OpenMamError } from '../../errors.ts';
import {
  appProtectionTemplate,
  readAssignmentTargets,
  readTargetAppsRequest,
  validateAppConfiguration,
  validateAppProtection,
  type FrameworkLevel,
} from '../../policy/app-protection.ts';
/** The models' bounds, for the routes' request schemas (http may not import policy/). */
export { MAX_ASSIGNMENTS, MAX_TARGET_APPS } from '../../policy/app-protection.ts';
import type { WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppPolicyKind, AppPolicyRecord, ManagedAppRef } from '../../store/app-protection-records.ts';
import type { AppProtectionStore } from '../../store/app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from '../versioned-write.ts';

/**
 * The admin side of app protection and app configuration policies (Graph beta `windowsManagedAppProtection`,
 * `targetedManagedAppConfiguration`): create, read, PATCH (null clears), delete, `targetApps`, `assign`, and a
 * protection policy's deployment summary. Every write validates the whole body (a PATCH is merged into the stored
 * one first), bumps the policy's version and is one store write, which bumps the tenant's app configuration
 * version: check-ins pick the change up from there, whatever the number of registrations. Changes are compare-and-sets
 * on the policy's version (versioned-write.ts): retried on a lost race unless conditioned on `expected` versions.
 */
export interface AppPolicyServiceOptions {
  store: Pick<AppProtectionStore, 'createAppPolicy' | 'updateAppPolicy' | 'getAppPolicy' | 'listAppPolicies' | 'queryAppPolicies' | 'deleteAppPolicy' | 'listRegistrations'>;
  clock: () => number;
  newId: () => string;
  /** How many of a tenant's registrations (newest check-in first) a deployment summary counts; 50,000 by default. */
  summaryLimit?: number;
}

/** Graph `managedAppPolicyDeploymentSummary`, computed when asked. */
export interface DeploymentSummary {
  displayName: string;
  configurationDeployedUserCount: number;
  lastRefreshTime: number;
  configurationDeploymentSummaryPerApp: { appId: string; configurationAppliedUserCount: number }[];
  /** True when the tenant has more registrations than the summary counted. */
  truncated: boolean;
}

const DEFAULT_SUMMARY_LIMIT = 50_000;

function validateBody(kind: AppPolicyKind, input: unknown, mode: 'create' | 'update'): Record<string, unknown> {
  return kind === 'windowsManagedAppProtection' ? { ...validateAppProtection(input, mode) } : { ...validateAppConfiguration(input, mode) };
}

export class AppPolicyService {
  constructor(private readonly options: AppPolicyServiceOptions) {}

  query(tenantId: string, kind: AppPolicyKind, query: CollectionQuery): Promise<CollectionPage<AppPolicyRecord>> {
    return this.options.store.queryAppPolicies(tenantId, kind, query);
  }

  list(tenantId: string, kind: AppPolicyKind): Promise<AppPolicyRecord[]> {
    return this.options.store.listAppPolicies(tenantId, kind);
  }

  /** `not_found` for an unknown id, another tenant's, or another kind's: the caller cannot tell them apart. */
  async get(tenantId: string, kind: AppPolicyKind, id: string): Promise<AppPolicyRecord> {
    const policy = await this.options.store.getAppPolicy(tenantId, id);
    if (!policy || policy.kind !== kind) throw new OpenMamError('not_found', `no ${kind} with id ${id}`);
    return policy;
  }

  async create(tenantId: string, kind: AppPolicyKind, input: unknown): Promise<AppPolicyRecord> {
    const body = validateBody(kind, input, 'create');
    const now = this.options.clock();
    const policy: AppPolicyRecord = { tenantId, id: this.options.newId(), kind, body, apps: [], assignments: [], version: 1, createdAt: now, updatedAt: now };
    await this.options.store.createAppPolicy(policy);
    return policy;
  }

  /** PATCH: each given property checked, laid over the stored ones (null removes one), then the whole body validated. */
  async update(tenantId: string, kind: AppPolicyKind, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AppPolicyRecord> {
    const changes = validateBody(kind, patch, 'update');
    return this.write(tenantId, kind, id, expected, (current) => {
      const kept = Object.entries(current.body).filter(([name]) => !(Object.hasOwn(changes, name) && changes[name] === null));
      const merged = { ...Object.fromEntries(kept), ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null)) };
      return { ...current, body: validateBody(kind, merged, 'create') };
    });
  }

  async delete(tenantId: string, kind: AppPolicyKind, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    await deleteVersioned({
      what: `${kind} ${id}`,
      expected,
      // The kind is checked first: the other collection's policy is not found here.
      readFirst: true,
      read: () => this.get(tenantId, kind, id),
      remove: (version) => this.options.store.deleteAppPolicy(tenantId, id, version),
    });
  }

  /**
   * Graph `targetApps`: replaces the policy's apps. An app already targeted keeps its entry id. A configuration's
   * request may set its `appGroupType` too.
   */
  async targetApps(tenantId: string, kind: AppPolicyKind, id: string, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AppPolicyRecord> {
    const request = readTargetAppsRequest(input, { withAppGroupType: kind === 'targetedManagedAppConfiguration' });
    return this.write(tenantId, kind, id, expected, (current) => {
      const existing = new Map(current.apps.map((app) => [app.appId, app.id]));
      const apps: ManagedAppRef[] = request.apps.map((app) => ({ id: existing.get(app.appId) ?? this.options.newId(), appId: app.appId, version: app.version }));
      const body = request.appGroupType === undefined ? current.body : validateBody(kind, { ...current.body, appGroupType: request.appGroupType }, 'create');
      return { ...current, apps, body };
    });
  }

  /** Graph `assign`: replaces the policy's assignments. */
  async assign(tenantId: string, kind: AppPolicyKind, id: string, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AppPolicyRecord> {
    const targets = readAssignmentTargets(input);
    return this.write(tenantId, kind, id, expected, (current) => ({ ...current, assignments: targets.map((target) => ({ id: this.options.newId(), target })) }));
  }

  /**
   * Who holds the protection policy now: the registrations whose app confirmed it at its last check-in
   * (appliedPolicyId), counted as distinct users overall and per app. Each of the policy's target apps is listed
   * (0 when none applied it yet), then any other app that still holds it, by app id.
   */
  async deploymentSummary(tenantId: string, id: string): Promise<DeploymentSummary> {
    const policy = await this.get(tenantId, 'windowsManagedAppProtection', id);
    const limit = this.options.summaryLimit ?? DEFAULT_SUMMARY_LIMIT;
    const registrations = await this.options.store.listRegistrations(tenantId, {}, limit);
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
      displayName: String((policy.body as unknown as WindowsManagedAppProtection).displayName),
      configurationDeployedUserCount: users.size,
      lastRefreshTime: this.options.clock(),
      configurationDeploymentSummaryPerApp: order.map((appId) => ({ appId, configurationAppliedUserCount: usersPerApp.get(appId)?.size ?? 0 })),
      truncated: registrations.length >= limit,
    };
  }

  /** A data protection framework level as a policy body to start from (not stored). */
  template(level: FrameworkLevel, params: { minimumOsVersion?: string; maximumOsVersion?: string }): WindowsManagedAppProtection {
    return appProtectionTemplate(level, params);
  }

  /** Read, change, compare-and-set; see versioned-write.ts. */
  private write(tenantId: string, kind: AppPolicyKind, id: string, expected: ExpectedVersion, change: (current: AppPolicyRecord) => AppPolicyRecord): Promise<AppPolicyRecord> {
    return writeVersioned({
      what: `${kind} ${id}`,
      expected,
      read: () => this.get(tenantId, kind, id),
      change: (current) => ({ ...change(current), updatedAt: this.options.clock() }),
      write: (next) => this.options.store.updateAppPolicy(next),
    });
  }
}
