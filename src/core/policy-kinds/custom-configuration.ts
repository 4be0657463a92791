import { compileCustomConfiguration } from '../../csp/compile/custom.ts';
import { CONFIGURATION_SPECS, CUSTOM_CONFIGURATION_TYPE, validateCustomConfiguration, type Windows10CustomConfiguration } from '../../policy/custom.ts';
import { DEVICE_CONFIGURATIONS } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/** Custom OMA-URI settings (Graph `windows10CustomConfiguration`), each within the MAM allow-list to reach a device. */
export const customConfigurationKind: DevicePolicyKind = {
  kind: 'windows10CustomConfiguration',
  odataType: CUSTOM_CONFIGURATION_TYPE,
  typeName: 'windows10CustomConfiguration',
  collection: DEVICE_CONFIGURATIONS,
  specs: CONFIGURATION_SPECS,
  validate: (input, mode) => ({ ...validateCustomConfiguration(input, mode) }),
  compile: (policy) => compileCustomConfiguration(policy.body as unknown as Windows10CustomConfiguration),
  reachesMamDevices: true,
};
