import { compileWipPolicy } from '../../csp/compile/wip.ts';
import { MDM_SPECS, validateWipPolicy, WIP_POLICY_TYPE, type WipPolicy } from '../../policy/wip.ts';
import { MDM_WIP_POLICIES } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/**
 * WIP with MDM enrollment (Graph `mdmWindowsInformationProtectionPolicy`): stored and compiled so that the MAM-to-MDM
 * handoff check (core/wip/tools.ts) can compare it with the MAM policy, but delivered to no MAM device.
 */
export const wipMdmKind: DevicePolicyKind = {
  kind: 'mdmWindowsInformationProtectionPolicy',
  odataType: WIP_POLICY_TYPE.mdm,
  typeName: 'mdmWindowsInformationProtectionPolicy',
  collection: MDM_WIP_POLICIES,
  specs: MDM_SPECS,
  validate: (input, mode) => ({ ...validateWipPolicy(input, 'mdm', mode) }),
  compile: (policy, { providerId }) => compileWipPolicy({ ...(policy.body as unknown as WipPolicy), id: policy.id }, { tenantId: policy.tenantId, providerId }),
  reachesMamDevices: false,
};
