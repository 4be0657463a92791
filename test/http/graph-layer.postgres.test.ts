import { postgresSkipReason } from '../support/postgres.ts';
import { graphLayerEndToEnd } from './graph-layer-suite.ts';

graphLayerEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end Graph layer tests'));
