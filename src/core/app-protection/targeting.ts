import { createHash } from 'node:crypto';
import type { TargetedManagedAppConfiguration, WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppPolicyRecord } from '../../store/app-protection-records.ts';
import type { PolicyAssignment } from '../../store/records.ts';
import { resolveValueTokens } from './value-tokens.ts';

/**
 * Which app protection and app configuration policies reach one user's app, and the documents the app receives.
 * Pure: the caller brings the tenant's policies and the user's groups.
 */

/** Graph assignment rules: an exclusion group wins over any inclusion. */
export function assignmentsTarget(assignments: readonly PolicyAssignment[], groups: ReadonlySet<string>): boolean {
  let included = false;
  for (const { target } of assignments) {
    switch (target['@odata.type']) {
      case '#microsoft.graph.exclusionGroupAssignmentTarget':
        if (groups.has(target.groupId)) return false;
        break;
      case '#microsoft.graph.groupAssignmentTarget':
        if (groups.has(target.groupId)) included = true;
        break;
      case '#microsoft.graph.allLicensedUsersAssignmentTarget':
        included = true;
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
 * a steady check-in finds its answer here instead of walking every policy's assignments.
 */
const intendedMemo = new WeakMap<readonly AppPolicyRecord[], WeakMap<ReadonlySet<string>, Map<string, IntendedPolicies>>>();

export function memoizedIntendedPolicies(policies: readonly AppPolicyRecord[], groups: ReadonlySet<string>, appId: string): IntendedPolicies {
  let byGroups = intendedMemo.get(policies);
  if (byGroups === undefined) intendedMemo.set(policies, (byGroups = new WeakMap()));
  let byApp = byGroups.get(groups);
  if (byApp === undefined) byGroups.set(groups, (byApp = new Map()));
  let intended = byApp.get(appId);
  if (intended === undefined) byApp.set(appId, (intended = intendedPolicies(policies, groups, appId)));
  return intended;
}

/**
 * The policies intended for a user's app. Two protection policies for one user and app are a conflict (Intune
 * reports it too): the registration is flagged `policyConflict` and the app gets the oldest one, so that adding a
 * second policy never silently changes what the app already enforces.
 */
export function intendedPolicies(policies: readonly AppPolicyRecord[], groups: ReadonlySet<string>, appId: string): IntendedPolicies {
  const targeting = policies.filter((p) => policyTargetsApp(p, appId) && assignmentsTarget(p.assignments, groups));
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
