import { OpenMamError } from '../../errors.ts';
import { expectPlainObject, refuse } from '../../policy/validate.ts';
import type { WindowsInformationProtectionPolicy } from '../../policy/wip.ts';
import type { PolicyRecord } from '../../store/records.ts';
import type { PolicyService } from '../policies.ts';
import { baselineWipTemplate } from './baseline-template.ts';
import { evaluateEasCompliance, mamDeviceLock, validateEasPolicy, type EasComplianceResult } from './eas-compliance.ts';
import { checkMdmHandoff, handoffWarnings, type HandoffMamPolicy, type HandoffMdmPolicy, type MdmHandoffCheck } from './handoff.ts';

/**
 * The WIP admin tools over stored policies: the MAM-to-MDM handoff check, EAS compliance of a MAM policy, and the
 * baseline template. Read-only: nothing here writes.
 */
export class WipTools {
  constructor(private readonly policies: Pick<PolicyService, 'devicePolicy' | 'list'>) {}

  /** The handoff check of one MAM policy against all the tenant's MDM WIP policies. */
  async mdmHandoffCheck(tenantId: string, mamPolicyId: string): Promise<MdmHandoffCheck> {
    const mam = await this.policies.devicePolicy(tenantId, 'windowsInformationProtectionPolicy', mamPolicyId);
    const mdm = await this.policies.list(tenantId, 'mdmWindowsInformationProtectionPolicy');
    return checkMdmHandoff(mamPolicyOf(mam), mdm.map(mdmPolicyOf));
  }

  /**
   * Warnings for each MAM policy's representation, by policy id (empty when its MDM upgrade, if offered, would not
   * wipe). The tenant's MDM WIP policies are read once for the whole list.
   */
  async handoffWarnings(policies: readonly PolicyRecord[]): Promise<Map<string, string[]>> {
    const warnings = new Map<string, string[]>();
    const mams = policies.filter((p) => p.kind === 'windowsInformationProtectionPolicy');
    if (mams.length === 0) return warnings;
    const mdm = (await this.policies.list(mams[0]!.tenantId, 'mdmWindowsInformationProtectionPolicy')).map(mdmPolicyOf);
    for (const mam of mams) warnings.set(mam.id, [...handoffWarnings(mamPolicyOf(mam), mdm), ...homeEditionWarnings(mam)]);
    return warnings;
  }

  /** `request` is the action's body, `{ "easPolicy": { ... } }`; validated before the policy is looked up. */
  async evaluateEasCompliance(tenantId: string, mamPolicyId: string, request: unknown): Promise<EasComplianceResult> {
    const eas = readEasComplianceRequest(request);
    const mam = await this.policies.devicePolicy(tenantId, 'windowsInformationProtectionPolicy', mamPolicyId);
    return evaluateEasCompliance(eas, mamDeviceLock(mamPolicyOf(mam)));
  }

  /** The baseline MAM WIP policy; `enterpriseDomain` from the query (one value) fills it in. */
  baselineTemplate(enterpriseDomain: unknown): WindowsInformationProtectionPolicy {
    if (enterpriseDomain === undefined || enterpriseDomain === '') return baselineWipTemplate();
    if (typeof enterpriseDomain !== 'string') throw new OpenMamError('malformed_request', 'enterpriseDomain: give one domain name');
    return baselineWipTemplate(enterpriseDomain);
  }
}

function readEasComplianceRequest(request: unknown): ReturnType<typeof validateEasPolicy> {
  if (request === undefined || request === null) refuse('', 'a JSON body { "easPolicy": { ... } } is required');
  const body = expectPlainObject(request, '');
  const unknown = Object.keys(body).find((name) => name !== 'easPolicy');
  if (unknown !== undefined) refuse(unknown, 'is not a parameter of evaluateEasCompliance (only easPolicy)');
  if (!Object.hasOwn(body, 'easPolicy')) refuse('easPolicy', 'is required');
  return validateEasPolicy(body['easPolicy'], 'easPolicy');
}

/** Stored bodies were validated on write (policies.ts); read with the validated type, as the compiler does. */
function mamPolicyOf(record: PolicyRecord): HandoffMamPolicy & WindowsInformationProtectionPolicy {
  return record.body as unknown as WindowsInformationProtectionPolicy;
}

function mdmPolicyOf(record: PolicyRecord): HandoffMdmPolicy {
  return { ...(record.body as unknown as Omit<HandoffMdmPolicy, 'id'>), id: record.id };
}

/** An admin who offers the MDM upgrade to Home edition devices is told what it costs their users (seed 000). */
export const HOME_EDITION_UPGRADE_WARNING =
  'openMamMdmUpgradeOnHomeEdition: the MDM upgrade (mdmEnrollmentUrl) is offered to Windows Home edition devices too; users who upgrade from MAM to MDM on Home edition lose access to WIP-protected data';

function homeEditionWarnings(mam: PolicyRecord): string[] {
  const body = mam.body;
  return body['openMamMdmUpgradeOnHomeEdition'] === true && typeof body['mdmEnrollmentUrl'] === 'string' && body['mdmEnrollmentUrl'] !== '' ? [HOME_EDITION_UPGRADE_WARNING] : [];
}
