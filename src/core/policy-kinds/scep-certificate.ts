import { compileScepCertificate } from '../../csp/compile/certificates.ts';
import { SCEP_CERTIFICATE_TYPE, SCEP_SPECS, validateScepCertificate, type WindowsScepCertificate } from '../../policy/certificates.ts';
import { DEVICE_CONFIGURATIONS } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/**
 * SCEP enrollment through ClientCertificateInstall (Graph `windows81SCEPCertificateProfile` with OpenMAM's additions:
 * see policy/certificates.ts). The SCEP server's static challenge is a secret: stored for delivery, never read back.
 */
export const scepCertificateKind: DevicePolicyKind = {
  kind: 'windowsScepCertificate',
  odataType: SCEP_CERTIFICATE_TYPE,
  typeName: 'windows81SCEPCertificateProfile',
  collection: DEVICE_CONFIGURATIONS,
  specs: SCEP_SPECS,
  writeOnly: ['challenge'],
  validate: (input, mode) => ({ ...validateScepCertificate(input, mode) }),
  compile: (policy) => compileScepCertificate({ ...(policy.body as unknown as WindowsScepCertificate), id: policy.id }),
  reachesMamDevices: true,
};
