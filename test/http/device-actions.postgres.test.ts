import { postgresSkipReason } from '../support/postgres.ts';
import { deviceActionsEndToEnd } from './device-actions-suite.ts';

deviceActionsEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end device action tests'));
