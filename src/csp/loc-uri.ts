/**
 * OMA-DM LocURI rules ([MS-MDM]; windows-itpro-docs "OMA DM protocol support", "Nodes"): a URI does not start with
 * `/`, `.` appears only as the first segment, no segment is empty or `*`. Windows accepts device-scoped paths with and
 * without the `./Device` prefix, so OpenMAM compares them in one canonical form: `./Vendor/MSFT/X` for both.
 */
const DEVICE_PREFIX = './Device/';
const MAX_LOC_URI_LENGTH = 1024;

export function normalizeLocUri(locUri: string): string {
  const trimmed = locUri.trim();
  return trimmed.startsWith(DEVICE_PREFIX) ? `./${trimmed.slice(DEVICE_PREFIX.length)}` : trimmed;
}

/** Why a LocURI is not acceptable, or undefined when it is. */
export function locUriProblem(locUri: string): string | undefined {
  if (locUri.length === 0) return 'is empty';
  if (locUri.length > MAX_LOC_URI_LENGTH) return `is longer than ${MAX_LOC_URI_LENGTH} characters`;
  if (locUri.startsWith('/')) return 'must not start with /';
  const segments = locUri.split('/');
  if (segments[0] !== '.') return 'must start with ./';
  for (const segment of segments.slice(1)) {
    if (segment === '' || segment === '*') return 'has an empty or * segment';
    if (segment === '.' || segment === '..') return 'may use . only as its first segment';
  }
  return undefined;
}

/** `./User/...` settings apply to the signed-in user: they wait until LoginStatus says a user is signed in. */
export function isUserScoped(locUri: string): boolean {
  return locUri.startsWith('./User/');
}

/** The configuration service provider a (normalised) LocURI addresses, e.g. `EnterpriseDataProtection`. */
export function cspOf(locUri: string): { csp: string; rest: string[] } {
  const segments = locUri.split('/').slice(1);
  if (segments[0] === 'User' || segments[0] === 'Device') segments.shift();
  if (segments[0] === 'Vendor' && segments[1] === 'MSFT') return { csp: segments[2] ?? '', rest: segments.slice(3) };
  // Standard OMA objects live at the root: ./DevInfo, ./DevDetail, ./DMAcc (also ./Vendor/MSFT/DMAcc).
  return { csp: segments[0] ?? '', rest: segments.slice(1) };
}
