import { managementEndToEnd } from './management-suite.ts';

managementEndToEnd('sqlite');
