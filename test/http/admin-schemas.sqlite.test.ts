import { adminSchemasEndToEnd } from './admin-schemas-suite.ts';

adminSchemasEndToEnd('sqlite');
