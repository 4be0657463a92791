import { deviceActionsEndToEnd } from './device-actions-suite.ts';

deviceActionsEndToEnd('sqlite');
