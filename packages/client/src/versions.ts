/**
 * Versions as health checks compare them (the same rule as the server): dotted numeric components
 * (`10.0.22631.3155`, `4.2.0`) compared numerically one by one, a missing component counting as 0.
 */

/** One non-negative integer per component; undefined for anything else (`1.0-beta`, `v4`, ` 4.2`). */
export function parseVersion(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 59) return undefined;
  const parts = text.split('.');
  if (parts.length > 6) return undefined;
  const components: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,9}$/.test(part)) return undefined;
    components.push(Number(part));
  }
  return components;
}

/** -1, 0 or 1: `4.10` is above `4.9`, `10.0.22631` equals `10.0.22631.0`. */
export function compareVersions(a: readonly number[], b: readonly number[]): -1 | 0 | 1 {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a[i] ?? 0;
    const right = b[i] ?? 0;
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}
