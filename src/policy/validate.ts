import { OpenMamError } from '../errors.ts';
import { graphEnum, graphProperties, graphType, graphTypeAndDerived, type GraphProperty } from './graph-schema/index.ts';
import { parseIsoDuration } from '../../packages/contract/src/duration.ts';

/**
 * The building blocks of OpenMAM's admin-model validators. Input is untrusted JSON (`unknown`); every refusal is an
 * OpenMamError('malformed_request') whose message starts with the JSON path of the offending value, e.g.
 * `enterpriseIPRanges[0].ranges[1].upperAddress: is below lowerAddress` (`$` for the document itself). Validators
 * copy what they accept into fresh objects, so unknown properties (including `__proto__`) never get through.
 */

export type ValidationMode = 'create' | 'update';

export type Reader<T> = (value: unknown, path: string) => T;

export interface PropertySpec<T> {
  read: Reader<NonNullable<T>>;
  /** `null` is accepted and kept (Graph: clears the property). */
  nullable?: boolean;
  /** Must be present in a complete object (create; nested objects are always complete). */
  required?: boolean;
  /** Filled in when absent from a complete object. */
  default?: NonNullable<T>;
}

/**
 * One spec per property of T, so the compiler checks each reader against the declared property type. (Keys through
 * Extract so the mapped type does not distribute over a union T: one spec object for the union's common shape.)
 */
export type PropertySpecs<T> = { readonly [K in Extract<keyof T, string>]-?: PropertySpec<T[K]> };

const SIMPLE_KEY = /^[@A-Za-z_$][\w$.@]*$/;

export function childPath(path: string, key: string): string {
  const step = SIMPLE_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return step;
  return step.startsWith('[') ? `${path}${step}` : `${path}.${step}`;
}

export function indexPath(path: string, index: number): string {
  return `${path === '' ? '$' : path}[${index}]`;
}

export function refuse(path: string, message: string): never {
  throw new OpenMamError('malformed_request', `${path === '' ? '$' : path}: ${message}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

export function expectPlainObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(path, `must be an object, not ${describe(value)}`);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) refuse(path, 'must be a plain JSON object');
  return value as Record<string, unknown>;
}

/**
 * How deep a request body may nest. Graph's deepest type OpenMAM serves (conditionalAccessPolicy) nests five objects;
 * anything far deeper is refused before any reader recurses into it, so no input can exhaust the stack.
 */
export const MAX_DEPTH = 32;

/** Refuses a value nested deeper than MAX_DEPTH, iteratively (a 10,000-level array is one clean refusal). */
export function checkDepth(value: unknown, path: string): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_DEPTH) refuse(item.path, `is nested more than ${MAX_DEPTH} levels deep`);
    const entries = Array.isArray(item.value) ? item.value.map((v: unknown, i) => [indexPath(item.path, i), v] as const) : Object.entries(item.value).map(([k, v]) => [childPath(item.path, k), v] as const);
    for (const [at, child] of entries) stack.push({ value: child, depth: item.depth + 1, path: at });
  }
}

/**
 * Reads an object property by property: unknown properties are refused first, then each known one is read in the
 * order of `specs` (so output objects have a stable key order), then (for a complete object) required ones are
 * checked and defaults filled in.
 *
 * When `typeName` is a Graph type of ./graph-schema, the object follows Graph (Intune admins import policies written
 * for Graph): a read-only property (id, createdDateTime, version, ...) is ignored as Graph ignores it, and a Graph
 * property OpenMAM has no spec for is checked against its EDM type and enum, then kept as given after the specs'
 * properties (a caller whose store keeps typed columns splits them off with graph-extras.ts). A top-level object
 * (path '') is first checked for depth.
 */
export function readObject<T>(value: unknown, path: string, typeName: string, specs: PropertySpecs<T>, complete: boolean): T {
  if (path === '') checkDepth(value, path);
  const record = expectPlainObject(value, path);
  const known = specs as Readonly<Record<string, PropertySpec<unknown>>>;
  const graph = graphProperties(typeName);
  const extras: string[] = [];
  const ignored = new Set<string>();
  for (const key of Object.keys(record)) {
    const property = graph !== undefined && Object.hasOwn(graph, key) ? graph[key] : undefined;
    if (property?.readOnly) ignored.add(key);
    else if (property?.navigation && !Object.hasOwn(known, key)) refuse(childPath(path, key), `is a navigation property of ${typeName}: not accepted in the body`);
    else if (Object.hasOwn(known, key)) continue;
    else if (property !== undefined) extras.push(key);
    else refuse(childPath(path, key), `is not a property of ${typeName}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(known)) {
    if (ignored.has(key)) continue;
    const at = childPath(path, key);
    // `undefined` (never in parsed JSON) counts as absent, as JSON.stringify would drop it.
    const raw = Object.hasOwn(record, key) ? record[key] : undefined;
    if (raw !== undefined) {
      if (raw === null) {
        if (!spec.nullable) refuse(at, 'must not be null');
        out[key] = null;
      } else {
        out[key] = spec.read(raw, at);
      }
    } else if (complete && spec.required) {
      refuse(at, 'is required');
    } else if (complete && spec.default !== undefined) {
      out[key] = spec.default;
    }
  }
  for (const key of extras) {
    const raw = record[key];
    if (raw !== undefined) out[key] = readGraphValue(raw, childPath(path, key), graph![key]!, 0);
  }
  return out as T;
}

