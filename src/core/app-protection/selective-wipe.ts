import { OpenMamError } from '../../errors.ts';
import { parseIsoDuration } from '../../../packages/contract/src/duration.ts';
import type { WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppOperationRecord, AppPolicyRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import type { AppProtectionStore } from '../../store/app-protection-roles.ts';
import { pendingWipe } from './operations.ts';
import type { TenantAppSnapshots } from './tenant-snapshot.ts';

/**
 * Selective wipe (seed 003, spec "Selective wipe"): removes only the work account's data from managed apps. An admin
 * action creates one wipe operation per protected app on the targeted device(s); each is delivered at the app's next
 * check-in and ends succeeded or failed when the app reports. A wiped-and-blocked user gets a wipe at every check-in
 * (ManagedAppService) until unblocked.
 */
export interface SelectiveWipeOptions {
  store: AppProtectionStore;
  snapshots: TenantAppSnapshots;
  clock: () => number;
  newId: () => string;
}

/** Bounds one admin action; a user has a handful of apps on a handful of devices. */
const MAX_REGISTRATIONS = 1000;

export class SelectiveWipeService {
  constructor(private readonly options: SelectiveWipeOptions) {}

  /** `wipeManagedAppRegistrationsByDeviceTag`: the user's apps on the device with that tag. Returns the operations created. */
  async wipeByDeviceTag(tenantId: string, userId: string, deviceTag: string): Promise<AppOperationRecord[]> {
    const registrations = await this.options.store.listRegistrations(tenantId, { userId, deviceTag }, MAX_REGISTRATIONS);
    if (registrations.length === 0) throw new OpenMamError('not_found', `user ${userId} has no managed apps on a device with tag ${deviceTag}`);
    return this.wipe(registrations, 'deviceTag');
  }

  /** `wipeManagedAppRegistrationsByAzureAdDeviceId`. */
  async wipeByAzureAdDeviceId(tenantId: string, userId: string, azureAdDeviceId: string): Promise<AppOperationRecord[]> {
    const registrations = await this.options.store.listRegistrations(tenantId, { userId, azureAdDeviceId: azureAdDeviceId.toLowerCase() }, MAX_REGISTRATIONS);
    if (registrations.length === 0) throw new OpenMamError('not_found', `user ${userId} has no managed apps on Entra device ${azureAdDeviceId}`);
    return this.wipe(registrations, 'azureAdDeviceId');
  }

  /** `wipeAndBlockManagedApps`: every app of the user on every device now, and again at every check-in until unblocked. */
  async wipeAndBlock(tenantId: string, userId: string): Promise<AppOperationRecord[]> {
    await this.options.store.blockUser({ tenantId, userId, blockedAt: this.options.clock() });
    const registrations = await this.options.store.listRegistrations(tenantId, { userId }, MAX_REGISTRATIONS);
    return this.wipe(registrations, 'userBlocked');
  }

  /** `unblockManagedApps`: false when the user was not blocked. */
  unblock(tenantId: string, userId: string): Promise<boolean> {
    return this.options.store.unblockUser(tenantId, userId);
  }

  isBlocked(tenantId: string, userId: string): Promise<boolean> {
    return this.options.store.isUserBlocked(tenantId, userId);
  }

  private async wipe(registrations: readonly AppRegistrationRecord[], reason: AppOperationRecord['reason']): Promise<AppOperationRecord[]> {
    if (registrations.length === 0) return [];
    const now = this.options.clock();
    const snapshot = await this.options.snapshots.get(registrations[0]!.tenantId);
    const operations = registrations.map((registration) =>
      pendingWipe(registration, reason, this.options.newId(), now, offlineWipePeriod(snapshot.policies, registration)),
    );
    return this.options.store.addOperations(operations);
  }
}

/**
 * The offline-wipe period of the policy most likely intended for the app. Group membership is not at hand for an
 * admin action, so the longest period among the policies targeting the app is taken: a record is never dropped
 * before the app could still come back.
 */
function offlineWipePeriod(policies: readonly AppPolicyRecord[], registration: AppRegistrationRecord): number {
  const periods = policies
    .filter((p) => p.kind === 'windowsManagedAppProtection' && p.apps.some((app) => app.appId === registration.appId))
    .map((p) => parseIsoDuration((p.body as unknown as WindowsManagedAppProtection).periodOfflineBeforeWipeIsEnforced) ?? 0);
  // 0 (no policy, or PT0S everywhere) leaves the default to pendingWipe.
  return Math.max(0, ...periods);
}
