import { sql, type Transaction } from 'kysely';
import type { UserSighting } from './records.ts';
import { batches, compareKeys } from './row-helpers.ts';
import type { Database } from './schema.ts';

/**
 * The upsert that keeps `users` (migration 012) up to date, run inside the transaction of a write that already
 * records a token (an enrollment, an app registration, a batch of the sign-in log) or a group membership: one
 * statement per batch, no read. The newest sighting's claims win, a claim a token did not carry never erases one
 * that another did, and a bare reference (a group member: `at` null) only makes sure the id is there.
 */

/** Rows per statement: 6 parameters each, far below either database's limit. */
const MAX_USER_BATCH = 256;

export async function recordUsersWithin(trx: Transaction<Database>, sightings: readonly UserSighting[]): Promise<void> {
  // One row per user (a statement may not touch a row twice), in key order: concurrent writers lock rows in the same
  // order (PostgreSQL), so they queue, not deadlock.
  const byUser = new Map<string, MergedSighting>();
  for (const sighting of sightings) {
    const key = `${sighting.tenantId}\n${sighting.id}`;
    const known = byUser.get(key);
    byUser.set(key, known === undefined ? { ...sighting, firstAt: sighting.at } : merge(known, sighting));
  }
  const rows = [...byUser].sort(([a], [b]) => compareKeys(a, b)).map(([, s]) => s);
  for (const batch of batches(rows, MAX_USER_BATCH)) {
    await trx
      .insertInto('users')
      .values(batch.map((s) => ({ tenant_id: s.tenantId, id: s.id, user_principal_name: s.userPrincipalName, display_name: s.displayName, first_seen_at: s.firstAt, last_seen_at: s.at })))
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'id'])
          .doUpdateSet({
            user_principal_name: sql<string | null>`case when excluded.user_principal_name is not null and (users.last_seen_at is null or excluded.last_seen_at >= users.last_seen_at) then excluded.user_principal_name else users.user_principal_name end`,
            display_name: sql<string | null>`case when excluded.display_name is not null and (users.last_seen_at is null or excluded.last_seen_at >= users.last_seen_at) then excluded.display_name else users.display_name end`,
            first_seen_at: sql<number | null>`case when users.first_seen_at is null or excluded.first_seen_at < users.first_seen_at then excluded.first_seen_at else users.first_seen_at end`,
            last_seen_at: sql<number | null>`case when users.last_seen_at is null or excluded.last_seen_at > users.last_seen_at then excluded.last_seen_at else users.last_seen_at end`,
          })
          // A bare reference to a known user changes nothing: no row is written (nor locked).
          .where(sql<boolean>`excluded.last_seen_at is not null`),
      )
      .execute();
  }
}

/** The sightings of one user in one write, merged: the newest time and claims, and the earliest time seen. */
interface MergedSighting extends UserSighting {
  firstAt: number | null;
}

/** A user's merged sightings and one more: the newer one's claims, the other's where it carried none. */
function merge(merged: MergedSighting, b: UserSighting): MergedSighting {
  const [older, newer] = (merged.at ?? -1) <= (b.at ?? -1) ? [merged, b] : [b, merged];
  const firstAt = merged.firstAt === null ? b.at : b.at === null ? merged.firstAt : Math.min(merged.firstAt, b.at);
  return {
    tenantId: newer.tenantId,
    id: newer.id,
    userPrincipalName: newer.userPrincipalName ?? older.userPrincipalName,
    displayName: newer.displayName ?? older.displayName,
    at: newer.at ?? older.at,
    firstAt,
  };
}
