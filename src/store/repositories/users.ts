import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { UserRecord, UserSighting } from '../records.ts';
import type { UserStore } from '../roles.ts';
import type { Database, UsersTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { recordUsersWithin } from '../user-sightings.ts';

type UserRow = Selectable<UsersTable>;

/** The users seen in verified tokens or as group members (UserStore; the sightings rules are user-sightings.ts). */
export class KyselyUserRepository implements UserStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'queryCollection'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'queryCollection'>) {
    this.#db = context.db;
    this.#context = context;
  }

  async queryUsers(tenantId: string, query: CollectionQuery): Promise<CollectionPage<UserRecord>> {
    const page = await this.#context.queryCollection<UserRow>(collections.USERS, tenantId, query);
    return { ...page, rows: page.rows.map(userFromRow) };
  }

  getUser(tenantId: string, id: string): Promise<UserRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : userFromRow(row);
    });
  }

  getUserByPrincipalName(tenantId: string, userPrincipalName: string): Promise<UserRecord | undefined> {
    return this.#context.track(async () => {
      // lower() on both sides, as the index users_principal_name is built.
      const row = await this.#db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where((eb) => eb(eb.fn('lower', ['user_principal_name']), '=', eb.fn('lower', [eb.val(userPrincipalName)])))
        .orderBy(sql`coalesce(last_seen_at, 0)`, 'desc')
        .orderBy('id', 'asc')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : userFromRow(row);
    });
  }

  recordUsers(sightings: readonly UserSighting[]): Promise<void> {
    return this.#context.track(async () => {
      if (sightings.length > 0) await this.#context.write((trx) => recordUsersWithin(trx, sightings));
    });
  }
}

function userFromRow(row: UserRow): UserRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    userPrincipalName: row.user_principal_name,
    displayName: row.display_name,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
  };
}
