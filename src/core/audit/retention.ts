import type { AuditStore } from '../../store/audit-records.ts';
import type { TenantRecord } from '../../store/records.ts';
import { auditRetentionDaysOf } from '../tenant-settings.ts';

/**
 * The audit trail's retention: every tenant's events older than its `auditEventRetentionDays` (a year unless set)
 * are dropped by an hourly sweep (app.ts), in transactions of PURGE_BATCH events so the single SQLite writer is never
 * held long, at most PURGE_MAX_BATCHES per tenant per sweep (the rest goes at the next hour: one sweep stays bounded).
 * Retention is the only thing that ever removes an event.
 */
export const AUDIT_PURGE_BATCH = 1000;
const PURGE_MAX_BATCHES = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export async function purgeAuditEvents(store: Pick<AuditStore, 'purgeAuditEventsOlderThan'>, tenants: readonly TenantRecord[], now: number): Promise<number> {
  let purged = 0;
  for (const tenant of tenants) {
    const before = now - auditRetentionDaysOf(tenant.settings) * DAY_MS;
    for (let batch = 0; batch < PURGE_MAX_BATCHES; batch++) {
      const dropped = await store.purgeAuditEventsOlderThan(tenant.id, before, AUDIT_PURGE_BATCH);
      purged += dropped;
      if (dropped < AUDIT_PURGE_BATCH) break;
    }
  }
  return purged;
}
