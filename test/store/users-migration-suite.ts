import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { migrations, type SchemaDialect } from '../../src/store/migrations/index.ts';
import type { UserRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Migration 012 on a database that already holds enrollments, app registrations, sign-ins and group members (written
 * at 011): each user of a tenant becomes one row with the UPN of the newest sighting that carried one and the times
 * of the first and last; a group member is an id only. Then the store's upsert rules on the migrated rows.
 */
export function usersMigration(
  name: string,
  setup: () => Promise<{ db: Kysely<unknown>; dialect: SchemaDialect; migrationTableSchema?: string; openStore: () => Promise<Store>; cleanup: () => Promise<void> }>,
  options: { skip?: string } = {},
): void {
  skippableSuite(`migration 012_users: ${name}`, { skip: options.skip ?? false }, () => {
    let db: Kysely<unknown>;
    let store: Store;
    let cleanup: () => Promise<void>;
    const [tenantA, tenantB] = [randomUUID(), randomUUID()];
    const [enrolled, registered, signedIn, member] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

    before(async () => {
      const opened = await setup();
      db = opened.db;
      cleanup = opened.cleanup;
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve({ ...migrations(opened.dialect) }) },
        ...(opened.migrationTableSchema === undefined ? {} : { migrationTableSchema: opened.migrationTableSchema }),
      });
      assert.equal((await migrator.migrateTo('011_sign_in_log')).error, undefined);
      for (const tenant of [tenantA, tenantB]) {
        await sql`insert into tenants (id, name, identity_provider, enrollment_allowed, settings, created_at, updated_at) values (${tenant}, ${'T'}, ${'builtin'}, ${1}, ${'{}'}, ${0}, ${0})`.execute(db);
      }
      const enrollment = async (tenant: string, user: string, upn: string | null, createdAt: number, enrolledAt: number, state = 'enrolled') => {
        const devId = randomUUID();
        await sql`insert into devices (dev_id, tenant_id, created_at, updated_at) values (${devId}, ${tenant}, ${createdAt}, ${createdAt})`.execute(db);
        await sql`insert into enrollments (id, tenant_id, dev_id, user_oid, upn, enrollment_type, state, enroll_count, created_at, enrolled_at, updated_at)
            values (${randomUUID()}, ${tenant}, ${devId}, ${user}, ${upn}, ${'MAM'}, ${state}, ${1}, ${createdAt}, ${enrolledAt}, ${enrolledAt})`.execute(db);
      };
      const registration = (tenant: string, user: string, upn: string | null, createdAt: number) =>
        sql`insert into app_registrations (id, tenant_id, user_id, upn, app_id, app_version, sdk_version, os_version, device_tag, created_at, last_check_in_at, reported_failures, compliance_state, compliance_reasons, compliance_changed_at, state)
            values (${randomUUID()}, ${tenant}, ${user}, ${upn}, ${'com.microsoft.edge'}, ${'1'}, ${'1'}, ${'10.0'}, ${randomUUID()}, ${createdAt}, ${createdAt + 5000}, ${'[]'}, ${'unknown'}, ${'[]'}, ${createdAt}, ${'active'})`.execute(db);
      const signIn = (tenant: string, user: string | null, upn: string | null, createdAt: number) =>
        sql`insert into sign_ins (tenant_id, id, created_at, user_id, user_principal_name, device_id_verified, correlation_id, decision, reasons, conditional_access_status, applied_policies)
            values (${tenant}, ${randomUUID()}, ${createdAt}, ${user}, ${upn}, ${0}, ${randomUUID()}, ${'deny'}, ${'[]'}, ${'notApplied'}, ${'[]'})`.execute(db);
      // In tenant A, `enrolled` was enrolled (twice, one unenrolled), registered and signed in: the newest UPN wins.
      await enrollment(tenantA, enrolled, 'first@contoso.example', 100, 200, 'unenrolled');
      await enrollment(tenantA, enrolled, 'second@contoso.example', 300, 500);
      await registration(tenantA, enrolled, 'third@contoso.example', 400);
      await signIn(tenantA, enrolled, null, 900);
      await signIn(tenantA, enrolled, 'Fourth@Contoso.example', 700);
      // `registered` only registered, with no UPN; `signedIn` only signed in; a decision with no user is no user.
      await registration(tenantA, registered, null, 50);
      await signIn(tenantA, signedIn, 'signer@contoso.example', 60);
      await signIn(tenantA, null, null, 70);
      // Group members: a bare id, and one already known from a token (not duplicated, not changed).
      await sql`insert into groups (tenant_id, id, display_name, description, created_at) values (${tenantA}, ${'g1'}, ${'G'}, ${null}, ${0})`.execute(db);
      for (const id of [member, enrolled]) await sql`insert into group_members (tenant_id, group_id, member_id) values (${tenantA}, ${'g1'}, ${id})`.execute(db);
      // The same object id in tenant B is another user.
      await enrollment(tenantB, enrolled, 'other@fabrikam.example', 10, 20);

      const to012 = await migrator.migrateTo('012_users');
      assert.deepEqual(to012.results?.map((r) => [r.migrationName, r.status]), [['012_users', 'Success']]);
      assert.equal((await migrator.migrateToLatest()).error, undefined, 'and the later ones over it');
      store = await opened.openStore();
    });
    after(async () => {
      await store?.close();
      await db?.destroy();
      await cleanup?.();
    });

    const user = (tenantId: string, id: string, userPrincipalName: string | null, firstSeenAt: number | null, lastSeenAt: number | null): UserRecord => ({ tenantId, id, userPrincipalName, displayName: null, firstSeenAt, lastSeenAt });

    it('makes one user per tenant and object id from enrollments, registrations, sign-ins and group members', async () => {
      const page = await store.queryUsers(tenantA, { orderBy: [], top: 10, skip: 0, count: true });
      assert.equal(page.count, 4);
      assert.deepEqual(
        page.rows,
        [
          user(tenantA, enrolled, 'Fourth@Contoso.example', 100, 900),
          user(tenantA, registered, null, 50, 50),
          user(tenantA, signedIn, 'signer@contoso.example', 60, 60),
          user(tenantA, member, null, null, null),
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
      assert.deepEqual(await store.getUser(tenantB, enrolled), user(tenantB, enrolled, 'other@fabrikam.example', 10, 20));
      assert.equal((await store.getUserByPrincipalName(tenantA, 'FOURTH@contoso.EXAMPLE'))?.id, enrolled);
      assert.equal(await store.getUserByPrincipalName(tenantB, 'fourth@contoso.example'), undefined);
    });

    it('keeps the newest claims: an older sighting, a missing claim or a bare reference never overwrites them', async () => {
      await store.recordUsers([{ tenantId: tenantA, id: enrolled, userPrincipalName: 'older@contoso.example', displayName: 'Older', at: 800 }]);
      assert.deepEqual(await store.getUser(tenantA, enrolled), user(tenantA, enrolled, 'Fourth@Contoso.example', 100, 900));
      await store.recordUsers([{ tenantId: tenantA, id: enrolled, userPrincipalName: null, displayName: 'Fourth', at: 1000 }]);
      await store.recordUsers([{ tenantId: tenantA, id: enrolled, userPrincipalName: null, displayName: null, at: null }]);
      assert.deepEqual(await store.getUser(tenantA, enrolled), { ...user(tenantA, enrolled, 'Fourth@Contoso.example', 100, 1000), displayName: 'Fourth' });
      // A token seen for the member fills it; an earlier one seen later moves the first time back.
      await store.recordUsers([
        { tenantId: tenantA, id: member, userPrincipalName: 'member@contoso.example', displayName: 'Member', at: 2000 },
        { tenantId: tenantA, id: member, userPrincipalName: 'renamed@contoso.example', displayName: null, at: 2500 },
      ]);
      await store.recordUsers([{ tenantId: tenantA, id: member, userPrincipalName: 'earliest@contoso.example', displayName: null, at: 1500 }]);
      assert.deepEqual(await store.getUser(tenantA, member), { ...user(tenantA, member, 'renamed@contoso.example', 1500, 2500), displayName: 'Member' });
    });
  });
}
