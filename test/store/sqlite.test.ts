import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { isOpenMamError } from '../../src/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { sqliteAdapter } from '../../src/store/sqlite.ts';
import { storeConformance } from './conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A folder that does not exist yet: openStore must create it.
const url = `sqlite:${path.join(dir, 'nested', 'openmam.sqlite')}`;

storeConformance('sqlite', () => openStore(url));

describe('openStore', () => {
  it('opens SQLite for a sqlite: URL', async () => {
    const store = await openStore(url);
    assert.equal(store.backend, 'sqlite');
    await store.close();
  });

  for (const bad of ['', 'sqlite:', 'mysql://root:secret@localhost/db', 'file:/tmp/x.sqlite', '/tmp/x.sqlite']) {
    it(`refuses ${JSON.stringify(bad)} with invalid_configuration`, async () => {
      await assert.rejects(openStore(bad), (err: unknown) => {
        assert.ok(isOpenMamError(err));
        assert.equal(err.code, 'invalid_configuration');
        assert.doesNotMatch(err.message, /secret/);
        return true;
      });
    });
  }
});

describe('SQLite: a write lock held past busy_timeout is "try later", a refused row is not', () => {
  it('classifies the real errors', () => {
    const file = path.join(dir, 'busy.sqlite');
    const holder = new SqliteDatabase(file);
    const writer = new SqliteDatabase(file);
    try {
      holder.exec('create table t (id integer primary key)');
      writer.pragma('busy_timeout = 0');
      holder.exec('begin immediate');
      const busy = captured(() => writer.exec('insert into t values (1)'));
      holder.exec('rollback');
      holder.exec('insert into t values (1)');
      const duplicate = captured(() => writer.exec('insert into t values (1)'));
      assert.equal(sqliteAdapter.isUnavailable(busy), true, String(busy));
      assert.equal(sqliteAdapter.isUnavailable(duplicate), false, String(duplicate));
      assert.equal(sqliteAdapter.isUniqueViolation(duplicate), true);
    } finally {
      writer.close();
      holder.close();
    }
  });
});

function captured(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

describe("SQLite: a user's bounds are counted from the user's index entries, not the tenant's", () => {
  // The per-user counts of repositories/enrollments.ts (enrollWithin) and repositories/app-registrations.ts
  // (activeRegistrationsOfUser), as they run on every enrollment and registration: with an index that names the
  // tenant and the state only, they scan the tenant's active devices (migration 028).
  const counts = [
    ["select count(*) from enrollments where tenant_id = ? and user_oid = ? and state = 'enrolled' and dev_id <> ?", 'enrollments_user_state'],
    ["select count(*) from app_registrations where tenant_id = ? and user_id = ? and state = 'active'", 'app_registrations_user_state'],
  ] as const;

  it('plans each count as a search of the user index on tenant, user and state', async () => {
    const file = path.join(dir, 'plans.sqlite');
    const store = await openStore(`sqlite:${file}`);
    await store.close();
    const db = new SqliteDatabase(file, { readonly: true });
    try {
      for (const [statement, index] of counts) {
        const plan = db.prepare(`explain query plan ${statement}`).all(...statement.split('?').slice(1).map(() => 'x')) as { detail: string }[];
        assert.equal(plan.length, 1, JSON.stringify(plan));
        assert.match(plan[0]!.detail, new RegExp(`^SEARCH \\w+ USING (COVERING )?INDEX ${index} \\(tenant_id=\\? AND \\w+=\\? AND state=\\?\\)$`), statement);
      }
    } finally {
      db.close();
    }
  });
});
