import { postgresSkipReason } from '../support/postgres.ts';
import { adminEndToEnd } from './admin-suite.ts';

adminEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end admin tests'));
