import { newSignInId } from '../src/core/app-protection/sign-in-log.ts';
import type { SignInRecord } from '../src/store/app-protection-records.ts';

/**
 * One access decision's sign-in record, as AccessService would build it from what it already holds (token claims,
 * the catalogue entry, the resource, the decision): a new id and time, the rest the size of a real one (an allowed
 * decision under one conditional access policy).
 */
export function benchSignIn(tenantId: string, correlationId: string, userId = '5f0c2b7e-8d4a-4c1e-9b6f-2a3d4e5f6a7b'): SignInRecord {
  const now = Date.now();
  return {
    tenantId,
    id: newSignInId(now),
    createdAt: now,
    userId,
    userPrincipalName: 'bench-user-0042@contoso.example',
    appId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a',
    appDisplayName: 'Microsoft Edge',
    windowsAppId: 'com.microsoft.edge',
    resourceId: '00000002-0000-0ff1-ce00-000000000000',
    resourceDisplayName: 'Office 365 Exchange Online',
    deviceId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    deviceIdVerified: true,
    registrationId: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
    ipAddress: '203.0.113.7',
    correlationId,
    decision: 'allow',
    reasons: ['compliantApplication'],
    conditionalAccessStatus: 'success',
    appliedPolicies: [{ id: '1b0f6a4c-6b8e-4a7e-8d7e-3c2b1a0f9e8d', displayName: 'Exchange: require app protection', enforcedGrantControls: ['compliantApplication'], result: 'success' }],
  };
}
