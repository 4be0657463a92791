import { OpenMamError } from '../../errors.ts';
import { parseIsoDuration } from '../../../packages/contract/src/duration.ts';
import type { WindowsManagedAppProtection } from '../../policy/app-protection-model.ts';
import type { AppOperationRecord, AppPolicyRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import type { AppOperationStore, AppRegistrationStore, BlockedUserStore } from '../../store/app-protection-roles.ts';
import { pendingWipe } from './operations.ts';
import type { TenantAppSnapshots } from './tenant-snapshot.ts';
import type { AuditActivity, AuditChange, AuditContext, AuditTrail } from '../audit/audit-trail.ts';

/**
 * Selective wipe (seed 003, spec "Selective wipe"): removes only the work account's data from managed apps. An admin
 * action creates one wipe operation per protected app on the targeted device(s); each is delivered at the app's next
 * check-in and ends succeeded or failed when the app reports. A wiped-and-blocked user gets a wipe at every check-in
 * (ManagedAppService) until unblocked.
 */
export interface SelectiveWipeOptions {
  store: AppRegistrationStore & BlockedUserStore & AppOperationStore;
  snapshots: TenantAppSnapshots;
  /** Every admin action is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
}

/** The audit trail's subject of the user actions ("WipeAndBlockManagedApps User", ...). */
export const SELECTIVE_WIPE_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'appRegistrations', entity: 'User' };

/** The change a user action records: the user, and what the action was given. */
function userAction(verb: string, userId: string, parameters: object): AuditChange {
  return { activity: { ...SELECTIVE_WIPE_AUDIT, verb }, resourceId: userId, after: parameters };
}

/** Bounds one admin action; a user has a handful of apps on a handful of devices. */
const MAX_REGISTRATIONS = 1000;

export class SelectiveWipeService {
  constructor(private readonly options: SelectiveWipeOptions) {}

  /** `wipeManagedAppRegistrationsByDeviceTag`: the user's apps on the device with that tag. Returns the operations created. */
  async wipeByDeviceTag(caller: AuditContext, userId: string, deviceTag: string): Promise<AppOperationRecord[]> {
    const registrations = await this.options.store.listRegistrations(caller.tenantId, { userId, deviceTag }, MAX_REGISTRATIONS);
    if (registrations.length === 0) throw new OpenMamError('not_found', `user ${userId} has no managed apps on a device with tag ${deviceTag}`);
    return this.options.audit.attach(caller, userAction('WipeManagedAppRegistrationsByDeviceTag', userId, { deviceTag }), () => this.wipe(registrations, 'deviceTag'));
  }

  /** `wipeManagedAppRegistrationsByAzureAdDeviceId`. */
  async wipeByAzureAdDeviceId(caller: AuditContext, userId: string, azureAdDeviceId: string): Promise<AppOperationRecord[]> {
    const registrations = await this.options.store.listRegistrations(caller.tenantId, { userId, azureAdDeviceId: azureAdDeviceId.toLowerCase() }, MAX_REGISTRATIONS);
    if (registrations.length === 0) throw new OpenMamError('not_found', `user ${userId} has no managed apps on Entra device ${azureAdDeviceId}`);
    return this.options.audit.attach(caller, userAction('WipeManagedAppRegistrationsByAzureAdDeviceId', userId, { azureAdDeviceId }), () => this.wipe(registrations, 'azureAdDeviceId'));
  }

  /** `wipeAndBlockManagedApps`: every app of the user on every device now, and again at every check-in until unblocked. */
  async wipeAndBlock(caller: AuditContext, userId: string): Promise<AppOperationRecord[]> {
    const { tenantId } = caller;
    // The event rides on the first of the writes that writes something: the block, or (already blocked) the wipes.
    return this.options.audit.attach(caller, userAction('WipeAndBlockManagedApps', userId, { blocked: true }), async () => {
      await this.options.store.blockUser({ tenantId, userId, blockedAt: this.options.clock() });
      const registrations = await this.options.store.listRegistrations(tenantId, { userId }, MAX_REGISTRATIONS);
      return this.wipe(registrations, 'userBlocked');
    });
  }

  /** `unblockManagedApps`: false when the user was not blocked (nothing written, no event). */
  unblock(caller: AuditContext, userId: string): Promise<boolean> {
    return this.options.audit.attach(caller, { activity: { ...SELECTIVE_WIPE_AUDIT, verb: 'UnblockManagedApps' }, resourceId: userId, before: { blocked: true } }, () => this.options.store.unblockUser(caller.tenantId, userId));
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
