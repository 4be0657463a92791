import type { Transaction } from 'kysely';
import type { VersionedDelete, VersionedWrite } from './roles.ts';
import type { Database } from './schema.ts';

/**
 * The compare-and-set of admin writes, shared by both stores. An update is `UPDATE ... WHERE tenant_id = ? AND id = ?
 * AND version = ?` that bumps the version, after the tenant row (the version bump that every admin writer takes
 * first, so concurrent writers of a tenant queue on one row and never deadlock). When it matches no row, the
 * transaction is undone (the bump with it) and the store answers why: `stale` or `not_found`. Never an upsert: an
 * object deleted meanwhile stays deleted.
 */

/** The tables of admin-writable objects: each keyed by (tenant_id, id) with a `version` column. */
export type VersionedTable = 'policies' | 'app_policies' | 'mtd_connectors' | 'access_policies' | 'managed_apps' | 'service_principals' | 'assignment_filters' | 'compliance_policies';

/**
 * Thrown inside a write transaction to undo it (under group commit too: the unit alone is rolled back) and to answer
 * `outcome` instead. Never leaves the store.
 */
export class Undo<T> extends Error {
  constructor(readonly outcome: T) {
    super('write undone');
  }
}

/** Runs `work` in a write transaction; when it throws Undo, the transaction is rolled back and its outcome answered. */
export async function undoable<T>(write: (work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    return await write(work);
  } catch (err) {
    if (err instanceof Undo) return err.outcome as T;
    throw err;
  }
}

/** Why a compare-and-set matched no row, read in the same transaction (the tenant row is held: nothing moves meanwhile). */
export async function missedWrite(trx: Transaction<Database>, table: VersionedTable, tenantId: string, id: string): Promise<Exclude<VersionedWrite, { kind: 'saved' }>> {
  const row = await trx.selectFrom(table).select('version').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return row === undefined ? { kind: 'not_found' } : { kind: 'stale', current: Number(row.version) };
}

/** Undoes the transaction with the reason an update matched no row. */
export async function undoMissedWrite(trx: Transaction<Database>, table: VersionedTable, tenantId: string, id: string): Promise<never> {
  throw new Undo<VersionedWrite>(await missedWrite(trx, table, tenantId, id));
}

/** Undoes the transaction with the reason a delete matched no row. */
export async function undoMissedDelete(trx: Transaction<Database>, table: VersionedTable, tenantId: string, id: string): Promise<never> {
  throw new Undo<VersionedDelete>(await missedWrite(trx, table, tenantId, id));
}

/** A policy as both policy tables keep it (OMA-DM policies, compliance policies): Graph body and assignments. */
export interface StoredPolicy<K extends string> {
  tenantId: string;
  id: string;
  kind: K;
  body: Record<string, unknown>;
  assignments: readonly object[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Its row: body and assignments as JSON text. */
export function policyToRow<K extends string>(policy: StoredPolicy<K>): PolicyBodyRow & { kind: K; version: number; created_at: number } {
  return {
    tenant_id: policy.tenantId,
    id: policy.id,
    kind: policy.kind,
    body: JSON.stringify(policy.body),
    assignments: JSON.stringify(policy.assignments),
    version: policy.version,
    created_at: policy.createdAt,
    updated_at: policy.updatedAt,
  };
}

/** The columns of a policy row written by an update: its Graph body and assignments as JSON. */
export interface PolicyBodyRow {
  tenant_id: string;
  id: string;
  body: string;
  assignments: string;
  updated_at: number;
}

/**
 * The compare-and-set of a policy table whose row is a body with its assignments (OMA-DM policies, compliance
 * policies): writes them as `version + 1` while the stored version is still `version`, and answers the new version;
 * otherwise undoes the transaction with the reason (`stale`, `not_found`).
 */
export async function writePolicyBody(trx: Transaction<Database>, table: 'policies' | 'compliance_policies', row: PolicyBodyRow, version: number): Promise<number> {
  const updated = await trx
    .updateTable(table)
    .set({ body: row.body, assignments: row.assignments, version: version + 1, updated_at: row.updated_at })
    .where('tenant_id', '=', row.tenant_id)
    .where('id', '=', row.id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) return undoMissedWrite(trx, table, row.tenant_id, row.id);
  return version + 1;
}
