import { postgresSkipReason } from '../support/postgres.ts';
import { complianceEndToEnd } from './compliance-suite.ts';

complianceEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end device compliance tests'));
