import { postgresSkipReason } from '../support/postgres.ts';
import { usersEndToEnd } from './users-suite.ts';

usersEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end users tests'));
