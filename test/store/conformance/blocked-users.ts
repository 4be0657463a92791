import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { T0 } from '../conformance-support.ts';
import type { AppPolicyStore, AppProtectionFixture, BlockedUserStore } from '../conformance-support.ts';

/** Wiped-and-blocked users (BlockedUserStore); blocking is no app configuration change (AppPolicyStore's version). */
export function blockedUserConformance(fixture: AppProtectionFixture<BlockedUserStore & AppPolicyStore>): void {
  const { newTenant } = fixture;

  describe('wiped-and-blocked users', () => {
    let ap: BlockedUserStore & AppPolicyStore;

    before(() => {
      ap = fixture.ap;
    });

    it('blockUser, isUserBlocked, unblockUser', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const userId = randomUUID();
      assert.equal(await ap.isUserBlocked(tenantId, userId), false);
      assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 }), true);
      assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 + 1 }), false);
      assert.equal(await ap.isUserBlocked(tenantId, userId), true);
      assert.equal(await ap.isUserBlocked(other, userId), false);
      assert.equal(await ap.isUserBlocked(tenantId, randomUUID()), false);
      assert.equal(await ap.unblockUser(other, userId), false);
      assert.equal(await ap.unblockUser(tenantId, userId), true);
      assert.equal(await ap.isUserBlocked(tenantId, userId), false);
      assert.equal(await ap.unblockUser(tenantId, userId), false);
      assert.equal(await ap.blockUser({ tenantId, userId, blockedAt: T0 + 2 }), true);
    });

    it('blocking does not bump the app configuration version', async () => {
      const tenantId = await newTenant();
      await ap.blockUser({ tenantId, userId: randomUUID(), blockedAt: T0 });
      assert.equal(await ap.getAppConfigVersion(tenantId), 0);
    });
  });
}
