import type { AccessPolicyRecord } from '../../store/app-protection-records.ts';
import { userMessage } from './messages.ts';

/**
 * The conditional access decision for one request to a protected resource (docs/app-protection.md, "Access
 * decisions"): every enabled policy that protects the resource and targets the user must be satisfied, and a policy
 * is satisfied by any one of its grant controls (seed 004: app CA or device compliance, either grants). Pure.
 *
 * Interpretations:
 * - Resources match case-insensitively (Entra application ids are GUIDs, written in either case); app ids too.
 * - A policy without grant controls requires nothing (Entra's "grant access" with no control ticked).
 * - Allow reasons name what granted (`noPolicy`, or the satisfied controls); deny reasons name what failed, in policy
 *   then control order: `approvedAppRequired`, `protectionPolicyRequired` (no protection policy applied to a
 *   registration of this app), the registration's own reasons when it is applied but not compliant (health checks,
 *   blocked user, pending wipe), `deviceNotCompliant`. The remediation is that of the first reason.
 * - A registration whose org data is being removed (`wipePending`) or whose user was wiped and blocked
 *   (`userBlocked`) is granted by no control of a policy that applies: an approved app or a compliant device does not
 *   make an app under selective wipe a safe place for the resource's data.
 */

export type GrantControl = AccessPolicyRecord['grantControls'][number];

export interface AppProtectionState {
  /** An app protection policy is applied to the registration. */
  applied: boolean;
  compliant: boolean;
  /** Why not compliant, most severe first (the health outcome's order). */
  reasons: readonly string[];
}

export interface AccessInput {
  /** The tenant's access policies. */
  policies: readonly AccessPolicyRecord[];
  resource: string;
  userGroups: ReadonlySet<string>;
  appId: string;
  /** The app is registered (with the app protection service) on the device of the request. */
  registered: boolean;
  /** The registration's state; undefined without a registration. */
  appProtection: AppProtectionState | undefined;
  /**
   * Whether the token's device is compliant: OpenMAM's own state when it manages the device, else what an MDM last
   * reported (access.ts deviceCompliantFrom); undefined when neither knows it.
   */
  deviceCompliant: boolean | undefined;
}

export interface AccessRemediation {
  title: string;
  message: string;
}

/** One conditional access policy that applied, with its result (Graph `appliedConditionalAccessPolicy`). */
export interface AppliedAccessPolicy {
  id: string;
  displayName: string;
  enforcedGrantControls: GrantControl[];
  result: 'success' | 'failure';
}

export interface AccessDecision {
  decision: 'allow' | 'deny';
  reasons: string[];
  remediation?: AccessRemediation;
  /** Every policy that applied, in policy order (for the sign-in log); empty when none did. */
  appliedPolicies: AppliedAccessPolicy[];
}

const WARNING_REASONS: ReadonlySet<string> = new Set(['minimumWarningAppVersion', 'minimumWarningOsVersion', 'maximumWarningOsVersion']);

export interface ControlResult {
  granted: boolean;
  /** What failed, when not granted. */
  reasons: readonly string[];
}

export function decideAccess(input: AccessInput): AccessDecision {
  const applicable = input.policies.filter((policy) => protectsResource(policy, input.resource) && targetsUser(policy, input.userGroups));
  if (applicable.length === 0) return { decision: 'allow', reasons: ['noPolicy'], appliedPolicies: [] };
  const revoked = revokingReasons(input.appProtection);
  if (revoked.length > 0) return denial(revoked, applicable.map((policy) => applied(policy, false)));
  const granted: string[] = [];
  const failed: string[] = [];
  const appliedPolicies: AppliedAccessPolicy[] = [];
  for (const policy of applicable) {
    const results = policy.grantControls.map((control) => ({ control, ...grantControlResult(control, policy, input) }));
    const grant = results.find((result) => result.granted);
    if (grant !== undefined) granted.push(grant.control);
    else if (results.length === 0) granted.push('noGrantControls');
    else failed.push(...results.flatMap((result) => result.reasons));
    appliedPolicies.push(applied(policy, grant !== undefined || results.length === 0));
  }
  if (failed.length === 0) return { decision: 'allow', reasons: unique(granted), appliedPolicies };
  return denial(unique(failed), appliedPolicies);
}

