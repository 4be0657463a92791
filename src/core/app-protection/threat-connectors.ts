import { OpenMamError } from '../../errors.ts';
import { validateMtdConnector, type MobileThreatDefenseConnectorSettings } from '../../policy/app-protection.ts';
import type { MtdConnectorRecord } from '../../store/app-protection-records.ts';
import type { AppProtectionStore } from '../../store/app-protection-roles.ts';
import { countsForWindowsMam, isUnresponsive } from './threat.ts';

/**
 * The admin side of threat defense connectors (Graph beta `mobileThreatDefenseConnector`): create, read, PATCH,
 * delete. Reports and heartbeats arrive through threat-reports.ts; deleting a connector deletes its reports (store).
 */
export interface ThreatConnectorServiceOptions {
  store: Pick<AppProtectionStore, 'saveConnector' | 'getConnector' | 'listConnectors' | 'deleteConnector'>;
  clock: () => number;
  newId: () => string;
}

function settingsOf(connector: MtdConnectorRecord): MobileThreatDefenseConnectorSettings {
  return {
    partnerState: connector.partnerState,
    windowsMobileApplicationManagementEnabled: connector.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: connector.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: connector.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: connector.partnerUnresponsivenessThresholdInDays,
  };
}

/**
 * The partner state an admin sees: the stored one, except that a connector that counts for MAM but has been
 * silent past its threshold shows `unresponsive` (what threat.ts decides for health checks).
 */
export function effectivePartnerState(connector: MtdConnectorRecord, now: number): MtdConnectorRecord['partnerState'] {
  return countsForWindowsMam(connector) && isUnresponsive(connector, now) ? 'unresponsive' : connector.partnerState;
}

export class ThreatConnectorService {
  constructor(private readonly options: ThreatConnectorServiceOptions) {}

  list(tenantId: string): Promise<MtdConnectorRecord[]> {
    return this.options.store.listConnectors(tenantId);
  }

  async get(tenantId: string, id: string): Promise<MtdConnectorRecord> {
    const connector = await this.options.store.getConnector(tenantId, id);
    if (!connector) throw new OpenMamError('not_found', `no mobileThreatDefenseConnector with id ${id}`);
    return connector;
  }

  async create(tenantId: string, input: unknown): Promise<MtdConnectorRecord> {
    const settings = validateMtdConnector(input, 'create');
    const now = this.options.clock();
    const connector: MtdConnectorRecord = { tenantId, id: this.options.newId(), ...settings, lastHeartbeatAt: null, createdAt: now, updatedAt: now };
    await this.options.store.saveConnector(connector);
    return connector;
  }

  /** PATCH: the given settings over the stored ones; the heartbeat is the connector's own and stays as read. */
  async update(tenantId: string, id: string, patch: unknown): Promise<MtdConnectorRecord> {
    const current = await this.get(tenantId, id);
    const changes = validateMtdConnector(patch, 'update');
    const settings = validateMtdConnector({ ...settingsOf(current), ...changes }, 'create');
    const connector: MtdConnectorRecord = { ...current, ...settings, updatedAt: this.options.clock() };
    await this.options.store.saveConnector(connector);
    return connector;
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.options.store.deleteConnector(tenantId, id))) throw new OpenMamError('not_found', `no mobileThreatDefenseConnector with id ${id}`);
  }
}
