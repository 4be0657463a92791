import { adminEndToEnd } from './admin-suite.ts';

adminEndToEnd('sqlite');
