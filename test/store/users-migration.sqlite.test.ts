import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openStore } from '../../src/store/open-store.ts';
import { sqliteAdapter } from '../../src/store/sqlite.ts';
import { usersMigration } from './users-migration-suite.ts';

usersMigration('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'openmam-migration-012-'));
  const file = path.join(dir, 'openmam.sqlite');
  return {
    db: new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) }),
    dialect: sqliteAdapter,
    openStore: () => openStore(`sqlite:${file}`),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});
