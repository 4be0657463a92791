import { postgresSkipReason } from '../support/postgres.ts';
import { appProtectionEndToEnd } from './app-protection-suite.ts';

appProtectionEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end app protection tests'));
