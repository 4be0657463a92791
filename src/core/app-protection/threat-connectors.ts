import { OpenMamError } from '../../errors.ts';
import { connectorAsGraph, connectorExtrasPaths, validateMtdConnector, type MobileThreatDefenseConnectorSettings } from '../../policy/app-protection.ts';
import type { WithGraphExtras } from '../../policy/graph-extras.ts';
import type { MtdConnectorRecord } from '../../store/app-protection-records.ts';
import type { ThreatStore } from '../../store/app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from '../versioned-write.ts';
import { countsForWindowsMam, isUnresponsive } from './threat.ts';
import { recordChange, type AuditActivity, type AuditContext, type AuditTrail } from '../audit/audit-trail.ts';

/**
 * The admin side of threat defense connectors (Graph beta `mobileThreatDefenseConnector`): create, read, PATCH,
 * delete. Reports and heartbeats arrive through threat-reports.ts; deleting a connector deletes its reports (store).
 */
export interface ThreatConnectorServiceOptions {
  store: Pick<ThreatStore, 'createConnector' | 'updateConnector' | 'getConnector' | 'listConnectors' | 'queryConnectors' | 'deleteConnector'>;
  /** Every change is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
}

function settingsOf(connector: MtdConnectorRecord): WithGraphExtras<MobileThreatDefenseConnectorSettings> {
  return {
    partnerState: connector.partnerState,
    windowsMobileApplicationManagementEnabled: connector.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: connector.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: connector.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: connector.partnerUnresponsivenessThresholdInDays,
    graphExtras: connector.graphExtras,
  };
}

/**
 * The partner state an admin sees: the stored one, except that a connector that counts for MAM but has been
 * silent past its threshold shows `unresponsive` (what threat.ts decides for health checks).
 */
export function effectivePartnerState(connector: MtdConnectorRecord, now: number): MtdConnectorRecord['partnerState'] {
  return countsForWindowsMam(connector) && isUnresponsive(connector, now) ? 'unresponsive' : connector.partnerState;
}

/** The audit trail's subject of its changes. */
export const CONNECTOR_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'threatDefense', entity: 'MobileThreatDefenseConnector' };

export class ThreatConnectorService {
  constructor(private readonly options: ThreatConnectorServiceOptions) {}

  query(tenantId: string, query: CollectionQuery): Promise<CollectionPage<MtdConnectorRecord>> {
    return this.options.store.queryConnectors(tenantId, query);
  }

  list(tenantId: string): Promise<MtdConnectorRecord[]> {
    return this.options.store.listConnectors(tenantId);
  }

  async get(tenantId: string, id: string): Promise<MtdConnectorRecord> {
    const connector = await this.options.store.getConnector(tenantId, id);
    if (!connector) throw new OpenMamError('not_found', `no mobileThreatDefenseConnector with id ${id}`);
    return connector;
  }

  async create(caller: AuditContext, input: unknown): Promise<MtdConnectorRecord> {
    const { tenantId } = caller;
    const settings = validateMtdConnector(input, 'create');
    const now = this.options.clock();
    const connector: MtdConnectorRecord = { tenantId, id: this.options.newId(), ...settings, lastHeartbeatAt: null, version: 1, createdAt: now, updatedAt: now };
    await this.options.audit.attach(caller, recordChange(CONNECTOR_AUDIT, 'Create', undefined, connector, null), () => this.options.store.createConnector(connector));
    return connector;
  }

  /**
   * PATCH: the given properties over the stored Graph shape (settings and stored-only properties), then all is
   * validated; the heartbeat is the connector's own (the store never writes it
   * here). A compare-and-set on the connector's version (versioned-write.ts).
   */
  async update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<MtdConnectorRecord> {
    const { tenantId } = caller;
    let current: MtdConnectorRecord | undefined;
    const changes = validateMtdConnector(patch, 'update');
    return writeVersioned({
      what: `mobileThreatDefenseConnector ${id}`,
      expected,
      read: async () => (current = await this.get(tenantId, id)),
      change: (current) => ({ ...current, ...validateMtdConnector({ ...connectorAsGraph(settingsOf(current)), ...changes }, 'create'), updatedAt: this.options.clock() }),
      write: (next) => this.options.audit.attach(caller, recordChange(CONNECTOR_AUDIT, 'Patch', current, next, null), () => this.options.store.updateConnector(next)),
    });
  }

  /** The paths of the stored-only properties the connector has set (OpenMAM's `@openmam.notApplicableProperties`). */
  notApplicableProperties(connector: MtdConnectorRecord): string[] {
    return connectorExtrasPaths(connector.graphExtras);
  }

  async delete(caller: AuditContext, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let current: MtdConnectorRecord | undefined;
    await deleteVersioned({
      what: `mobileThreatDefenseConnector ${id}`,
      expected,
      // Read first: what it was goes to the trail.
      readFirst: true,
      read: async () => (current = await this.get(tenantId, id)),
      remove: (version) => this.options.audit.attach(caller, recordChange(CONNECTOR_AUDIT, 'Delete', current, undefined, current === undefined ? null : null), () => this.options.store.deleteConnector(tenantId, id, version)),
    });
  }
}
