import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { bytes, enrollmentInput, expectEnrolled, T0 } from '../conformance-support.ts';
import type { SecretStore, Store, StoreFixture } from '../conformance-support.ts';

/**
 * The store's lifecycle (Store: backend, ping, migrate, close), with a second store on the same database: `open` must
 * return a store on that database each time it is called.
 */
export function lifecycleConformance(fixture: StoreFixture<Store & SecretStore>, open: () => Promise<Store & SecretStore>): void {
  const { newTenant } = fixture;

  describe('lifecycle', () => {
    let store: Store & SecretStore;

    before(() => {
      store = fixture.store;
    });

    it('names its backend', () => {
      assert.ok(store.backend === 'sqlite' || store.backend === 'postgres', `backend ${String(store.backend)}`);
    });

    it('ping() answers', async () => {
      await store.ping();
    });

    it('migrate() is idempotent and keeps the data', async () => {
      const tenant = await newTenant();
      const enrolled = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
      await store.migrate();
      await store.migrate();
      assert.deepEqual(await store.getTenant(tenant.id), tenant);
      assert.deepEqual(await store.getEnrollment(enrolled.id), enrolled);
    });

    it('a second store on the same database sees the same data', async () => {
      const tenant = await newTenant();
      const enrolled = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
      const second = await open();
      try {
        await second.migrate();
        assert.deepEqual(await second.getTenant(tenant.id), tenant);
        assert.deepEqual(await second.getActiveEnrollmentByDevId(enrolled.devId), enrolled);
        const secretName = `shared-${randomUUID()}`;
        const stored = await store.getOrCreateSecret(secretName, bytes(32));
        assert.deepEqual(await second.getOrCreateSecret(secretName, bytes(32)), stored);
      } finally {
        await second.close();
      }
    });

    it('close() waits for running work, then refuses new work', async () => {
      const tenant = await newTenant();
      const second = await open();
      const input = enrollmentInput(tenant.id);
      const running = second.enroll(input, T0);
      const closing = second.close();
      expectEnrolled(await running);
      await closing;
      await second.close(); // idempotent
      await assert.rejects(second.ping());
      assert.equal((await store.getEnrollment(input.id))?.state, 'enrolled');
    });
  });
}
