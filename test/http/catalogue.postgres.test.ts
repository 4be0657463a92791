import { postgresSkipReason } from '../support/postgres.ts';
import { catalogueEndToEnd } from './catalogue-suite.ts';

catalogueEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end catalogue tests'));
