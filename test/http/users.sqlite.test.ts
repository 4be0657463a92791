import { usersEndToEnd } from './users-suite.ts';

usersEndToEnd('sqlite');
