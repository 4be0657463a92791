/** Small helpers every Kysely repository (repositories/) uses to shape rows and batches. */

/**
 * Splits `rows` into slices whose sizes are powers of two, at most `max`, largest first (37 rows: 32, 4, 1). A
 * multi-row statement thus comes in at most log2(max) + 1 shapes, which SQLite's statement cache (sqlite.ts) keeps
 * prepared.
 */
export function* batches<T>(rows: readonly T[], max: number): Generator<T[]> {
  let start = 0;
  while (start < rows.length) {
    let size = max;
    while (size > rows.length - start) size >>= 1;
    yield rows.slice(start, start + size);
    start += size;
  }
}

/**
 * The last record of each key, ordered by key: a multi-row upsert may not touch one row twice (PostgreSQL refuses),
 * and concurrent writers lock rows in the same order.
 */
export function lastByKey<T>(records: readonly T[], key: (record: T) => string): T[] {
  const last = new Map<string, T>();
  for (const record of records) last.set(key(record), record);
  return [...last].sort(([a], [b]) => compareKeys(a, b)).map(([, record]) => record);
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Booleans are integer columns (0/1) on both databases. */
export function booleanToColumn(value: boolean): number {
  return value ? 1 : 0;
}

export function booleanFromColumn(value: number): boolean {
  return value !== 0;
}
