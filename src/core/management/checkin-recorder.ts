import type { ManagementStore } from '../../store/roles.ts';
import { WriteBehind } from '../write-behind.ts';
import type { CheckinSink } from './session.ts';

/**
 * Last check-in times, written behind (core/write-behind.ts): every device checks in all day, and a write per
 * check-in would make the steady-state session (which otherwise writes nothing) a database write. Times are kept in
 * memory and flushed in one bulk write every `intervalMs`, and on close. A crash loses at most that interval of
 * check-in times. A write that fails (the database is away) keeps its times pending and is tried again at the next
 * interval, merged with newer ones: an outage delays them, it does not drop them. One entry per device: the buffer
 * stays bounded.
 */
export class CheckinRecorder extends WriteBehind<Map<string, number>> implements CheckinSink {
  private pending = new Map<string, number>();

  constructor(
    private readonly store: Pick<ManagementStore, 'recordCheckins'>,
    onError: (error: unknown) => void,
    intervalMs = 1000,
  ) {
    super(onError, intervalMs);
  }

  record(enrollmentId: string, at: number): void {
    this.keepNewest(enrollmentId, at);
    this.schedule();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  protected take(): Map<string, number> | undefined {
    if (this.pending.size === 0) return undefined;
    const batch = this.pending;
    this.pending = new Map();
    return batch;
  }

  protected sizeOf(batch: Map<string, number>): number {
    return batch.size;
  }

  /** Back into the buffer, unless a newer time of the same device arrived meanwhile. */
  protected giveBack(batch: Map<string, number>): void {
    for (const [enrollmentId, at] of batch) this.keepNewest(enrollmentId, at);
  }

  protected write(batch: Map<string, number>): Promise<void> {
    return this.store.recordCheckins(batch);
  }

  private keepNewest(enrollmentId: string, at: number): void {
    const current = this.pending.get(enrollmentId);
    if (current === undefined || current < at) this.pending.set(enrollmentId, at);
  }
}
