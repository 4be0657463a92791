import { postgresSkipReason } from '../support/postgres.ts';
import { signInsEndToEnd } from './sign-ins-suite.ts';

signInsEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end sign-in log tests'));
