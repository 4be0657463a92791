import { createHash } from 'node:crypto';

/**
 * Name-based UUIDs (RFC 9562 section 5.5, version 5: SHA-1 of namespace + name). The compilers need identifiers
 * that are the same on every compile of the same policy (AppLocker rule Ids, grouping node names), so a re-compile
 * changes nothing on the device; random UUIDs would replace every node at every edit.
 */

/** OpenMAM's namespace for compiled identifiers. Fixed forever: changing it renames every compiled node. */
export const OPENMAM_UUID_NAMESPACE = 'b6e243a7-e221-4cfd-8448-7e599fb4eddd';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Lower-case RFC 9562 text form. */
export function uuidV5(name: string, namespace: string = OPENMAM_UUID_NAMESPACE): string {
  if (!isUuid(namespace)) throw new TypeError(`not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
