import { APP_CONFIGURATION_SPECS, APP_CONFIGURATION_TYPE, validateAppConfiguration } from '../../policy/app-protection.ts';
import { APP_CONFIGURATIONS } from './collections.ts';
import type { AppPolicyKindDeclaration } from './kind.ts';

/**
 * App configuration (Graph `targetedManagedAppConfiguration`; learn.microsoft.com/graph/api/resources/
 * intune-mam-targetedmanagedappconfiguration): name/value settings with value tokens, delivered at check-in.
 */
export const appConfigurationKind: AppPolicyKindDeclaration = {
  kind: 'targetedManagedAppConfiguration',
  odataType: APP_CONFIGURATION_TYPE,
  typeName: 'targetedManagedAppConfiguration',
  collection: APP_CONFIGURATIONS,
  specs: APP_CONFIGURATION_SPECS,
  validate: (input, mode) => ({ ...validateAppConfiguration(input, mode) }),
};
