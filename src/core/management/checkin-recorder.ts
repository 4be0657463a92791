import type { ManagementStore } from '../../store/roles.ts';
import type { CheckinSink } from './session.ts';

/**
 * Last check-in times, written behind: every device checks in all day, and a write per check-in would make the
 * steady-state session (which otherwise writes nothing) a database write. Times are kept in memory and flushed in
 * one bulk write every `intervalMs`, and on close. A crash loses at most that interval of check-in times. A write
 * that fails (the database is away) keeps its times pending and is tried again at the next interval, merged with
 * newer ones: an outage delays them, it does not drop them. One entry per device: the buffer stays bounded.
 */
export class CheckinRecorder implements CheckinSink {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: Pick<ManagementStore, 'recordCheckins'>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  record(enrollmentId: string, at: number): void {
    this.keepNewest(enrollmentId, at);
    this.schedule();
  }

  /** Times not yet written (tests and shutdown reports). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
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
        // Back into the buffer, unless a newer time of the same device arrived meanwhile; tried again next interval.
        for (const [enrollmentId, at] of batch) this.keepNewest(enrollmentId, at);
        this.schedule();
      }
    });
    return this.flushing;
  }

  /** Writes what is pending, once more; what still fails then is lost (the process is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private keepNewest(enrollmentId: string, at: number): void {
    const current = this.pending.get(enrollmentId);
    if (current === undefined || current < at) this.pending.set(enrollmentId, at);
  }
}
