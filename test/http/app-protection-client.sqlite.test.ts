import { appProtectionClientEndToEnd } from './app-protection-client-suite.ts';

appProtectionClientEndToEnd('sqlite');
