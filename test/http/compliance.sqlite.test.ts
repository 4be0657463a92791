import { complianceEndToEnd } from './compliance-suite.ts';

complianceEndToEnd('sqlite');
