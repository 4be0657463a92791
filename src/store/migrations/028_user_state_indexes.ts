import type { Kysely, Migration } from 'kysely';

/**
 * A user's active enrollments and active app registrations, counted on every enrollment and registration since the
 * per-user bounds (migration 027, docs/operations.md "Limits"), read from the user's own index entries. With
 * `(tenant_id, user_oid)` and `(tenant_id, user_id)` alone, `... where tenant_id = ? and user_oid = ? and state = ?`
 * ties on two equality columns with `enrollments_compliance` and `app_registrations_applied_policy`
 * (`tenant_id, state, ...`), and SQLite's planner (no ANALYZE statistics) picked those: every enrollment scanned all
 * the tenant's active enrollments, O(devices) per request (bench:enroll lost a third of its rate with 5,000 devices).
 * The state as a third column makes the user's index the one that names the most, on both databases, and still
 * serves a user's `managedDevices` and registrations by its first two.
 */
export const userStateIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('enrollments_user_state').on('enrollments').columns(['tenant_id', 'user_oid', 'state']).execute();
    await db.schema.dropIndex('enrollments_user').execute();
    await db.schema.createIndex('app_registrations_user_state').on('app_registrations').columns(['tenant_id', 'user_id', 'state']).execute();
    await db.schema.dropIndex('app_registrations_user').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('app_registrations_user').on('app_registrations').columns(['tenant_id', 'user_id']).execute();
    await db.schema.dropIndex('app_registrations_user_state').execute();
    await db.schema.createIndex('enrollments_user').on('enrollments').columns(['tenant_id', 'user_oid']).execute();
    await db.schema.dropIndex('enrollments_user_state').execute();
  },
};
