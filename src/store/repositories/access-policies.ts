import type { Selectable } from 'kysely';
import type { AccessPolicyRecord, DeviceComplianceRecord } from '../app-protection-records.ts';
import type { AccessPolicyStore } from '../app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import { booleanFromColumn, booleanToColumn } from '../row-helpers.ts';
import type { AccessPoliciesTable, DeviceComplianceTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { bumpTenantVersion, createVersioned, deleteVersioned, graphExtrasFromColumn, stringsFromColumn, updateVersioned, withoutColumns } from './app-protection-shared.ts';

type AccessPolicyRow = Selectable<AccessPoliciesTable>;
type DeviceComplianceRow = Selectable<DeviceComplianceTable>;

/** Conditional access policies and device compliance, over KyselyStore's database and write path. */
export class KyselyAccessPolicyRepository implements AccessPolicyStore {
  readonly #context: StoreContext;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** A plain insert, never an upsert (versioned-write.ts). */
  createAccessPolicy(policy: AccessPolicyRecord): Promise<void> {
    return createVersioned(this.#context, `access policy ${policy.id}`, async (trx) => {
      await bumpTenantVersion(trx, policy.tenantId);
      await trx.insertInto('access_policies').values(accessPolicyToRow(policy)).execute();
    });
  }

  updateAccessPolicy(policy: AccessPolicyRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'access_policies', policy, async (trx, version) => {
      const row = accessPolicyToRow(policy);
      return trx
        .updateTable('access_policies')
        .set({ ...withoutColumns(row, ['tenant_id', 'id', 'created_at']), version })
        .where('tenant_id', '=', policy.tenantId)
        .where('id', '=', policy.id)
        .where('version', '=', policy.version)
        .executeTakeFirst();
    });
  }

  getAccessPolicy(tenantId: string, id: string): Promise<AccessPolicyRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : accessPolicyFromRow(row);
    });
  }

  /** Ordered by createdAt, then id. */
  listAccessPolicies(tenantId: string): Promise<AccessPolicyRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(accessPolicyFromRow);
    });
  }

  async queryAccessPolicies(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AccessPolicyRecord>> {
    const page = await this.#context.queryCollection<AccessPolicyRow>(collections.ACCESS_POLICIES, tenantId, query);
    return { ...page, rows: page.rows.map(accessPolicyFromRow) };
  }

  /** Bumps the version; nothing bumped unless deleted. */
  deleteAccessPolicy(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'access_policies', tenantId, id, expectedVersion);
  }

  /** Insert or replace by (tenant, device). */
  saveDeviceCompliance(record: DeviceComplianceRecord): Promise<void> {
    return this.#context.track(async () => {
      const row = deviceComplianceToRow(record);
      await this.#context.write((trx) =>
        trx
          .insertInto('device_compliance')
          .values(row)
          .onConflict((oc) => oc.columns(['tenant_id', 'azure_ad_device_id']).doUpdateSet({ compliant: row.compliant, reported_at: row.reported_at }))
          .execute(),
      );
    });
  }

  getDeviceCompliance(tenantId: string, azureAdDeviceId: string): Promise<DeviceComplianceRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db
        .selectFrom('device_compliance')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('azure_ad_device_id', '=', azureAdDeviceId)
        .executeTakeFirst();
      return row === undefined ? undefined : deviceComplianceFromRow(row);
    });
  }
}

// ---- rows <-> records

function accessPolicyToRow(p: AccessPolicyRecord): AccessPolicyRow {
  return {
    tenant_id: p.tenantId,
    id: p.id,
    display_name: p.displayName,
    state: p.state,
    resources: JSON.stringify(p.resources),
    include_groups: JSON.stringify(p.includeGroups),
    exclude_groups: JSON.stringify(p.excludeGroups),
    include_all_users: booleanToColumn(p.includeAllUsers),
    approved_apps: JSON.stringify(p.approvedApps),
    grant_controls: JSON.stringify(p.grantControls),
    graph_extras: JSON.stringify(p.graphExtras),
    version: p.version,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

function accessPolicyFromRow(row: AccessPolicyRow): AccessPolicyRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    displayName: row.display_name,
    state: row.state,
    resources: stringsFromColumn(row.resources),
    includeGroups: stringsFromColumn(row.include_groups),
    excludeGroups: stringsFromColumn(row.exclude_groups),
    includeAllUsers: booleanFromColumn(row.include_all_users),
    approvedApps: stringsFromColumn(row.approved_apps),
    grantControls: JSON.parse(row.grant_controls) as AccessPolicyRecord['grantControls'],
    graphExtras: graphExtrasFromColumn(row.graph_extras),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function deviceComplianceToRow(r: DeviceComplianceRecord): DeviceComplianceRow {
  return { tenant_id: r.tenantId, azure_ad_device_id: r.azureAdDeviceId, compliant: booleanToColumn(r.compliant), reported_at: r.reportedAt };
}

function deviceComplianceFromRow(row: DeviceComplianceRow): DeviceComplianceRecord {
  return { tenantId: row.tenant_id, azureAdDeviceId: row.azure_ad_device_id, compliant: booleanFromColumn(row.compliant), reportedAt: row.reported_at };
}
