import { createHash } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import { cspSetting, intValue, type CspSetting } from './setting.ts';

/**
 * Certificate compilers. The input types are the structural subset the compilers read (csp/ may not import policy/);
 * policy/certificates.ts's validated types are assignable to them.
 *
 * Trusted certificates (RootCATrustedCertificates CSP): one `b64` node,
 * `{./|./User/}Vendor/MSFT/RootCATrustedCertificates/{Root|CA}/{SHA-1 thumbprint, upper-case hex}/EncodedCertificate`.
 *
 * | destinationStore | store |
 * |---|---|
 * | computerCertStoreRoot | ./Vendor/MSFT/RootCATrustedCertificates/Root |
 * | computerCertStoreIntermediate | ./Vendor/MSFT/RootCATrustedCertificates/CA |
 * | userCertStoreIntermediate | ./User/Vendor/MSFT/RootCATrustedCertificates/CA (the user scope has no Root store) |
 *
 * PFX install (ClientCertificateInstall CSP, user scope): KeyLocation, PFXCertPasswordEncryptionType, PFXCertPassword
 * and PFXCertBlob under `PFXCertInstall/{UniqueID}`, in one Atomic as the CSP requires, the blob last. UniqueID is
 * derived from the policy id, so every device and every recompilation name the same node.
 */
export type CompileDestinationStore = 'computerCertStoreRoot' | 'computerCertStoreIntermediate' | 'userCertStoreIntermediate';

export interface TrustedCertificateCompileInput {
  /** Base64 DER. */
  readonly trustedRootCertificate: string;
  readonly destinationStore: CompileDestinationStore;
}

export interface PfxCompileInput {
  readonly id: string;
  /** Base64 PKCS#12. */
  readonly pfxCertificate: string;
  readonly password: string;
  readonly keyStorageProvider: 'useSoftwareKsp' | 'useTpmKspOtherwiseUseSoftwareKsp';
}

const STORES: { readonly [S in CompileDestinationStore]: string } = {
  computerCertStoreRoot: './Vendor/MSFT/RootCATrustedCertificates/Root',
  computerCertStoreIntermediate: './Vendor/MSFT/RootCATrustedCertificates/CA',
  userCertStoreIntermediate: './User/Vendor/MSFT/RootCATrustedCertificates/CA',
};

/** The certificate's SHA-1 thumbprint as Windows names it: upper-case hex, no separators. */
export function certificateThumbprint(derBase64: string): string {
  return createHash('sha1').update(Buffer.from(derBase64, 'base64')).digest('hex').toUpperCase();
}

export function compileTrustedCertificate(profile: TrustedCertificateCompileInput): CspSetting[] {
  const der = Buffer.from(profile.trustedRootCertificate, 'base64');
  if (der.length === 0) throw new OpenMamError('malformed_request', 'trustedRootCertificate: must not be empty');
  const store = STORES[profile.destinationStore];
  return [cspSetting(`${store}/${certificateThumbprint(profile.trustedRootCertificate)}/EncodedCertificate`, 'b64', der.toString('base64'))];
}

/** ClientCertificateInstall KeyLocation: 2 = TPM if present, else software; 3 = software. */
const KEY_LOCATIONS = { useTpmKspOtherwiseUseSoftwareKsp: 2, useSoftwareKsp: 3 } as const;

/** A LocURI segment for the policy: letters, digits and dashes only. */
export function pfxUniqueId(policyId: string): string {
  const safe = policyId.replace(/[^A-Za-z0-9-]/g, '');
  if (safe === '') throw new OpenMamError('malformed_request', `${policyId}: cannot name a PFXCertInstall node`);
  return `OpenMAM-${safe}`;
}

export function compilePfxCertificate(profile: PfxCompileInput): CspSetting[] {
  const node = `./User/Vendor/MSFT/ClientCertificateInstall/PFXCertInstall/${pfxUniqueId(profile.id)}`;
  const group = `pfx:${profile.id}`;
  return [
    cspSetting(`${node}/KeyLocation`, 'int', intValue(KEY_LOCATIONS[profile.keyStorageProvider]), group),
    // 0 = the password is sent as is. 1 (encrypted to the MDM certificate) and 2 (to a custom certificate) need a
    // certificate on the device that the server can encrypt to; a MAM enrollment has no MDM device certificate, so
    // 0 is the only mode that works (the password travels in the TLS-protected OMA-DM session).
    cspSetting(`${node}/PFXCertPasswordEncryptionType`, 'int', intValue(0), group),
    cspSetting(`${node}/PFXCertPassword`, 'chr', profile.password, group),
    cspSetting(`${node}/PFXCertBlob`, 'b64', profile.pfxCertificate, group),
  ];
}
