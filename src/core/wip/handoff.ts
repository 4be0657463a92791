import { domainToASCII } from 'node:url';
import type { WindowsInformationProtectionEnforcementLevel } from '../../policy/wip.ts';

/**
 * The MAM-to-MDM handoff check (seed 000, "Change MAM enrollment to MDM"):
 *
 * > In the process of changing MAM enrollment to MDM, MAM policies will be removed from the device after MDM policies
 * > have been successfully applied. Normally when WIP policies are removed from the device, the user's access to
 * > WIP-protected documents is revoked (selective wipe) unless EDP CSP RevokeOnUnenroll is set to false. To prevent
 * > selective wipe on enrollment change from MAM to MDM, the admin needs to ensure that:
 * > 1. Both MAM and MDM policies for the organization support WIP
 * > 2. EDP CSP Enterprise ID is the same for both MAM and MDM
 * > 3. EDP CSP RevokeOnMDMHandoff is set to FALSE
 *
 * and "To configure MAM device for MDM enrollment, the admin needs to configure the MDM Discovery URL in the DMClient
 * CSP" (the MAM policy's `mdmEnrollmentUrl`, compiled to DMClient ManagementServerToUpgradeTo).
 *
 * In Graph terms: (1) `enforcementLevel` is not `noProtection` in the MAM policy and in an MDM policy; (2) the primary
 * enterprise ID, i.e. the first entry of EnterpriseProtectedDomainNames (`enterpriseDomain`, which csp/compile/wip.ts
 * writes first), is the same in both; (3) the MAM policy has `revokeOnMdmHandoffDisabled: true` (RevokeOnMDMHandoff =
 * 0; absent means the CSP default 1, i.e. revoke). Enterprise IDs are compared case-insensitively in their ASCII
 * (IDNA) form, so `bücher.example` and `xn--bcher-kva.example` are one ID.
 *
 * Pure functions over Graph-shaped policy bodies; the structural input types below accept the validated types of
 * policy/wip.ts.
 */

interface ResourceCollection {
  readonly resources: readonly string[];
}

/** What the check reads of a MAM policy (windowsInformationProtectionPolicy). */
export interface HandoffMamPolicy {
  readonly enforcementLevel: WindowsInformationProtectionEnforcementLevel;
  readonly enterpriseDomain?: string | null;
  readonly enterpriseProtectedDomainNames?: readonly ResourceCollection[] | null;
  readonly revokeOnMdmHandoffDisabled?: boolean | null;
  readonly mdmEnrollmentUrl?: string | null;
}

/** What the check reads of an MDM policy (mdmWindowsInformationProtectionPolicy): its id is the policy's. */
export interface HandoffMdmPolicy {
  readonly id: string;
  readonly displayName?: string | null;
  readonly enforcementLevel: WindowsInformationProtectionEnforcementLevel;
  readonly enterpriseDomain?: string | null;
  readonly enterpriseProtectedDomainNames?: readonly ResourceCollection[] | null;
}

export interface HandoffConditions {
  /** (1) The MAM policy turns WIP on. */
  mamWipOn: boolean;
  /** (1) At least one of the tenant's MDM policies turns WIP on. */
  mdmWipOn: boolean;
  /** (2) An MDM policy with WIP on has the MAM policy's enterprise ID. */
  sameEnterpriseId: boolean;
  /** (3) RevokeOnMDMHandoff = 0. */
  revokeOnMdmHandoffDisabled: boolean;
  /** The device is offered the upgrade at all (DMClient ManagementServerToUpgradeTo). */
  mdmEnrollmentUrlSet: boolean;
}

export interface MdmHandoffCheck {
  /** True unless all three conditions of the seed hold. */
  wouldSelectivelyWipe: boolean;
  /** Every problem found, in the seed's order, then the missing upgrade URL; empty when the handoff is clean. */
  reasons: string[];
  /** The first MDM policy (in the order given) that turns WIP on with the same enterprise ID. */
  matchingMdmPolicyId?: string;
  /** The MAM policy's primary enterprise ID as configured, or null when it has none. */
  enterpriseId: string | null;
  conditions: HandoffConditions;
}

export function isWipOn(policy: { readonly enforcementLevel: WindowsInformationProtectionEnforcementLevel }): boolean {
  return policy.enforcementLevel !== 'noProtection';
}

