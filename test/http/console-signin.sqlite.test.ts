import { consoleSignInEndToEnd } from './console-signin-suite.ts';

consoleSignInEndToEnd('sqlite');
