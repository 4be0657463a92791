import { postgresSkipReason } from '../support/postgres.ts';
import { auditEndToEnd } from './audit-suite.ts';

auditEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end audit trail tests'));
