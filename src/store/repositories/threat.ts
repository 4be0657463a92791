import type { Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { MtdConnectorRecord, ThreatReportRecord } from '../app-protection-records.ts';
import type { ThreatStore } from '../app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { VersionedDelete, VersionedWrite } from '../roles.ts';
import { booleanFromColumn, booleanToColumn } from '../row-helpers.ts';
import type { MtdConnectorsTable, MtdThreatReportsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { bumpTenantVersion, bumpTenantVersionIfAny, CompiledRead, createVersioned, deleteVersioned, graphExtrasFromColumn, updateVersioned, withoutColumns } from './app-protection-shared.ts';
import { Undo } from '../versioned-write.ts';

type ConnectorRow = Selectable<MtdConnectorsTable>;
export type ThreatReportRow = Selectable<MtdThreatReportsTable>;

/**
 * Mobile threat defense connectors and their reports, over KyselyStore's database and write path. threatReportsFor is
 * a check-in's hot read: one indexed query, compiled once.
 */
export class KyselyThreatRepository implements ThreatStore {
  readonly #context: StoreContext;

  readonly #threatReports = new CompiledRead<ThreatReportRow>(
    (db) =>
      db
        .selectFrom('mtd_threat_reports')
        .selectAll()
        .where('tenant_id', '=', '')
        .where('user_id', '=', '')
        .where('azure_ad_device_id', '=', '')
        .orderBy('reported_at', 'desc')
        .orderBy('connector_id', 'asc')
        .orderBy('app_id', 'asc')
        .compile(),
    3,
  );

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** A plain insert, never an upsert (versioned-write.ts). */
  createConnector(connector: MtdConnectorRecord): Promise<void> {
    return createVersioned(this.#context, `threat defense connector ${connector.id}`, async (trx) => {
      await bumpTenantVersion(trx, connector.tenantId);
      await trx.insertInto('mtd_connectors').values(connectorToRow(connector)).execute();
    });
  }

  /** The admin's settings only: the heartbeat is the connector's own (recordConnectorHeartbeat) and is never written back stale. */
  updateConnector(connector: MtdConnectorRecord): Promise<VersionedWrite> {
    return updateVersioned(this.#context, 'mtd_connectors', connector, async (trx, version) => {
      const row = connectorToRow(connector);
      return trx
        .updateTable('mtd_connectors')
        .set({
          ...withoutColumns(row, ['tenant_id', 'id', 'created_at', 'last_heartbeat_at']),
          version,
        })
        .where('tenant_id', '=', connector.tenantId)
        .where('id', '=', connector.id)
        .where('version', '=', connector.version)
        .executeTakeFirst();
    });
  }

  recordConnectorHeartbeat(tenantId: string, id: string, at: number, enable: boolean): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        if ((await bumpTenantVersionIfAny(trx, tenantId)) === undefined) return false;
        const updated = await trx
          .updateTable('mtd_connectors')
          .set((eb) => ({
            last_heartbeat_at: at,
            // A changed partner state is a change of the entity (its tag moves); a heartbeat alone is not.
            ...(enable
              ? {
                  partner_state: 'enabled' as const,
                  version: eb.case().when('partner_state', '=', 'enabled').then(eb.ref('version')).else(eb(eb.ref('version'), '+', 1)).end(),
                  updated_at: eb.case().when('partner_state', '=', 'enabled').then(eb.ref('updated_at')).else(at).end(),
                }
              : {}),
          }))
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  getConnector(tenantId: string, id: string): Promise<MtdConnectorRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('mtd_connectors').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : connectorFromRow(row);
    });
  }

  /** Ordered by createdAt, then id. */
  listConnectors(tenantId: string): Promise<MtdConnectorRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db.selectFrom('mtd_connectors').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(connectorFromRow);
    });
  }

  async queryConnectors(tenantId: string, query: CollectionQuery): Promise<CollectionPage<MtdConnectorRecord>> {
    const page = await this.#context.queryCollection<ConnectorRow>(collections.CONNECTORS, tenantId, query);
    return { ...page, rows: page.rows.map(connectorFromRow) };
  }

  deleteConnector(tenantId: string, id: string, expectedVersion?: number): Promise<VersionedDelete> {
    return deleteVersioned(this.#context, 'mtd_connectors', tenantId, id, expectedVersion, async (trx) => {
      await trx.deleteFrom('mtd_threat_reports').where('tenant_id', '=', tenantId).where('connector_id', '=', id).execute();
    });
  }

  /**
   * The connector's heartbeat becomes the report's receivedAt; a report older (by reportedAt) than the stored one for
   * the same key only counts as a heartbeat. `not_found` (nothing written) when the connector does not exist. A
   * report does not bump the version: its state is read per device (threatReportsFor).
   */
  saveThreatReport(report: ThreatReportRecord): Promise<void> {
    return this.#context.track(() =>
      this.#context.write(async (trx) => {
        const connector = await trx
          .updateTable('mtd_connectors')
          .set({ last_heartbeat_at: report.receivedAt })
          .where('tenant_id', '=', report.tenantId)
          .where('id', '=', report.connectorId)
          .returning('id')
          .executeTakeFirst();
        if (connector === undefined) throw new OpenMamError('not_found', `threat defense connector ${report.connectorId} does not exist`);
        await trx
          .insertInto('mtd_threat_reports')
          .values(threatReportToRow(report))
          .onConflict((oc) =>
            oc
              .columns(['tenant_id', 'connector_id', 'user_id', 'app_id', 'azure_ad_device_id'])
              .doUpdateSet((eb) => ({
                health_state: eb.ref('excluded.health_state'),
                reported_at: eb.ref('excluded.reported_at'),
                received_at: eb.ref('excluded.received_at'),
              }))
              .where((eb) => eb('mtd_threat_reports.reported_at', '<=', eb.ref('excluded.reported_at'))),
          )
          .execute();
      }),
    );
  }

  threatReportsFor(tenantId: string, userId: string, azureAdDeviceId: string): Promise<ThreatReportRecord[]> {
    return this.#context.track(async () => (await this.#threatReports.run(this.#context, [tenantId, userId, azureAdDeviceId])).map(threatReportFromRow));
  }

  listThreatReports(tenantId: string, limit: number): Promise<ThreatReportRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context.db
        .selectFrom('mtd_threat_reports')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('reported_at', 'desc')
        .orderBy('connector_id', 'asc')
        .orderBy('user_id', 'asc')
        .orderBy('azure_ad_device_id', 'asc')
        .orderBy('app_id', 'asc')
        .limit(limit)
        .execute();
      return rows.map(threatReportFromRow);
    });
  }
}

