import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeQueries, installQueryCounter, queryCounts, queryDelta } from '../../bench/query-counter.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { SecretStore, Store } from '../../src/store/roles.ts';
import { postgresSkipReason, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';

/** The managed device read of a steady check-in: one statement on either store. */
const MANAGED_DEVICE = /^select "enrollments"\.\*, "tenants"\."config_version"/;

async function countOneRead(store: Store): Promise<ReturnType<typeof queryDelta>> {
  await store.getManagedDevice('NOT-ENROLLED'); // prepares and warms the statement
  const before = queryCounts();
  await store.getManagedDevice('NOT-ENROLLED');
  await store.getManagedDevice('NOT-ENROLLED-EITHER');
  return queryDelta(before, queryCounts());
}

describe('bench query counter', () => {
  before(() => installQueryCounter());

  describe('SQLite', () => {
    let dir: string;
    let store: Store & SecretStore;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'openmam-query-counter-'));
      store = await openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`);
    });
    after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("counts the committed reader's raw statements (which bypass Kysely), one per read", async () => {
      const delta = await countOneRead(store);
      assert.equal(delta.total, 2, `expected 2 statements, got ${JSON.stringify(delta.top)}`);
      assert.deepEqual(delta.byKind, { select: 2 });
      assert.match(delta.top[0]!.sql, MANAGED_DEVICE);
      assert.equal(describeQueries(delta, 2), '1.000 store queries per request (select 1.000)');
    });

    it("counts Kysely's statements on the writer connection", async () => {
      const before = queryCounts();
      const now = Date.now();
      await store.createTenant({ id: randomUUID(), name: 'Contoso', identityProvider: 'builtin', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: now, updatedAt: now });
      const delta = queryDelta(before, queryCounts());
      assert.ok((delta.byKind['insert'] ?? 0) >= 1, `the insert counted: ${JSON.stringify(delta.byKind)}`);
    });
  });

  describe('PostgreSQL', async () => {
    const skip = await postgresSkipReason('the query counter on PostgreSQL');
    let schema: PostgresTestSchema;
    let store: Store & SecretStore;
    before(async () => {
      if (skip) return;
      schema = await withPostgresSchema();
      store = await openStore(schema.baseUrl, { postgresSchema: schema.schema });
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await schema.drop();
    });

    it("counts the statements pg's client sends, one per read", { skip }, async () => {
      const delta = await countOneRead(store);
      assert.equal(delta.total, 2, `expected 2 statements, got ${JSON.stringify(delta.top)}`);
      assert.match(delta.top[0]!.sql, MANAGED_DEVICE);
    });
  });
});
