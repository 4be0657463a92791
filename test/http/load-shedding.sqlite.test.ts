import { loadSheddingEndToEnd } from './load-shedding-suite.ts';

loadSheddingEndToEnd('sqlite');