// ---- rows <-> records

function connectorToRow(c: MtdConnectorRecord): ConnectorRow {
  return {
    tenant_id: c.tenantId,
    id: c.id,
    partner_state: c.partnerState,
    last_heartbeat_at: c.lastHeartbeatAt,
    windows_mobile_application_management_enabled: booleanToColumn(c.windowsMobileApplicationManagementEnabled),
    windows_device_blocked_on_missing_partner_data: booleanToColumn(c.windowsDeviceBlockedOnMissingPartnerData),
    partner_unsupported_os_version_blocked: booleanToColumn(c.partnerUnsupportedOsVersionBlocked),
    partner_unresponsiveness_threshold_in_days: c.partnerUnresponsivenessThresholdInDays,
    graph_extras: JSON.stringify(c.graphExtras),
    version: c.version,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

function connectorFromRow(row: ConnectorRow): MtdConnectorRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    partnerState: row.partner_state,
    lastHeartbeatAt: row.last_heartbeat_at,
    windowsMobileApplicationManagementEnabled: booleanFromColumn(row.windows_mobile_application_management_enabled),
    windowsDeviceBlockedOnMissingPartnerData: booleanFromColumn(row.windows_device_blocked_on_missing_partner_data),
    partnerUnsupportedOsVersionBlocked: booleanFromColumn(row.partner_unsupported_os_version_blocked),
    partnerUnresponsivenessThresholdInDays: row.partner_unresponsiveness_threshold_in_days,
    graphExtras: graphExtrasFromColumn(row.graph_extras),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function threatReportToRow(r: ThreatReportRecord): ThreatReportRow {
  return {
    tenant_id: r.tenantId,
    connector_id: r.connectorId,
    user_id: r.userId,
    app_id: r.appId,
    azure_ad_device_id: r.azureAdDeviceId,
    health_state: r.healthState,
    reported_at: r.reportedAt,
    received_at: r.receivedAt,
  };
}

export function threatReportFromRow(row: ThreatReportRow): ThreatReportRecord {
  return {
    tenantId: row.tenant_id,
    connectorId: row.connector_id,
    userId: row.user_id,
    appId: row.app_id,
    azureAdDeviceId: row.azure_ad_device_id,
    healthState: row.health_state,
    reportedAt: row.reported_at,
    receivedAt: row.received_at,
  };
}
