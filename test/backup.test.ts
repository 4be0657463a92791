import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { TenantDirectory } from '../src/identity/tenants.ts';
import { openStore } from '../src/store/open-store.ts';
import type { SecretStore, Store } from '../src/store/roles.ts';

/**
 * `openmam backup --to <file>` (docs/operations.md, "Backup and restore"): an online copy of the SQLite database while
 * a server holds it open, committed transactions still in the WAL included; it never overwrites, never creates a
 * database, and sends PostgreSQL users to pg_dump.
 */
async function openmam(t: TestContext, args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    return { code: await runCli(args), stderr };
  } finally {
    write.mock.restore();
  }
}

describe('openmam backup', () => {
  let dir: string;
  let store: Store & SecretStore;
  const tenantId = randomUUID();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'openmam-backup-'));
    // The "running server": the store stays open, its last write still in the WAL (no checkpoint has run).
    store = await openStore(`sqlite:${path.join(dir, 'data', 'openmam.sqlite')}`);
    await new TenantDirectory(store, Date.now).onboard({ id: tenantId, name: 'Contoso', identityProvider: 'entra' });
  });
  after(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the open database, its latest writes included, into a file another start can open', async (t) => {
    const destination = path.join(dir, 'backup.sqlite');
    const result = await openmam(t, ['backup', '--to', destination, '--data-dir', path.join(dir, 'data')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Backed up .*openmam\.sqlite to .*backup\.sqlite \(\d+ pages\)\n$/);
    const restored = await openStore(`sqlite:${destination}`, { create: false });
    try {
      assert.deepEqual((await restored.listTenants()).map((tenant) => tenant.id), [tenantId]);
    } finally {
      await restored.close();
    }
  });

  it('never overwrites a file', async (t) => {
    const destination = path.join(dir, 'taken.sqlite');
    await writeFile(destination, 'precious');
    const result = await openmam(t, ['backup', '--to', destination, '--data-dir', path.join(dir, 'data')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^openmam: .*taken\.sqlite exists: name a new file/);
  });

  it('refuses where there is no database, creating none', async (t) => {
    const empty = path.join(dir, 'empty');
    const result = await openmam(t, ['backup', '--to', path.join(dir, 'none.sqlite'), '--data-dir', empty]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^openmam: no database at .*empty\/openmam\.sqlite to back up\n$/);
    assert.ok(!(await readdir(dir)).includes('empty') && !(await readdir(dir)).includes('none.sqlite'), 'nothing created');
  });

  it('sends PostgreSQL to pg_dump, and needs --to', async (t) => {
    const postgres = await openmam(t, ['backup', '--to', path.join(dir, 'x.sqlite'), '--database-url', 'postgres://openmam@db.example/openmam']);
    assert.equal(postgres.code, 1);
    assert.match(postgres.stderr, /for PostgreSQL use pg_dump/);
    const bare = await openmam(t, ['backup', '--data-dir', path.join(dir, 'data')]);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /^openmam: usage: openmam backup --to <file>/);
  });
});
