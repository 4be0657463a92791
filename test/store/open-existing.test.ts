import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { isOpenMamError } from '../../src/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * `openStore(url, { create: false })` (what `openmam token` opens) acts only on an installation that is there: it
 * creates no SQLite file or folder, and leaves a database where no migration ran untouched; both are `not_found`.
 */
const isNotFound = (error: unknown): boolean => isOpenMamError(error) && error.code === 'not_found';

describe('openStore with create: false, SQLite', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'openmam-open-existing-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses a file that does not exist and creates nothing (nor its folder)', async () => {
    await assert.rejects(openStore(`sqlite:${path.join(dir, 'sub', 'openmam.sqlite')}`, { create: false }), isNotFound);
    assert.deepEqual(await readdir(dir), []);
  });

  it('opens an installation that is there', async () => {
    const url = `sqlite:${path.join(dir, 'openmam.sqlite')}`;
    await (await openStore(url)).close();
    const store = await openStore(url, { create: false });
    await store.ping();
    await store.close();
  });
});

const skip = await postgresSkipReason('openStore create: false on PostgreSQL');

skippableSuite('openStore with create: false, PostgreSQL', { skip: skip ?? false }, () => {
  let db: PostgresTestSchema;
  before(async () => {
    db = await withPostgresSchema();
  });
  after(() => db?.drop());

  it('refuses a database with no installation and creates no table there; opens one that has it', async () => {
    await assert.rejects(openStore(db.baseUrl, { postgresSchema: db.schema, create: false }), isNotFound);
    const client = new pg.Client({ connectionString: db.baseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>('select count(*) as count from information_schema.tables where table_schema = $1', [db.schema]);
      assert.equal(rows[0]!.count, '0', 'no table created');
    } finally {
      await client.end();
    }
    await (await openStore(db.baseUrl, { postgresSchema: db.schema })).close();
    const store = await openStore(db.baseUrl, { postgresSchema: db.schema, create: false });
    await store.ping();
    await store.close();
  });
});
