import { defaultParser } from '@odata/parser';
import { OpenMamError } from '../../errors.ts';
import type { ComparisonOperator, FieldValue, Filter, QueryField, SortKey } from '../../store/collection-query.ts';

/**
 * OData's query options as Graph reads them (learn.microsoft.com/graph/query-parameters), from the request's query
 * string to a checked, neutral form: `$filter` and `$orderby` are parsed by @odata/parser (OData v4 ABNF) and turned
 * into the store's filter tree against the collection's allow-list of fields; `$select` and `$expand` are checked
 * against its properties and navigations; `$top`, `$skip`, `$count` are read. Whatever a collection does not support
 * is refused with 400 naming the option or clause: a client must never get an unfiltered list it believes filtered.
 */

export interface CollectionOptionsSpec {
  /** Filterable and sortable fields, by Graph property path (`status/errorCode`). */
  readonly fields: Readonly<Record<string, QueryField>>;
  /**
   * Every property `$select` may name; when absent, any OData identifier is taken and selects what the entities
   * have (policy kinds whose Graph schema tables are not wired in yet).
   */
  readonly properties?: readonly string[];
  /** Navigation properties `$expand` may name. */
  readonly navigations: readonly string[];
  /** The sort when `$orderby` is absent (the id is always the last key). */
  readonly defaultOrder: readonly SortKey[];
  /** Page size when `$top` is absent. */
  readonly pageSize: number;
  /** The most `$top` may ask for. */
  readonly maxPageSize: number;
  /**
   * Directory objects (users, groups, service principals) count only with `ConsistencyLevel: eventual`, as Entra's
   * advanced queries do (learn.microsoft.com/graph/aad-advanced-queries).
   */
  readonly countNeedsConsistencyLevel?: boolean;
}

export interface CollectionOptions {
  readonly filter?: Filter;
  readonly orderBy: readonly SortKey[];
  readonly top: number;
  readonly skip: number;
  readonly count: boolean;
  /** Property names as declared, or undefined for all. */
  readonly select?: readonly string[];
  readonly expand: readonly string[];
  readonly skipToken?: string;
  /** The options as given, by `$` name, for the next page's link. */
  readonly given: ReadonlyMap<string, string>;
}

/** OData's system query options (OData v4.01 Part 2 §5.1); Graph's `$` may be left out (query-parameters, "$ prefix"). */
const SYSTEM_OPTIONS = ['$filter', '$select', '$expand', '$orderby', '$top', '$skip', '$count', '$search', '$skiptoken', '$format', '$levels', '$apply', '$compute', '$deltatoken', '$index', '$schemaversion', '$id'];

/** A `$filter` longer than this is refused before parsing: the parser recurses per nesting level. */
const MAX_EXPRESSION_LENGTH = 4096;
/**
 * Parentheses nested deeper than this are refused before parsing: the parser backtracks at each level, and 2,000
 * levels within the length limit took it 5 s of CPU (a request must never cost that).
 */
const MAX_NESTING = 32;

function refuse(message: string): never {
  throw new OpenMamError('malformed_request', message);
}

/**
 * The system query options of a request, by `$` name (lower-case), each at most once; bare names (`filter`) count as
 * theirs. Only `supported` may appear; any other system option is a 400. Custom parameters are left alone.
 */
export function readSystemOptions(query: unknown, supported: readonly string[]): Map<string, string> {
  const given = new Map<string, string>();
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    const option = lower.startsWith('$') ? lower : SYSTEM_OPTIONS.includes(`$${lower}`) ? `$${lower}` : undefined;
    if (option === undefined) continue;
    if (!SYSTEM_OPTIONS.includes(option)) refuse(`${name}: not an OData query option`);
    if (!supported.includes(option)) refuse(`${name}: the query option is not supported on this resource${supported.length > 0 ? ` (supported: ${supported.join(', ')})` : ''}`);
    if (typeof value !== 'string' || given.has(option)) refuse(`${name}: given more than once`);
    given.set(option, value);
  }
  return given;
}

