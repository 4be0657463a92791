import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import type { PostgresTestSchema } from '../support/postgres.ts';
import { deviceActionConformance } from './device-actions-conformance.ts';

// Unreachable server: skipped locally with a message, a failure under CI.
const skip = await postgresSkipReason('PostgreSQL device action store tests');
const db: PostgresTestSchema | undefined = skip === undefined ? await withPostgresSchema() : undefined;
after(() => db?.drop());

deviceActionConformance('postgres', () => openStore(db!.baseUrl, { postgresSchema: db!.schema }), skip === undefined ? {} : { skip });
