/** The grant controls OpenMAM evaluates (docs/app-protection.md, "Access decisions"); Graph's `conditionalAccessGrantControl`. */
export const GRANT_CONTROLS = ['compliantApplication', 'approvedApplication', 'compliantDevice'] as const;
export type GrantControl = (typeof GRANT_CONTROLS)[number];

/**
 * Graph `conditionalAccessPolicy` as OpenMAM answers it: what it acts on is typed, the rest of Graph's nesting is
 * kept as it came (stored only) so that a PATCH sends it back unchanged.
 */
export interface ConditionalAccessPolicy {
  '@odata.etag': string;
  id: string;
  displayName: string;
  state: 'enabled' | 'disabled';
  conditions: {
    applications?: { includeApplications?: string[]; [other: string]: unknown };
    users?: { includeUsers?: string[]; includeGroups?: string[]; excludeGroups?: string[]; [other: string]: unknown };
    [other: string]: unknown;
  } | null;
  grantControls: { operator?: string; builtInControls?: string[]; [other: string]: unknown } | null;
  /** OpenMAM's own: the Windows app ids `approvedApplication` allows. */
  approvedApplications: string[];
  createdDateTime: string;
  modifiedDateTime: string;
  '@openmam.notApplicableProperties'?: string[];
}

/** Graph `servicePrincipal`: a protected resource, named by its `appId` in policies and by its audiences in tokens. */
export interface ServicePrincipal {
  '@odata.etag': string;
  id: string;
  appId: string;
  displayName: string;
  servicePrincipalNames: string[];
  '@openmam.notApplicableProperties'?: string[];
}

/** OpenMAM's `openMamManagedApp` (the managed app catalogue), read here to name approved apps. */
export interface ManagedApp {
  id: string;
  displayName: string;
  windowsAppId: string;
}

export const POLICIES_PATH = '/identity/conditionalAccess/policies';
export const PRINCIPALS_PATH = '/servicePrincipals';
export const MANAGED_APPS_PATH = '/deviceAppManagement/openMamManagedApps';
