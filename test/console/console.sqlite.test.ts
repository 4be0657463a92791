import { chromiumSkipReason } from './browser.ts';
import { consoleInBrowser } from './console-suite.ts';

consoleInBrowser('sqlite', chromiumSkipReason('the console browser tests (SQLite)'));
