/** Graph `signIn` as the admin API answers it (src/http/admin/sign-in-routes.ts presentSignIn). */
export interface SignIn {
  id: string;
  createdDateTime: string;
  userId: string | null;
  userPrincipalName: string | null;
  appId: string | null;
  appDisplayName: string | null;
  ipAddress: string | null;
  resourceId: string | null;
  resourceDisplayName: string | null;
  correlationId: string;
  conditionalAccessStatus: 'success' | 'failure' | 'notApplied';
  appliedConditionalAccessPolicies: { id: string; displayName: string; enforcedGrantControls: string[]; result: 'success' | 'failure' }[];
  /** errorCode 0: allowed; 53003: blocked (AADSTS53003). additionalDetails: the decision's reason codes, comma-separated. */
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
  deviceDetail: { deviceId: string | null; isCompliant: boolean | null; deviceIdVerified: boolean };
  managedAppRegistrationId: string | null;
}
