import { policyRegistryEndToEnd } from './policy-registry-suite.ts';

policyRegistryEndToEnd('sqlite');
