import { appProtectionSurfaces } from './app-protection-surfaces-suite.ts';

appProtectionSurfaces('sqlite');
