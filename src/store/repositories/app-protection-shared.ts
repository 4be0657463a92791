import { sql } from 'kysely';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { AppOperationStatus, AppRegistrationRecord } from '../app-protection-records.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import type { Database } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { undoMissedDelete, undoMissedWrite, type VersionedTable } from '../versioned-write.ts';

/**
 * What more than one app protection repository uses: the compiled hot read, the tenant's app configuration version
 * bump that every admin writer takes first (concurrent changes of one tenant queue on its row, never deadlock), the
 * versioned create/update/delete built on it, and the column helpers of the "rows <-> records" mappers.
 */

/**
 * The predicates of the partial unique indexes (migrations/006_app_protection.ts) as literals, not bound parameters:
 * only then can SQLite (and PostgreSQL's generic plans, and ON CONFLICT's index inference) prove that a statement
 * matches the index.
 */
export const ACTIVE = sql.lit<AppRegistrationRecord['state']>('active');
export const PENDING = sql.lit<AppOperationStatus>('pending');

/** What the versioned writers below need of the context. */
export type WriterContext = Pick<StoreContext, 'track' | 'write' | 'undoable' | 'isUniqueViolation'>;

/**
 * A hot read built and compiled once with placeholder values, then run with the real parameters, in order: building
 * and compiling a query costs more than running it (like KyselyStore's managed device query). Literals (ACTIVE,
 * PENDING) stay in the SQL; the arity check makes sure nothing else slipped in as a parameter.
 */
export class CompiledRead<Row> {
  #compiled: CompiledQuery<Row> | undefined;

  constructor(
    private readonly build: (db: Kysely<Database>) => CompiledQuery<Row>,
    private readonly arity: number,
  ) {}

  run(context: Pick<StoreContext, 'db' | 'read'>, parameters: readonly unknown[]): Promise<Row[]> {
    if (this.#compiled === undefined) {
      const compiled = this.build(context.db);
      if (compiled.parameters.length !== this.arity) {
        throw new OpenMamError('internal', `a compiled read takes ${compiled.parameters.length} parameters, expected ${this.arity}: ${compiled.sql}`);
      }
      this.#compiled = compiled;
    }
    if (parameters.length !== this.arity) throw new OpenMamError('internal', `a compiled read got ${parameters.length} parameters, expected ${this.arity}`);
    return context.read(this.#compiled, parameters);
  }
}

/** Bumps the tenant's app configuration version; the new one. `not_found` when the tenant does not exist. */
export async function bumpTenantVersion(trx: Transaction<Database>, tenantId: string): Promise<number> {
  const version = await bumpTenantVersionIfAny(trx, tenantId);
  if (version === undefined) throw new OpenMamError('not_found', `tenant ${tenantId} does not exist`);
  return version;
}

export async function bumpTenantVersionIfAny(trx: Transaction<Database>, tenantId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('tenants')
    .set((eb) => ({ app_config_version: eb(eb.ref('app_config_version'), '+', 1) }))
    .where('id', '=', tenantId)
    .returning('app_config_version')
    .executeTakeFirst();
  return row?.app_config_version;
}

/** An insert after the tenant bump; a taken id is `conflict` (nothing written), never a replacement (versioned-write.ts). */
export function createVersioned<T>(context: WriterContext, what: string, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return context.track(async () => {
    try {
      return await context.write(work);
    } catch (err) {
      if (context.isUniqueViolation(err)) throw new OpenMamError('conflict', `${what} already exists`, { cause: err });
      throw err;
    }
  });
}

/**
 * The compare-and-set of versioned-write.ts: the tenant row first (the bump), then `update` (which must match only
 * at `record.version`, writing `version`); no row: undone, and `stale` or `not_found` answered.
 */
export function updateVersioned(
  context: WriterContext,
  table: VersionedTable,
  record: { tenantId: string; id: string; version: number },
  update: (trx: Transaction<Database>, version: number) => Promise<{ numUpdatedRows: bigint }>,
): Promise<VersionedWrite> {
  return context.track(() =>
    context.undoable<VersionedWrite>(async (trx) => {
      if ((await bumpTenantVersionIfAny(trx, record.tenantId)) === undefined) return { kind: 'not_found' };
      const version = record.version + 1;
      const updated = await update(trx, version);
      if (updated.numUpdatedRows === 0n) return undoMissedWrite(trx, table, record.tenantId, record.id);
      return { kind: 'saved', version };
    }),
  );
}

/** The tenant bump, `dependents` removed, then the row (only at `expectedVersion` when given); no row: undone. */
export function deleteVersioned(
  context: WriterContext,
  table: VersionedTable,
  tenantId: string,
  id: string,
  expectedVersion: number | undefined,
  dependents: (trx: Transaction<Database>) => Promise<void> = async () => undefined,
): Promise<VersionedDelete> {
  return context.track(() =>
    context.undoable<VersionedDelete>(async (trx) => {
      if ((await bumpTenantVersionIfAny(trx, tenantId)) === undefined) return { kind: 'not_found' };
      let query = trx.deleteFrom(table).where('tenant_id', '=', tenantId).where('id', '=', id);
      if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
      // Dependents go first (a connector's reports reference it), and are undone with the rest on a miss.
      await dependents(trx);
      const removed = await query.executeTakeFirst();
      if (removed.numDeletedRows === 0n) return undoMissedDelete(trx, table, tenantId, id); // undoes the bump
      return { kind: 'deleted' };
    }),
  );
}

// ---- rows <-> records

/** What an upsert replaces: the row without its key and createdAt (a replacement keeps when it was created). */
export function withoutColumns<R extends object, K extends keyof R>(row: R, columns: readonly K[]): Omit<R, K> {
  const dropped = new Set<PropertyKey>(columns);
  return Object.fromEntries(Object.entries(row).filter(([column]) => !dropped.has(column))) as Omit<R, K>;
}

export function stringsFromColumn(column: string): string[] {
  // Most lists are empty: no parse for those.
  return column === '[]' ? [] : (JSON.parse(column) as string[]);
}

/** A graph_extras column (migration 015): a JSON object, `{}` for a row without extras. */
export function graphExtrasFromColumn(column: string): Record<string, unknown> {
  return column === '{}' ? {} : (JSON.parse(column) as Record<string, unknown>);
}
