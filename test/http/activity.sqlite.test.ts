import { activityEndToEnd } from './activity-suite.ts';

activityEndToEnd('sqlite');
