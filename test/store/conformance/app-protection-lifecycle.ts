import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { registrationRecord } from '../conformance-support.ts';
import type { AppProtectionFixture, AppRegistrationStore, Store } from '../conformance-support.ts';

/** close() of the app protection store, on a second store: `open` must return a store on the same database. */
export function appProtectionLifecycleConformance(fixture: AppProtectionFixture<AppRegistrationStore>, open: () => Promise<Store>): void {
  const { newTenant } = fixture;

  describe('lifecycle', () => {
    let ap: AppRegistrationStore;

    before(() => {
      ap = fixture.ap;
    });

    it('close() waits for running app protection work, then refuses new work', async () => {
      const tenantId = await newTenant();
      const second = await open();
      const registration = registrationRecord(tenantId);
      const running = second.appProtection.upsertRegistration(registration);
      const closing = second.close();
      assert.deepEqual(await running, registration);
      await closing;
      await assert.rejects(second.appProtection.getRegistration(registration.id));
      assert.deepEqual(await ap.getRegistration(registration.id), registration);
    });
  });
}
