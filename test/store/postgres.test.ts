import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import type { PostgresTestSchema } from '../support/postgres.ts';
import { storeConformance } from './conformance.ts';

// Unreachable server: skipped locally with a message, a failure under CI.
const skip = await postgresSkipReason('PostgreSQL store tests');
const db: PostgresTestSchema | undefined = skip === undefined ? await withPostgresSchema() : undefined;
after(() => db?.drop());

// The bare URL plus the postgresSchema option, so the test also covers openStore's schema handling.
storeConformance('postgres', () => openStore(db!.baseUrl, { postgresSchema: db!.schema }), skip === undefined ? {} : { skip });

describe('openStore (postgres)', { skip: skip ?? false }, () => {
  it('opens PostgreSQL for a postgres:// URL, and postgresql:// too', async () => {
    for (const url of [db!.url, db!.url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore(url);
      assert.equal(store.backend, 'postgres');
      await store.ping();
      await store.close();
    }
  });
});
