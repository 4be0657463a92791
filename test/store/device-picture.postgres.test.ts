import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import type { PostgresTestSchema } from '../support/postgres.ts';
import { devicePictureConformance } from './device-picture-conformance.ts';

// Unreachable server: skipped locally with a message, a failure under CI.
const skip = await postgresSkipReason('PostgreSQL device picture store tests');
const db: PostgresTestSchema | undefined = skip === undefined ? await withPostgresSchema() : undefined;
after(() => db?.drop());

devicePictureConformance('postgres', () => openStore(db!.baseUrl, { postgresSchema: db!.schema }), skip === undefined ? {} : { skip });
