import { sql } from 'kysely';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ConfigurationSetRecord, ConfigurationTarget, DeviceFacts, EnrollmentRecord, EnrollmentState } from '../records.ts';
import { batches as batchesOf } from '../row-helpers.ts';
import type { ConfigurationSetsTable, Database, DeviceFactColumns, EnrollmentsTable, ManagementStateTable } from '../schema.ts';

/**
 * What more than one role repository needs (kysely-store.ts lends each the StoreContext): the writes that cross
 * roles inside one transaction (the tenant's configuration version, a configuration set, a management state row),
 * the enrollment row's record, and the batch bounds. Each role's own mappers live in its module.
 */

export type EnrollmentRow = Selectable<EnrollmentsTable>;
export type ConfigurationSetRow = Selectable<ConfigurationSetsTable>;
export type ManagementStateRow = Selectable<ManagementStateTable>;
/** target_groups, parsed. */
export type GroupTargetColumn = Omit<Extract<ConfigurationTarget, { kind: 'groups' }>, 'kind'>;
/** Management state columns to write; the key is never among them. */
export type ManagementStateChanges = Partial<Omit<ManagementStateRow, 'enrollment_id'>>;

/**
 * `state = 'enrolled'` is written as a literal, not a bound parameter: only then can SQLite (and PostgreSQL's
 * generic plans) prove the query matches the partial index enrollments_active_dev_id instead of scanning the table.
 */
export const ACTIVE = sql.lit<EnrollmentState>('enrolled');

/** Most rows one multi-row statement carries (7 columns at most: far below either database's parameter limit). */
const MAX_BATCH = 256;

/**
 * Most keys one `IN (...)` read carries: one parameter each, far below SQLite's limit (32766 since 3.32; the bundled
 * SQLite is newer) and PostgreSQL's (65535), so a report over 10,000 devices is ten queries per table.
 */
export const MAX_READ_BATCH = 1024;

export function batches<T>(rows: readonly T[], max = MAX_BATCH): Generator<T[]> {
  return batchesOf(rows, max);
}

/** Bumps the tenant's configuration version; the new version, or undefined when there is no such tenant. */
export async function bumpConfigVersion(trx: Transaction<Database>, tenantId: string): Promise<number | undefined> {
  const row = await trx
    .updateTable('tenants')
    .set((eb) => ({ config_version: eb(eb.ref('config_version'), '+', 1) }))
    .where('id', '=', tenantId)
    .returning('config_version')
    .executeTakeFirst();
  return row?.config_version;
}

/** Creates or replaces a configuration set by (tenant, id); a replacement keeps the stored createdAt. */
export async function upsertConfigurationSet(trx: Transaction<Database>, set: ConfigurationSetRecord): Promise<void> {
  const row = configurationSetToRow(set);
  await trx
    .insertInto('configuration_sets')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'id']).doUpdateSet({
        name: row.name,
        target_kind: row.target_kind,
        target_dev_id: row.target_dev_id,
        target_groups: row.target_groups,
        settings: row.settings,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/** Writes `changes` to the enrollment's management state, creating the row (with defaults elsewhere) if missing. */
export async function upsertManagementState(db: Kysely<Database>, enrollmentId: string, changes: ManagementStateChanges): Promise<void> {
  await db
    .insertInto('management_state')
    .values({ ...managementStateDefaults(enrollmentId), ...changes })
    .onConflict((oc) => oc.column('enrollment_id').doUpdateSet(changes))
    .execute();
}

/** What a missing management_state row stands for. */
export function managementStateDefaults(enrollmentId: string): ManagementStateRow {
  return {
    enrollment_id: enrollmentId,
    settled_version: 0,
    waiting_for_user: 0,
    inventory_at: null,
    last_checkin_at: null,
    message_log_until: null,
    token_groups: null,
  };
}

export function configurationSetToRow(set: ConfigurationSetRecord): ConfigurationSetRow {
  return {
    tenant_id: set.tenantId,
    id: set.id,
    name: set.name,
    target_kind: set.target.kind,
    target_dev_id: set.target.kind === 'device' ? set.target.devId : null,
    target_groups: set.target.kind === 'groups' ? groupTargetToColumn(set.target) : null,
    settings: JSON.stringify(set.settings),
    created_at: set.createdAt,
    updated_at: set.updatedAt,
  };
}

/** Only the known fields, in a fixed order (not `kind`, nor anything else the caller's object carries); filters only when set. */
function groupTargetToColumn(target: GroupTargetColumn): string {
  const column: GroupTargetColumn = { include: target.include, exclude: target.exclude, allUsers: target.allUsers, ...(target.filters === undefined ? {} : { filters: target.filters }) };
  return JSON.stringify(column);
}

export function enrollmentFromRow(row: EnrollmentRow): EnrollmentRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    devId: row.dev_id,
    userOid: row.user_oid,
    upn: row.upn,
    entraDeviceId: row.entra_device_id,
    enrollmentType: row.enrollment_type,
    state: row.state,
    applicationVersion: row.application_version,
    requestVersion: row.request_version,
    termsAcceptedAt: row.terms_accepted_at,
    enrollCount: row.enroll_count,
    ...deviceFactsFromColumns(row),
    createdAt: row.created_at,
    enrolledAt: row.enrolled_at,
    updatedAt: row.updated_at,
    unenrolledAt: row.unenrolled_at,
    unenrollReason: row.unenroll_reason,
    managementState: row.management_state,
    complianceState: row.compliance_state,
    complianceGraceUntil: row.compliance_grace_until,
    manufacturer: row.manufacturer,
    model: row.model,
  };
}

export function deviceFactsFromColumns(row: DeviceFactColumns): DeviceFacts {
  return {
    hwDevId: row.hw_dev_id,
    deviceName: row.device_name,
    deviceType: row.device_type,
    osEdition: row.os_edition,
    osVersion: row.os_version,
    locale: row.locale,
  };
}
