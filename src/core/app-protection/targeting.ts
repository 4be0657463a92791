import { createHash } from 'node:crypto';
import type { TargetedManagedAppConfiguration, WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppPolicyRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import type { AssignmentFilterRecord, AssignmentFilterRef, PolicyAssignment } from '../../store/records.ts';
import { evaluateFilterRule, memoizedRule, type FilterSubject } from '../../policy/assignment-filter-rule.ts';
import { resolveValueTokens } from './value-tokens.ts';

/**
 * Which app protection and app configuration policies reach one user's app, and the documents the app receives.
 * Pure: the caller brings the tenant's policies and the user's groups.
 */

/**
 * The app assignment filters a registration is judged by (Graph deviceAndAppManagementAssignmentFilter of management
 * type apps, properties app.*: policy/assignment-filter-rule.ts APP_PROPERTIES), from what the registration recorded.
 * `key` names the subject for memoization.
 */
export interface AppFilterContext {
  readonly filters: ReadonlyMap<string, AssignmentFilterRecord>;
  readonly subject: FilterSubject;
  readonly key: string;
}

export function appFilterContext(filters: ReadonlyMap<string, AssignmentFilterRecord>, registration: Pick<AppRegistrationRecord, 'appVersion' | 'deviceManufacturer' | 'deviceModel' | 'osVersion'>): AppFilterContext | undefined {
  // No assignment names a filter (the common case): nothing to judge, and a check-in builds nothing.
  if (filters.size === 0) return undefined;
  const subject: FilterSubject = {
    appVersion: registration.appVersion,
    deviceManufacturer: registration.deviceManufacturer,
    deviceModel: registration.deviceModel,
    osVersion: registration.osVersion,
    operatingSystemVersion: registration.osVersion,
  };
  return { filters, subject, key: JSON.stringify([registration.appVersion, registration.deviceManufacturer, registration.deviceModel, registration.osVersion]) };
}

/**
 * Whether an include target's filter lets it reach the app: `include` when the registration matches the rule,
 * `exclude` when it does not. A filter that is not the tenant's app filter, a rule that no longer parses, or no
 * context to judge by lets nothing through: a filter never widens an assignment.
 */
function filterPasses(target: AssignmentFilterRef, context: AppFilterContext | undefined): boolean {
  const id = target.deviceAndAppManagementAssignmentFilterId;
  if (id === undefined) return true;
  const filter = context?.filters.get(id);
  if (context === undefined || filter === undefined || filter.managementType !== 'apps') return false;
  const rule = memoizedRule(filter.rule, 'apps');
  if (rule === null) return false;
  const matched = evaluateFilterRule(rule, context.subject);
  return target.deviceAndAppManagementAssignmentFilterType === 'exclude' ? !matched : matched;
}

/** Graph assignment rules: an exclusion group wins over any inclusion; an include target's filter narrows it. */
export function assignmentsTarget(assignments: readonly PolicyAssignment[], groups: ReadonlySet<string>, filters?: AppFilterContext): boolean {
  let included = false;
  for (const { target } of assignments) {
    switch (target['@odata.type']) {
      case '#microsoft.graph.exclusionGroupAssignmentTarget':
        if (groups.has(target.groupId)) return false;
        break;
      case '#microsoft.graph.groupAssignmentTarget':
        if (groups.has(target.groupId) && filterPasses(target, filters)) included = true;
        break;
      case '#microsoft.graph.allLicensedUsersAssignmentTarget':
        if (filterPasses(target, filters)) included = true;
        break;
    }
  }
  return included;
}

/** A protection policy targets apps by its `apps` list; a configuration may target every app by its appGroupType. */
export function policyTargetsApp(policy: AppPolicyRecord, appId: string): boolean {
  if (policy.kind === 'targetedManagedAppConfiguration' && (policy.body as unknown as TargetedManagedAppConfiguration).appGroupType === 'allApps') return true;
  return policy.apps.some((app) => app.appId === appId);
}

/** Shared between check-ins (memoized): read-only. */
export interface IntendedPolicies {
  /** The app protection policy the app should hold; undefined when none targets the user and app. */
  readonly protection: AppPolicyRecord | undefined;
  /** Every app protection policy that targets the user and app: more than one is a conflict the admin sees. */
  readonly protectionCandidates: readonly AppPolicyRecord[];
  readonly configurations: readonly AppPolicyRecord[];
}

/**
 * intendedPolicies per policy list (a tenant snapshot's), group set (TenantAppSnapshots keeps one per user) and app:
 * a steady check-in finds its answer here instead of walking every policy's assignments. The outer keys are weak
 * (they go with their snapshot and user); each group set keeps at most MAX_INTENDED_PER_GROUP_SET apps (and filter
 * facts), then starts again empty.
 */
export const MAX_INTENDED_PER_GROUP_SET = 4096;
const intendedMemo = new WeakMap<readonly AppPolicyRecord[], WeakMap<ReadonlySet<string>, Map<string, IntendedPolicies>>>();

export function memoizedIntendedPolicies(policies: readonly AppPolicyRecord[], groups: ReadonlySet<string>, appId: string, filters?: AppFilterContext): IntendedPolicies {
  let byGroups = intendedMemo.get(policies);
  if (byGroups === undefined) intendedMemo.set(policies, (byGroups = new WeakMap()));
  let byApp = byGroups.get(groups);
  if (byApp === undefined) byGroups.set(groups, (byApp = new Map()));
  // The registration's facts matter only when some assignment has a filter (appFilterContext is then defined).
  const key = filters === undefined ? appId : `${appId}\u0000${filters.key}`;
  let intended = byApp.get(key);
  if (intended === undefined) {
    if (byApp.size >= MAX_INTENDED_PER_GROUP_SET) byApp.clear();
    byApp.set(key, (intended = intendedPolicies(policies, groups, appId, filters)));
  }
  return intended;
}

/**
 * The policies intended for a user's app. Two protection policies for one user and app are a conflict (Intune
 * reports it too): the registration is flagged `policyConflict` and the app gets the oldest one, so that adding a
 * second policy never silently changes what the app already enforces.
 */
export function intendedPolicies(policies: readonly AppPolicyRecord[], groups: ReadonlySet<string>, appId: string, filters?: AppFilterContext): IntendedPolicies {
  const targeting = policies.filter((p) => policyTargetsApp(p, appId) && assignmentsTarget(p.assignments, groups, filters));
  const protectionCandidates = targeting.filter((p) => p.kind === 'windowsManagedAppProtection').sort(byAge);
  return {
    protection: protectionCandidates[0],
    protectionCandidates,
    configurations: targeting.filter((p) => p.kind === 'targetedManagedAppConfiguration').sort(byAge),
  };
}

function byAge(a: AppPolicyRecord, b: AppPolicyRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** What the app holds is named by policy id and version: `{id}:{version}`. */
export function policyVersionTag(policy: AppPolicyRecord): string {
  return `${policy.id}:${policy.version}`;
}

export interface PolicyDocument {
  id: string;
  version: string;
  displayName: string;
  settings: Omit<WindowsManagedAppProtection, 'displayName' | 'description'>;
}

export function policyDocument(policy: AppPolicyRecord): PolicyDocument {
  const body = policy.body as unknown as WindowsManagedAppProtection;
  const settings: Partial<WindowsManagedAppProtection> = { ...body };
  delete settings.displayName;
  delete settings.description;
  return { id: policy.id, version: policyVersionTag(policy), displayName: body.displayName, settings: settings as PolicyDocument['settings'] };
}

export interface ConfigurationDocument {
  version: string;
  settings: { name: string; value: string }[];
}

export interface ConfigurationUser {
  tenantId: string;
  userId: string;
  upn: string | null;
  mail: string | null;
  name: string | null;
}

/**
 * The custom settings of every configuration that targets the app, oldest policy first; a later policy's setting of
 * the same name replaces an earlier one. Value tokens are resolved for the user. The version names the policies and
 * their versions and digests the resolved values, so it changes exactly when what the app should hold changes.
 */
export function configurationDocument(configurations: readonly AppPolicyRecord[], user: ConfigurationUser): ConfigurationDocument | null {
  if (configurations.length === 0) return null;
  const cached = documentMemo.get(configurations);
  if (cached && sameUser(cached.user, user)) return cached.document;
  const document = buildConfigurationDocument(configurations, user);
  documentMemo.set(configurations, { user, document });
  return document;
}

/** The last document built per configuration list (memoized intended policies hold one list per user and app). */
const documentMemo = new WeakMap<readonly AppPolicyRecord[], { user: ConfigurationUser; document: ConfigurationDocument }>();

function sameUser(a: ConfigurationUser, b: ConfigurationUser): boolean {
  return a.tenantId === b.tenantId && a.userId === b.userId && a.upn === b.upn && a.mail === b.mail && a.name === b.name;
}

function buildConfigurationDocument(configurations: readonly AppPolicyRecord[], user: ConfigurationUser): ConfigurationDocument {
  const byName = new Map<string, string>();
  for (const policy of configurations) {
    for (const { name, value } of (policy.body as unknown as TargetedManagedAppConfiguration).customSettings) {
      byName.delete(name);
      byName.set(name, resolveValueTokens(value, user));
    }
  }
  const settings = [...byName].map(([name, value]) => ({ name, value }));
  const digest = createHash('sha256').update(JSON.stringify(settings)).digest('base64url').slice(0, 12);
  return { version: `${configurations.map(policyVersionTag).join(',')}#${digest}`, settings };
}
