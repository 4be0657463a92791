import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckinRecorder } from '../../src/core/management/checkin-recorder.ts';
import { OpenMamError } from '../../src/errors.ts';

/** A store whose writes fail while `down` is set; what it wrote, by enrollment. */
function flakyStore() {
  const written = new Map<string, number>();
  const state = { down: true, attempts: 0 };
  return {
    state,
    written,
    recordCheckins(times: ReadonlyMap<string, number>): Promise<void> {
      state.attempts++;
      if (state.down) return Promise.reject(new OpenMamError('upstream_unavailable', 'the database is unavailable'));
      for (const [id, at] of times) written.set(id, at);
      return Promise.resolve();
    },
  };
}

describe('CheckinRecorder: buffered check-in times survive a database outage', () => {
  it('keeps the times of a failed write and writes them with newer ones once the database is back', async () => {
    const store = flakyStore();
    const errors: unknown[] = [];
    const recorder = new CheckinRecorder(store, (error) => errors.push(error), 60_000);
    recorder.record('a', 100);
    recorder.record('b', 200);
    await recorder.flush();
    assert.equal(errors.length, 1);
    assert.equal(recorder.pendingCount, 2, 'nothing dropped');
    recorder.record('a', 150); // newer than the failed batch's
    recorder.record('b', 50); // older: the failed batch's 200 stays
    store.state.down = false;
    await recorder.flush();
    assert.deepEqual([...store.written].sort(), [['a', 150], ['b', 200]]);
    assert.equal(recorder.pendingCount, 0);
    await recorder.close();
  });

  it('retries by itself at the next interval', async () => {
    const store = flakyStore();
    const recorder = new CheckinRecorder(store, () => undefined, 5);
    recorder.record('a', 1);
    for (let i = 0; i < 200 && store.state.attempts < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(store.state.attempts >= 2, `tried again (${store.state.attempts} attempts)`);
    store.state.down = false;
    for (let i = 0; i < 200 && store.written.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual([...store.written], [['a', 1]]);
    await recorder.close();
  });
});
