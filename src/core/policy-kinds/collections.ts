import type { PolicyCollection } from './kind.ts';

/**
 * The Graph collections that hold policies (learn.microsoft.com/graph/api/resources/intune-graph-overview): their
 * paths, versions and assignment types, as Graph's metadata declares them.
 */

/** `windowsInformationProtectionPolicy` (WIP without enrollment); beta and v1.0. */
export const WIP_POLICIES: PolicyCollection<'omaDm'> = {
  path: 'deviceAppManagement/windowsInformationProtectionPolicies',
  entityType: 'windowsInformationProtectionPolicy',
  versions: ['v1.0', 'beta'],
  delivery: 'omaDm',
  versionType: 'String',
  assignment: { entityType: 'targetedManagedAppPolicyAssignment', answer: 'noContent' },
};

/** `mdmWindowsInformationProtectionPolicy` (WIP with MDM enrollment); beta and v1.0. */
export const MDM_WIP_POLICIES: PolicyCollection<'omaDm'> = {
  path: 'deviceAppManagement/mdmWindowsInformationProtectionPolicies',
  entityType: 'mdmWindowsInformationProtectionPolicy',
  versions: ['v1.0', 'beta'],
  delivery: 'omaDm',
  versionType: 'String',
  assignment: { entityType: 'targetedManagedAppPolicyAssignment', answer: 'noContent' },
};

/** `deviceConfiguration` and its derived types; beta and v1.0. */
export const DEVICE_CONFIGURATIONS: PolicyCollection<'omaDm'> = {
  path: 'deviceManagement/deviceConfigurations',
  entityType: 'deviceConfiguration',
  versions: ['v1.0', 'beta'],
  delivery: 'omaDm',
  versionType: 'Int32',
  assignment: { entityType: 'deviceConfigurationAssignment', answer: 'assignments' },
};

/** `windowsManagedAppProtection`: beta only, as in Graph. */
export const APP_PROTECTIONS: PolicyCollection<'checkIn'> = {
  path: 'deviceAppManagement/windowsManagedAppProtections',
  entityType: 'windowsManagedAppProtection',
  versions: ['beta'],
  delivery: 'checkIn',
  versionType: 'String',
  assignment: { entityType: 'targetedManagedAppPolicyAssignment', answer: 'noContent' },
  targetApps: { withAppGroupType: false },
};

/** `targetedManagedAppConfiguration`: beta and v1.0. */
export const APP_CONFIGURATIONS: PolicyCollection<'checkIn'> = {
  path: 'deviceAppManagement/targetedManagedAppConfigurations',
  entityType: 'targetedManagedAppConfiguration',
  versions: ['v1.0', 'beta'],
  delivery: 'checkIn',
  versionType: 'String',
  assignment: { entityType: 'targetedManagedAppPolicyAssignment', answer: 'noContent' },
  targetApps: { withAppGroupType: true },
};

/**
 * `deviceCompliancePolicy` and its derived types; beta and v1.0. Graph's `assign` on a compliance policy answers 200
 * with the assignments (learn.microsoft.com/graph/api/intune-deviceconfig-devicecompliancepolicy-assign).
 */
export const DEVICE_COMPLIANCE_POLICIES: PolicyCollection<'compliance'> = {
  path: 'deviceManagement/deviceCompliancePolicies',
  entityType: 'deviceCompliancePolicy',
  versions: ['v1.0', 'beta'],
  delivery: 'compliance',
  versionType: 'Int32',
  assignment: { entityType: 'deviceCompliancePolicyAssignment', answer: 'assignments' },
};
