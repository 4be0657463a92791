import { postgresSkipReason } from '../support/postgres.ts';
import { consoleSignInEndToEnd } from './console-signin-suite.ts';

consoleSignInEndToEnd('postgres', await postgresSkipReason('PostgreSQL console sign-in tests'));
