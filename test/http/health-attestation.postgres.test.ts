import { postgresSkipReason } from '../support/postgres.ts';
import { healthAttestationEndToEnd } from './health-attestation-suite.ts';

healthAttestationEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end health attestation tests'));