/** The Graph properties of `typeName` that `specs` has no reader for: what OpenMAM stores as given (read-only ones aside). */
export function storedOnlyProperties(typeName: string, specs: Readonly<Record<string, unknown>>): string[] {
  const graph = graphProperties(typeName) ?? {};
  return Object.entries(graph)
    .filter(([name, property]) => !property.readOnly && !property.navigation && !Object.hasOwn(specs, name))
    .map(([name]) => name);
}

/** The properties `specs` reads that `typeName` does not have in Graph: OpenMAM's additions. */
export function openMamAdditions(typeName: string, specs: Readonly<Record<string, unknown>>): string[] {
  const graph = graphProperties(typeName) ?? {};
  return Object.keys(specs).filter((name) => name !== '@odata.type' && !Object.hasOwn(graph, name));
}

// ---- Graph values by their EDM type (what OpenMAM stores without acting on it)

const PRIMITIVE_READERS: Readonly<Record<string, Reader<unknown>>> = {
  'Edm.String': (value, path) => readString(value, path),
  'Edm.Boolean': readBoolean,
  'Edm.Int32': (value, path) => readInteger(value, path, INT32_MIN, INT32_MAX),
  'Edm.Int64': (value, path) => readInteger(value, path, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  'Edm.Single': readFiniteNumber,
  'Edm.Double': readFiniteNumber,
  'Edm.Guid': readGuid,
  'Edm.DateTimeOffset': readDateTime,
  'Edm.Duration': (value, path) => {
    const text = readString(value, path);
    if (parseIsoDuration(text) === undefined) refuse(path, `must be an ISO 8601 duration (PT30M, P90D), not "${text}"`);
    return text;
  },
  // Kept as sent (base64 or base64url) once it decodes.
  'Edm.Binary': (value, path) => {
    readBase64(value, path);
    return value;
  },
};

function readFiniteNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) refuse(path, `must be a number, not ${describe(value)}`);
  return value;
}

/** Graph's JSON for one property: null, a collection, a primitive, an enum member (flags: comma-separated), an object. */
function readGraphValue(value: unknown, path: string, property: GraphProperty, depth: number): unknown {
  if (value === null) {
    if (!property.nullable) refuse(path, 'must not be null');
    return null;
  }
  if (property.collection) {
    if (!Array.isArray(value)) refuse(path, `must be an array of ${property.type}, not ${describe(value)}`);
    return value.map((item: unknown, i) => readGraphValue(item, indexPath(path, i), { type: property.type, nullable: false }, depth));
  }
  const primitive = PRIMITIVE_READERS[property.type];
  if (primitive !== undefined) return primitive(value, path);
  const members = graphEnum(property.type);
  if (members !== undefined) return readGraphEnum(value, path, property.type, members.members, members.flags === true);
  return readGraphObject(value, path, property.type, depth + 1);
}

function readGraphEnum(value: unknown, path: string, name: string, members: readonly string[], flags: boolean): string {
  const allowed = `${name}: ${members.join(', ')}`;
  if (typeof value !== 'string') refuse(path, `must be a member of ${allowed}, not ${describe(value)}`);
  const given = flags ? value.split(',').map((member) => member.trim()) : [value];
  for (const member of given) if (!members.includes(member)) refuse(path, `"${member}" is not a member of ${allowed}`);
  return value;
}

function readGraphObject(value: unknown, path: string, typeName: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) refuse(path, `is nested more than ${MAX_DEPTH} levels deep`);
  const record = expectPlainObject(value, path);
  let actual = typeName;
  if (Object.hasOwn(record, '@odata.type') || graphType(typeName)?.abstract) {
    const allowed = graphTypeAndDerived(typeName).filter((name) => !graphType(name)?.abstract).map((name) => `#microsoft.graph.${name}`);
    actual = discriminator(record, path, allowed).slice('#microsoft.graph.'.length);
  }
  const properties = graphProperties(actual) ?? {};
  const out: Record<string, unknown> = actual === typeName && !Object.hasOwn(record, '@odata.type') ? {} : { '@odata.type': `#microsoft.graph.${actual}` };
  for (const [key, raw] of Object.entries(record)) {
    if (key === '@odata.type') continue;
    const at = childPath(path, key);
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (property === undefined) refuse(at, `is not a property of ${actual}`);
    if (property.readOnly) continue;
    if (property.navigation) refuse(at, `is a navigation property of ${actual}: not accepted in the body`);
    out[key] = readGraphValue(raw, at, property, depth);
  }
  return out;
}

// ---- primitives

// C0 controls other than tab/LF/CR, DEL, the XML non-characters and lone surrogates: text XML cannot carry.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSENDABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|\p{Cs}/u;
const LINE_BREAK_OR_TAB = /[\t\n\r]/;

