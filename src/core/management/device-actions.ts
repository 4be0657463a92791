import { OpenMamError } from '../../errors.ts';
import type { DeviceActionKind, DeviceActionReason, DeviceActionRecord, DeviceActionResult, DeviceManagementState, UnenrollReason } from '../../store/records.ts';
import type { DeviceActionStore, TenantStore } from '../../store/roles.ts';
import type { DeviceActionPurpose, PlannedCommand } from './desired-state.ts';
import { pascal, type AuditActivity, type AuditContext, type AuditTrail } from '../audit/audit-trail.ts';

/**
 * Retire, wipe and syncDevice of a MAM-enrolled device (Graph managedDevice actions; issue 15 "the MAM device's life").
 *
 * A MAM device is never factory-reset. What OpenMAM can do is what the DM client of a MAM enrollment takes:
 * - retire: `Exec ./Vendor/MSFT/DMClient/Provider/{ProviderID}/Unenroll` with the ProviderID as the item's Data — the
 *   DMClient CSP's server-initiated unenrollment (learn.microsoft.com/windows/client-management/mdm/dmclient-csp,
 *   "Provider/ProviderID/Unenroll": Exec only, the provider id in Data). The work account's management ends.
 * - wipe: first `Replace ./Vendor/MSFT/EnterpriseDataProtection/Settings/RevokeOnUnenroll` int 1, so that the WIP keys
 *   are revoked when the device unenrolls (learn.microsoft.com/windows/client-management/mdm/enterprisedataprotection-csp,
 *   "Settings/RevokeOnUnenroll": 0 keeps access to protected files, 1 revokes), whatever a policy set; only once the
 *   device accepted it, the same Unenroll. A device that refuses the Replace is not unenrolled: its data would stay.
 * - syncDevice: OpenMAM has no push channel (WNS) to wake a device; the request marks the device unsettled and its
 *   inventory stale, so its next scheduled check-in re-plans everything and reads its inventory again; the action is
 *   done when that session ends.
 *
 * The session engine (session.ts) sees a pending retire or wipe in the enrollment's managementState, which its one
 * check-in read already carries; only then (or when its inventory is stale, which a syncDevice makes it) does it read
 * the pending actions. A device being retired is sent nothing else.
 */

export const REVOKE_ON_UNENROLL = './Vendor/MSFT/EnterpriseDataProtection/Settings/RevokeOnUnenroll';

/** DMClient's server-initiated unenrollment node for our provider (ProviderID: the DMClient account OpenMAM provisions). */
export function unenrollUri(providerId: string): string {
  return `./Vendor/MSFT/DMClient/Provider/${providerId}/Unenroll`;
}

/** A retire or wipe is waiting for the device: the session must read the pending actions and send nothing else. */
export function isRetiring(state: DeviceManagementState): boolean {
  return state === 'retirePending' || state === 'wipePending';
}

export interface DeviceActionPlan {
  /** The commands of a pending retire or wipe (the only commands of such a session); [] otherwise. */
  commands: PlannedCommand[];
  /** The pending retire or wipe being carried out, if any. */
  retiring: DeviceActionRecord | undefined;
  /** Pending syncDevice actions: done when this session ends. */
  syncDevices: string[];
}

/** What a session does about the device's pending actions (pure). The oldest pending retire or wipe goes; a wipe starts with revoking. */
export function planDeviceActions(actions: readonly DeviceActionRecord[], providerId: string): DeviceActionPlan {
  const retiring = actions.find((a): a is DeviceActionRecord & { action: 'retire' | 'wipe' } => a.action === 'retire' || a.action === 'wipe');
  const syncDevices = actions.filter((a) => a.action === 'syncDevice').map((a) => a.id);
  if (retiring === undefined) return { commands: [], retiring: undefined, syncDevices };
  const purpose = (step: DeviceActionPurpose['step']): DeviceActionPurpose => ({ id: retiring.id, action: retiring.action, reason: retiring.reason, step });
  const commands: PlannedCommand[] =
    retiring.action === 'wipe'
      ? [{ verb: 'Replace', item: { locUri: REVOKE_ON_UNENROLL, format: 'int', value: '1' }, purpose: { deviceAction: purpose('revoke') } }]
      : [unenrollCommand(providerId, purpose('unenroll'))];
  return { commands, retiring, syncDevices };
}

