import { OpenMamError } from '../../errors.ts';

/**
 * The small part of OData's query language the admin API reads (learn.microsoft.com/graph/query-parameters and
 * learn.microsoft.com/graph/filter-query-parameter): `$filter` as comparisons joined by `and`, and the check that a
 * request uses only the query options a route supports. Anything else is refused, naming what: Graph answers an
 * unsupported option or clause with 400, and a client must never get an unfiltered list it believes filtered.
 */

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** A literal as written: 'text' (quotes removed, '' unescaped), an integer, or an unquoted DateTimeOffset. */
export type ODataLiteral =
  | { kind: 'string'; value: string }
  | { kind: 'integer'; value: number }
  /** `ms` is the instant in epoch milliseconds, rounded down; `exact` is false when digits below a millisecond were cut. */
  | { kind: 'dateTime'; ms: number; exact: boolean };

export interface FilterClause {
  /** The property path, as written (`status/errorCode`). */
  property: string;
  operator: ComparisonOperator;
  literal: ODataLiteral;
  /** The clause's text, trimmed, for refusals. */
  text: string;
}

const CLAUSE = /^([A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*)\s+(eq|ne|gt|ge|lt|le)\s+(.+)$/i;
const STRING = /^'((?:[^']|'')*)'$/;
const INTEGER = /^-?\d{1,15}$/;
/** OData's DateTimeOffset literal: seconds and fraction optional, a Z or an offset required. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,12}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Refuses a clause, naming it and what is supported. */
export function refuseClause(text: string, supported: string): never {
  throw new OpenMamError('malformed_request', `$filter: "${text}" is not supported; ${supported}`);
}

/**
 * The comparisons of a `$filter`, in order: `<property> <op> <literal>` joined by `and` (outside quotes). `or`,
 * `not`, parentheses, functions and lambda operators are refused, as is any clause that is not one comparison.
 * An absent or blank filter is no clause.
 */
export function parseFilter(filter: string | undefined, supported: string): FilterClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  return splitAnd(filter).map((text) => {
    const match = CLAUSE.exec(text);
    const literal = match ? readLiteral(match[3]!.trim()) : undefined;
    if (!match || !literal) return refuseClause(text, supported);
    return { property: match[1]!, operator: match[2]!.toLowerCase() as ComparisonOperator, literal, text };
  });
}

/** The clauses between top-level `and`s, trimmed (an `and` inside a quoted string is text). */
function splitAnd(filter: string): string[] {
  const clauses: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (c === "'") quoted = !quoted; // '' inside a string toggles twice: still inside
    else if (!quoted && /\s/.test(c)) {
      const and = /^\s+and\s+/i.exec(filter.slice(i));
      if (and) {
        clauses.push(filter.slice(start, i).trim());
        i += and[0].length - 1;
        start = i + 1;
      }
    }
  }
  clauses.push(filter.slice(start).trim());
  return clauses;
}

function readLiteral(text: string): ODataLiteral | undefined {
  const string = STRING.exec(text);
  if (string) return { kind: 'string', value: string[1]!.replace(/''/g, "'") };
  if (INTEGER.test(text)) return { kind: 'integer', value: Number(text) };
  const dateTime = DATE_TIME.exec(text);
  if (dateTime) {
    const [, base, fraction = '', offset] = dateTime;
    const seconds = Date.parse(`${base!}${base!.length === 16 ? ':00' : ''}${offset!.toUpperCase()}`);
    // Date.parse rolls nothing over for this shape, but a month 13 or an hour 25 is NaN.
    if (Number.isNaN(seconds)) return undefined;
    const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
    return { kind: 'dateTime', ms: seconds + millis, exact: /^0*$/.test(fraction.slice(3)) };
  }
  return undefined;
}

/**
 * The request's query options, checked: every `$` option and, where OData lets `$` be left out (Graph beta), every
 * bare option name must be one of `supported` (names with `$`); a repeated option is refused too. Returns the
 * supported ones that were given, by `$` name. Other parameters (not OData options) are left alone.
 */
export function readQueryOptions(query: unknown, supported: readonly string[], options: { dollarOptional: boolean }): Map<string, string> {
  const known = ['$filter', '$select', '$expand', '$orderby', '$top', '$skip', '$count', '$search', '$skiptoken', '$format', '$levels', '$apply', '$compute', '$deltatoken', '$index', '$schemaversion'];
  const given = new Map<string, string>();
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    const option = lower.startsWith('$') ? lower : known.includes(`$${lower}`) ? `$${lower}` : undefined;
    if (option === undefined) continue;
    if (!lower.startsWith('$') && !options.dollarOptional) throw new OpenMamError('malformed_request', `${name}: query options take a $ prefix on this version ($${lower})`);
    if (!supported.includes(option)) throw new OpenMamError('malformed_request', `${name}: the query option is not supported here (supported: ${supported.join(', ')})`);
    if (typeof value !== 'string' || given.has(option)) throw new OpenMamError('malformed_request', `${name}: given more than once`);
    given.set(option, value);
  }
  return given;
}
