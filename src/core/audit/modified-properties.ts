import type { AuditPropertyRecord } from '../../store/audit-records.ts';

/**
 * What an admin change did to an object, as Graph's `auditProperty` list (learn.microsoft.com/graph/api/resources/
 * intune-auditing-auditproperty: displayName, oldValue, newValue, all strings): both Graph bodies flattened to dotted
 * property names (`assignments[0].target.groupId`), and the names whose values differ, each with its old and new
 * value as text. A Create has every old value empty, a Delete every new value empty. Pure.
 *
 * Secrets never reach the trail: a write-only property of the kind (policy-kinds `writeOnly`, e.g. a PFX password or
 * a SCEP challenge) and any property whose name is a credential's anywhere in a body (SECRET_NAMES) show `********`
 * for whatever value they had, so that a change of a secret is seen without its value.
 */

/** What a secret's value shows. */
export const MASK = '********';

/**
 * Property names that hold a credential wherever they occur (compared ignoring case): the certificate kinds' own
 * (`password`, `challenge`, the PKCS#12 `pfxCertificate`, which holds a private key), and Graph's credential
 * properties (passwordCredential `secretText`, `keyCredentials`, `passwordCredentials`: refused by OpenMAM's models
 * today, masked all the same should one be stored as an extra). Names such as `passwordRequired` are settings, not
 * secrets: only whole names match.
 */
const SECRET_NAMES: ReadonlySet<string> = new Set(['password', 'challenge', 'pfxcertificate', 'secret', 'secrettext', 'clientsecret', 'passwordcredentials', 'keycredentials', 'privatekey', 'sharedkey', 'key']);

/** A value longer than this is cut (a custom setting's XML, a certificate): the trail says what changed, not a copy. */
export const MAX_VALUE_LENGTH = 1024;

type Flat = Map<string, { text: string; secret: boolean; raw: string }>;

/**
 * The changed properties between `before` and `after` (either absent: a Create or a Delete), in name order.
 * `writeOnly` lists the kind's write-only properties by dotted name (array indexes left out: `a.b` covers `a[3].b`).
 */
export function modifiedProperties(before: object | undefined, after: object | undefined, writeOnly: readonly string[] = []): AuditPropertyRecord[] {
  const secretPaths = new Set(writeOnly.map((p) => p.toLowerCase()));
  const old = flatten(before, secretPaths);
  const next = flatten(after, secretPaths);
  const names = [...new Set([...old.keys(), ...next.keys()])].sort();
  const changed: AuditPropertyRecord[] = [];
  for (const name of names) {
    const a = old.get(name);
    const b = next.get(name);
    if (a !== undefined && b !== undefined && a.raw === b.raw) continue;
    changed.push({ displayName: name, oldValue: a?.text ?? '', newValue: b?.text ?? '' });
  }
  return changed;
}

function flatten(body: object | undefined, secretPaths: ReadonlySet<string>): Flat {
  const out: Flat = new Map();
  if (body !== undefined) walk(body, '', '', false, secretPaths, out);
  return out;
}

/** `path` names the value (`a[0].b`), `plain` the same without indexes (`a.b`), matched against write-only paths. */
function walk(value: unknown, path: string, plain: string, secret: boolean, secretPaths: ReadonlySet<string>, out: Flat): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (value.length === 0) return leaf(out, path, '[]', secret);
    value.forEach((item, i) => walk(item, `${path}[${i}]`, plain, secret, secretPaths, out));
    return;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([name]) => !name.startsWith('@odata.') || name === '@odata.type');
    if (entries.length === 0) return leaf(out, path, '{}', secret);
    for (const [name, member] of entries) {
      const childPlain = plain === '' ? name : `${plain}.${name}`;
      const isSecret = secret || SECRET_NAMES.has(name.toLowerCase()) || secretPaths.has(childPlain.toLowerCase());
      walk(member, path === '' ? name : `${path}.${name}`, childPlain, isSecret, secretPaths, out);
    }
    return;
  }
  leaf(out, path, typeof value === 'string' ? value : JSON.stringify(value), secret);
}

function leaf(out: Flat, path: string, raw: string, secret: boolean): void {
  const name = path === '' ? '$' : path;
  const text = secret ? MASK : raw.length > MAX_VALUE_LENGTH ? `${raw.slice(0, MAX_VALUE_LENGTH)}…` : raw;
  out.set(name, { text, secret, raw });
}
