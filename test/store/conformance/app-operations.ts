import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { DAY, operationRecord, T0 } from '../conformance-support.ts';
import type { AppOperationStore, AppProtectionFixture, AppRegistrationStore } from '../conformance-support.ts';

/** App operations, the selective wipe (AppOperationStore): one pending wipe per registration, completed once. */
export function appOperationConformance(fixture: AppProtectionFixture<AppOperationStore & AppRegistrationStore>): void {
  const { newTenant, newRegistration } = fixture;

  describe('operations (selective wipe)', () => {
    let ap: AppOperationStore & AppRegistrationStore;

    before(() => {
      ap = fixture.ap;
    });

    it('addOperations inserts and returns them; getOperation reads one back exactly', async () => {
      const tenantId = await newTenant();
      const [r1, r2] = [await newRegistration(tenantId), await newRegistration(tenantId)];
      const ops = [operationRecord(r1!), operationRecord(r2!, { reason: 'healthCheck' })];
      assert.deepEqual(await ap.addOperations(ops), ops);
      assert.deepEqual(await ap.getOperation(ops[0]!.id), ops[0]);
      assert.deepEqual(await ap.getOperation(ops[1]!.id), ops[1]);
      assert.equal(await ap.getOperation(randomUUID()), undefined);
      assert.deepEqual(await ap.addOperations([]), []);
    });

    it('addOperations adds no second pending wipe for a registration, in one call or across calls', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const other = await newRegistration(tenantId);
      const first = operationRecord(registration);
      const sameCall = operationRecord(registration, { reason: 'azureAdDeviceId', createdAt: T0 + 1 });
      const otherOne = operationRecord(other);
      assert.deepEqual(await ap.addOperations([first, sameCall, otherOne]), [first, otherOne]);
      assert.deepEqual(await ap.addOperations([operationRecord(registration, { reason: 'userBlocked', createdAt: T0 + 2 })]), []);
      assert.deepEqual(await ap.pendingOperations(registration.id), [first]);
      assert.equal(await ap.getOperation(sameCall.id), undefined);
    });

    it('concurrent addOperations for one registration insert one pending wipe', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const results = await Promise.all(Array.from({ length: 6 }, () => ap.addOperations([operationRecord(registration)])));
      assert.equal(results.flat().length, 1);
      assert.equal((await ap.pendingOperations(registration.id)).length, 1);
    });

    it('a new wipe can be added once the pending one completed', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const first = operationRecord(registration);
      await ap.addOperations([first]);
      assert.equal(await ap.completeOperation(first.id, { status: 'failed', detail: 'app busy', completedAt: T0 + 10, expiresAt: T0 + 20 }), true);
      const second = operationRecord(registration, { createdAt: T0 + 11 });
      assert.deepEqual(await ap.addOperations([second]), [second]);
    });

    it('completed operations may be added (imported history) beside a pending one', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const done = operationRecord(registration, { status: 'succeeded', completedAt: T0 + 1, detail: 'ok' });
      const pending = operationRecord(registration);
      assert.deepEqual(await ap.addOperations([pending, done]), [pending, done]);
      assert.deepEqual(await ap.getOperation(done.id), done);
    });

    it('pendingOperations lists only pending ones, oldest first; listOperations adds completed ones, newest first', async () => {
      const tenantId = await newTenant();
      const registrations = [await newRegistration(tenantId), await newRegistration(tenantId)];
      const registration = registrations[0]!;
      const oldDone = operationRecord(registration, { status: 'succeeded', detail: 'wiped', createdAt: T0 - 30, completedAt: T0 - 29 });
      const newDone = operationRecord(registration, { status: 'failed', detail: 'no', createdAt: T0 - 10, completedAt: T0 - 9 });
      const pending = operationRecord(registration, { createdAt: T0 });
      await ap.addOperations([newDone, pending, oldDone, operationRecord(registrations[1]!)]);
      assert.deepEqual(await ap.pendingOperations(registration.id), [pending]);
      assert.deepEqual(await ap.listOperations(registration.id), [pending, newDone, oldDone]);
      assert.deepEqual(await ap.pendingOperations(randomUUID()), []);
      assert.deepEqual(await ap.listOperations(randomUUID()), []);
    });

    it('completeOperation succeeds once and marks the registration wiped in the same transaction', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const op = operationRecord(registration);
      await ap.addOperations([op]);
      const result = { status: 'succeeded' as const, detail: 'wiped 3 files', completedAt: T0 + 100, expiresAt: T0 + 100 + 4 * DAY };
      assert.equal(await ap.completeOperation(op.id, result), true);
      const completed = { ...op, ...result };
      assert.deepEqual(await ap.getOperation(op.id), completed);
      assert.deepEqual(await ap.getRegistration(registration.id), { ...registration, state: 'wiped' });
      assert.deepEqual(await ap.pendingOperations(registration.id), []);
      // Once: a second completion writes nothing.
      assert.equal(await ap.completeOperation(op.id, { status: 'failed', detail: 'late', completedAt: T0 + 200, expiresAt: T0 + 300 }), false);
      assert.deepEqual(await ap.getOperation(op.id), completed);
      assert.equal(await ap.completeOperation(randomUUID(), result), false);
    });

    it('a failed wipe leaves the registration active', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const op = operationRecord(registration);
      await ap.addOperations([op]);
      assert.equal(await ap.completeOperation(op.id, { status: 'failed', detail: null, completedAt: T0 + 1, expiresAt: T0 + 2 }), true);
      assert.deepEqual(await ap.getOperation(op.id), { ...op, status: 'failed', detail: null, completedAt: T0 + 1, expiresAt: T0 + 2 });
      assert.deepEqual(await ap.getRegistration(registration.id), registration);
    });

    it('concurrent completions of one operation: exactly one wins', async () => {
      const tenantId = await newTenant();
      const registration = await newRegistration(tenantId);
      const op = operationRecord(registration);
      await ap.addOperations([op]);
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, (_, i) => ap.completeOperation(op.id, { status: 'succeeded', detail: `node ${i}`, completedAt: T0 + i, expiresAt: T0 + DAY })),
      );
      assert.equal(outcomes.filter(Boolean).length, 1);
    });
  });
}
