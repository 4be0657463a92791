import type { ColumnDataType } from 'kysely';

/**
 * The few column types the schema builder cannot spell portably. Migrations that need one take it as a parameter;
 * DialectAdapter (kysely-store.ts) extends this, so sqlite.ts and postgres.ts answer it.
 */
export interface SchemaDialect {
  /** Bytes: `blob` (SQLite), `bytea` (PostgreSQL). */
  readonly binaryType: ColumnDataType;
  /**
   * A primary key the database numbers, ascending, on insert: `integer` (SQLite: an alias of the rowid) or
   * `bigserial` (PostgreSQL). Used with `primaryKey()` only.
   */
  readonly serialType: ColumnDataType;
}
