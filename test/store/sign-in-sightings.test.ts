import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/roles.ts';
import type { Database } from '../../src/store/schema.ts';
import { KyselySignInStore } from '../../src/store/repositories/sign-in-store.ts';
import { signInRecord } from '../support/sign-ins.ts';

/**
 * The sign-in log records a decision's user at most once per interval, remembered in memory per node; that memory is
 * bounded (`maxRecentSightings`): past it, it starts again empty and a user is recorded once more, never lost.
 */
describe('sign-in log: recent user sightings are bounded', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'openmam-sightings-'));
  const file = path.join(dir, 'openmam.sqlite');
  let store: Store;
  let db: Kysely<Database>;
  let signIns: KyselySignInStore;
  const tenantId = randomUUID();

  before(async () => {
    store = await openStore(`sqlite:${file}`);
    const at = Date.UTC(2026, 0, 1);
    await store.createTenant({ id: tenantId, name: 'Contoso', identityProvider: 'entra', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: at, updatedAt: at });
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) });
    signIns = new KyselySignInStore(
      db,
      { write: (work) => db.transaction().execute(work), track: (work) => work(), queryCollection: () => assert.fail('not called') },
      { maxRecentSightings: 2 },
    );
  });
  after(async () => {
    await db?.destroy();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a user seen again within the interval is not written again, until the memory is full and starts over', async () => {
    const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()];
    const T = Date.UTC(2026, 11, 1, 12);
    const decide = (userId: string, at: number) => signIns.appendSignIns([signInRecord(tenantId, { userId, createdAt: at })]);
    const lastSeen = async (userId: string) => (await store.getUser(tenantId, userId))?.lastSeenAt;
    await decide(u1, T);
    await decide(u1, T + 1000);
    assert.equal(await lastSeen(u1), T, 'remembered: the second decision wrote no users row');
    await decide(u2, T + 2000);
    await decide(u3, T + 3000);
    await decide(u1, T + 4000);
    assert.equal(await lastSeen(u1), T + 4000, 'the memory held two users and started over: u1 is recorded once more');
  });
});