const COLLECTION_OPTIONS = ['$filter', '$select', '$expand', '$orderby', '$top', '$skip', '$count', '$skiptoken'];

/** The query options of a collection request, checked against `spec`. */
export function readCollectionOptions(query: unknown, headers: Readonly<Record<string, string | string[] | undefined>>, spec: CollectionOptionsSpec): CollectionOptions {
  const given = readSystemOptions(query, COLLECTION_OPTIONS);
  const filterText = given.get('$filter');
  const orderText = given.get('$orderby');
  const skipToken = given.get('$skiptoken');
  const skip = readInteger(given.get('$skip'), '$skip', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  if (skipToken !== undefined && skip > 0) refuse('$skip: cannot be combined with $skiptoken; follow @odata.nextLink as given');
  const count = readCount(given.get('$count'));
  if (count && spec.countNeedsConsistencyLevel && String(headers['consistencylevel'] ?? '').toLowerCase() !== 'eventual') {
    refuse('$count: counting directory objects requires the ConsistencyLevel: eventual header (learn.microsoft.com/graph/aad-advanced-queries)');
  }
  const select = given.has('$select') ? readNames(given.get('$select')!, '$select', spec.properties) : undefined;
  const expand = given.has('$expand') ? readNames(given.get('$expand')!, '$expand', spec.navigations) : [];
  return {
    ...(filterText === undefined || filterText.trim() === '' ? {} : { filter: readFilter(filterText, spec.fields) }),
    orderBy: orderText === undefined || orderText.trim() === '' ? spec.defaultOrder : readOrderBy(orderText, spec.fields),
    top: readInteger(given.get('$top'), '$top', 1, spec.maxPageSize) ?? spec.pageSize,
    skip,
    count,
    ...(select === undefined ? {} : { select }),
    expand,
    ...(skipToken === undefined ? {} : { skipToken }),
    given,
  };
}

/** An integer query option within [min, max], or a 400 naming it. */
export function readInteger(text: string | undefined, option: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\s*\d{1,16}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) refuse(`${option}: must be an integer from ${min} to ${max}, not ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

function readCount(text: string | undefined): boolean {
  if (text === undefined) return false;
  const value = text.trim().toLowerCase();
  if (value !== 'true' && value !== 'false') refuse(`$count: must be true or false, not ${JSON.stringify(text.slice(0, 40))}`);
  return value === 'true';
}

/**
 * A comma-separated list of names, each one of `allowed` (matched ignoring case, returned as declared); any OData
 * identifier when `allowed` is undefined.
 */
/** The names of a `$select` checked against the properties a resource declares (a 400 naming the first unknown). */
export function readSelect(text: string, properties: readonly string[]): string[] {
  return readNames(text, '$select', properties);
}

function readNames(text: string, option: string, allowed: readonly string[] | undefined): string[] {
  const names: string[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') refuse(`${option}: an empty name in ${JSON.stringify(text.slice(0, 100))}`);
    const declared = allowed === undefined ? (/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name) ? name : undefined) : allowed.find((a) => a.toLowerCase() === name.toLowerCase());
    if (declared === undefined) {
      refuse(`${option}: ${JSON.stringify(name.slice(0, 100))} is not ${option === '$expand' ? 'a navigation property that can be expanded' : 'a property'} of this resource${allowed !== undefined && allowed.length > 0 ? ` (${allowed.join(', ')})` : ''}`);
    }
    if (!names.includes(declared)) names.push(declared);
  }
  return names;
}

/** The parser's token: a type, the text it read, and a value whose shape depends on the type. */
interface Token {
  type: string;
  raw: string;
  value: unknown;
}

function isToken(value: unknown): value is Token {
  return typeof value === 'object' && value !== null && typeof (value as Token).type === 'string';
}

function parse(text: string, option: string, run: () => unknown): Token {
  if (text.length > MAX_EXPRESSION_LENGTH) refuse(`${option}: longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (nesting(text) > MAX_NESTING) refuse(`${option}: parentheses nested deeper than ${MAX_NESTING}`);
  let token: unknown;
  try {
    token = run();
  } catch (error) {
    // The parser says where it stopped ("Unexpected character at 12"); a RangeError is nesting beyond its stack.
    const detail = error instanceof RangeError ? 'nested too deeply' : error instanceof Error ? error.message : 'unreadable';
    refuse(`${option}: ${JSON.stringify(text.slice(0, 200))} is not a valid OData expression (${detail})`);
  }
  if (!isToken(token)) refuse(`${option}: ${JSON.stringify(text.slice(0, 200))} is not a valid OData expression`);
  return token;
}

/** The deepest nesting of parentheses outside string literals. */
function nesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quoted = false;
  for (const c of text) {
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') deepest = Math.max(deepest, ++depth);
    else if (!quoted && c === ')') depth--;
  }
  return deepest;
}

