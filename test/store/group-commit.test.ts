import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { GroupCommit } from '../../src/store/group-commit.ts';
import type { Database } from '../../src/store/schema.ts';

describe('GroupCommit (SQLite)', () => {
  let dir: string;
  let raw: SqliteDatabase.Database;
  let db: Kysely<Database>;
  let commits = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'openmam-group-commit-'));
    raw = new SqliteDatabase(path.join(dir, 'db.sqlite'));
    raw.pragma('journal_mode = WAL');
    raw.exec('create table items (id text primary key)');
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query' && /^commit/i.test(event.query.sql)) commits += 1;
      },
    });
  });
  after(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const insert = (id: string) => async (trx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
    await sql`insert into items (id) values (${id})`.execute(trx);
    return id;
  };
  const count = () => (raw.prepare('select count(*) as n from items').get() as { n: number }).n;

  it('runs concurrent writes in one transaction and answers each caller', async () => {
    const group = new GroupCommit(db);
    commits = 0;
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => group.run(insert(id))));
    assert.deepEqual(results, ['a', 'b', 'c', 'd']);
    assert.equal(count(), 4);
    assert.equal(commits, 1, 'four concurrent writes share one commit');
  });

  it('keeps the other writes when one fails, and rejects only the failing caller', async () => {
    const group = new GroupCommit(db);
    const outcomes = await Promise.allSettled([group.run(insert('e')), group.run(insert('a')), group.run(insert('f'))]);
    assert.equal(outcomes[0]!.status, 'fulfilled');
    assert.equal(outcomes[1]!.status, 'rejected', 'a duplicate key fails');
    assert.equal(outcomes[2]!.status, 'fulfilled');
    assert.equal(count(), 6);
  });

  it('sees earlier writes of the same batch, as consecutive transactions would', async () => {
    const group = new GroupCommit(db);
    const [, seen] = await Promise.all([
      group.run(insert('g')),
      group.run(async (trx) => (await sql<{ n: number }>`select count(*) as n from items where id = 'g'`.execute(trx)).rows[0]!.n),
    ]);
    assert.equal(seen, 1);
  });
});
