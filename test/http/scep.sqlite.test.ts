import { scepEndToEnd } from './scep-suite.ts';

scepEndToEnd('sqlite');
