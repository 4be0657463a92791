import { OpenMamError } from '../../errors.ts';
import { locUriProblem } from '../loc-uri.ts';

/**
 * One CSP node value a policy compiles to: what the desired-state engine sends. Structurally identical to
 * `DesiredSetting` of store/records.ts (csp/ may not import store/), so compiler output is assignable to it and back.
 * `locUri` is in OpenMAM's normalised form (`./Vendor/MSFT/...`, see csp/loc-uri.ts).
 */
export interface CspSetting {
  locUri: string;
  /** SyncML Meta Format: chr, int, bool, b64, xml, float, date, time, null. */
  format: string;
  value: string;
  /** Settings with the same group are sent together in one Atomic (all-or-nothing), e.g. DeviceLock. */
  atomicGroup?: string;
  /** An action: sent as `Exec` after the rest of its group (see DesiredSetting.exec). */
  exec?: boolean;  /** A device filter rule the device must match to receive this node (see DesiredSetting.applicableWhen). */
  applicableWhen?: string;
}

/** The SyncML Meta Formats the compilers emit (`node`: an interior node, no Data). */
export type CspFormat = 'chr' | 'int' | 'bool' | 'b64' | 'float' | 'node';

/** A setting, checked: the compilers build every node through here, so a bad LocURI is a bug found at compile time. */
export function cspSetting(locUri: string, format: CspFormat, value: string, atomicGroup?: string): CspSetting {
  const problem = locUriProblem(locUri);
  if (problem !== undefined) throw new OpenMamError('malformed_request', `${locUri}: LocURI ${problem}`);
  return atomicGroup === undefined ? { locUri, format, value } : { locUri, format, value, atomicGroup };
}

/**
 * An action node (DDF Format `null`, AccessType Exec only), e.g. ClientCertificateInstall SCEP `Install/Enroll`: the
 * engine sends `Exec` on it after the other settings of `atomicGroup`, in the same Atomic, once per version of the group.
 */
export function execSetting(locUri: string, atomicGroup: string): CspSetting {
  const problem = locUriProblem(locUri);
  if (problem !== undefined) throw new OpenMamError('malformed_request', `${locUri}: LocURI ${problem}`);
  return { locUri, format: 'null', value: '', atomicGroup, exec: true };
}

/** OMA-DM `int` (decimal, no sign for our values). */
export function intValue(value: number): string {
  return String(value);
}

/** OMA-DM `bool`: Windows reads `true` / `false`. */
export function boolValue(value: boolean): string {
  return value ? 'true' : 'false';
}

/**
 * OMA-DM `float` in plain decimal notation: JavaScript writes very small and very large numbers with an exponent
 * (`1e-7`), which a decimal parser on the device need not accept, so the exponent is expanded.
 */
export function floatValue(value: number): string {
  const text = String(value);
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?e([+-][0-9]+)$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponent] = match;
  const digits = `${whole}${fraction}`;
  const point = whole!.length + Number(exponent);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** CSP integer flags (EDPShowIcons, RevokeOnUnenroll, ...AreAuthoritative) are `int` 0/1, not `bool`. */
export function flagValue(value: boolean): string {
  return value ? '1' : '0';
}

/**
 * Joins a CSP list. An item that is empty or contains the separator would silently change the list's meaning on the
 * device, so it is refused here even though the policy validator already refuses such items.
 */
export function joinList(items: readonly string[], separator: string, field: string): string {
  for (const [i, item] of items.entries()) {
    if (item === '') throw new OpenMamError('malformed_request', `${field}[${i}]: an empty list item cannot be sent`);
    if (item.includes(separator)) {
      throw new OpenMamError('malformed_request', `${field}[${i}]: "${item}" contains the list separator "${separator}"`);
    }
  }
  return items.join(separator);
}

/** Keeps the first occurrence of each item, in order: compiled lists are stable and free of repeats. */
export function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}
