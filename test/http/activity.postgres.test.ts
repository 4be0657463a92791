import { postgresSkipReason } from '../support/postgres.ts';
import { activityEndToEnd } from './activity-suite.ts';

activityEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end activity rollup tests'));
