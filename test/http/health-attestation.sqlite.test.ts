import { healthAttestationEndToEnd } from './health-attestation-suite.ts';

healthAttestationEndToEnd('sqlite');
