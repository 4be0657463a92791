import { sql, type Kysely, type RawBuilder } from 'kysely';
import { OpenMamError } from '../errors.ts';
import type { CollectionPage, CollectionQuery, CollectionSource, FieldValue, Filter, QueryField, SortKey } from './collection-query.ts';

/**
 * Compiles a `CollectionQuery` to SQL that SQLite and PostgreSQL both run, and reads one page with it:
 * - every value is a bound parameter; table, column and JSON member names come only from the source's declaration;
 * - JSON members are read with `json_extract` (SQLite) or `#>>` on a `jsonb` cast (PostgreSQL), typed by the field;
 * - the order is total (the id comes last), and a next page starts after the previous page's last row by its sort
 *   values (keyset paging: a page costs the same however deep it is, and rows inserted meanwhile are neither skipped
 *   nor repeated); sort values of absent members are coalesced to the type's least value, as OData orders null first.
 */

type Dialect = 'sqlite' | 'postgres';
type Expression = RawBuilder<unknown>;

/**
 * Least values a sort key may take: null sorts first, as OData's `null` is less than any value. The number is one a
 * BIGINT column and a double both hold exactly.
 */
const LEAST: Record<QueryField['type'], FieldValue> = { string: '', number: Number.MIN_SAFE_INTEGER, dateTime: Number.MIN_SAFE_INTEGER, boolean: false };

/** A field's value as an SQL expression of its type. */
function fieldExpression(dialect: Dialect, field: QueryField): Expression {
  const { source } = field;
  let expression: Expression;
  if ('column' in source) {
    expression = sql.ref(source.column);
  } else if (dialect === 'sqlite') {
    // json_extract answers SQL values of the member's JSON type (integers 1/0 for booleans, as SQLite has no boolean).
    expression = sql`json_extract(${sql.ref(source.json)}, ${`$${source.path.map((p) => `."${p}"`).join('')}`})`;
  } else {
    const text = sql`(${sql.ref(source.json)}::jsonb #>> ${`{${source.path.join(',')}}`})`;
    expression = field.type === 'string' ? text : field.type === 'boolean' ? sql`(${text})::boolean` : sql`(${text})::double precision`;
  }
  return field.caseInsensitive ? sql`lower(${expression})` : expression;
}

/** A value bound for comparison with `field` (booleans are integers in columns and in SQLite's JSON). */
function bind(dialect: Dialect, field: QueryField, value: FieldValue): Expression {
  if (typeof value === 'boolean' && ('column' in field.source || dialect === 'sqlite')) return sql`${value ? 1 : 0}`;
  if (typeof value === 'string' && field.caseInsensitive) return sql`lower(${value})`;
  return sql`${value}`;
}

const OPERATOR_SQL = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/** The element of a collection field inside an `any` lambda: the `value` of the row set the array is unnested into. */
const ELEMENT_COLUMN = 'lambda_element.value';

function compileFilter(dialect: Dialect, source: CollectionSource, filter: Filter): Expression {
  switch (filter.kind) {
    case 'any': {
      const field = requireField(source, filter.field);
      if (field.collection !== true || !('column' in field.source)) throw new Error(`${filter.field} is not a collection column`);
      // The predicate sees only the element, named by the lambda's variable (the reader admits no other field).
      const element: QueryField = { type: field.type, source: { column: ELEMENT_COLUMN }, required: true, ...(field.caseInsensitive ? { caseInsensitive: true } : {}) };
      const predicate = compileFilter(dialect, { ...source, fields: { [filter.variable]: element } }, filter.predicate);
      const column = sql.ref(field.source.column);
      return dialect === 'sqlite'
        ? sql`exists (select 1 from json_each(${column}) as lambda_element where ${predicate})`
        : sql`exists (select 1 from jsonb_array_elements_text(${column}::jsonb) as lambda_element(value) where ${predicate})`;
    }
    case 'and':
    case 'or':
      return sql`(${sql.join(filter.operands.map((f) => compileFilter(dialect, source, f)), sql` ${sql.raw(filter.kind)} `)})`;
    case 'not':
      // OData's `not` of an unknown (null) comparison is false, as SQL's is unknown: a row is kept only when true.
      return sql`(not coalesce(${compileFilter(dialect, source, filter.operand)}, false))`;
    case 'compare': {
      const field = requireField(source, filter.field);
      const expression = fieldExpression(dialect, field);
      if (filter.value === null) {
        if (filter.operator === 'eq') return sql`(${expression} is null)`;
        if (filter.operator === 'ne') return sql`(${expression} is not null)`;
        throw new OpenMamError('malformed_request', `$filter: ${filter.field} ${filter.operator} null: only eq and ne compare with null`);
      }
      const comparison = sql`(${expression} ${sql.raw(OPERATOR_SQL[filter.operator])} ${bind(dialect, field, filter.value)})`;
      // OData: `null ne 'x'` is true, where SQL's `NULL <> 'x'` is unknown.
      return filter.operator === 'ne' ? sql`(${comparison} or ${expression} is null)` : comparison;
    }
    case 'in': {
      const field = requireField(source, filter.field);
      const values = filter.values.filter((v) => v !== null);
      const expression = fieldExpression(dialect, field);
      const parts: Expression[] = [];
      if (values.length > 0) parts.push(sql`${expression} in (${sql.join(values.map((v) => bind(dialect, field, v)))})`);
      if (values.length < filter.values.length) parts.push(sql`${expression} is null`);
      return parts.length === 0 ? sql`(1 = 0)` : sql`(${sql.join(parts, sql` or `)})`;
    }
    case 'startsWith': {
      const field = requireField(source, filter.field);
      const expression = fieldExpression(dialect, field);
      // substr rather than LIKE: SQLite's LIKE ignores case and both treat % and _ in the prefix as wildcards.
      return sql`(substr(${expression}, 1, ${[...filter.prefix].length}) = ${bind(dialect, field, filter.prefix)})`;
    }
  }
}

