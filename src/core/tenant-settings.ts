import { compilePollSchedule } from '../csp/compile/dmclient-poll.ts';
import { OpenMamError } from '../errors.ts';
import type { TenantDirectory } from '../identity/tenants.ts';
import type { PollSchedule, TenantRecord } from '../store/records.ts';
import type { ConfigurationService } from './management/configuration.ts';

/** The configuration set that carries a tenant's changed poll schedule to its enrolled devices. */
export const POLL_SCHEDULE_SET_ID = 'openmam-tenant-poll-schedule';

/**
 * Tenant settings that reach devices. The poll schedule is in every new device's provisioning document; when an admin
 * changes it, enrolled devices get the DMClient Poll nodes through a tenant-wide configuration set (O(1), picked up
 * at each device's next check-in).
 */
export class TenantSettingsService {
  constructor(
    private readonly tenants: Pick<TenantDirectory, 'get' | 'update'>,
    private readonly configuration: ConfigurationService,
    private readonly providerId: string,
  ) {}

  async setPollSchedule(tenantId: string, change: Partial<PollSchedule>): Promise<TenantRecord> {
    const current = await this.tenants.get(tenantId);
    if (!current) throw new OpenMamError('not_found', `tenant ${tenantId} is not onboarded`);
    const pollSchedule: PollSchedule = { ...current.settings.pollSchedule, ...change };
    // TenantDirectory.update validates the schedule (Microsoft's >= 1440-minute long-term guidance included).
    const tenant = await this.tenants.update(tenantId, { settings: { pollSchedule } });
    await this.configuration.putSet({
      tenantId: tenant.id,
      id: POLL_SCHEDULE_SET_ID,
      name: 'Poll schedule (tenant settings)',
      target: { kind: 'all_devices' },
      settings: compilePollSchedule(this.providerId, tenant.settings.pollSchedule),
    });
    return tenant;
  }
}
