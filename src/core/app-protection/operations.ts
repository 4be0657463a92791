import type { AppOperationRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';

/**
 * Selective wipe operations and how long their records are kept (spec "Selective wipe"): completed ones 4 days,
 * pending ones the offline-wipe period of the app's policy plus 4 days (an app offline longer wipes itself).
 */
export const OPERATION_RETENTION_MS = 4 * 24 * 60 * 60 * 1000;
export const DEFAULT_OFFLINE_WIPE_MS = 90 * 24 * 60 * 60 * 1000;

/** A pending wipe of one registration. `offlineWipeMs` 0 (PT0S: never wipe for being offline) keeps the default. */
export function pendingWipe(registration: AppRegistrationRecord, reason: AppOperationRecord['reason'], id: string, now: number, offlineWipeMs: number): AppOperationRecord {
  return {
    tenantId: registration.tenantId,
    id,
    registrationId: registration.id,
    userId: registration.userId,
    kind: 'wipe',
    reason,
    status: 'pending',
    detail: null,
    createdAt: now,
    completedAt: null,
    expiresAt: now + (offlineWipeMs > 0 ? offlineWipeMs : DEFAULT_OFFLINE_WIPE_MS) + OPERATION_RETENTION_MS,
  };
}
