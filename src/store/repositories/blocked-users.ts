import type { BlockedUserRecord } from '../app-protection-records.ts';
import type { BlockedUserStore } from '../app-protection-roles.ts';
import type { StoreContext } from '../store-context.ts';
import { CompiledRead } from './app-protection-shared.ts';

/** Wiped-and-blocked users, over KyselyStore's database and write path. isUserBlocked is a check-in's hot read, compiled once. */
export class KyselyBlockedUserRepository implements BlockedUserStore {
  readonly #context: StoreContext;

  readonly #blockedUser = new CompiledRead<{ blocked_at: number }>(
    (db) => db.selectFrom('app_blocked_users').select('blocked_at').where('tenant_id', '=', '').where('user_id', '=', '').compile(),
    2,
  );

  constructor(context: StoreContext) {
    this.#context = context;
  }

  blockUser(record: BlockedUserRecord): Promise<boolean> {
    return this.#context.track(async () => {
      const added = await this.#context.write((trx) =>
        trx
          .insertInto('app_blocked_users')
          .values({ tenant_id: record.tenantId, user_id: record.userId, blocked_at: record.blockedAt })
          .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doNothing())
          .returning('user_id')
          .executeTakeFirst(),
      );
      return added !== undefined;
    });
  }

  unblockUser(tenantId: string, userId: string): Promise<boolean> {
    return this.#context.track(async () => {
      const removed = await this.#context.write((trx) =>
        trx.deleteFrom('app_blocked_users').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst(),
      );
      return removed.numDeletedRows > 0n;
    });
  }

  isUserBlocked(tenantId: string, userId: string): Promise<boolean> {
    return this.#context.track(async () => (await this.#blockedUser.run(this.#context, [tenantId, userId])).length > 0);
  }
}
