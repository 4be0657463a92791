import { auditEndToEnd } from './audit-suite.ts';

auditEndToEnd('sqlite');
