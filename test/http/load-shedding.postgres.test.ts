import { postgresSkipReason } from '../support/postgres.ts';
import { loadSheddingEndToEnd } from './load-shedding-suite.ts';

loadSheddingEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end load shedding tests'));
