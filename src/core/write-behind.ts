/**
 * Writing behind the request path: what a hot path produces (a device's check-in time, a sign-in record) is kept in
 * memory and written to the store in bulk, every `intervalMs` and on close, so that the request itself waits for no
 * write. A write that fails (the database is away) gives its batch back to the buffer and is tried again at the next
 * interval: an outage delays entries, it does not drop them (a subclass's buffer bound may). One write runs at a
 * time, in order. A crash loses at most what was buffered.
 *
 * Subclasses say how entries are buffered (`take`, `giveBack`, `pendingCount`) and written (`write`).
 */
export abstract class WriteBehind<Batch> {
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  /** True from a failed write until a write succeeds: early flushes (flushSoon) wait for the timer meanwhile. */
  #failing = false;
  /** A flush asked for by flushSoon has not started yet. */
  #soon = false;

  constructor(
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs: number,
  ) {}

  /** Entries not yet written (tests and shutdown reports). */
  abstract get pendingCount(): number;
  /** Removes and returns the next batch to write; undefined when nothing is pending. */
  protected abstract take(): Batch | undefined;
  /** How many entries `batch` holds. */
  protected abstract sizeOf(batch: Batch): number;
  /** Puts back a batch whose write failed (it is older than anything pending). */
  protected abstract giveBack(batch: Batch): void;
  protected abstract write(batch: Batch): Promise<void>;

  /** A write is due at the next interval (call after buffering an entry). */
  protected schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** A write now rather than at the interval (a full batch is waiting); not while writes fail, nor twice at once. */
  protected flushSoon(): void {
    if (this.#soon || this.#failing || this.#closed) return;
    this.#soon = true;
    void this.flush();
  }

  /** Writes what is pending now, batch by batch; resolves when it (and any earlier flush) is written or has failed. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#writePending());
    return this.#flushing;
  }

  /** Writes what is pending, once more; what still fails then stays unwritten (the process is stopping). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #writePending(): Promise<void> {
    this.#soon = false;
    // Only what is pending as the flush starts: under steady load a flush still ends (newer entries wait their turn).
    let left = this.pendingCount;
    while (left > 0) {
      const batch = this.take();
      if (batch === undefined) return;
      left -= this.sizeOf(batch);
      try {
        await this.write(batch);
        this.#failing = false;
      } catch (error) {
        this.#failing = true;
        this.onError(error);
        this.giveBack(batch);
        this.schedule();
        return;
      }
    }
  }
}