/** The Exec of DMClient Unenroll, with the ProviderID as Data (Format chr), as the CSP reference's example sends it. */
function unenrollCommand(providerId: string, purpose: DeviceActionPurpose): PlannedCommand {
  return { verb: 'Exec', item: { locUri: unenrollUri(providerId), format: 'chr', value: providerId }, purpose: { deviceAction: purpose } };
}

export interface DeviceActionAnswer {
  /** The action is over (done or failed with the device's code). */
  result?: DeviceActionResult;
  /** Send this next, in the same session (a wipe's Unenroll after its revoke was accepted). */
  next?: PlannedCommand;
  /** The device acknowledged Unenroll: the enrollment ends, for this reason. */
  unenrolled?: UnenrollReason;
}

/** How the device's Status to one of an action's commands moves it on (pure). 2xx is success (SyncML DM 1.2 Representation Protocol). */
export function answerDeviceAction(purpose: DeviceActionPurpose, code: string, providerId: string): DeviceActionAnswer {
  const ok = /^2\d\d$/.test(code);
  if (!ok) return { result: { id: purpose.id, action: purpose.action, state: 'failed', statusCode: code } };
  if (purpose.step === 'revoke') return { next: unenrollCommand(providerId, { ...purpose, step: 'unenroll' }) };
  return { result: { id: purpose.id, action: purpose.action, state: 'done', statusCode: code }, unenrolled: purpose.reason };
}

/**
 * Graph's wipe parameters (learn.microsoft.com/graph/api/intune-devices-manageddevice-wipe), as OpenMAM honours them on
 * a MAM device. A wipe here removes management and revokes WIP-protected data, never more: a parameter asking for
 * what that cannot be is refused, naming it, rather than silently ignored.
 */
export interface WipeParameters {
  keepEnrollmentData?: boolean | null;
  keepUserData?: boolean | null;
  macOsUnlockCode?: string | null;
  persistEsimDataPlan?: boolean | null;
  useProtectedWipe?: boolean | null;
}

export function checkWipeParameters(body: WipeParameters): void {
  if (body.keepEnrollmentData === true) {
    throw new OpenMamError('malformed_request', 'keepEnrollmentData: a MAM wipe removes the work account\'s management (DMClient Unenroll), so true cannot be honoured; leave it out or false');
  }
  if (body.keepUserData === true) {
    throw new OpenMamError('malformed_request', 'keepUserData: a MAM wipe revokes the WIP-protected data (RevokeOnUnenroll); to keep it, retire the device instead');
  }
  if (body.macOsUnlockCode !== undefined && body.macOsUnlockCode !== null) {
    throw new OpenMamError('malformed_request', 'macOsUnlockCode: applies to macOS devices only; a MAM-enrolled Windows device has none');
  }
  if (body.useProtectedWipe === true) {
    throw new OpenMamError('malformed_request', 'useProtectedWipe: a MAM-enrolled device is never factory-reset (RemoteWipe is MDM only), so a protected wipe cannot be done');
  }
  // persistEsimDataPlan: a MAM wipe never touches the eSIM, so its data plan persists either way; accepted as given.
}

/** Graph's deviceActionResult.actionState members (learn.microsoft.com/graph/api/resources/intune-devices-actionstate). */
export type GraphActionState = 'none' | 'pending' | 'canceled' | 'active' | 'done' | 'failed' | 'notSupported';

const ACTION_STATE: Readonly<Record<DeviceActionRecord['state'], GraphActionState>> = { pending: 'pending', done: 'done', failed: 'failed', canceled: 'canceled' };

/** Graph's `deviceActionResult` of a managedDevice (learn.microsoft.com/graph/api/resources/intune-devices-deviceactionresult), with OpenMAM's own why and the device's code. */
export interface DeviceActionResultView {
  actionName: DeviceActionKind;
  actionState: GraphActionState;
  startDateTime: string;
  lastUpdatedDateTime: string;
  '@openmam.reason': DeviceActionReason;
  '@openmam.statusCode': string | null;
}

/** How many of a device's actions its deviceActionResults show (the newest; the table keeps them all). */
export const MAX_ACTION_RESULTS = 10;

/** A device's actions as Graph's `deviceActionResults` (newest first, as the store gives them; at most MAX_ACTION_RESULTS). */
export function deviceActionResults(actions: readonly DeviceActionRecord[]): DeviceActionResultView[] {
  return actions.slice(0, MAX_ACTION_RESULTS).map((a) => ({
    actionName: a.action,
    actionState: ACTION_STATE[a.state],
    startDateTime: new Date(a.requestedAt).toISOString(),
    lastUpdatedDateTime: new Date(a.updatedAt).toISOString(),
    '@openmam.reason': a.reason,
    '@openmam.statusCode': a.statusCode,
  }));
}

