import { cspOf } from './loc-uri.ts';

/**
 * The CSPs a MAM enrollment supports (seed 000/001, "Supported CSPs"): "All other CSPs will be blocked". OpenMAM
 * checks every setting against this list when it is assigned and again before it is sent, so a blocked node never
 * reaches the wire. Policy CSP is allowed for the NetworkIsolation and DeviceLock areas only.
 */
const MAM_CSPS: ReadonlySet<string> = new Set([
  'AppLocker',
  'ClientCertificateInstall',
  'DeviceStatus',
  'DevInfo',
  'DMAcc',
  'DMClient',
  'EnterpriseDataProtection',
  'HealthAttestation',
  'PassportForWork',
  'Reporting',
  'RootCATrustedCertificates',
  'VPNv2',
  'WiFi',
]);

const MAM_POLICY_AREAS: ReadonlySet<string> = new Set(['NetworkIsolation', 'DeviceLock']);

/** Why a (normalised) LocURI may not be sent to a MAM enrollment, or undefined when it may. */
export function mamRefusal(locUri: string): string | undefined {
  const { csp, rest } = cspOf(locUri);
  if (csp === 'Policy') {
    // ./Vendor/MSFT/Policy/Config/<Area>/<Setting> (and Result/<Area>/...).
    const area = rest[1];
    if (area !== undefined && MAM_POLICY_AREAS.has(area)) return undefined;
    return `Policy CSP area ${area ?? '(none)'} is not available to MAM (only NetworkIsolation and DeviceLock)`;
  }
  if (MAM_CSPS.has(csp)) return undefined;
  return `the ${csp || '(unknown)'} CSP is not available to MAM enrollments`;
}
