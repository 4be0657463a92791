import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { postgresAdapter } from '../../src/store/postgres.ts';
import { cuttableProxy } from '../support/cuttable-proxy.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import type { PostgresTestSchema } from '../support/postgres.ts';
import { storeConformance } from './conformance.ts';
import { freePort } from '../support/free-port.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

// Unreachable server: skipped locally with a message, a failure under CI.
const skip = await postgresSkipReason('PostgreSQL store tests');
const db: PostgresTestSchema | undefined = skip === undefined ? await withPostgresSchema() : undefined;
after(() => db?.drop());

// The bare URL plus the postgresSchema option, so the test also covers openStore's schema handling.
storeConformance('postgres', () => openStore(db!.baseUrl, { postgresSchema: db!.schema }), skip === undefined ? {} : { skip });

skippableSuite('openStore (postgres)', { skip: skip ?? false }, () => {
  it('opens PostgreSQL for a postgres:// URL, and postgresql:// too', async () => {
    for (const url of [db!.url, db!.url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore(url);
      assert.equal(store.backend, 'postgres');
      await store.ping();
      await store.close();
    }
  });
});

skippableSuite('PostgreSQL: what counts as "the database is unavailable"', { skip: skip ?? false }, () => {
  it('a refused connection and a terminated one are; a statement the database refuses is not', async () => {
    const closed = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'postgres', connectionTimeoutMillis: 2000 });
    const refused = await closed.connect().then(() => undefined, (error: unknown) => error);
    const victim = new pg.Client({ connectionString: db!.url });
    await victim.connect();
    victim.on('error', () => undefined);
    const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
    const admin = new pg.Client({ connectionString: db!.url });
    await admin.connect();
    const refusedStatement = await admin.query('select * from no_such_table').then(() => undefined, (error: unknown) => error);
    const inFlight = victim.query('select pg_sleep(5)').then(() => undefined, (error: unknown) => error);
    await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    const terminated = await inFlight;
    const afterwards = await victim.query('select 1').then(() => undefined, (error: unknown) => error);
    await admin.end();
    await victim.end().catch(() => undefined);
    for (const [what, error] of [['refused', refused], ['terminated (57P01)', terminated], ['on a dead client', afterwards]] as const) {
      assert.equal(postgresAdapter.isUnavailable(error), true, `${what}: ${String(error)}`);
    }
    assert.equal(postgresAdapter.isUnavailable(refusedStatement), false, String(refusedStatement));
  });
});


skippableSuite('openStore waits for a database that is not there yet', { skip: skip ?? false }, () => {
  it('tries again until it answers (bounded by waitMs); without waitMs it fails at once', async () => {
    const database = new URL(db!.baseUrl);
    const proxy = await cuttableProxy({ host: database.hostname, port: Number(database.port || 5432) });
    try {
      await proxy.cut();
      const url = new URL(db!.baseUrl);
      url.host = `127.0.0.1:${proxy.port}`;
      await assert.rejects(openStore(url.toString(), { postgresSchema: db!.schema }), (error: unknown) => postgresAdapter.isUnavailable(error));
      const attempts: number[] = [];
      const restored = new Promise((resolve) => setTimeout(resolve, 700)).then(() => proxy.restore());
      const store = await openStore(url.toString(), { postgresSchema: db!.schema, waitMs: 10_000, onWait: (_error, attempt) => attempts.push(attempt) });
      await restored;
      assert.ok(attempts.length >= 2, `retried (${attempts.length} attempts)`);
      await store.ping();
      await store.close();
    } finally {
      await proxy.close();
    }
  });
});
