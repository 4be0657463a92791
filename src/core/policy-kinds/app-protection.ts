import { APP_PROTECTION_SPECS, APP_PROTECTION_TYPE, validateAppProtection } from '../../policy/app-protection.ts';
import { APP_PROTECTIONS } from './collections.ts';
import type { AppPolicyKindDeclaration } from './kind.ts';

/**
 * App protection (Graph beta `windowsManagedAppProtection`; learn.microsoft.com/graph/api/resources/
 * intune-mam-windowsmanagedappprotection?view=graph-rest-beta): what managed apps enforce, judged at every check-in.
 */
export const appProtectionKind: AppPolicyKindDeclaration = {
  kind: 'windowsManagedAppProtection',
  odataType: APP_PROTECTION_TYPE,
  typeName: 'windowsManagedAppProtection',
  collection: APP_PROTECTIONS,
  specs: APP_PROTECTION_SPECS,
  validate: (input, mode) => ({ ...validateAppProtection(input, mode) }),
};

/** The data protection framework levels (learn.microsoft.com/mem/intune/apps/app-protection-framework) as bodies to start from. */
export { appProtectionTemplate, type FrameworkLevel } from '../../policy/app-protection.ts';
