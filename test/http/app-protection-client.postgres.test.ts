import { postgresSkipReason } from '../support/postgres.ts';
import { appProtectionClientEndToEnd } from './app-protection-client-suite.ts';

appProtectionClientEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end client and gateway tests'));
