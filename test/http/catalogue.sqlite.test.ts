import { catalogueEndToEnd } from './catalogue-suite.ts';

catalogueEndToEnd('sqlite');