function requireField(source: CollectionSource, name: string): QueryField {
  const field = Object.hasOwn(source.fields, name) ? source.fields[name] : undefined;
  // The admin API checks names against the same declaration first: this is a programming error, never input.
  if (field === undefined) throw new Error(`collection ${source.table} has no field ${name}`);
  return field;
}

/**
 * The sort expressions: each key (coalesced to its least value when it may be null), then the id. The id only breaks
 * ties, so it follows the first key's direction: one direction throughout lets the keyset be a row-value comparison.
 */
function sortExpressions(dialect: Dialect, source: CollectionSource, orderBy: readonly SortKey[]): { expression: Expression; descending: boolean }[] {
  const keys = orderBy.map((key) => {
    const field = requireField(source, key.field);
    const expression = fieldExpression(dialect, field);
    return { expression: field.required ? expression : sql`coalesce(${expression}, ${bind(dialect, field, LEAST[field.type])})`, descending: key.descending };
  });
  return [...keys, { expression: sql.ref(source.idColumn), descending: keys[0]?.descending ?? false }];
}

/**
 * Rows after `after` in the order of `keys`. In one direction it is a row-value comparison, `(k1, k2) > (v1, v2)`,
 * which SQLite and PostgreSQL answer with a seek on an index in that order; in mixed directions
 * (k1 > v1) or (k1 = v1 and k2 > v2) or ... (descending keys use <).
 */
function keysetCondition(keys: readonly { expression: Expression; descending: boolean }[], after: readonly FieldValue[]): Expression {
  if (after.length !== keys.length) throw new OpenMamError('malformed_request', '$skiptoken: does not match this query; follow @odata.nextLink as given');
  if (keys.every((key) => key.descending === keys[0]!.descending)) {
    return sql`((${sql.join(keys.map((k) => k.expression))}) ${sql.raw(keys[0]!.descending ? '<' : '>')} (${sql.join(after.map((v) => sql`${v}`))}))`;
  }
  const alternatives = keys.map((key, i) => {
    const equal = keys.slice(0, i).map((k, j) => sql`${k.expression} = ${after[j]}`);
    const beyond = sql`${key.expression} ${sql.raw(key.descending ? '<' : '>')} ${after[i]}`;
    return sql`(${sql.join([...equal, beyond], sql` and `)})`;
  });
  return sql`(${sql.join(alternatives, sql` or `)})`;
}

function whereClause(dialect: Dialect, source: CollectionSource, tenantId: string, filter: Filter | undefined): Expression[] {
  const conditions: Expression[] = [sql`${sql.ref(source.tenantColumn)} = ${tenantId}`];
  for (const [column, value] of Object.entries(source.scope ?? {})) {
    conditions.push(Array.isArray(value) ? sql`${sql.ref(column)} in (${sql.join(value)})` : sql`${sql.ref(column)} = ${value}`);
  }
  if (filter !== undefined) conditions.push(compileFilter(dialect, source, filter));
  return conditions;
}

/** Reads one page (and the count when asked): one statement for the page, one for the count. */
export async function queryCollection<Row>(
  db: Kysely<unknown>,
  dialect: Dialect,
  source: CollectionSource,
  tenantId: string,
  query: CollectionQuery,
): Promise<CollectionPage<Row>> {
  const keys = sortExpressions(dialect, source, query.orderBy);
  const conditions = whereClause(dialect, source, tenantId, query.filter);
  const paged = query.after === undefined ? conditions : [...conditions, keysetCondition(keys, query.after)];
  const keyColumns = keys.map((key, i) => sql`${key.expression} as ${sql.ref(`__key${i}`)}`);
  const order = keys.map((key) => sql`${key.expression} ${sql.raw(key.descending ? 'desc' : 'asc')}`);
  const offset = query.after === undefined && query.skip > 0 ? sql` offset ${query.skip}` : sql``;
  const page = await sql<Record<string, unknown>>`select ${sql.table(source.table)}.*, ${sql.join(keyColumns)} from ${sql.table(source.table)} where ${sql.join(paged, sql` and `)} order by ${sql.join(order)} limit ${query.top + 1}${offset}`.execute(db);
  const more = page.rows.length > query.top;
  const withKeys = page.rows.slice(0, query.top);
  const last = withKeys.at(-1);
  const next = more && last !== undefined ? keys.map((_, i) => last[`__key${i}`] as FieldValue) : undefined;
  const rows = withKeys.map((row) => Object.fromEntries(Object.entries(row).filter(([name]) => !name.startsWith('__key'))));
  let count: number | undefined;
  if (query.count) {
    const counted = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(source.table)} where ${sql.join(conditions, sql` and `)}`.execute(db);
    count = Number(counted.rows[0]?.n ?? 0);
  }
  return { rows: rows as Row[], ...(count === undefined ? {} : { count }), ...(next === undefined ? {} : { next }) };
}
