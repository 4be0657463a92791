import { postgresSkipReason } from '../support/postgres.ts';
import { scepEndToEnd } from './scep-suite.ts';

scepEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end SCEP tests'));