const COMPARISONS: Readonly<Record<string, ComparisonOperator>> = {
  EqualsExpression: 'eq',
  NotEqualsExpression: 'ne',
  LesserThanExpression: 'lt',
  LesserOrEqualsExpression: 'le',
  GreaterThanExpression: 'gt',
  GreaterOrEqualsExpression: 'ge',
};

const SUPPORTED_FILTER = 'supported: eq, ne, gt, ge, lt, le, in, and, or, not, parentheses, startswith(property, \'text\') and collection/any(v: ...), over the properties';

/** `$filter` as the store's filter tree; a clause naming anything not declared is a 400 that quotes it. */
export function readFilter(text: string, fields: Readonly<Record<string, QueryField>>): Filter {
  const token = parse(text, '$filter', () => defaultParser.filter(desugarIn(text)));
  const supported = `${SUPPORTED_FILTER} ${Object.keys(fields).join(', ')}`;
  const unsupported = (t: Token): never => refuse(`$filter: "${t.raw}" is not supported; ${supported}`);

  /** `scope`: the fields a clause may name (a lambda's predicate names only its variable). */
  const convert = (t: Token, scope: Readonly<Record<string, QueryField>>): Filter => {
    switch (t.type) {
      case 'CommonExpression':
      case 'BoolParenExpression':
      case 'ParenExpression':
        return isToken(t.value) ? convert(t.value, scope) : unsupported(t);
      case 'AndExpression':
      case 'OrExpression': {
        const { left, right } = t.value as { left: unknown; right: unknown };
        if (!isToken(left) || !isToken(right)) return unsupported(t);
        return { kind: t.type === 'AndExpression' ? 'and' : 'or', operands: [convert(left, scope), convert(right, scope)] };
      }
      case 'NotExpression':
        return isToken(t.value) ? negate(t.value, scope) : unsupported(t);
      case 'FirstMemberExpression':
      case 'MemberExpression':
      case 'PropertyPathExpression':
        return lambda(t, scope);
      case 'MethodCallExpression': {
        const { method, parameters } = t.value as { method: string; parameters: unknown[] };
        if (method !== 'startswith' || parameters.length !== 2 || !isToken(parameters[0]) || !isToken(parameters[1])) return unsupported(t);
        const [name, field] = resolveField(parameters[0], scope, t);
        const prefix = literalValue(parameters[1], field, t);
        if (field.type !== 'string' || typeof prefix !== 'string') refuse(`$filter: "${t.raw}": startswith takes a string property and a string`);
        return { kind: 'startsWith', field: name, prefix };
      }
      default: {
        const operator = COMPARISONS[t.type];
        if (operator === undefined) return unsupported(t);
        const { left, right } = t.value as { left: unknown; right: unknown };
        if (!isToken(left) || !isToken(right)) return unsupported(t);
        const [name, field] = resolveField(left, scope, t);
        const value = literalValue(right, field, t);
        if (value === null && operator !== 'eq' && operator !== 'ne') refuse(`$filter: "${t.raw}": only eq and ne compare with null`);
        if ((field.type === 'boolean' || field.storedAs !== undefined) && operator !== 'eq' && operator !== 'ne') refuse(`$filter: "${t.raw}": ${name} compares with eq or ne`);
        if (field.type === 'dateTime' && typeof value === 'number' && belowMilliseconds(right)) return betweenMilliseconds(name, operator, value);
        return { kind: 'compare', field: name, operator, value };
      }
    }
  };
  /**
   * `collection/any(v: predicate)` (OData v4.01 Part 2 §5.1.1.13.1) over a collection field, the predicate naming
   * only `v`; `all` and `any()` without a predicate are refused.
   */
  const lambda = (t: Token, scope: Readonly<Record<string, QueryField>>): Filter => {
    let path: Token = t;
    while ((path.type === 'FirstMemberExpression' || path.type === 'MemberExpression') && isToken(path.value)) path = path.value;
    const { current, next } = (path.type === 'PropertyPathExpression' ? path.value : {}) as { current?: unknown; next?: unknown };
    const operation = isToken(next) && next.type === 'CollectionPathExpression' && isToken(next.value) ? next.value : undefined;
    if (!isToken(current) || operation === undefined) return unsupported(t);
    if (operation.type !== 'AnyExpression') refuse(`$filter: "${t.raw}": only any is supported over a collection, not ${operation.type === 'AllExpression' ? 'all' : operation.raw}`);
    const [name, field] = resolveField(current, scope, t, true);
    if (field.collection !== true) refuse(`$filter: "${t.raw}": ${name} is not a collection`);
    const { variable, predicate } = (operation.value ?? {}) as { variable?: unknown; predicate?: unknown };
    if (!isToken(variable) || !isToken(predicate) || !isToken(predicate.value)) refuse(`$filter: "${t.raw}": any takes a predicate, as ${name}/any(v: v eq 'value')`);
    const variableName = (variable.value as { name: string }).name;
    const element: QueryField = { type: field.type, source: field.source, ...(field.caseInsensitive ? { caseInsensitive: true } : {}) };
    return { kind: 'any', field: name, variable: variableName, predicate: convert(predicate.value, { [variableName]: element }) };
  };
  /**
   * `not` binds tighter than `and` and `or` (OData v4.01 Part 2 §5.1.1.15, operator precedence), but the parser
   * reads `not a or b` as `not (a or b)`: an unparenthesized and/or under a `not` gets the `not` on its leftmost
   * operand instead. A parenthesized one is a BoolParenExpression and keeps it whole.
   */
  const negate = (t: Token, scope: Readonly<Record<string, QueryField>>): Filter => {
    const inner = t.type === 'CommonExpression' && isToken(t.value) ? t.value : t;
    if (inner.type === 'AndExpression' || inner.type === 'OrExpression') {
      const { left, right } = inner.value as { left: unknown; right: unknown };
      if (isToken(left) && isToken(right)) return { kind: inner.type === 'AndExpression' ? 'and' : 'or', operands: [negate(left, scope), convert(right, scope)] };
    }
    return { kind: 'not', operand: convert(t, scope) };
  };
  return convert(token, fields);
}

