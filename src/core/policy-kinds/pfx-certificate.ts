import { compilePfxCertificate } from '../../csp/compile/certificates.ts';
import { PFX_CERTIFICATE_TYPE, PFX_SPECS, validatePfxCertificate, type WindowsPfxCertificate } from '../../policy/certificates.ts';
import { DEVICE_CONFIGURATIONS } from './collections.ts';
import type { DevicePolicyKind } from './kind.ts';

/**
 * A PFX for the user's store through ClientCertificateInstall: OpenMAM's own shape (the PFX inline, with its password)
 * under Graph's `windows10ImportedPFXCertificateProfile` (see policy/certificates.ts). The password is a secret: stored
 * for delivery, never read back.
 */
export const pfxCertificateKind: DevicePolicyKind = {
  kind: 'windowsPfxCertificate',
  odataType: PFX_CERTIFICATE_TYPE,
  typeName: 'windows10ImportedPFXCertificateProfile',
  collection: DEVICE_CONFIGURATIONS,
  specs: PFX_SPECS,
  writeOnly: ['password'],
  validate: (input, mode) => ({ ...validatePfxCertificate(input, mode) }),
  compile: (policy) => compilePfxCertificate({ ...(policy.body as unknown as WindowsPfxCertificate), id: policy.id }),
  reachesMamDevices: true,
};