/** EnterpriseProtectedDomainNames' first entry: `enterpriseDomain`, else the first protected domain; as configured. */
export function primaryEnterpriseId(policy: Pick<HandoffMamPolicy, 'enterpriseDomain' | 'enterpriseProtectedDomainNames'>): string | null {
  if (policy.enterpriseDomain) return policy.enterpriseDomain;
  return (policy.enterpriseProtectedDomainNames ?? []).flatMap((c) => c.resources).find((d) => d !== '') ?? null;
}

/** The comparison key of an enterprise ID: lower-case ASCII (IDNA) form. */
function enterpriseIdKey(id: string): string {
  const lower = id.toLowerCase();
  return domainToASCII(lower) || lower;
}

function describeMdm(policy: HandoffMdmPolicy): string {
  return policy.displayName ? `"${policy.displayName}" (${policy.id})` : policy.id;
}

export function checkMdmHandoff(mam: HandoffMamPolicy, mdm: readonly HandoffMdmPolicy[]): MdmHandoffCheck {
  const enterpriseId = primaryEnterpriseId(mam);
  const key = enterpriseId === null ? null : enterpriseIdKey(enterpriseId);
  const mdmWithWip = mdm.filter(isWipOn);
  const match = key === null ? undefined : mdmWithWip.find((p) => {
    const id = primaryEnterpriseId(p);
    return id !== null && enterpriseIdKey(id) === key;
  });
  const conditions: HandoffConditions = {
    mamWipOn: isWipOn(mam),
    mdmWipOn: mdmWithWip.length > 0,
    sameEnterpriseId: match !== undefined,
    revokeOnMdmHandoffDisabled: mam.revokeOnMdmHandoffDisabled === true,
    mdmEnrollmentUrlSet: typeof mam.mdmEnrollmentUrl === 'string' && mam.mdmEnrollmentUrl !== '',
  };

  const reasons: string[] = [];
  if (!conditions.mamWipOn) {
    reasons.push('The MAM policy does not turn WIP on (enforcementLevel noProtection): both the MAM and the MDM policy must support WIP.');
  }
  if (mdm.length === 0) {
    reasons.push('The tenant has no MDM WIP policy (mdmWindowsInformationProtectionPolicies): both the MAM and the MDM policy must support WIP.');
  } else if (!conditions.mdmWipOn) {
    reasons.push(`None of the tenant's ${mdm.length} MDM WIP policies turns WIP on (all are enforcementLevel noProtection): both the MAM and the MDM policy must support WIP.`);
  } else if (key === null) {
    reasons.push('The MAM policy has no enterprise ID (enterpriseDomain, the first EnterpriseProtectedDomainNames entry): the EDP enterprise ID must be the same in the MAM and the MDM policy.');
  } else if (!conditions.sameEnterpriseId) {
    const others = mdmWithWip.map((p) => `${describeMdm(p)}: ${primaryEnterpriseId(p) ?? 'none'}`).join('; ');
    reasons.push(
      `No MDM WIP policy with WIP on has the MAM policy's enterprise ID "${enterpriseId}" (EDP enterprise ID = the first protected domain, enterpriseDomain); found ${others}.`,
    );
  }
  if (!conditions.revokeOnMdmHandoffDisabled) {
    reasons.push(
      'revokeOnMdmHandoffDisabled is not true: EDP RevokeOnMDMHandoff stays 1 (its default), so access to WIP-protected data is revoked when the MAM policy is removed after the MDM policy applies.',
    );
  }
  const wouldSelectivelyWipe = reasons.length > 0;
  if (!conditions.mdmEnrollmentUrlSet) {
    reasons.push(
      'The MAM policy has no mdmEnrollmentUrl (DMClient ManagementServerToUpgradeTo, the MDM discovery URL): the device is not offered the change to MDM at all.',
    );
  }
  return { wouldSelectivelyWipe, reasons, ...(match ? { matchingMdmPolicyId: match.id } : {}), enterpriseId, conditions };
}

/**
 * Warnings for the MAM policy's representation: only when the policy offers the upgrade (mdmEnrollmentUrl set) and
 * taking it would selectively wipe. A policy that offers no upgrade has no handoff, hence no warning.
 */
export function handoffWarnings(mam: HandoffMamPolicy, mdm: readonly HandoffMdmPolicy[]): string[] {
  const check = checkMdmHandoff(mam, mdm);
  if (!check.conditions.mdmEnrollmentUrlSet || !check.wouldSelectivelyWipe) return [];
  return check.reasons.map((reason) => `Changing to MDM would selectively wipe WIP-protected data: ${reason}`);
}
