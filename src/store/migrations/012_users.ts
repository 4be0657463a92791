import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Users (issue 13: an admin finds a user without decoding a token): everyone OpenMAM has seen in a verified token, or
 * that an admin named as a group member, keyed by (tenant_id, id) so that a page of `/users` is a range of the
 * primary key. Kept up to date by the writes that already record a token (store/user-sightings.ts); filled here from
 * what the existing tables hold:
 * - enrollments (`user_oid`, `upn`; first enrolled at `created_at`, last at `enrolled_at`), app registrations
 *   (`user_id`, `upn`, `created_at`) and the sign-in log (`user_id`, `user_principal_name`, `created_at`): the UPN of
 *   the newest sighting that carried one; the display name is unknown (none of them kept the `name` claim);
 * - group members: the id only, with no times (a reference proves the id and nothing else).
 * `users_principal_name` serves `/users/{userPrincipalName}`, compared ignoring case as Entra does; `enrollments_user`
 * serves a user's `managedDevices`.
 */
export const users: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('user_principal_name', 'text')
      .addColumn('display_name', 'text')
      .addColumn('first_seen_at', 'bigint')
      .addColumn('last_seen_at', 'bigint')
      .addPrimaryKeyConstraint('users_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('users_principal_name').on('users').expression(sql`tenant_id, lower(user_principal_name)`).execute();
    await db.schema.createIndex('enrollments_user').on('enrollments').columns(['tenant_id', 'user_oid']).execute();

    // One pass over each table: times per user by GROUP BY, the newest UPN by a window (no per-user lookups).
    await sql`
      with seen (tenant_id, user_id, upn, first_at, last_at) as (
        select tenant_id, user_oid, upn, created_at, enrolled_at from enrollments
        union all select tenant_id, user_id, upn, created_at, created_at from app_registrations
        union all select tenant_id, user_id, user_principal_name, created_at, created_at from sign_ins where user_id is not null
      ),
      times as (select tenant_id, user_id, min(first_at) as first_at, max(last_at) as last_at from seen group by tenant_id, user_id),
      named as (
        select tenant_id, user_id, upn from (
          select tenant_id, user_id, upn, row_number() over (partition by tenant_id, user_id order by last_at desc) as n from seen where upn is not null
        ) ranked where n = 1
      )
      insert into users (tenant_id, id, user_principal_name, first_seen_at, last_seen_at)
      select times.tenant_id, times.user_id, named.upn, times.first_at, times.last_at
      from times left join named on named.tenant_id = times.tenant_id and named.user_id = times.user_id
      where exists (select 1 from tenants where tenants.id = times.tenant_id)`.execute(db);
    await sql`
      insert into users (tenant_id, id)
      select tenant_id, member_id from group_members m
      where not exists (select 1 from users u where u.tenant_id = m.tenant_id and u.id = m.member_id)
      group by tenant_id, member_id`.execute(db);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('enrollments_user').execute();
    await db.schema.dropTable('users').execute();
  },
};