/** How many enrollments one transaction of the stale sweep ends. */
export const STALE_SWEEP_BATCH = 500;
/** At most this many batches per tenant per sweep: the rest waits for the next hour, so one sweep stays bounded. */
const STALE_SWEEP_MAX_BATCHES = 200;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The audit trail's subject of device actions: "Retire ManagedDevice", "Wipe ManagedDevice", "SyncDevice ManagedDevice". */
export const DEVICE_ACTION_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'devices', entity: 'ManagedDevice' };

/** An action OpenMAM asks itself (a compliance policy's retire), with its reason: no admin, no audit event. */
export interface OpenMamRequest {
  tenantId: string;
  reason: Exclude<DeviceActionReason, 'admin'>;
}

/** The admin side: actions asked through the Graph API, and the hourly stale-device sweep. */
export class DeviceActionService {
  constructor(
    private readonly store: DeviceActionStore,
    private readonly tenants: Pick<TenantStore, 'listTenants'>,
    private readonly clock: () => number,
    private readonly newId: () => string,
    /** Admins' requests are recorded in its own transaction (core/audit). */
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Records an admin's retire, wipe or syncDevice of the enrollment `enrollmentId` of `tenantId`. `not_found` for an
   * unknown id or another tenant's; `conflict` when it cannot be done now (the enrollment ended; a retire or wipe is
   * pending already). A retire or wipe that failed may be asked again. `reason`: who asks (a compliance action passes
   * `compliance`; the enrollment then ends with that reason).
   */
  async request(by: AuditContext | OpenMamRequest, enrollmentId: string, action: DeviceActionKind, wipe: WipeParameters = {}): Promise<DeviceActionRecord> {
    if (action === 'wipe') checkWipeParameters(wipe);
    const { tenantId } = by;
    const reason: DeviceActionReason = 'reason' in by ? by.reason : 'admin';
    const now = this.clock();
    const record: DeviceActionRecord = { tenantId, id: this.newId(), enrollmentId, action, state: 'pending', statusCode: null, reason, requestedAt: now, updatedAt: now };
    // An admin's request is recorded in the trail in its own transaction; OpenMAM's own (compliance) is not an admin change.
    const caller = 'reason' in by ? undefined : by;
    const outcome = await this.audit.attach(caller, { activity: { ...DEVICE_ACTION_AUDIT, verb: pascal(action) }, resourceId: enrollmentId, after: { wipe: action === 'wipe' ? wipe : undefined } }, () => this.store.requestDeviceAction(record));
    switch (outcome.kind) {
      case 'requested':
        return outcome.action;
      case 'not_found':
        throw new OpenMamError('not_found', `No managed device with id ${enrollmentId}.`);
      case 'not_enrolled':
        throw new OpenMamError('conflict', `The device is no longer enrolled (managementState ${outcome.managementState}): there is nothing to ${action}.`);
      case 'already_pending':
        throw new OpenMamError('conflict', `A ${outcome.managementState === 'wipePending' ? 'wipe' : 'retire'} of this device is pending already (managementState ${outcome.managementState}); it is sent at the device's next check-in.`);
    }
  }

  /** The actions of a tenant's enrollments (every id a key), newest first: their deviceActionResults. */
  resultsOf(tenantId: string, enrollmentIds: readonly string[]): Promise<Map<string, DeviceActionRecord[]>> {
    return this.store.deviceActionsOf(tenantId, enrollmentIds);
  }

  /**
   * Retires, in every tenant whose `staleDeviceRetireAfterDays` is set, the enrollments with no check-in for that many
   * days, in transactions of STALE_SWEEP_BATCH and at most STALE_SWEEP_MAX_BATCHES per tenant; answers how many.
   */
  async sweepStale(now = this.clock()): Promise<number> {
    let total = 0;
    for (const tenant of await this.tenants.listTenants()) {
      const days = tenant.settings.staleDeviceRetireAfterDays;
      if (days === undefined || days === null) continue;
      const silentSince = now - days * DAY_MS;
      for (let batch = 0; batch < STALE_SWEEP_MAX_BATCHES; batch++) {
        const retired = await this.store.retireStaleEnrollments(tenant.id, silentSince, now, STALE_SWEEP_BATCH, this.newId);
        total += retired.length;
        if (retired.length < STALE_SWEEP_BATCH) break;
      }
    }
    return total;
  }
}
