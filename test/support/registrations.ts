import { randomUUID } from 'node:crypto';
import type { AppRegistrationRecord } from '../../src/store/app-protection-records.ts';

/** A managed app registration of `tenantId` as the store keeps it (active, compliant, no device id), with `overrides`. */
export function registrationRecord(tenantId: string, overrides: Partial<AppRegistrationRecord> = {}): AppRegistrationRecord {
  const now = Date.now();
  return {
    tenantId,
    id: randomUUID(),
    userId: randomUUID(),
    upn: null,
    appId: 'com.contoso.notes',
    appVersion: '4.2.0',
    sdkVersion: '1.0.0',
    osVersion: '10.0.22631.3155',
    deviceName: null,
    deviceModel: null,
    deviceManufacturer: null,
    deviceTag: randomUUID(),
    azureAdDeviceId: null,
    azureAdDeviceIdVerified: false,
    clientId: null,
    createdAt: now,
    lastCheckInAt: now,
    appliedPolicyId: null,
    appliedPolicyVersion: null,
    reportedFailures: [],
    complianceState: 'compliant',
    complianceReasons: [],
    complianceChangedAt: now,
    state: 'active',
    ...overrides,
  };
}
