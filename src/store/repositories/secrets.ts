import type { Kysely } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { SecretStore } from '../roles.ts';
import type { Database } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';

/** Server-wide secrets shared by every node of one installation (SecretStore). */
export class KyselySecretRepository implements SecretStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write'>) {
    this.#db = context.db;
    this.#context = context;
  }

  getOrCreateSecret(name: string, candidate: Uint8Array): Promise<Uint8Array> {
    return this.#context.track(async () => {
      // Whoever inserts first wins; everyone (the winner included) then reads what was stored.
      await this.#db
        .insertInto('secrets')
        .values({ name, value: Buffer.from(candidate).toString('base64'), created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await this.#db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return new Uint8Array(Buffer.from(row.value, 'base64'));
    });
  }

  deleteSecretsOlderThan(prefix: string, ageMs: number, limit: number): Promise<number> {
    return this.#context.track(async () => {
      // LIKE, not a name range: PostgreSQL's collation may order punctuation unlike the bytes. Our prefixes are ours.
      if (/[%_\\]/.test(prefix)) throw new OpenMamError('internal', `a secret prefix may not hold LIKE wildcards: ${prefix}`);
      const names = this.#db.selectFrom('secrets').select('name').where('name', 'like', `${prefix}%`).where('created_at', '<', Date.now() - ageMs).limit(limit);
      const result = await this.#context.write((trx) => trx.deleteFrom('secrets').where('name', 'in', names).executeTakeFirst());
      return Number(result.numDeletedRows);
    });
  }
}
