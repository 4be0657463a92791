import { randomUUID } from 'node:crypto';
import type { SignInRecord } from '../../src/store/app-protection-records.ts';

/** A sign-in record of `tenantId` (an allowed decision under one satisfied policy), with `overrides`. */
export function signInRecord(tenantId: string, overrides: Partial<SignInRecord> = {}): SignInRecord {
  return {
    tenantId,
    id: randomUUID(),
    createdAt: Date.UTC(2026, 11, 1, 12),
    userId: randomUUID(),
    userPrincipalName: 'Adele.Vance@contoso.example',
    appId: randomUUID(),
    appDisplayName: 'Contoso Mail',
    windowsAppId: 'contoso.mail',
    resourceId: randomUUID(),
    resourceDisplayName: 'Exchange Online',
    deviceId: randomUUID(),
    deviceIdVerified: true,
    registrationId: randomUUID(),
    ipAddress: '203.0.113.7',
    correlationId: randomUUID(),
    decision: 'allow',
    reasons: ['compliantApplication'],
    conditionalAccessStatus: 'success',
    appliedPolicies: [{ id: randomUUID(), displayName: 'Require app protection', enforcedGrantControls: ['compliantApplication'], result: 'success' }],
    ...overrides,
  };
}