/** A deny before any policy is judged: the request itself cannot be trusted (caller-identity.ts, access.ts). */
export function denial(reasons: string[], appliedPolicies: AppliedAccessPolicy[] = []): AccessDecision {
  return { decision: 'deny', reasons, remediation: accessRemediation(reasons[0] ?? 'unknownFailure'), appliedPolicies };
}

function applied(policy: AccessPolicyRecord, success: boolean): AppliedAccessPolicy {
  return { id: policy.id, displayName: policy.displayName, enforcedGrantControls: [...policy.grantControls], result: success ? 'success' : 'failure' };
}

/** Registration states that no grant overrides (see the interpretations above). */
const REVOKING_REASONS: ReadonlySet<string> = new Set(['wipePending', 'userBlocked']);

function revokingReasons(state: AppProtectionState | undefined): string[] {
  return state === undefined ? [] : state.reasons.filter((reason) => REVOKING_REASONS.has(reason));
}

/** includeApplications' `All`, lower-cased. */
const ALL_RESOURCES = 'all';

/**
 * Enabled, and the resource is one it protects: named (application ids compare ignoring case), or every resource
 * when the policy's includeApplications is `All` (learn.microsoft.com/graph/api/resources/conditionalaccessapplications).
 */
export function protectsResource(policy: AccessPolicyRecord, resource: string): boolean {
  if (policy.state !== 'enabled') return false;
  const wanted = resource.toLowerCase();
  return policy.resources.some((protectedResource) => {
    const name = protectedResource.toLowerCase();
    return name === ALL_RESOURCES || name === wanted;
  });
}

/** All users or an included group, and no excluded group: exclusion wins. */
export function targetsUser(policy: AccessPolicyRecord, userGroups: ReadonlySet<string>): boolean {
  if (policy.excludeGroups.some((group) => userGroups.has(group))) return false;
  return policy.includeAllUsers || policy.includeGroups.some((group) => userGroups.has(group));
}

function grantControlResult(control: GrantControl, policy: AccessPolicyRecord, input: AccessInput): ControlResult {
  switch (control) {
    case 'approvedApplication':
      return approvedApplication(policy, input.appId, input.registered);
    case 'compliantApplication':
      return compliantApplication(input.appProtection);
    case 'compliantDevice':
      return compliantDevice(input.deviceCompliant);
  }
}

/** App-based CA (seed 004): an approved app, registered on the device (a broker registers it first). */
export function approvedApplication(policy: Pick<AccessPolicyRecord, 'approvedApps'>, appId: string, registered: boolean): ControlResult {
  const approved = policy.approvedApps.includes(appId.toLowerCase());
  return approved && registered ? { granted: true, reasons: [] } : { granted: false, reasons: ['approvedAppRequired'] };
}

/** App protection CA (seed 002): a protection policy applied to the registration, and compliant now. */
export function compliantApplication(state: AppProtectionState | undefined): ControlResult {
  // Registered, but no protection policy targets the app for this user: seed 003's "App not set up" says why.
  if (state !== undefined && !state.applied && state.reasons.includes('appNotSetUp')) return { granted: false, reasons: ['appNotSetUp'] };
  if (state === undefined || !state.applied) return { granted: false, reasons: ['protectionPolicyRequired'] };
  if (state.compliant) return { granted: true, reasons: [] };
  // Warnings never make a registration non-compliant: the remediation must be about what does.
  const failing = state.reasons.filter((reason) => !WARNING_REASONS.has(reason));
  return { granted: false, reasons: failing.length > 0 ? failing : ['protectionPolicyRequired'] };
}

/** Device CA: only a known compliant device grants (OpenMAM's own state or an MDM's report); unknown is not compliant. */
export function compliantDevice(deviceCompliant: boolean | undefined): ControlResult {
  return deviceCompliant === true ? { granted: true, reasons: [] } : { granted: false, reasons: ['deviceNotCompliant'] };
}

/** The end user's dialog for a denial: the reason's message, then what to do. */
export function accessRemediation(reason: string): AccessRemediation {
  const message = userMessage(reason);
  return { title: message.title, message: `${message.text} ${message.remediation}` };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
