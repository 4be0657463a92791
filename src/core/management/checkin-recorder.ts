import type { ManagementStore } from '../../store/roles.ts';
import type { CheckinSink } from './session.ts';

/**
 * Last check-in times, written behind: every device checks in all day, and a write per check-in would make the
 * steady-state session (which otherwise writes nothing) a database write. Times are kept in memory and flushed in
 * one bulk write every `intervalMs`, and on close. A crash loses at most that interval of check-in times.
 */
export class CheckinRecorder implements CheckinSink {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<ManagementStore, 'recordCheckins'>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  record(enrollmentId: string, at: number): void {
    const previous = this.pending.get(enrollmentId);
    if (previous === undefined || previous < at) this.pending.set(enrollmentId, at);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes what is pending now; resolves when it (and any earlier flush) is written. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      if (batch.size === 0) return;
      try {
        await this.store.recordCheckins(batch);
      } catch (error) {
        this.onError(error);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
