import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { postgresAdapter } from '../../src/store/postgres.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import { boundedStoresMigration } from './bounded-stores-migration-suite.ts';

// Unreachable server: skipped locally with a message, a failure under CI.
const skip = await postgresSkipReason('PostgreSQL migration 027 tests');

boundedStoresMigration(
  'postgres',
  async () => {
    const schema = await withPostgresSchema();
    return {
      // The URL's search_path puts the tables (and the migrator's) in the test's own schema.
      db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 2 }) }) }),
      dialect: postgresAdapter,
      migrationTableSchema: schema.schema,
      cleanup: () => schema.drop(),
    };
  },
  skip === undefined ? {} : { skip },
);
