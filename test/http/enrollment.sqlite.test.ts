import { enrollmentEndToEnd } from './enrollment-suite.ts';

enrollmentEndToEnd('sqlite');
