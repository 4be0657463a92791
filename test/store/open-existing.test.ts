import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * `openStore(url, { create: false })` (what `openmam token` opens) creates no database: a missing SQLite file is
 * `not_found`, and neither it nor its folder is created. PostgreSQL never creates databases; an empty one is migrated.
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

  it('migrates an existing, empty database as a node would (openmam token may take part in a first start)', async () => {
    const store = await openStore(db.baseUrl, { postgresSchema: db.schema, create: false });
    try {
      assert.deepEqual(await store.listTenants(), []);
    } finally {
      await store.close();
    }
  });
});
