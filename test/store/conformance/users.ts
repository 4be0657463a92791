import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { compareKeys, T0 } from '../conformance-support.ts';
import type { CollectionQuery, StoreFixture, UserRecord, UserSighting, UserStore } from '../conformance-support.ts';

/**
 * UserStore (src/store/roles.ts): one user per tenant and object id, made of sightings (src/store/user-sightings.ts):
 * the newest sighting's claims win, an older sighting or a claim a token did not carry never overwrites one, a bare
 * reference (`at` null) only makes sure the id is there; lookups by id and by UPN (ignoring case) and the paged
 * collection stay inside their tenant.
 */
export function userConformance(fixture: StoreFixture<UserStore>): void {
  const { newTenant } = fixture;

  describe('users', () => {
    let store: UserStore;

    before(() => {
      store = fixture.store;
    });

    function sighting(tenantId: string, id: string, at: number | null, claims: Partial<Pick<UserSighting, 'userPrincipalName' | 'displayName'>> = {}): UserSighting {
      return { tenantId, id, userPrincipalName: null, displayName: null, at, ...claims };
    }

    function user(tenantId: string, id: string, fields: Partial<Omit<UserRecord, 'tenantId' | 'id'>> = {}): UserRecord {
      return { tenantId, id, userPrincipalName: null, displayName: null, firstSeenAt: null, lastSeenAt: null, ...fields };
    }

    function query(overrides: Partial<CollectionQuery> = {}): CollectionQuery {
      return { orderBy: [], top: 100, skip: 0, count: false, ...overrides };
    }

    /** Every row of the query, page by page through `next`; checks that each page holds at most `top` rows. */
    async function allPages(tenantId: string, first: CollectionQuery): Promise<{ rows: UserRecord[]; pages: number }> {
      const rows: UserRecord[] = [];
      let pages = 0;
      let page = await store.queryUsers(tenantId, first);
      for (;;) {
        pages += 1;
        assert.ok(page.rows.length <= first.top, `a page holds at most top (${first.top}) rows, got ${page.rows.length}`);
        rows.push(...page.rows);
        if (page.next === undefined) break;
        assert.ok(pages < 50, 'paging ends');
        page = await store.queryUsers(tenantId, { ...first, skip: 0, after: page.next });
      }
      return { rows, pages };
    }

    it('recordUsers then getUser: the claims and times of the sighting, by tenant and object id exactly', async () => {
      const tenant = await newTenant();
      const id = randomUUID();
      await store.recordUsers([sighting(tenant.id, id, T0, { userPrincipalName: 'Alice@Contoso.com', displayName: 'Alice Ä “quoted”' })]);
      const alice = user(tenant.id, id, { userPrincipalName: 'Alice@Contoso.com', displayName: 'Alice Ä “quoted”', firstSeenAt: T0, lastSeenAt: T0 });
      assert.deepEqual(await store.getUser(tenant.id, id), alice, 'claims kept as given (case included), times as numbers');
      assert.equal(await store.getUser(tenant.id, randomUUID()), undefined, 'an unknown id');
      assert.equal(await store.getUser((await newTenant()).id, id), undefined, 'the same id in another tenant is nobody');
      assert.equal(await store.getUser(tenant.id, id.slice(0, -1)), undefined, 'by id exactly, not a prefix');
      await store.recordUsers([]);
      assert.deepEqual(await store.getUser(tenant.id, id), alice, 'no sighting changes nothing');
    });

    it('one user per tenant and object id: sightings of the same id in two tenants are two users', async () => {
      const [a, b] = [await newTenant(), await newTenant()];
      const id = randomUUID();
      await store.recordUsers([
        sighting(a.id, id, T0, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice' }),
        sighting(b.id, id, T0 + 10, { userPrincipalName: 'bob@fabrikam.com', displayName: 'Bob' }),
      ]);
      assert.deepEqual(await store.getUser(a.id, id), user(a.id, id, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice', firstSeenAt: T0, lastSeenAt: T0 }));
      assert.deepEqual(await store.getUser(b.id, id), user(b.id, id, { userPrincipalName: 'bob@fabrikam.com', displayName: 'Bob', firstSeenAt: T0 + 10, lastSeenAt: T0 + 10 }));
      // A newer sighting in B changes nothing in A.
      await store.recordUsers([sighting(b.id, id, T0 + 20, { userPrincipalName: 'renamed@fabrikam.com', displayName: 'Renamed' })]);
      assert.deepEqual(await store.getUser(a.id, id), user(a.id, id, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice', firstSeenAt: T0, lastSeenAt: T0 }));
      assert.equal((await store.getUser(b.id, id))?.userPrincipalName, 'renamed@fabrikam.com');
      const page = await store.queryUsers(a.id, query({ count: true }));
      assert.equal(page.count, 1);
      assert.deepEqual(page.rows.map((u) => u.tenantId), [a.id]);
    });

    it('a newer sighting\'s claims win; the first time stays, the last time moves on', async () => {
      const tenant = await newTenant();
      const id = randomUUID();
      await store.recordUsers([sighting(tenant.id, id, T0, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice' })]);
      await store.recordUsers([sighting(tenant.id, id, T0 + 100, { userPrincipalName: 'alice.smith@contoso.com', displayName: 'Alice Smith' })]);
      assert.deepEqual(
        await store.getUser(tenant.id, id),
        user(tenant.id, id, { userPrincipalName: 'alice.smith@contoso.com', displayName: 'Alice Smith', firstSeenAt: T0, lastSeenAt: T0 + 100 }),
      );
    });

    it('an older sighting never overwrites the newer claims or the last time; it moves the first time back', async () => {
      const tenant = await newTenant();
      const id = randomUUID();
      await store.recordUsers([sighting(tenant.id, id, T0 + 100, { userPrincipalName: 'new@contoso.com', displayName: 'New' })]);
      await store.recordUsers([sighting(tenant.id, id, T0 + 50, { userPrincipalName: 'old@contoso.com', displayName: 'Old' })]);
      assert.deepEqual(
        await store.getUser(tenant.id, id),
        user(tenant.id, id, { userPrincipalName: 'new@contoso.com', displayName: 'New', firstSeenAt: T0 + 50, lastSeenAt: T0 + 100 }),
      );
      // An older sighting that carries a claim the newer one lacks does not fill it either: it was not the newest.
      const other = randomUUID();
      await store.recordUsers([sighting(tenant.id, other, T0 + 100, { userPrincipalName: 'carol@contoso.com' })]);
      await store.recordUsers([sighting(tenant.id, other, T0 + 50, { userPrincipalName: 'old@contoso.com', displayName: 'Old Carol' })]);
      assert.deepEqual(await store.getUser(tenant.id, other), user(tenant.id, other, { userPrincipalName: 'carol@contoso.com', firstSeenAt: T0 + 50, lastSeenAt: T0 + 100 }));
    });

    it('a claim a newer token did not carry is kept; the claim it did carry wins', async () => {
      const tenant = await newTenant();
      const id = randomUUID();
      await store.recordUsers([sighting(tenant.id, id, T0, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice' })]);
      await store.recordUsers([sighting(tenant.id, id, T0 + 10, { displayName: 'Alice Smith' })]);
      assert.deepEqual(await store.getUser(tenant.id, id), user(tenant.id, id, { userPrincipalName: 'alice@contoso.com', displayName: 'Alice Smith', firstSeenAt: T0, lastSeenAt: T0 + 10 }));
      await store.recordUsers([sighting(tenant.id, id, T0 + 20, { userPrincipalName: 'alice.smith@contoso.com' })]);
      assert.deepEqual(
        await store.getUser(tenant.id, id),
        user(tenant.id, id, { userPrincipalName: 'alice.smith@contoso.com', displayName: 'Alice Smith', firstSeenAt: T0, lastSeenAt: T0 + 20 }),
      );
      await store.recordUsers([sighting(tenant.id, id, T0 + 30)]);
      assert.deepEqual(
        await store.getUser(tenant.id, id),
        user(tenant.id, id, { userPrincipalName: 'alice.smith@contoso.com', displayName: 'Alice Smith', firstSeenAt: T0, lastSeenAt: T0 + 30 }),
        'a token with neither claim only moves the last time',
      );
    });

    it('a bare reference (at null) makes a user of the id and nothing else; it never changes a known user', async () => {
      const tenant = await newTenant();
      const [member, known] = [randomUUID(), randomUUID()];
      await store.recordUsers([sighting(tenant.id, member, null)]);
      assert.deepEqual(await store.getUser(tenant.id, member), user(tenant.id, member));
      await store.recordUsers([sighting(tenant.id, known, T0, { userPrincipalName: 'known@contoso.com', displayName: 'Known' })]);
      // A reference that carries claims is still a reference: it proves the id only.
      await store.recordUsers([sighting(tenant.id, known, null, { userPrincipalName: 'forged@contoso.com', displayName: 'Forged' }), sighting(tenant.id, member, null)]);
      assert.deepEqual(await store.getUser(tenant.id, known), user(tenant.id, known, { userPrincipalName: 'known@contoso.com', displayName: 'Known', firstSeenAt: T0, lastSeenAt: T0 }));
      assert.deepEqual(await store.getUser(tenant.id, member), user(tenant.id, member), 'a second reference changes nothing');
      // A token seen later fills the referenced user in, times included.
      await store.recordUsers([sighting(tenant.id, member, T0 + 5, { userPrincipalName: 'member@contoso.com', displayName: 'Member' })]);
      assert.deepEqual(await store.getUser(tenant.id, member), user(tenant.id, member, { userPrincipalName: 'member@contoso.com', displayName: 'Member', firstSeenAt: T0 + 5, lastSeenAt: T0 + 5 }));
    });

    it('several sightings of one user in one call: the newest claims whatever the order, the other\'s where it carried none', async () => {
      const tenant = await newTenant();
      for (const reversed of [false, true]) {
        const id = randomUUID();
        const sightings = [
          sighting(tenant.id, id, T0 + 10, { userPrincipalName: 'old@contoso.com', displayName: 'Old Name' }),
          sighting(tenant.id, id, T0 + 30, { userPrincipalName: 'new@contoso.com' }),
          sighting(tenant.id, id, null),
        ];
        await store.recordUsers(reversed ? sightings.reverse() : sightings);
        const stored = await store.getUser(tenant.id, id);
        assert.equal(stored?.userPrincipalName, 'new@contoso.com', `newest UPN (reversed: ${reversed})`);
        assert.equal(stored?.displayName, 'Old Name', `the newest that carried a name (reversed: ${reversed})`);
        assert.equal(stored?.lastSeenAt, T0 + 30, `last time (reversed: ${reversed})`);
      }
    });

    it('several sightings of one user in one call: the first time is the earliest of them', async () => {
        const tenant = await newTenant();
        const [fresh, known] = [randomUUID(), randomUUID()];
        await store.recordUsers([sighting(tenant.id, known, T0 + 50, { userPrincipalName: 'known@contoso.com' })]);
        await store.recordUsers([
          sighting(tenant.id, fresh, T0 + 10, { userPrincipalName: 'fresh@contoso.com' }),
          sighting(tenant.id, fresh, T0 + 30),
          sighting(tenant.id, known, T0 + 20),
          sighting(tenant.id, known, T0 + 60),
        ]);
        assert.deepEqual(await store.getUser(tenant.id, fresh), user(tenant.id, fresh, { userPrincipalName: 'fresh@contoso.com', firstSeenAt: T0 + 10, lastSeenAt: T0 + 30 }));
        assert.deepEqual(await store.getUser(tenant.id, known), user(tenant.id, known, { userPrincipalName: 'known@contoso.com', firstSeenAt: T0 + 20, lastSeenAt: T0 + 60 }));
      },
    );

    it('getUserByPrincipalName ignores case on both sides, matches the whole UPN, and stays in its tenant', async () => {
      const [tenant, other] = [await newTenant(), await newTenant()];
      const id = randomUUID();
      const domain = `${randomUUID().slice(0, 8)}.example`;
      await store.recordUsers([sighting(tenant.id, id, T0, { userPrincipalName: `Alice.Smith@${domain.toUpperCase()}`, displayName: 'Alice' })]);
      const alice = await store.getUser(tenant.id, id);
      assert.ok(alice !== undefined);
      for (const asked of [`Alice.Smith@${domain.toUpperCase()}`, `alice.smith@${domain}`, `ALICE.SMITH@${domain.toUpperCase()}`]) {
        assert.deepEqual(await store.getUserByPrincipalName(tenant.id, asked), alice, asked);
      }
      for (const asked of [`alice.smith@${domain.slice(0, -1)}`, `alice.smith@${domain}x`, `alice_smith@${domain}`, `alice.smith@%`, `%`, '']) {
        assert.equal(await store.getUserByPrincipalName(tenant.id, asked), undefined, `no match for ${JSON.stringify(asked)}: the whole UPN, no pattern`);
      }
      assert.equal(await store.getUserByPrincipalName(other.id, `alice.smith@${domain}`), undefined, 'another tenant does not see it');
      // The same UPN in the other tenant is the other tenant's user.
      const twin = randomUUID();
      await store.recordUsers([sighting(other.id, twin, T0 + 99, { userPrincipalName: `alice.smith@${domain}` })]);
      assert.equal((await store.getUserByPrincipalName(tenant.id, `alice.smith@${domain}`))?.id, id, 'the newer twin of another tenant does not win');
      assert.equal((await store.getUserByPrincipalName(other.id, `ALICE.SMITH@${domain}`))?.id, twin);
    });

    it('getUserByPrincipalName: a UPN no longer the newest claim of a user does not find them; of two users carrying it, the one seen last', async () => {
      const tenant = await newTenant();
      const [first, second] = [randomUUID(), randomUUID()];
      const upn = `shared-${randomUUID().slice(0, 8)}@contoso.com`;
      await store.recordUsers([sighting(tenant.id, first, T0 + 10, { userPrincipalName: upn })]);
      await store.recordUsers([sighting(tenant.id, second, T0 + 20, { userPrincipalName: upn.toUpperCase() })]);
      assert.equal((await store.getUserByPrincipalName(tenant.id, upn))?.id, second, 'seen last');
      await store.recordUsers([sighting(tenant.id, first, T0 + 30, { displayName: 'First again' })]);
      assert.equal((await store.getUserByPrincipalName(tenant.id, upn))?.id, first, 'seen last, now');
      // The first user is renamed: the UPN is only the second user's.
      await store.recordUsers([sighting(tenant.id, first, T0 + 40, { userPrincipalName: `renamed-${upn}` })]);
      assert.equal((await store.getUserByPrincipalName(tenant.id, upn))?.id, second);
      assert.equal((await store.getUserByPrincipalName(tenant.id, `RENAMED-${upn}`))?.id, first);
    });

    it('queryUsers: the tenant\'s users only, paged through `next` in id order, each once, counted', async () => {
      const [tenant, other] = [await newTenant(), await newTenant()];
      const ids = Array.from({ length: 7 }, () => randomUUID());
      await store.recordUsers(ids.map((id, i) => sighting(tenant.id, id, i % 3 === 0 ? null : T0 + i, { userPrincipalName: `user${i}@contoso.com` })));
      await store.recordUsers([...ids.slice(0, 2).map((id) => sighting(other.id, id, T0)), sighting(other.id, randomUUID(), T0)]);
      const expected = await Promise.all([...ids].sort(compareKeys).map(async (id) => (await store.getUser(tenant.id, id))!));
      const first = await store.queryUsers(tenant.id, query({ top: 3, count: true }));
      assert.equal(first.count, 7, 'every user of the tenant, none of the other\'s');
      assert.deepEqual(first.rows, expected.slice(0, 3));
      assert.ok(first.next !== undefined);
      const second = await store.queryUsers(tenant.id, query({ top: 3, count: true, after: first.next }));
      assert.equal(second.count, 7, 'the count is of all pages');
      assert.deepEqual(second.rows, expected.slice(3, 6));
      const { rows, pages } = await allPages(tenant.id, query({ top: 3 }));
      assert.deepEqual(rows, expected);
      assert.equal(pages, 3);
      assert.deepEqual((await store.queryUsers(tenant.id, query({ top: 7 }))).next, undefined, 'no page after the last');
      assert.deepEqual((await store.queryUsers(tenant.id, query({ top: 2, skip: 5 }))).rows, expected.slice(5, 7), 'skip on a first page');
      assert.equal((await store.queryUsers(other.id, query({ count: true }))).count, 3);
      const empty = await store.queryUsers((await newTenant()).id, query({ count: true }));
      assert.deepEqual([empty.rows, empty.count, empty.next], [[], 0, undefined]);
    });

    it('queryUsers orders by userPrincipalName ignoring case (no UPN first ascending), and pages through equal sort values exactly', async () => {
      const tenant = await newTenant();
      const named = [['carol@contoso.com', 'C'], ['Bob@contoso.com', 'B'], ['alice@contoso.com', 'A'], ['ALICE@contoso.com', 'A2']] as const;
      const users = named.map(([upn, displayName]) => ({ id: randomUUID(), upn, displayName }));
      const anonymous = [randomUUID(), randomUUID()];
      await store.recordUsers([...users.map((u) => sighting(tenant.id, u.id, T0, { userPrincipalName: u.upn, displayName: u.displayName })), ...anonymous.map((id) => sighting(tenant.id, id, null))]);
      const alices = users.filter((u) => u.upn.toLowerCase() === 'alice@contoso.com').map((u) => u.id).sort(compareKeys);
      const byUpn = [...[...anonymous].sort(compareKeys), ...alices, users[1]!.id, users[0]!.id];
      for (const top of [1, 2, 4, 10]) {
        const { rows } = await allPages(tenant.id, query({ orderBy: [{ field: 'userPrincipalName', descending: false }], top }));
        assert.deepEqual(rows.map((u) => u.id), byUpn, `ascending, ${top} a page`);
        const descending = await allPages(tenant.id, query({ orderBy: [{ field: 'userPrincipalName', descending: true }], top }));
        // The id breaks ties in the first key's direction (src/store/collection-sql.ts): the exact reverse.
        assert.deepEqual(descending.rows.map((u) => u.id), [...byUpn].reverse(), `descending, ${top} a page`);
      }
    });

    it('queryUsers filters on userPrincipalName ignoring case and on displayName, counted, in the tenant only', async () => {
      const [tenant, other] = [await newTenant(), await newTenant()];
      const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
      await store.recordUsers([
        sighting(tenant.id, alice, T0, { userPrincipalName: 'Alice@Contoso.com', displayName: 'Sales' }),
        sighting(tenant.id, bob, T0, { userPrincipalName: 'bob@contoso.com', displayName: 'Sales' }),
        sighting(tenant.id, carol, T0, { userPrincipalName: 'carol@fabrikam.com', displayName: 'Support' }),
        sighting(other.id, randomUUID(), T0, { userPrincipalName: 'alice@contoso.com', displayName: 'Sales' }),
      ]);
      const eq = await store.queryUsers(tenant.id, query({ filter: { kind: 'compare', field: 'userPrincipalName', operator: 'eq', value: 'ALICE@contoso.COM' }, count: true }));
      assert.deepEqual([eq.rows.map((u) => u.id), eq.count], [[alice], 1]);
      const prefix = await store.queryUsers(tenant.id, query({ filter: { kind: 'startsWith', field: 'userPrincipalName', prefix: 'B' }, count: true }));
      assert.deepEqual([prefix.rows.map((u) => u.id), prefix.count], [[bob], 1]);
      const sales = await store.queryUsers(tenant.id, query({ filter: { kind: 'compare', field: 'displayName', operator: 'eq', value: 'Sales' }, top: 1, count: true }));
      assert.equal(sales.count, 2, 'the other tenant\'s Sales user is not counted');
      assert.deepEqual(sales.rows.map((u) => u.id), [[alice, bob].sort(compareKeys)[0]]);
      assert.ok(sales.next !== undefined);
      const rest = await store.queryUsers(tenant.id, query({ filter: { kind: 'compare', field: 'displayName', operator: 'eq', value: 'Sales' }, top: 1, after: sales.next }));
      assert.deepEqual(rest.rows.map((u) => u.id), [[alice, bob].sort(compareKeys)[1]]);
      assert.equal(rest.next, undefined);
    });
  });
}
