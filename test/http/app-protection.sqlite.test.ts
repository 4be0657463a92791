import { appProtectionEndToEnd } from './app-protection-suite.ts';

appProtectionEndToEnd('sqlite');
