import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignInLog } from '../../src/core/app-protection/sign-in-log.ts';
import { OpenMamError } from '../../src/errors.ts';
import type { SignInRecord } from '../../src/store/app-protection-records.ts';
import type { SignInStore } from '../../src/store/app-protection-roles.ts';
import { signInRecord } from '../support/sign-ins.ts';

/** A store whose appends fail while `down` is set; the batches it was given and what it wrote, in order. */
function fakeStore() {
  const written: SignInRecord[] = [];
  const state = { down: false, attempts: 0, batches: [] as number[], purgedBefore: [] as number[] };
  const store: SignInStore = {
    appendSignIns(records) {
      state.attempts++;
      if (state.down) return Promise.reject(new OpenMamError('upstream_unavailable', 'the database is unavailable'));
      state.batches.push(records.length);
      written.push(...records);
      return Promise.resolve();
    },
    querySignIns: () => Promise.resolve({ rows: [] }),
    getSignIn: () => Promise.resolve(undefined),
    purgeSignIns(before) {
      state.purgedBefore.push(before);
      return Promise.resolve(0);
    },
  };
  return { store, state, written };
}

const records = (n: number, from = 0): SignInRecord[] => Array.from({ length: n }, (_, i) => signInRecord('t', { id: `r${from + i}`, createdAt: from + i }));
const ids = (list: readonly SignInRecord[]): string[] => list.map((r) => r.id);
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SignInLog: buffered, batched writes of the sign-in log', () => {
  it('record() only buffers; flush() writes everything in batches of batchSize, in order', async () => {
    const { store, state, written } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, intervalMs: 60_000, batchSize: 4 });
    for (const r of records(3)) log.record(r);
    assert.equal(state.attempts, 0, 'nothing written on the request path');
    assert.equal(log.pendingCount, 3);
    await log.flush();
    for (const r of records(6, 3)) log.record(r); // a full batch starts a write at once, the rest waits
    await log.flush();
    assert.deepEqual(ids(written), ids(records(9)));
    assert.deepEqual(state.batches.slice(0, 1), [3]);
    assert.ok(state.batches.every((n) => n <= 4), `batches ${JSON.stringify(state.batches)}`);
    assert.equal(log.pendingCount, 0);
    await log.close();
  });

  it('writes a full batch without waiting for the interval', async () => {
    const { store, state } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, intervalMs: 60_000, batchSize: 5 });
    for (const r of records(4)) log.record(r);
    await settle();
    assert.equal(state.attempts, 0, 'below a batch: waits for the interval');
    log.record(records(1, 4)[0]!);
    await settle();
    assert.deepEqual(state.batches, [5]);
    await log.close();
  });

  it('writes at the interval', async () => {
    const { store, written } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, intervalMs: 5 });
    log.record(records(1)[0]!);
    for (let i = 0; i < 200 && written.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(written.length, 1);
    await log.close();
  });

  it('keeps a failed batch, ahead of newer entries, and retries it at the next interval', async () => {
    const { store, state, written } = fakeStore();
    const errors: unknown[] = [];
    const log = new SignInLog({ store, onError: (error) => errors.push(error), intervalMs: 5, batchSize: 100 });
    state.down = true;
    for (const r of records(3)) log.record(r);
    await log.flush();
    assert.equal(errors.length, 1);
    assert.equal(log.pendingCount, 3, 'nothing dropped');
    for (const r of records(2, 3)) log.record(r);
    for (let i = 0; i < 200 && state.attempts < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(state.attempts >= 3, `retried by itself (${state.attempts} attempts)`);
    state.down = false;
    for (let i = 0; i < 200 && written.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(ids(written), ids(records(5)), 'every entry, oldest first');
    assert.equal(log.droppedCount, 0);
    await log.close();
  });

  it('does not retry at once while writes fail, even when batches are full', async () => {
    const { store, state } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, intervalMs: 60_000, batchSize: 2, maxPending: 1000 });
    state.down = true;
    for (const r of records(2)) log.record(r);
    await settle();
    assert.equal(state.attempts, 1);
    for (const r of records(10, 2)) log.record(r);
    await settle();
    assert.equal(state.attempts, 1, 'no busy loop during an outage');
    state.down = false;
    await log.flush();
    assert.equal(log.pendingCount, 0);
    await log.close();
  });

  it('beyond maxPending drops the oldest entries, counts them and says so once', async () => {
    const { store, state, written } = fakeStore();
    const errors: unknown[] = [];
    const log = new SignInLog({ store, onError: (error) => errors.push(error), intervalMs: 60_000, batchSize: 2, maxPending: 4 });
    state.down = true;
    for (const r of records(2)) log.record(r);
    await log.flush(); // fails: r0, r1 back in the buffer
    for (const r of records(5, 2)) log.record(r); // r2..r6: 7 entries, bound 4
    assert.equal(log.pendingCount, 4);
    assert.equal(log.droppedCount, 3);
    state.down = false;
    await log.flush();
    assert.deepEqual(ids(written), ['r3', 'r4', 'r5', 'r6'], 'the newest kept, oldest first');
    const dropped = errors.filter((e) => e instanceof OpenMamError && /dropped its 3 oldest/.test(e.message));
    assert.equal(dropped.length, 1, errors.map(String).join('; '));
    await log.close();
  });

  it('close() writes what is pending', async () => {
    const { store, written } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, intervalMs: 60_000 });
    for (const r of records(7)) log.record(r);
    await log.close();
    assert.equal(written.length, 7);
  });

  it('purge() drops what is older than the retention; get() of an unknown id is not_found', async () => {
    const { store, state } = fakeStore();
    const log = new SignInLog({ store, onError: () => undefined, retentionDays: 2 });
    await log.purge(10 * 86_400_000);
    assert.deepEqual(state.purgedBefore, [8 * 86_400_000]);
    await assert.rejects(log.get('t', 'nope'), (e: unknown) => e instanceof OpenMamError && e.code === 'not_found');
    await log.close();
  });
});

describe('newSignInId: UUID version 7', () => {
  it('is a GUID of version 7 whose first 48 bits are the time, so ids sort by time', async () => {
    const { newSignInId } = await import('../../src/core/app-protection/sign-in-log.ts');
    const t = Date.UTC(2026, 11, 1, 12, 34, 56, 789);
    const id = newSignInId(t);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), t);
    assert.notEqual(newSignInId(t), id);
    const later = [t - 1, t, t + 1, t + 2 ** 32].map((ms) => newSignInId(ms));
    assert.deepEqual([...later].sort(), later);
  });
});
