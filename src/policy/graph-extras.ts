import { refuse } from './validate.ts';

/**
 * Graph properties OpenMAM stores without acting on them ("extras"), for the resources kept as typed columns
 * (conditional access policies, threat defense connectors, service principals). readObject validates them by their
 * Graph type; these helpers split them from the acted-on settings, merge them back
 * into the Graph shape an admin reads and PATCHes, and name them (`@openmam.notApplicableProperties`).
 */

/** Extras as the admin gave them, in Graph's own nesting (`{ conditions: { users: { excludeUsers: [...] } } }`). */
export type GraphExtras = Record<string, unknown>;

/** A resource's acted-on settings and its extras, as validated on create and kept in the record. */
export type WithGraphExtras<T> = T & { graphExtras: GraphExtras };

/** What `update` reads: some of the acted-on properties and any extras, to merge over the stored Graph shape. */
export type GraphPatch<T> = Partial<T> & GraphExtras;

/**
 * The properties OpenMAM acts on, by Graph's nesting: `true` for a property read into the record, an object for a
 * complex property some of whose properties are (its other properties are extras).
 */
export interface ActedOnShape {
  readonly [property: string]: true | ActedOnShape;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The extras of a validated Graph object: every property `shape` does not name, nested as in Graph. A null extra is
 * a cleared one and is not kept (PATCH `null` removes it, as it clears any Graph property).
 */
export function splitGraphExtras(value: Readonly<Record<string, unknown>>, shape: ActedOnShape): GraphExtras {
  const extras: GraphExtras = {};
  for (const [key, item] of Object.entries(value)) {
    const acted = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (acted === undefined) {
      if (item !== null && item !== undefined) extras[key] = item;
    } else if (acted !== true && isPlainObject(item)) {
      const nested = splitGraphExtras(item, acted);
      if (Object.keys(nested).length > 0) extras[key] = nested;
    }
  }
  return extras;
}

/** `base` (the acted-on Graph shape) with the extras merged in, complex properties property by property. */
export function mergeGraphExtras(base: object, extras: Readonly<GraphExtras>): GraphExtras {
  const merged: GraphExtras = { ...base };
  for (const [key, value] of Object.entries(extras)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeGraphExtras(current, value) : value;
  }
  return merged;
}

/**
 * The JSON paths of the extras that say something (`conditions.users.excludeUsers`, `sessionControls`), in the order
 * stored: an empty collection, as Entra exports every unused one, configures nothing and is not listed.
 */
export function graphExtrasPaths(extras: Readonly<GraphExtras>, shape: ActedOnShape, prefix = ''): string[] {
  return Object.entries(extras).flatMap(([key, value]) => {
    if (Array.isArray(value) && value.length === 0) return [];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const acted = Object.hasOwn(shape, key) ? shape[key] : undefined;
    return acted !== undefined && acted !== true && isPlainObject(value) ? graphExtrasPaths(value, acted, path) : [path];
  });
}

/** The acted-on shape of a flat resource: its specs' properties. */
export function flatShape(specs: Readonly<Record<string, unknown>>): ActedOnShape {
  return Object.fromEntries(Object.keys(specs).map((key) => [key, true as const]));
}

/**
 * Refuses an extra that is set (not absent, null or an empty array) when storing it without acting on it would
 * make OpenMAM do less than the admin asked in a way that matters (e.g. reach fewer users, keep a secret).
 */
export function refuseIfSet(value: Readonly<Record<string, unknown>>, key: string, path: string, why: string): void {
  const item = Object.hasOwn(value, key) ? value[key] : undefined;
  if (item === undefined || item === null || (Array.isArray(item) && item.length === 0)) return;
  refuse(path === '' ? key : `${path}.${key}`, why);
}
