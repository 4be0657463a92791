import { gzipSync } from 'node:zlib';
import type { ManagementStore } from '../../store/roles.ts';
import type { AuditContext, AuditTrail } from '../audit/audit-trail.ts';

/**
 * Raw SyncML of devices an admin is troubleshooting: off unless asked for per device (ManagementStore
 * setMessageLogUntil), gzip-compressed, at most `keep` messages per device, none older than `maxAgeMs`.
 */
export class MessageLog {
  constructor(
    private readonly store: Pick<ManagementStore, 'appendMessageLog' | 'setMessageLogUntil'>,
    private readonly clock: () => number,
    private readonly keep = 200,
    private readonly maxAgeMs = 7 * 24 * 3600_000,
    /** Records an admin's switch (`caller` given to `enable`) in the audit trail. */
    private readonly audit?: AuditTrail,
  ) {}

  /**
   * Starts (or, with 0, stops) keeping this enrollment's messages for `durationMs`. An admin's switch (`caller`) is
   * recorded in the audit trail ("SetMessageLog ManagedDevice"): the log keeps what devices are sent, secrets included.
   */
  enable(enrollmentId: string, durationMs: number, caller?: AuditContext): Promise<void> {
    const write = (): Promise<void> => this.store.setMessageLogUntil(enrollmentId, durationMs > 0 ? this.clock() + durationMs : null);
    if (caller === undefined || this.audit === undefined) return write();
    return this.audit.attach(caller, { activity: { area: 'devices', entity: 'ManagedDevice', verb: 'SetMessageLog' }, resourceId: enrollmentId, after: { durationInMinutes: Math.round(durationMs / 60_000) } }, write);
  }

  record(enrollmentId: string, request: string, response: string): Promise<void> {
    const at = this.clock();
    return this.store.appendMessageLog(
      [
        { enrollmentId, at, direction: 'in', body: gzipSync(request) },
        { enrollmentId, at, direction: 'out', body: gzipSync(response) },
      ],
      this.keep,
      at - this.maxAgeMs,
    );
  }
}
