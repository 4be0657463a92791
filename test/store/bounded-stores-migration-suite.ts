import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { skippableSuite } from '../support/skippable-suite.ts';
import { Migrator, sql, type Kysely } from 'kysely';
import { KNOWN_INVENTORY_NODES, MAX_INVENTORY_NODES_PER_DEVICE } from '../../src/core/management/inventory.ts';
import { migrations, type SchemaDialect } from '../../src/store/migrations/index.ts';
import { MAX_LIVE_SESSIONS_PER_DEVICE, MAX_WIP_LOG_REQUESTS_PER_DEVICE } from '../../src/store/roles.ts';

/**
 * Migration 027 on a database written before the bounds (at 025): a device with 70 inventory nodes keeps the known
 * ones and its most recently reported others up to the bound, its 4 newest sessions and 20 newest WIP log requests;
 * a device within every bound loses nothing.
 */
export function boundedStoresMigration(
  name: string,
  setup: () => Promise<{ db: Kysely<unknown>; dialect: SchemaDialect; migrationTableSchema?: string; cleanup: () => Promise<void> }>,
  options: { skip?: string } = {},
): void {
  skippableSuite(`migration 027_bounded_stores: ${name}`, { skip: options.skip }, () => {
    let db: Kysely<unknown>;
    let cleanup: () => Promise<void>;
    const tenant = randomUUID();
    const [flooded, modest] = [randomUUID(), randomUUID()];
    const known = [...KNOWN_INVENTORY_NODES];
    const others = Array.from({ length: 55 }, (_, i) => `./DevInfo/Ext/Node${String(i).padStart(2, '0')}`);

    before(async () => {
      const opened = await setup();
      db = opened.db;
      cleanup = opened.cleanup;
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve({ ...migrations(opened.dialect) }) },
        ...(opened.migrationTableSchema === undefined ? {} : { migrationTableSchema: opened.migrationTableSchema }),
      });
      assert.equal((await migrator.migrateTo('025_compliance_actions')).error, undefined);
      await sql`insert into tenants (id, name, identity_provider, enrollment_allowed, settings, created_at, updated_at) values (${tenant}, ${'T'}, ${'builtin'}, ${1}, ${'{}'}, ${0}, ${0})`.execute(db);
      for (const id of [flooded, modest]) {
        const devId = randomUUID();
        await sql`insert into devices (dev_id, tenant_id, created_at, updated_at) values (${devId}, ${tenant}, ${0}, ${0})`.execute(db);
        await sql`insert into enrollments (id, tenant_id, dev_id, user_oid, upn, enrollment_type, state, enroll_count, created_at, enrolled_at, updated_at)
            values (${id}, ${tenant}, ${devId}, ${randomUUID()}, ${null}, ${'MAM'}, ${'enrolled'}, ${1}, ${0}, ${0}, ${0})`.execute(db);
      }
      const node = (enrollmentId: string, locUri: string, updatedAt: number) =>
        sql`insert into inventory (enrollment_id, loc_uri, value, updated_at) values (${enrollmentId}, ${locUri}, ${'v'}, ${updatedAt})`.execute(db);
      // The known nodes are the oldest: they are kept anyway. Of the others, Node00 is the newest.
      for (const locUri of known) await node(flooded, locUri, 1);
      for (const [i, locUri] of others.entries()) await node(flooded, locUri, 1000 - i);
      for (const locUri of [...known.slice(0, 5), ...others.slice(0, 10)]) await node(modest, locUri, 5);
      for (let i = 0; i < 6; i++) {
        await sql`insert into management_sessions (enrollment_id, session_id, last_device_msg_id, last_server_msg_id, state, expires_at) values (${flooded}, ${`S${i}`}, ${1}, ${1}, ${'{}'}, ${100 + i})`.execute(db);
      }
      await sql`insert into management_sessions (enrollment_id, session_id, last_device_msg_id, last_server_msg_id, state, expires_at) values (${modest}, ${'M'}, ${1}, ${1}, ${'{}'}, ${100})`.execute(db);
      for (let i = 0; i < 25; i++) {
        await sql`insert into wip_log_requests (id, tenant_id, enrollment_id, mode, log_type, status, requested_at) values (${`w${String(i).padStart(2, '0')}-${flooded}`}, ${tenant}, ${flooded}, ${'count'}, ${0}, ${'pending'}, ${i})`.execute(db);
      }
      await sql`insert into wip_log_requests (id, tenant_id, enrollment_id, mode, log_type, status, requested_at) values (${randomUUID()}, ${tenant}, ${modest}, ${'count'}, ${0}, ${'completed'}, ${0})`.execute(db);
      assert.equal((await migrator.migrateToLatest()).error, undefined);
    });
    after(async () => {
      await db?.destroy();
      await cleanup?.();
    });

    const column = async (query: string, enrollmentId: string, name: string): Promise<string[]> =>
      ((await sql.raw(query.replace('?', `'${enrollmentId}'`)).execute(db)).rows as Record<string, string>[]).map((row) => String(row[name])).sort();

    it('inventory: the known nodes and the most recently reported others, up to the bound', async () => {
      const kept = await column('select loc_uri from inventory where enrollment_id = ?', flooded, 'loc_uri');
      const spare = MAX_INVENTORY_NODES_PER_DEVICE - KNOWN_INVENTORY_NODES.size;
      assert.deepEqual(kept, [...known, ...others.slice(0, spare)].sort());
      assert.equal((await column('select loc_uri from inventory where enrollment_id = ?', modest, 'loc_uri')).length, 15, 'a device within the bound keeps all');
    });

    it(`sessions: the ${MAX_LIVE_SESSIONS_PER_DEVICE} newest of a device`, async () => {
      assert.deepEqual(await column('select session_id from management_sessions where enrollment_id = ?', flooded, 'session_id'), ['S2', 'S3', 'S4', 'S5']);
      assert.deepEqual(await column('select session_id from management_sessions where enrollment_id = ?', modest, 'session_id'), ['M']);
    });

    it(`WIP log requests: the ${MAX_WIP_LOG_REQUESTS_PER_DEVICE} newest of a device`, async () => {
      const kept = await column('select id from wip_log_requests where enrollment_id = ?', flooded, 'id');
      assert.deepEqual(kept, Array.from({ length: MAX_WIP_LOG_REQUESTS_PER_DEVICE }, (_, i) => `w${String(i + 5).padStart(2, '0')}-${flooded}`));
      assert.equal((await column('select id from wip_log_requests where enrollment_id = ?', modest, 'id')).length, 1);
    });
  });
}
