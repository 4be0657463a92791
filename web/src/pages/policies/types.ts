/**
 * The Graph entities the Policies pages read (docs/graph.md, docs/app-protection.md), reduced to what the pages show.
 * A policy body is open: each kind has its own properties (src/core/policy-kinds), which the forms read by name.
 */
export interface Policy {
  '@odata.type': string;
  '@odata.etag'?: string;
  id: string;
  displayName: string;
  description?: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  version: string | number;
  isAssigned: boolean;
  deployedAppCount?: number;
  assignments?: Assignment[];
  apps?: ManagedMobileApp[];
  /** Settings outside the MAM allow-list: shown, never sent to devices. */
  '@openmam.notApplicableSettings'?: unknown[];
  /** Graph properties stored as given but not acted on. */
  '@openmam.notApplicableProperties'?: string[];
  '@openmam.warnings'?: string[];
  [property: string]: unknown;
}

export type AssignmentTarget =
  | { '@odata.type': '#microsoft.graph.groupAssignmentTarget'; groupId: string }
  | { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget'; groupId: string }
  | { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' };

export interface Assignment {
  id: string;
  target: AssignmentTarget;
}

export interface ManagedMobileApp {
  id: string;
  mobileAppIdentifier: { '@odata.type': string; windowsAppId: string };
  version: string | null;
}

/** OpenMAM's catalogue entry (`deviceAppManagement/openMamManagedApps`). */
export interface ManagedApp {
  '@odata.etag'?: string;
  id: string;
  displayName: string;
  windowsAppId: string;
  clientIds: string[];
  isBuiltIn: boolean;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export interface Group {
  id: string;
  displayName: string;
}

/** Graph `deviceConfigurationDeviceStatus` with OpenMAM's own word for the state. */
export interface DeviceStatus {
  id: string;
  deviceDisplayName: string | null;
  deviceId: string;
  userPrincipalName: string | null;
  status: string;
  '@openmam.status': 'pending' | 'applied' | 'failed' | 'conflict' | 'notApplicable';
  statusCode: string | null;
  lastReportedDateTime: string | null;
}

/** Graph `deviceComplianceDeviceStatus` with OpenMAM's annotations: the device's state and why. */
export interface ComplianceDeviceStatus {
  id: string;
  deviceDisplayName: string | null;
  userPrincipalName: string | null;
  status: 'unknown' | 'notApplicable' | 'compliant' | 'remediated' | 'nonCompliant' | 'error' | 'conflict' | 'notAssigned';
  lastReportedDateTime: string;
  complianceGracePeriodExpirationDateTime: string;
  '@openmam.complianceState': string;
  '@openmam.settingStates': { setting: string; state: string; currentValue: string | null; reason: string | null }[];
}

/** Graph `managedAppPolicyDeploymentSummary` (beta). */
export interface DeploymentSummary {
  displayName: string;
  configurationDeployedUserCount: number;
  lastRefreshTime: string;
  configurationDeploymentSummaryPerApp: { mobileAppIdentifier: { windowsAppId: string }; configurationAppliedUserCount: number }[];
  '@openmam.truncated'?: boolean;
}

/** `{id}/mdmHandoffCheck` (core/wip/handoff.ts). */
export interface MdmHandoffCheck {
  wouldSelectivelyWipe: boolean;
  reasons: string[];
  matchingMdmPolicyId?: string;
  enterpriseId: string | null;
  conditions: Record<string, boolean>;
}

/** `{id}/evaluateEasCompliance` (core/wip/eas-compliance.ts). */
export interface EasComplianceResult {
  compliant: boolean;
  gaps: { setting: string; eas: number | boolean; mam: number | boolean | null; mamProperties: string[] }[];
  resultant: Record<string, number | boolean | null>;
  notes: string[];
}
