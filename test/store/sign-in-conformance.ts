import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { SignInRecord } from '../../src/store/app-protection-records.ts';
import type { SignInStore } from '../../src/store/app-protection-roles.ts';
import type { FieldValue, Filter } from '../../src/store/collection-query.ts';
import type { TenantRecord } from '../../src/store/records.ts';
import type { Store } from '../../src/store/roles.ts';
import { signInRecord } from '../support/sign-ins.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of SignInStore (src/store/app-protection-roles.ts), for every backend. Each test has its own tenant;
 * the purge test's records are far older than the others' (around P), so its count is exact.
 */
export function signInConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`sign-in log store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    let signIns: SignInStore;

    before(async () => {
      store = await open();
      signIns = store.signIns;
    });

    after(async () => {
      await store?.close();
    });

    async function newTenant(): Promise<string> {
      const tenant = tenantRecord();
      await store.createTenant(tenant);
      return tenant.id;
    }

    /** Every page of `filter`, newest first as the admin API asks, following `next`. */
    async function all(tenantId: string, filter: Filter | undefined, top: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let after: readonly FieldValue[] | undefined;
      let pages = 0;
      for (;;) {
        const page = await signIns.querySignIns(tenantId, {
          orderBy: [{ field: 'createdDateTime', descending: true }],
          top,
          skip: 0,
          count: false,
          ...(filter === undefined ? {} : { filter }),
          ...(after === undefined ? {} : { after }),
        });
        pages++;
        assert.ok(page.rows.length <= top);
        ids.push(...page.rows.map((r) => r.id));
        if (page.next === undefined) return { ids, pages };
        after = page.next;
      }
    }

    const T = Date.UTC(2026, 11, 1);
    const newestFirst = (records: readonly SignInRecord[]): string[] =>
      [...records].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((r) => r.id);

    it('appends a batch and reads a record back as written, by tenant', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const full = signInRecord(tenantId, { reasons: ['a', 'b'], deviceIdVerified: false });
      const sparse = signInRecord(tenantId, {
        userId: null,
        userPrincipalName: null,
        appId: null,
        appDisplayName: null,
        windowsAppId: null,
        resourceId: null,
        resourceDisplayName: null,
        deviceId: null,
        registrationId: null,
        ipAddress: null,
        decision: 'deny',
        reasons: ['invalidUserToken'],
        conditionalAccessStatus: 'notApplied',
        appliedPolicies: [],
      });
      await signIns.appendSignIns([full, sparse]);
      await signIns.appendSignIns([]);
      assert.deepEqual(await signIns.getSignIn(tenantId, full.id), full);
      assert.deepEqual(await signIns.getSignIn(tenantId, sparse.id), sparse);
      assert.equal(await signIns.getSignIn(other, full.id), undefined, "another tenant's id");
      assert.equal(await signIns.getSignIn(tenantId, randomUUID()), undefined);
      assert.deepEqual((await all(other, undefined, 10)).ids, []);
    });

    it('appends batches larger than one statement, in one call', async () => {
      const tenantId = await newTenant();
      const records = Array.from({ length: 1300 }, (_, i) => signInRecord(tenantId, { createdAt: T + i }));
      await signIns.appendSignIns(records);
      const { ids, pages } = await all(tenantId, undefined, 1000);
      assert.equal(pages, 2);
      assert.deepEqual(ids, newestFirst(records));
    });

    it('pages newest first, ties broken by id, with no record twice or missed', async () => {
      const tenantId = await newTenant();
      // Several records per millisecond: the keyset must order by id within one createdAt.
      const records = Array.from({ length: 23 }, (_, i) => signInRecord(tenantId, { createdAt: T + Math.floor(i / 4) }));
      await signIns.appendSignIns(records);
      for (const top of [1, 4, 5, 23, 100]) {
        const { ids, pages } = await all(tenantId, undefined, top);
        assert.deepEqual(ids, newestFirst(records), `top ${top}`);
        assert.equal(pages, Math.max(1, Math.ceil(23 / top)), `top ${top}: the last full page says no more`);
      }
    });

    it('filters by user, UPN (any case), app, resource, decision, conditional access status and time, combined', async () => {
      const tenantId = await newTenant();
      const [user, app, resource] = [randomUUID(), randomUUID(), randomUUID()];
      const records = [
        signInRecord(tenantId, { createdAt: T, userId: user, userPrincipalName: 'Megan@Contoso.example', appId: app }),
        signInRecord(tenantId, { createdAt: T + 1000, userId: user, resourceId: resource, decision: 'deny', conditionalAccessStatus: 'failure' }),
        signInRecord(tenantId, { createdAt: T + 2000, appId: app, resourceId: resource, conditionalAccessStatus: 'notApplied' }),
        signInRecord(tenantId, { createdAt: T + 3000, decision: 'deny', conditionalAccessStatus: 'notApplied' }),
      ];
      await signIns.appendSignIns(records);
      const [r0, r1, r2, r3] = records.map((r) => r.id);
      const is = (field: string, value: FieldValue): Filter => ({ kind: 'compare', field, operator: 'eq', value });
      const and = (...operands: Filter[]): Filter => ({ kind: 'and', operands });
      const from = (ms: number): Filter => ({ kind: 'compare', field: 'createdDateTime', operator: 'ge', value: ms });
      const to = (ms: number): Filter => ({ kind: 'compare', field: 'createdDateTime', operator: 'lt', value: ms });
      // Decisions are stored as they are (allow, deny); the admin API maps status/errorCode onto them.
      const cases: [Filter | undefined, (string | undefined)[]][] = [
        [undefined, [r3, r2, r1, r0]],
        [is('userId', user), [r1, r0]],
        [is('userPrincipalName', 'megan@contoso.EXAMPLE'), [r0]],
        [is('appId', app), [r2, r0]],
        [is('resourceId', resource), [r2, r1]],
        [is('status/errorCode', 'deny'), [r3, r1]],
        [is('status/errorCode', 'allow'), [r2, r0]],
        [is('conditionalAccessStatus', 'notApplied'), [r3, r2]],
        [is('conditionalAccessStatus', 'failure'), [r1]],
        [is('conditionalAccessStatus', 'success'), [r0]],
        [from(T + 1000), [r3, r2, r1]],
        [to(T + 1000), [r0]],
        [and(from(T + 1000), to(T + 3000)), [r2, r1]],
        [and(is('userId', user), is('status/errorCode', 'deny')), [r1]],
        [and(is('appId', app), is('resourceId', resource), is('status/errorCode', 'allow'), from(T + 1), to(T + 2001)), [r2]],
        [is('userId', randomUUID()), []],
      ];
      for (const [filter, expected] of cases) {
        assert.deepEqual((await all(tenantId, filter, 1)).ids, expected, JSON.stringify(filter));
      }
    });

    it("records each decision's user, again only after 15 minutes or with another UPN (a busy user is not rewritten per batch)", async () => {
      const tenantId = await newTenant();
      const userId = randomUUID();
      const at = async (ms: number, upn: string) => signIns.appendSignIns([signInRecord(tenantId, { createdAt: ms, userId, userPrincipalName: upn })]);
      const seen = async () => {
        const user = await store.getUser(tenantId, userId);
        return [user?.userPrincipalName, user?.lastSeenAt];
      };
      await at(T, 'megan@contoso.example');
      assert.deepEqual(await seen(), ['megan@contoso.example', T]);
      await at(T + 60_000, 'megan@contoso.example');
      assert.deepEqual(await seen(), ['megan@contoso.example', T], 'the same user and UPN within 15 minutes: not rewritten');
      await at(T + 120_000, 'megan.b@contoso.example');
      assert.deepEqual(await seen(), ['megan.b@contoso.example', T + 120_000], 'a new UPN is recorded at once');
      await at(T + 120_000 + 15 * 60_000, 'megan.b@contoso.example');
      assert.deepEqual(await seen(), ['megan.b@contoso.example', T + 120_000 + 15 * 60_000], 'after 15 minutes, recorded again');
    });

    it("purges records older than the cut-off, every tenant's, and nothing newer", async () => {
      const P = Date.UTC(2001, 0, 1);
      const [a, b] = [await newTenant(), await newTenant()];
      const old = [...Array.from({ length: 3000 }, (_, i) => signInRecord(a, { createdAt: P - 10_000 + (i % 50) })), signInRecord(b, { createdAt: P - 1 })];
      const kept = [signInRecord(a, { createdAt: P }), signInRecord(b, { createdAt: P + 1 })];
      await signIns.appendSignIns([...old, ...kept]);
      assert.equal(await signIns.purgeSignIns(P), old.length);
      assert.deepEqual((await all(a, undefined, 100)).ids, [kept[0]!.id]);
      assert.deepEqual((await all(b, undefined, 100)).ids, [kept[1]!.id]);
      assert.equal(await signIns.purgeSignIns(P), 0);
    });
  });
}

function tenantRecord(): TenantRecord {
  const at = Date.UTC(2026, 0, 1);
  return { id: randomUUID(), name: 'Contoso', identityProvider: 'entra', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: at, updatedAt: at };
}
