import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { operationRecord, P, registrationRecord } from '../conformance-support.ts';
import type { AppOperationStore, AppProtectionFixture, AppProtectionRetention, AppRegistrationStore } from '../conformance-support.ts';

/** The app protection purge (AppProtectionRetention): its times are around P, before any other test's. */
export function retentionConformance(fixture: AppProtectionFixture<AppProtectionRetention & AppRegistrationStore & AppOperationStore>): void {
  const { newTenant, newRegistration } = fixture;

  describe('retention', () => {
    let ap: AppProtectionRetention & AppRegistrationStore & AppOperationStore;

    before(() => {
      ap = fixture.ap;
    });

    it('purgeAppProtection drops operations expired at or before now, and silent registrations with their operations', async () => {
      const tenantId = await newTenant();
      const live = await newRegistration(tenantId, { lastCheckInAt: P });
      const silent = await newRegistration(tenantId, { lastCheckInAt: P - 1 });
      const silentWiped = await newRegistration(tenantId, { lastCheckInAt: P - 2 });
      await ap.updateRegistration(silentWiped.id, { state: 'wiped' });
      const expired = operationRecord(live, { status: 'succeeded', createdAt: P - 10, completedAt: P - 9, expiresAt: P - 1 });
      const expiresNow = operationRecord(live, { status: 'failed', createdAt: P - 8, completedAt: P - 7, expiresAt: P });
      const kept = operationRecord(live, { expiresAt: P + 1 });
      const ofSilent = operationRecord(silent, { expiresAt: P + 100 });
      await ap.addOperations([expired, expiresNow, kept, ofSilent]);

      assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 3, registrations: 2 });
      assert.deepEqual(await ap.listOperations(live.id), [kept]);
      assert.deepEqual(await ap.getRegistration(live.id), live);
      assert.equal(await ap.getRegistration(silent.id), undefined);
      assert.equal(await ap.getRegistration(silentWiped.id), undefined);
      assert.equal(await ap.getOperation(ofSilent.id), undefined);
      assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 0, registrations: 0 });
    });

    it('purgeAppProtection drops everything due, however many (more than one batch)', async () => {
      const tenantId = await newTenant();
      const keeper = await newRegistration(tenantId, { lastCheckInAt: P });
      const history = Array.from({ length: 600 }, (_, i) =>
        operationRecord(keeper, { status: 'succeeded', createdAt: P - 1000 + i, completedAt: P - 999 + i, expiresAt: P - 10 }),
      );
      assert.equal((await ap.addOperations(history)).length, 600);
      const silent = await Promise.all(Array.from({ length: 530 }, () => ap.upsertRegistration(registrationRecord(tenantId, { lastCheckInAt: P - 5 }))));
      assert.deepEqual(await ap.purgeAppProtection(P, P), { operations: 600, registrations: 530 });
      assert.deepEqual(await ap.listOperations(keeper.id), []);
      assert.equal(await ap.getRegistration(silent[529]!.id), undefined);
      assert.deepEqual(await ap.getRegistration(keeper.id), keeper);
    });
  });
}
