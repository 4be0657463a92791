import { signInsEndToEnd } from './sign-ins-suite.ts';

signInsEndToEnd('sqlite');
