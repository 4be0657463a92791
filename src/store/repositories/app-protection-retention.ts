import type { AppProtectionRetention } from '../app-protection-roles.ts';
import type { StoreContext } from '../store-context.ts';

/** Most rows one purge transaction drops: the single SQLite writer is never held long. */
const PURGE_BATCH = 512;

/** The purge of the app protection tables (expired operations, silent registrations), over KyselyStore's write path. */
export class KyselyAppProtectionRetention implements AppProtectionRetention {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /**
   * In transactions of at most PURGE_BATCH rows, so the single SQLite writer is never held long: first expired
   * operations, then silent registrations with their operations (counted among the operations). A registration that
   * checks in while it is being purged is kept (the delete checks its time again).
   */
  purgeAppProtection(now: number, silentBefore: number): Promise<{ operations: number; registrations: number }> {
    return this.#context.track(async () => {
      let operations = 0;
      let registrations = 0;
      for (;;) {
        const deleted = await this.#context.write((trx) =>
          trx
            .deleteFrom('app_operations')
            .where('id', 'in', (eb) => eb.selectFrom('app_operations').select('id').where('expires_at', '<=', now).limit(PURGE_BATCH))
            .executeTakeFirst(),
        );
        operations += Number(deleted.numDeletedRows);
        if (deleted.numDeletedRows < BigInt(PURGE_BATCH)) break;
      }
      for (;;) {
        const batch = await this.#context.write(async (trx) => {
          const ids = (
            await trx
              .selectFrom('app_registrations')
              .select('id')
              .where('last_check_in_at', '<', silentBefore)
              .orderBy('last_check_in_at', 'asc')
              .limit(PURGE_BATCH)
              .execute()
          ).map((r) => r.id);
          if (ids.length === 0) return { found: 0, operations: 0, registrations: 0 };
          const ops = await trx.deleteFrom('app_operations').where('registration_id', 'in', ids).executeTakeFirst();
          const regs = await trx.deleteFrom('app_registrations').where('id', 'in', ids).where('last_check_in_at', '<', silentBefore).executeTakeFirst();
          return { found: ids.length, operations: Number(ops.numDeletedRows), registrations: Number(regs.numDeletedRows) };
        });
        operations += batch.operations;
        registrations += batch.registrations;
        if (batch.found < PURGE_BATCH) break;
      }
      return { operations, registrations };
    });
  }
}
