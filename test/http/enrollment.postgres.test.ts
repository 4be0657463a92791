import { postgresSkipReason } from '../support/postgres.ts';
import { enrollmentEndToEnd } from './enrollment-suite.ts';

enrollmentEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end enrollment tests'));
