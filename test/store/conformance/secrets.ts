import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { before, describe, it } from 'node:test';
import { bytes } from '../conformance-support.ts';
import type { SecretStore, StoreFixture } from '../conformance-support.ts';

/** SecretStore (src/store/roles.ts). */
export function secretConformance(fixture: StoreFixture<SecretStore>): void {
  describe('secrets', () => {
    let store: SecretStore;

    before(() => {
      store = fixture.store;
    });

    it('getOrCreateSecret stores the first candidate and answers it to every later caller', async () => {
      const name = `secret-${randomUUID()}`;
      const first = bytes(32);
      assert.deepEqual(await store.getOrCreateSecret(name, first), first);
      assert.deepEqual(await store.getOrCreateSecret(name, bytes(32)), first);
      const other = bytes(16);
      assert.deepEqual(await store.getOrCreateSecret(`${name}-other`, other), other, 'names are independent');
    });

    it('deleteSecretsOlderThan deletes only the prefix\'s secrets older than the age, at most `limit`', async () => {
      const prefix = `marker-${randomUUID()}:`;
      const markers = [`${prefix}a`, `${prefix}b`, `${prefix}c`];
      for (const name of markers) await store.getOrCreateSecret(name, bytes(16));
      const other = `other-${randomUUID()}`;
      const kept = await store.getOrCreateSecret(other, bytes(16));
      assert.equal(await store.deleteSecretsOlderThan(prefix, 3600_000, 10), 0, 'none is an hour old');
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(await store.deleteSecretsOlderThan(prefix, 0, 2), 2, 'at most the limit');
      assert.equal(await store.deleteSecretsOlderThan(prefix, 0, 10), 1);
      const fresh = bytes(16);
      assert.deepEqual(await store.getOrCreateSecret(markers[0]!, fresh), fresh, 'deleted: a new candidate is stored');
      assert.deepEqual(await store.getOrCreateSecret(other, bytes(16)), kept, 'another name is untouched');
      await assert.rejects(store.deleteSecretsOlderThan('a%', 0, 1), /wildcards/);
    });

    it('keeps every byte value, including zeros and 0xff', async () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      assert.deepEqual(await store.getOrCreateSecret(`bytes-${randomUUID()}`, all), all);
    });

    it('concurrent first callers all get the same secret', async () => {
      const name = `race-${randomUUID()}`;
      const candidates = Array.from({ length: 6 }, () => bytes(32));
      const answers = await Promise.all(candidates.map((c) => store.getOrCreateSecret(name, c)));
      assert.ok(candidates.some((c) => isDeepStrictEqual(c, answers[0])), 'the answer is one of the candidates');
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
    });
  });
}
