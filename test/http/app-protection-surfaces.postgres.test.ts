import { postgresSkipReason } from '../support/postgres.ts';
import { appProtectionSurfaces } from './app-protection-surfaces-suite.ts';

appProtectionSurfaces('postgres', await postgresSkipReason('PostgreSQL app protection surface tests'));
