import { compileTrustedCertificate } from '../../csp/compile/certificates.ts';
import { TRUSTED_ROOT_CERTIFICATE_TYPE, TRUSTED_ROOT_SPECS, validateTrustedRootCertificate, type Windows81TrustedRootCertificate } from '../../policy/certificates.ts';
import { DEVICE_CONFIGURATIONS } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/** A CA certificate for the RootCATrustedCertificates CSP (Graph `windows81TrustedRootCertificate`). */
export const trustedRootCertificateKind: DevicePolicyKind = {
  kind: 'windows81TrustedRootCertificate',
  odataType: TRUSTED_ROOT_CERTIFICATE_TYPE,
  typeName: 'windows81TrustedRootCertificate',
  collection: DEVICE_CONFIGURATIONS,
  specs: TRUSTED_ROOT_SPECS,
  validate: (input, mode) => ({ ...validateTrustedRootCertificate(input, mode) }),
  compile: (policy) => compileTrustedCertificate(policy.body as unknown as Windows81TrustedRootCertificate),
  reachesMamDevices: true,
};
