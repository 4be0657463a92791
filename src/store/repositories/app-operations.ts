import type { Selectable } from 'kysely';
import type { AppOperationRecord } from '../app-protection-records.ts';
import type { AppOperationStore } from '../app-protection-roles.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { AppOperationsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { CompiledRead, PENDING } from './app-protection-shared.ts';

type OperationRow = Selectable<AppOperationsTable>;

/** Most rows of one multi-row insert (11 columns at most: far below either database's parameter limit). */
const MAX_INSERT_BATCH = 64;

/**
 * Operations on registrations (selective wipe), over KyselyStore's database and write path. pendingOperations is a
 * check-in's hot read: one indexed query, compiled once.
 */
export class KyselyAppOperationRepository implements AppOperationStore {
  readonly #context: StoreContext;

  readonly #pendingOperations = new CompiledRead<OperationRow>(
    (db) =>
      db
        .selectFrom('app_operations')
        .selectAll()
        .where('registration_id', '=', '')
        .where('status', '=', PENDING)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .compile(),
    1,
  );

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /**
   * Inserts with "on conflict do nothing" on the partial unique index app_operations_pending_key: the database keeps
   * one pending wipe per registration, even under concurrent requests on several nodes. Answers the inserted ones in
   * the given order.
   */
  addOperations(operations: readonly AppOperationRecord[]): Promise<AppOperationRecord[]> {
    return this.#context.track(async () => {
      if (operations.length === 0) return [];
      const inserted = new Set<string>();
      await this.#context.write(async (trx) => {
        inserted.clear(); // a group commit that failed runs the unit again
        for (const batch of batches(operations, MAX_INSERT_BATCH)) {
          const rows = await trx
            .insertInto('app_operations')
            .values(batch.map(operationToRow))
            .onConflict((oc) => oc.columns(['registration_id', 'kind']).where('status', '=', PENDING).doNothing())
            .returning('id')
            .execute();
          for (const row of rows) inserted.add(row.id);
        }
      });
      return operations.filter((o) => inserted.has(o.id));
    });
  }

  getOperation(id: string): Promise<AppOperationRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('app_operations').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : operationFromRow(row);
    });
  }

  listOperations(registrationId: string): Promise<AppOperationRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('app_operations').selectAll().where('registration_id', '=', registrationId).execute();
      const pending = rows.filter((r) => r.status === 'pending').sort((a, b) => a.created_at - b.created_at || compareKeys(a.id, b.id));
      const completed = rows.filter((r) => r.status !== 'pending').sort((a, b) => b.created_at - a.created_at || compareKeys(b.id, a.id));
      return [...pending, ...completed].map(operationFromRow);
    });
  }

  pendingOperations(registrationId: string): Promise<AppOperationRecord[]> {
    return this.#context.track(async () => (await this.#pendingOperations.run(this.#context, [registrationId])).map(operationFromRow));
  }

  completeOperation(id: string, result: { status: 'succeeded' | 'failed'; detail: string | null; completedAt: number; expiresAt: number }): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.write(async (trx) => {
        const completed = await trx
          .updateTable('app_operations')
          .set({ status: result.status, detail: result.detail, completed_at: result.completedAt, expires_at: result.expiresAt })
          .where('id', '=', id)
          .where('status', '=', PENDING)
          .returning(['registration_id', 'kind'])
          .executeTakeFirst();
        if (completed === undefined) return false;
        if (result.status === 'succeeded' && completed.kind === 'wipe') {
          await trx.updateTable('app_registrations').set({ state: 'wiped' }).where('id', '=', completed.registration_id).execute();
        }
        return true;
      }),
    );
  }
}

// ---- rows <-> records

function operationToRow(o: AppOperationRecord): OperationRow {
  return {
    id: o.id,
    tenant_id: o.tenantId,
    registration_id: o.registrationId,
    user_id: o.userId,
    kind: o.kind,
    reason: o.reason,
    status: o.status,
    detail: o.detail,
    created_at: o.createdAt,
    completed_at: o.completedAt,
    expires_at: o.expiresAt,
  };
}

function operationFromRow(row: OperationRow): AppOperationRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    registrationId: row.registration_id,
    userId: row.user_id,
    kind: row.kind,
    reason: row.reason,
    status: row.status,
    detail: row.detail,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
  };
}
