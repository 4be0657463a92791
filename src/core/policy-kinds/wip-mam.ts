import { compileWipPolicy } from '../../csp/compile/wip.ts';
import { MAM_SPECS, validateWipPolicy, WIP_POLICY_TYPE, type WipPolicy } from '../../policy/wip.ts';
import { WIP_POLICIES } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/**
 * WIP without enrollment (Graph `windowsInformationProtectionPolicy`; learn.microsoft.com/graph/api/resources/
 * intune-mam-windowsinformationprotectionpolicy): EnterpriseDataProtection, AppLocker, NetworkIsolation and the Hello
 * PIN over OMA-DM to MAM-enrolled devices.
 */
export const wipMamKind: DevicePolicyKind = {
  kind: 'windowsInformationProtectionPolicy',
  odataType: WIP_POLICY_TYPE.mam,
  typeName: 'windowsInformationProtectionPolicy',
  collection: WIP_POLICIES,
  specs: MAM_SPECS,
  validate: (input, mode) => ({ ...validateWipPolicy(input, 'mam', mode) }),
  compile: (policy, { providerId }) => compileWipPolicy({ ...(policy.body as unknown as WipPolicy), id: policy.id }, { tenantId: policy.tenantId, providerId }),
  reachesMamDevices: true,
};
