import { postgresSkipReason } from '../support/postgres.ts';
import { chromiumSkipReason } from './browser.ts';
import { consoleInBrowser } from './console-suite.ts';

consoleInBrowser('postgres', chromiumSkipReason('the console browser tests (PostgreSQL)') ?? (await postgresSkipReason('the console browser tests (PostgreSQL)')));
