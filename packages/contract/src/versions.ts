/**
 * Versions as the health checks compare them: dotted numeric components (`10.0.22631.3155`, `4.2.0`), compared
 * numerically component by component, a missing component counting as 0. Anything else (`1.0-beta`, ` 4.2`, `v4`)
 * is not a version: the HTTP layer refuses it before it reaches a rule, and the rules fail closed on it.
 */

/** A parsed version: one non-negative integer per dotted component. */
export type Version = readonly number[];

/** Windows uses 4 components; a few more are tolerated, nine is not a version any more. */
export const MAX_VERSION_COMPONENTS = 6;
/** Digits per component: 9 keeps every component a safe integer (build dates like 20240115 fit). */
export const MAX_COMPONENT_DIGITS = 9;
export const MAX_VERSION_LENGTH = MAX_VERSION_COMPONENTS * (MAX_COMPONENT_DIGITS + 1) - 1;

const COMPONENT = /^[0-9]+$/;

/** The same rule as a JSON Schema `pattern` (ECMA-262), so the wire contract refuses what parseVersion refuses. */
export const VERSION_PATTERN = `^[0-9]{1,${MAX_COMPONENT_DIGITS}}(?:\\.[0-9]{1,${MAX_COMPONENT_DIGITS}}){0,${MAX_VERSION_COMPONENTS - 1}}$`;

/** `undefined` for anything but 1..6 dot-separated runs of 1..9 ASCII digits (no sign, spaces, or empty parts). */
export function parseVersion(text: string): Version | undefined {
  if (text.length === 0 || text.length > MAX_VERSION_LENGTH) return undefined;
  const parts = text.split('.');
  if (parts.length > MAX_VERSION_COMPONENTS) return undefined;
  const components: number[] = [];
  for (const part of parts) {
    if (part.length > MAX_COMPONENT_DIGITS || !COMPONENT.test(part)) return undefined;
    components.push(Number(part));
  }
  return components;
}

/** Numeric, component by component; `10.0.22631` equals `10.0.22631.0`, `4.10` is above `4.9`. */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a[i] ?? 0;
    const right = b[i] ?? 0;
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}
