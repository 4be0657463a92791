/** DMClient's poll schedule (learn.microsoft.com/windows/client-management/mdm/dmclient-csp, Poll), minutes and counts. */
export interface PollSchedule {
  numberOfFirstRetries: number;
  intervalForFirstSetOfRetries: number;
  numberOfSecondRetries: number;
  intervalForSecondSetOfRetries: number;
  numberOfRemainingScheduledRetries: number;
  intervalForRemainingScheduledRetries: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

export type MamUserScope = 'none' | 'all' | 'selected';

/** OpenMAM's `deviceManagement/openMamTenantSettings` singleton (src/http/admin/tenant-settings-routes.ts). */
export interface TenantSettings {
  '@odata.etag': string;
  id: string;
  displayName: string;
  identityProvider: string;
  enrollmentAllowed: boolean;
  requireTermsOfUse: boolean;
  termsOfUseText: string;
  pollSchedule: PollSchedule;
  mamUserScope: MamUserScope;
  mamUserScopeGroupIds: string[];
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export const TENANT_SETTINGS_PATH = '/deviceManagement/openMamTenantSettings';
