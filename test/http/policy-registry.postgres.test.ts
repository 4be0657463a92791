import { postgresSkipReason } from '../support/postgres.ts';
import { policyRegistryEndToEnd } from './policy-registry-suite.ts';

policyRegistryEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end policy registry tests'));
