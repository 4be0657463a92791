import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { sqliteAdapter } from '../../src/store/sqlite.ts';
import { boundedStoresMigration } from './bounded-stores-migration-suite.ts';

boundedStoresMigration('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'openmam-migration-027-'));
  const file = path.join(dir, 'openmam.sqlite');
  return {
    db: new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) }),
    dialect: sqliteAdapter,
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});
