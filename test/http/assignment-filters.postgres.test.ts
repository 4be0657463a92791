import { postgresSkipReason } from '../support/postgres.ts';
import { assignmentFiltersEndToEnd } from './assignment-filters-suite.ts';

assignmentFiltersEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end assignment filter tests'));
