import { postgresSkipReason } from '../support/postgres.ts';
import { managementEndToEnd } from './management-suite.ts';

managementEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end management tests'));