/** The most values an `in` list may hold. */
const MAX_IN_VALUES = 100;
/** `property in (` outside string literals: OData 4.01's `in` (Part 2 §5.1.1.1.10). */
const IN_OPERATOR = /([A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*)\s+in\s*\(/y;

/**
 * OData 4.01's `property in (v1, v2, ...)`, which @odata/parser (OData 4.0) does not read, as the equivalent
 * `(property eq v1 or property eq v2 ...)`: the values stay text for the parser to read as literals; quotes are
 * tracked so that an `in` inside a string is left alone. A list that is not closed is left for the parser to refuse.
 */
function desugarIn(text: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") quoted = !quoted; // '' inside a string toggles twice: still inside
    if (!quoted && (i === 0 || /[\s(]/.test(text[i - 1]!))) {
      IN_OPERATOR.lastIndex = i;
      const match = IN_OPERATOR.exec(text);
      const close = match ? closingParenthesis(text, IN_OPERATOR.lastIndex) : -1;
      if (match && close >= 0) {
        const values = splitOutsideQuotes(text.slice(IN_OPERATOR.lastIndex, close));
        if (values.length === 0 || values.length > MAX_IN_VALUES || values.some((v) => v === '')) refuse(`$filter: an in list holds 1 to ${MAX_IN_VALUES} values`);
        out += `(${values.map((v) => `${match[1]!} eq ${v}`).join(' or ')})`;
        i = close;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The index of the `)` that closes a list starting at `from`, outside quotes; -1 when none. */
function closingParenthesis(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "'") quoted = !quoted;
    else if (!quoted && text[i] === '(') return -1;
    else if (!quoted && text[i] === ')') return i;
  }
  return -1;
}

function splitOutsideQuotes(list: string): string[] {
  const values: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= list.length; i++) {
    if (list[i] === "'") quoted = !quoted;
    else if (i === list.length || (!quoted && list[i] === ',')) {
      values.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  return values.length === 1 && values[0] === '' ? [] : values;
}

/** A member path (`displayName`, `status/errorCode`) as declared (names matched ignoring case), with its field. */
function resolveField(token: Token, fields: Readonly<Record<string, QueryField>>, clause: Token, collection = false): [string, QueryField] {
  const path = memberPath(token);
  if (path === undefined) refuse(`$filter: "${clause.raw}" must compare a property with a literal`);
  const declared = Object.keys(fields).find((name) => name.toLowerCase() === path.toLowerCase());
  if (declared === undefined) refuse(`$filter: "${clause.raw}": ${path} cannot be filtered on here (${Object.keys(fields).join(', ')})`);
  const field = fields[declared]!;
  if (field.collection === true && !collection) refuse(`$filter: "${clause.raw}": ${declared} is a collection: filter it with ${declared}/any(v: v eq 'value')`);
  return [declared, field];
}

/** `a/b/c` from the parser's member expression, or undefined when the token is not a plain property path. */
function memberPath(token: Token): string | undefined {
  switch (token.type) {
    case 'CommonExpression':
    case 'FirstMemberExpression':
    case 'MemberExpression':
    case 'SingleNavigationExpression':
      return isToken(token.value) ? memberPath(token.value) : undefined;
    case 'ODataIdentifier':
    case 'LambdaVariableExpression':
      return (token.value as { name: string }).name;
    case 'PropertyPathExpression': {
      const value = token.value;
      if (isToken(value)) return memberPath(value);
      const { current, next } = value as { current?: unknown; next?: unknown };
      if (!isToken(current) || !isToken(next)) return undefined;
      const head = memberPath(current);
      const tail = memberPath(next);
      return head === undefined || tail === undefined ? undefined : `${head}/${tail}`;
    }
    default:
      return undefined;
  }
}

/** Whether a DateTimeOffset literal has non-zero digits below the millisecond (times are stored in milliseconds). */
function belowMilliseconds(token: Token): boolean {
  const fraction = /\.(\d+)/.exec((token.type === 'CommonExpression' && isToken(token.value) ? token.value : token).raw)?.[1] ?? '';
  return /[1-9]/.test(fraction.slice(3));
}

/**
 * A comparison with an instant `ms + ε` (0 < ε < 1 ms) over whole milliseconds, exactly: `ge` and `gt` keep what is
 * after `ms`, `le` and `lt` what is at or before it, `eq` nothing and `ne` everything.
 */
function betweenMilliseconds(field: string, operator: ComparisonOperator, ms: number): Filter {
  switch (operator) {
    case 'ge':
    case 'gt':
      return { kind: 'compare', field, operator: 'gt', value: ms };
    case 'le':
    case 'lt':
      return { kind: 'compare', field, operator: 'le', value: ms };
    case 'eq':
      return { kind: 'in', field, values: [] };
    case 'ne':
      return { kind: 'not', operand: { kind: 'in', field, values: [] } };
  }
}

const NUMERIC = new Set(['Edm.SByte', 'Edm.Byte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single']);

/** A literal's value, checked against the field's type (and enum members). */
function literalValue(token: Token, field: QueryField, clause: Token): FieldValue {
  const literal = token.type === 'CommonExpression' && isToken(token.value) ? token.value : token;
  if (literal.type !== 'Literal') refuse(`$filter: "${clause.raw}" must compare a property with a literal, not ${literal.raw}`);
  const edm = literal.value as string;
  const raw = literal.raw;
  const mismatch = (expected: string): never => refuse(`$filter: "${clause.raw}": ${raw} is not ${expected}`);
  if (edm === 'null') return null;
  switch (field.type) {
    case 'string': {
      // A GUID may be written bare, as Graph's ids are compared in its examples both ways.
      const literal = edm === 'Edm.String' ? raw.slice(1, -1).replace(/''/g, "'") : edm === 'Edm.Guid' ? raw : mismatch('a string');
      const value = field.lowerCase ? literal.toLowerCase() : literal;
      if (field.members !== undefined && !field.members.includes(value)) {
        refuse(`$filter: "${clause.raw}": '${value}' is not a member of the enum (${field.members.join(', ')})`);
      }
      return value;
    }
    case 'number': {
      const number = NUMERIC.has(edm) && Number.isFinite(Number(raw)) ? Number(raw) : mismatch('a number');
      if (field.storedAs === undefined) return number;
      const stored = field.storedAs[String(number)];
      return stored ?? refuse(`$filter: "${clause.raw}": ${raw} is not a value here (${Object.keys(field.storedAs).join(' or ')})`);
    }
    case 'boolean':
      return edm === 'Edm.Boolean' ? raw.toLowerCase() === 'true' : mismatch('true or false');
    case 'dateTime': {
      const ms = edm === 'Edm.DateTimeOffset' || edm === 'Edm.Date' ? Date.parse(raw) : Number.NaN;
      return Number.isNaN(ms) ? mismatch('a DateTimeOffset such as 2026-12-01T00:00:00Z') : ms;
    }
  }
}

/** `$orderby`: comma-separated properties, each optionally `asc` or `desc`. */
export function readOrderBy(text: string, fields: Readonly<Record<string, QueryField>>): SortKey[] {
  const token = parse(text, '$orderby', () => defaultParser.query(`$orderby=${text}`));
  const options = (token.value as { options?: unknown[] }).options;
  const orderBy = options?.[0];
  if (options?.length !== 1 || !isToken(orderBy) || orderBy.type !== 'OrderBy') refuse(`$orderby: ${JSON.stringify(text.slice(0, 200))} is not a valid OData expression`);
  const keys: SortKey[] = [];
  for (const item of (orderBy.value as { items: unknown[] }).items) {
    if (!isToken(item)) refuse(`$orderby: ${JSON.stringify(text.slice(0, 200))} is not a valid OData expression`);
    const { expr, direction } = item.value as { expr: unknown; direction: number };
    const path = isToken(expr) ? memberPath(expr) : undefined;
    const declared = path === undefined ? undefined : Object.keys(fields).find((name) => name.toLowerCase() === path.toLowerCase());
    const sortable = (name: string): boolean => fields[name]!.collection !== true && fields[name]!.filterOnly !== true;
    if (declared === undefined || !sortable(declared)) refuse(`$orderby: "${item.raw}" cannot be sorted on here (${Object.keys(fields).filter(sortable).join(', ')})`);
    if (keys.some((k) => k.field === declared)) refuse(`$orderby: ${declared} is named twice`);
    keys.push({ field: declared, descending: direction < 0 });
  }
  if (keys.length > 4) refuse('$orderby: at most 4 properties');
  return keys;
}

/** Keeps the OData annotations and the selected properties of a presented entity. */
export function selectProperties(entity: Record<string, unknown>, select: readonly string[] | undefined): Record<string, unknown> {
  if (select === undefined) return entity;
  const names = new Set(select.map((name) => name.toLowerCase()));
  return Object.fromEntries(Object.entries(entity).filter(([name]) => name.startsWith('@') || names.has(name.toLowerCase())));
}
