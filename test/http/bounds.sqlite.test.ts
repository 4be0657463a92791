import { boundsEndToEnd } from './bounds-suite.ts';

boundsEndToEnd('sqlite');
