import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { migrations, type SchemaDialect } from '../../src/store/migrations/index.ts';
import type { Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Migration 009 on a database that already holds conditional access policies (written at 008, when resources were
 * free text): every distinct resource of a tenant becomes a service principal and the policies name it by appId.
 * `open` gives a raw Kysely on a fresh database (no migration applied) and `openStore` the store on the same one.
 */
export function catalogueMigration(
  name: string,
  setup: () => Promise<{ db: Kysely<unknown>; dialect: SchemaDialect; migrationTableSchema?: string; openStore: () => Promise<Store>; cleanup: () => Promise<void> }>,
  options: { skip?: string } = {},
): void {
  skippableSuite(`migration 009_catalogue_and_resources: ${name}`, { skip: options.skip ?? false }, () => {
    let db: Kysely<unknown>;
    let store: Store;
    let cleanup: () => Promise<void>;
    const [tenantA, tenantB, tenantC] = [randomUUID(), randomUUID(), randomUUID()];
    const guid = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';

    before(async () => {
      const opened = await setup();
      db = opened.db;
      cleanup = opened.cleanup;
      // As KyselyStore.migrate(): a schema named explicitly, or Kysely would take another schema's migration tables for ours.
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve({ ...migrations(opened.dialect) }) },
        ...(opened.migrationTableSchema === undefined ? {} : { migrationTableSchema: opened.migrationTableSchema }),
      });
      const to008 = await migrator.migrateTo('008_tenant_versions');
      assert.equal(to008.error, undefined);
      for (const tenant of [tenantA, tenantB, tenantC]) {
        await sql`insert into tenants (id, name, identity_provider, enrollment_allowed, settings, created_at, updated_at) values (${tenant}, ${'T'}, ${'builtin'}, ${1}, ${'{}'}, ${0}, ${0})`.execute(db);
      }
      const policy = async (tenant: string, id: string, resources: string[]) =>
        sql`insert into access_policies (tenant_id, id, display_name, state, resources, include_groups, exclude_groups, include_all_users, approved_apps, grant_controls, created_at, updated_at)
            values (${tenant}, ${id}, ${id}, ${'enabled'}, ${JSON.stringify(resources)}, ${'[]'}, ${'[]'}, ${1}, ${'[]'}, ${'["compliantApplication"]'}, ${1000}, ${1000})`.execute(db);
      await policy(tenantA, 'by-name', ['exchange']);
      await policy(tenantA, 'by-guid', [guid, 'Exchange']);
      await policy(tenantA, 'all', ['All']);
      await policy(tenantC, 'by-name', ['exchange']);
      const to009 = await migrator.migrateTo('009_catalogue_and_resources');
      assert.equal(to009.error, undefined);
      assert.deepEqual(to009.results?.map((r) => [r.migrationName, r.status]), [['009_catalogue_and_resources', 'Success']]);
      assert.equal((await migrator.migrateToLatest()).error, undefined, 'and the later ones over it');
      store = await opened.openStore();
    });
    after(async () => {
      await store?.close();
      await db?.destroy();
      await cleanup?.();
    });

    it('makes one service principal per distinct resource of a tenant: a GUID keeps itself, a name gets a new appId and stays its audience', async () => {
      const principals = await store.appProtection.listServicePrincipals(tenantA);
      assert.equal(principals.length, 2, JSON.stringify(principals));
      const byGuid = principals.find((p) => p.appId === guid.toLowerCase());
      assert.ok(byGuid, 'the GUID, lower-cased, is the appId');
      assert.equal(byGuid.displayName, guid.toLowerCase());
      assert.deepEqual(byGuid.servicePrincipalNames, [guid.toLowerCase()]);
      // "exchange" and "Exchange" were one resource (decisions compared names ignoring case): named as first met (policies by id).
      const exchange = principals.find((p) => p.displayName === 'Exchange');
      assert.ok(exchange, JSON.stringify(principals));
      assert.match(exchange.appId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.deepEqual(exchange.servicePrincipalNames, [exchange.appId, 'Exchange']);
      assert.equal(exchange.version, 1);

      const other = await store.appProtection.listServicePrincipals(tenantC);
      assert.equal(other.length, 1);
      assert.notEqual(other[0]!.appId, exchange.appId, 'each tenant has its own');
      assert.deepEqual(await store.appProtection.listServicePrincipals(tenantB), []);
    });

    it('rewrites the policies to appIds (All stays), bumping their versions and the tenants that changed', async () => {
      const exchange = (await store.appProtection.listServicePrincipals(tenantA)).find((p) => p.displayName === 'Exchange')!;
      const byName = await store.appProtection.getAccessPolicy(tenantA, 'by-name');
      assert.deepEqual(byName?.resources, [exchange.appId]);
      assert.equal(byName?.version, 2);
      const byGuid = await store.appProtection.getAccessPolicy(tenantA, 'by-guid');
      assert.deepEqual(byGuid?.resources, [guid.toLowerCase(), exchange.appId]);
      const all = await store.appProtection.getAccessPolicy(tenantA, 'all');
      assert.deepEqual([all?.resources, all?.version, all?.updatedAt], [['All'], 1, 1000], 'untouched');
      const [c] = await store.appProtection.listServicePrincipals(tenantC);
      assert.deepEqual((await store.appProtection.getAccessPolicy(tenantC, 'by-name'))?.resources, [c!.appId]);

      assert.equal(await store.appProtection.getAppConfigVersion(tenantA), 1);
      assert.equal(await store.appProtection.getAppConfigVersion(tenantC), 1);
      assert.equal(await store.appProtection.getAppConfigVersion(tenantB), 0, 'a tenant without policies is not bumped');
    });

    it('leaves the new tables writable through the store, with the migrated rows enforced', async () => {
      const now = Date.now();
      await assert.rejects(
        store.appProtection.createServicePrincipal({ tenantId: tenantA, id: randomUUID(), appId: randomUUID(), displayName: 'x', servicePrincipalNames: ['EXCHANGE'], graphExtras: {}, version: 1, createdAt: now, updatedAt: now }),
        /conflict|already an audience/,
      );
      const exchange = (await store.appProtection.listServicePrincipals(tenantA)).find((p) => p.displayName === 'Exchange')!;
      const refused = await store.appProtection.deleteServicePrincipal(tenantA, exchange.id).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.match(String(refused), /conditional access policy "by-guid"/, 'a service principal a policy names cannot be deleted');
    });
  });
}
