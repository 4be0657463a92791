import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Device actions an admin (or the stale-device sweep) asks of a MAM-enrolled device (issue 15): Graph's `retire`,
 * `wipe` and `syncDevice` on a managedDevice, with their progress (Graph `deviceActionResult`: pending, done, failed
 * with the device's SyncML status, canceled by a re-enrollment) and why (`admin`, `stale`, `compliance`). The
 * enrollment's `management_state` (migration 019) moves with a retire or wipe in the same transaction, so the session
 * engine sees a pending one in the check-in's one read; this table keeps the history.
 * - `device_actions_enrollment` serves a device's actions (its deviceActionResults, the session's pending ones).
 * - `device_actions_one_pending` lets the database itself refuse a second pending retire or wipe of one enrollment.
 * - `enrollments_tenant_unenrolled_at` serves the list of ended enrollments (beta `openMamRetiredDevices`), newest
 *   first, in one index range whatever the number of active ones.
 */
export const deviceActions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('device_actions')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('enrollment_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status_code', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('device_actions_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('device_actions_enrollment').on('device_actions').columns(['enrollment_id', 'requested_at']).execute();
    await db.schema
      .createIndex('device_actions_one_pending')
      .on('device_actions')
      .column('enrollment_id')
      .unique()
      .where(sql<boolean>`state = 'pending' and action <> 'syncDevice'`)
      .execute();
    await db.schema.createIndex('enrollments_tenant_unenrolled_at').on('enrollments').columns(['tenant_id', 'unenrolled_at']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('enrollments_tenant_unenrolled_at').execute();
    await db.schema.dropTable('device_actions').execute();
  },
};
