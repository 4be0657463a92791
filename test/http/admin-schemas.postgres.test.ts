import { postgresSkipReason } from '../support/postgres.ts';
import { adminSchemasEndToEnd } from './admin-schemas-suite.ts';

adminSchemasEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end admin schema tests'));
