import { appProtectionAdminEndToEnd } from './app-protection-admin-suite.ts';

appProtectionAdminEndToEnd('sqlite');