export interface StringRules {
  /** Refuse the empty string (and whitespace only). */
  nonEmpty?: boolean;
  /** Refuse tab, CR and LF too (values written into XML attributes and CSP lists). */
  singleLine?: boolean;
  maxLength?: number;
}

export function readString(value: unknown, path: string, rules: StringRules = {}): string {
  if (typeof value !== 'string') refuse(path, `must be a string, not ${describe(value)}`);
  if (rules.nonEmpty && value.trim() === '') refuse(path, 'must not be empty');
  if (rules.maxLength !== undefined && value.length > rules.maxLength) refuse(path, `is longer than ${rules.maxLength} characters`);
  if (UNSENDABLE.test(value)) refuse(path, 'contains a control character or an unpaired surrogate');
  if (rules.singleLine && LINE_BREAK_OR_TAB.test(value)) refuse(path, 'must be one line (no tab, CR or LF)');
  return value;
}

export function stringReader(rules: StringRules = {}): Reader<string> {
  return (value, path) => readString(value, path, rules);
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') refuse(path, `must be true or false, not ${describe(value)}`);
  return value;
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export function readInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) refuse(path, `must be an integer, not ${describe(value)}`);
  if (value < min || value > max) refuse(path, `must be between ${min} and ${max}, not ${value}`);
  return value;
}

export function integerReader(min: number, max: number): Reader<number> {
  return (value, path) => readInteger(value, path, min, max);
}

export function enumReader<T extends string>(values: readonly T[]): Reader<T> {
  return (value, path) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      refuse(path, `must be one of ${values.join(', ')}, not ${describe(value)}`);
    }
    return value as T;
  };
}

export function arrayReader<T>(item: Reader<T>, options: { maxItems?: number; minItems?: number } = {}): Reader<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) refuse(path, `must be an array, not ${describe(value)}`);
    if (options.maxItems !== undefined && value.length > options.maxItems) refuse(path, `has more than ${options.maxItems} items`);
    if (options.minItems !== undefined && value.length < options.minItems) refuse(path, `needs at least ${options.minItems} item(s)`);
    return value.map((v: unknown, i) => item(v, indexPath(path, i)));
  };
}

/**
 * `@odata.type` of a Graph object. Graph examples write it with and without the leading `#`; the validated form
 * always has it.
 */
export function odataTypeReader<T extends `#microsoft.graph.${string}`>(expected: T): Reader<T> {
  return (value, path) => {
    const text = readString(value, path);
    if (text !== expected && `#${text}` !== expected) refuse(path, `must be "${expected}", not "${text}"`);
    return expected;
  };
}

/** The `@odata.type` of a polymorphic object, `#`-prefixed, or a refusal naming the accepted types. */
export function discriminator<T extends string>(record: Record<string, unknown>, path: string, types: readonly T[]): T {
  const at = childPath(path, '@odata.type');
  if (!Object.hasOwn(record, '@odata.type')) refuse(at, `is required (one of ${types.join(', ')})`);
  const text = readString(record['@odata.type'], at);
  const normalized = text.startsWith('#') ? text : `#${text}`;
  const found = types.find((t) => t === normalized);
  if (found === undefined) refuse(at, `must be one of ${types.join(', ')}, not "${text}"`);
  return found;
}

// ---- formats

/** Graph DateTimeOffset (msgraph-metadata JSON schema pattern), and a date that exists. */
const DATE_TIME = /^([0-9]{4,})-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$/;

export function readDateTime(value: unknown, path: string): string {
  const text = readString(value, path);
  const match = DATE_TIME.exec(text);
  if (!match) refuse(path, `must be an ISO 8601 date-time with a time zone (2024-05-01T12:00:00Z), not "${text}"`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) refuse(path, `${text.slice(0, 10)} is not a date`);
  return text;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Graph Guid: 8-4-4-4-12 hex, no braces; kept lower-case. */
export function readGuid(value: unknown, path: string): string {
  const text = readString(value, path);
  if (!GUID.test(text)) refuse(path, `must be a GUID (00000000-0000-0000-0000-000000000000), not "${text}"`);
  return text.toLowerCase();
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Graph Binary: base64 (as Graph examples send it) or base64url (the OData JSON format), without whitespace.
 * Returns the bytes; callers keep the standard base64 form.
 */
export function readBase64(value: unknown, path: string, options: { nonEmpty?: boolean } = {}): Buffer {
  const text = readString(value, path);
  let bytes: Buffer;
  if (BASE64.test(text)) bytes = Buffer.from(text, 'base64');
  else if (BASE64URL.test(text) && text.length % 4 !== 1) bytes = Buffer.from(text, 'base64url');
  else refuse(path, 'is not base64');
  if (options.nonEmpty && bytes.length === 0) refuse(path, 'must not be empty');
  return bytes;
}

/** An absolute https URL without credentials or fragment. */
export function readHttpsUrl(value: unknown, path: string): string {
  const text = readString(value, path, { nonEmpty: true, singleLine: true });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse(path, `"${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:') refuse(path, `must be an https URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') refuse(path, 'must not carry credentials');
  if (url.hash !== '') refuse(path, 'must not have a fragment');
  if (/\s/.test(text)) refuse(path, 'must not contain whitespace');
  return text;
}
