/**
 * A page of a tenant's collection asked for in neutral terms: a filter tree, sort keys, a page size and a keyset
 * position. The admin API builds it from OData's query options (learn.microsoft.com/graph/query-parameters) against
 * each resource's allow-list of fields; `collection-sql.ts` compiles it to one SQL statement per page. Nothing here
 * knows OData's syntax or SQL.
 */

/** How a field's values compare. `dateTime` fields hold epoch milliseconds. */
export type FieldType = 'string' | 'number' | 'boolean' | 'dateTime';

/** Where a queryable field is kept: a column of the collection's table, or a member of a JSON text column. */
export type FieldSource = { readonly column: string } | { readonly json: string; readonly path: readonly string[] };

export interface QueryField {
  readonly type: FieldType;
  readonly source: FieldSource;
  /**
   * Compared and sorted ignoring case (user principal names: Entra compares them so). The store lower-cases both
   * sides; a caller passes values as given.
   */
  readonly caseInsensitive?: boolean;
  /** Never null (a NOT NULL column): sorted on as is, so that an index on the column serves the order. */
  readonly required?: boolean;
  /** Kept lower-case (GUIDs): a literal is lower-cased before comparison, and an index on the column still serves. */
  readonly lowerCase?: boolean;
  /** For a Graph enum property: the members a value may be (a query naming another is refused before the store). */
  readonly members?: readonly string[];
  /**
   * A Graph value stored as another (the sign-in log keeps `decision`, Graph shows `status/errorCode`): the stored
   * value of each Graph value a query may name, keyed by the Graph value as text; the store compares stored values.
   */
  readonly storedAs?: Readonly<Record<string, string>>;
  /**
   * The column holds a JSON array of values of `type` (a Graph collection of primitives, such as a service
   * principal's servicePrincipalNames): named only by an `any` lambda, never compared or sorted on as a whole.
   */
  readonly collection?: true;
  /**
   * May be filtered on, never sorted on: no index serves an order on it (a nullable column is sorted on as
   * `coalesce(column, least)`, which no plain index serves), and an order without an index sorts the tenant's rows.
   */
  readonly filterOnly?: true;
}

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FieldValue = string | number | boolean | null;

export type Filter =
  | { readonly kind: 'and' | 'or'; readonly operands: readonly Filter[] }
  | { readonly kind: 'not'; readonly operand: Filter }
  | { readonly kind: 'compare'; readonly field: string; readonly operator: ComparisonOperator; readonly value: FieldValue }
  | { readonly kind: 'in'; readonly field: string; readonly values: readonly FieldValue[] }
  | { readonly kind: 'startsWith'; readonly field: string; readonly prefix: string }
  /** OData's `field/any(variable: predicate)` over a collection field: `predicate` names its element as `variable`. */
  | { readonly kind: 'any'; readonly field: string; readonly variable: string; readonly predicate: Filter };

export interface SortKey {
  readonly field: string;
  readonly descending: boolean;
}

export interface CollectionQuery {
  readonly filter?: Filter;
  /**
   * The store appends the id, in the first key's direction (ascending when there is none): the order is total, a
   * keyset position exact, and a descending page the exact reverse of the ascending one (collection-sql.ts).
   */
  readonly orderBy: readonly SortKey[];
  /** Rows in the page; the store reads one more to know whether another page follows. */
  readonly top: number;
  /** Rows passed over before the page (OData `$skip`); only on a first page, never with `after`. */
  readonly skip: number;
  /** Keyset: the sort values of the last row of the previous page, the id last (from `CollectionPage.next`). */
  readonly after?: readonly FieldValue[];
  /** Also count every row the filter matches (OData `$count=true`). */
  readonly count: boolean;
}

/** A collection as the store keeps it: its table, its id column, fixed conditions and the fields a query may name. */
export interface CollectionSource {
  readonly table: string;
  readonly tenantColumn: string;
  readonly idColumn: string;
  /** Fixed equality conditions besides the tenant (e.g. the kind of a policy in the shared `policies` table). */
  readonly scope?: Readonly<Record<string, string | number | readonly string[]>>;
  readonly fields: Readonly<Record<string, QueryField>>;
}

export interface CollectionPage<Row> {
  /** The table's rows, as stored. */
  readonly rows: Row[];
  /** When asked for: every row the filter matches, in all pages. */
  readonly count?: number;
  /** The keyset position after the last row, when another page follows. */
  readonly next?: readonly FieldValue[];
}

/** Reads one page of a collection (see `collection-sql.ts`). */
export interface CollectionStore {
  queryCollection<Row>(source: CollectionSource, tenantId: string, query: CollectionQuery): Promise<CollectionPage<Row>>;
}

/** A source's field by name, or undefined: names are matched exactly (the admin API resolves case before). */
export function fieldOf(source: CollectionSource, name: string): QueryField | undefined {
  return Object.hasOwn(source.fields, name) ? source.fields[name] : undefined;
}
