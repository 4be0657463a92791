import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
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
