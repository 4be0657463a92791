import { postgresSkipReason } from '../support/postgres.ts';
import { metricsEndToEnd } from './metrics-suite.ts';

metricsEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end metrics tests'));
