import { gzipSync } from 'node:zlib';
import type { ManagementStore } from '../../store/roles.ts';

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
  ) {}

  /** Starts (or, with 0, stops) keeping this enrollment's messages for `durationMs`. */
  enable(enrollmentId: string, durationMs: number): Promise<void> {
    return this.store.setMessageLogUntil(enrollmentId, durationMs > 0 ? this.clock() + durationMs : null);
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
