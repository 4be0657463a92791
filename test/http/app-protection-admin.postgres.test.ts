import { postgresSkipReason } from '../support/postgres.ts';
import { appProtectionAdminEndToEnd } from './app-protection-admin-suite.ts';

appProtectionAdminEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end app protection admin tests'));
