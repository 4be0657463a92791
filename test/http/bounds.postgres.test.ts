import { postgresSkipReason } from '../support/postgres.ts';
import { boundsEndToEnd } from './bounds-suite.ts';

boundsEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end bounds tests'));
