import { isGuid } from '../../config.ts';
import type { ActivitySink } from '../activity-rollups.ts';
import { OpenMamError } from '../../errors.ts';
import type { VerifiedIdentity } from '../../identity/identity.ts';
import { parseIsoDuration } from '../../../packages/contract/src/duration.ts';
import type { AccessPolicyRecord, AppOperationRecord, AppRegistrationRecord } from '../../store/app-protection-records.ts';
import { targetsUser } from './access-decision.ts';
import type { TenantDirectory } from '../../identity/tenants.ts';
import type { MamUserScope } from '../mam-user-scope.ts';
import type { AppOperationStore, AppRegistrationStore, CheckInState } from '../../store/app-protection-roles.ts';
import { judge, readFacts, type FactsStore, type RegistrationFacts, type Verdict } from './evaluation.ts';
import { userMessage, type ReasonCode } from './messages.ts';
import { appOfCaller, deviceOfCaller, registrationAnswersTo, type IdentityRefusal, type Resolved } from './caller-identity.ts';
import { OPERATION_RETENTION_MS, pendingWipe } from './operations.ts';
import { configurationDocument, policyDocument, policyVersionTag, type ConfigurationDocument, type PolicyDocument } from './targeting.ts';
import type { TenantAppSnapshot, TenantAppSnapshots } from './tenant-snapshot.ts';
import type { AppCatalogue } from './app-catalogue.ts';
import { parseVersion } from '../../../packages/contract/src/versions.ts';
import { MAX_HEALTH_CHECK_FAILURES, MAX_RESULT_DETAIL, MAX_TEXT } from '../../../packages/contract/src/limits.ts';

/**
 * Managed apps registering and checking in (`/mam/v1`): one registration per user + app + device; every check-in
 * brings the app its policy and configuration when they changed, the actions it must take (wipe, block, warn), and
 * when to come back. A steady check-in (nothing changed) reads a handful of indexed rows and writes nothing but its
 * buffered check-in time.
 */

/** Check-in cadence (spec "Check-in behaviour of MAM clients"). */
export const CHECKIN_SECONDS = { targeted: 30 * 60, notTargeted: 12 * 60 * 60, notOnboarded: 24 * 60 * 60 } as const;

/**
 * What an app tells about itself when it registers. `appId` and `azureAdDeviceId` are claims: the app is the token's
 * client's and the device the token's `deviceid` when it has one (caller-identity.ts); a claim must agree.
 */
export type RegistrationInput = Pick<AppRegistrationRecord, 'appVersion' | 'sdkVersion' | 'osVersion' | 'deviceName' | 'deviceModel' | 'deviceManufacturer' | 'deviceTag' | 'azureAdDeviceId'> & {
  appId: string | null;
};

export interface CheckInInput {
  appVersion: string;
  sdkVersion: string;
  osVersion: string;
  policyVersion: string | null;
  configurationVersion: string | null;
  healthCheckFailures: { setting: string; action: 'block' | 'wipe' | 'warn' }[];
}

export interface AppAction {
  id: string;
  type: 'wipe' | 'block' | 'warn';
  reason: string;
  message: { title: string; text: string; remediation: string };
}

export interface CheckInAnswer {
  /** Absent: unchanged since the version the app sent; null: none applies any more. */
  policy?: PolicyDocument | null;
  configuration?: ConfigurationDocument | null;
  actions: AppAction[];
  complianceState: Verdict['complianceState'];
  nextCheckInSeconds: number;
}

export interface RegistrationAnswer extends CheckInAnswer {
  registrationId: string;
  /** False when the same user, app and device were registered already (the same registration is answered). */
  created: boolean;
}

export interface ManagedAppServiceOptions {
  store: AppRegistrationStore & AppOperationStore & FactsStore;
  tenants: Pick<TenantDirectory, 'get'>;
  /** Who may use MAM at all (the tenant's MAM user scope): outside it, "Account not set up". */
  scope: Pick<MamUserScope, 'require'>;
  snapshots: TenantAppSnapshots;
  /** Buffered last check-in times. */
  checkins: { record(registrationId: string, at: number): void };
  /** Hourly activity: every answered check-in (a registration's first answer too), and its verdict when it has one. */
  activity: ActivitySink;
  clock: () => number;
  newId: () => string;
}

/**
 * Active registrations one user may hold in a tenant (one per app and device). Intune bounds a user's enrolled
 * devices at 15 at most ("Device limit restrictions", learn.microsoft.com/mem/intune/enrollment/enrollment-restrictions-set);
 * 100 is 15 devices with six or seven managed apps each, and stops one user (or a stolen token) from creating rows
 * without end. The next registration is refused with 409 `registrationLimitReached` (docs/app-protection.md);
 * registering the same app on the same device again still answers, and a wiped registration frees its place.
 */
export const MAX_ACTIVE_REGISTRATIONS_PER_USER = 100;

/** The /mam/v1 error code of a registration over MAX_ACTIVE_REGISTRATIONS_PER_USER. */
export const REGISTRATION_LIMIT_REACHED = 'registrationLimitReached';

export class ManagedAppService {
  constructor(private readonly options: ManagedAppServiceOptions) {}

  async register(caller: VerifiedIdentity, input: RegistrationInput): Promise<RegistrationAnswer> {
    const { store, clock, newId } = this.options;
    const tenant = await this.options.tenants.get(caller.tenantId);
    if (!tenant) throw new OpenMamError('tenant_not_onboarded', `tenant ${caller.tenantId} is not onboarded on this server`);
    await this.options.scope.require(tenant, caller);
    const snapshot = await this.options.snapshots.get(caller.tenantId);
    const app = required(appOfCaller(snapshot.catalogue, caller, input.appId), `client ${caller.clientId ?? '(none)'}`);
    const device = required(deviceOfCaller(caller, input.azureAdDeviceId), 'the device');
    const now = clock();
    const fresh: AppRegistrationRecord = {
      tenantId: caller.tenantId,
      id: newId(),
      userId: caller.objectId,
      upn: caller.upn ?? null,
      ...input,
      appId: app.windowsAppId,
      azureAdDeviceId: device.azureAdDeviceId,
      azureAdDeviceIdVerified: device.verified,
      clientId: caller.clientId ?? null,
      createdAt: now,
      lastCheckInAt: now,
      appliedPolicyId: null,
      appliedPolicyVersion: null,
      reportedFailures: [],
      complianceState: 'unknown',
      complianceReasons: [],
      complianceChangedAt: now,
      state: 'active',
    };
    const outcome = await store.registerOnDevice(fresh, caller.name ?? null, MAX_ACTIVE_REGISTRATIONS_PER_USER);
    // One MAM work account per device (seed 003 "Accessing your organization's data"), checked in the same write.
    if (outcome.kind === 'device_taken') throw new OpenMamError('device_already_enrolled', 'another work account is already managed on this device');
    if (outcome.kind === 'user_limit') {
      throw new OpenMamError('conflict', `the user has ${outcome.active} active app registrations, the most one user may have (${MAX_ACTIVE_REGISTRATIONS_PER_USER}): an admin wipes some first`, {
        reason: REGISTRATION_LIMIT_REACHED,
      });
    }
    const stored = outcome.registration;
    const previous = stored.id === fresh.id ? null : stored;
    const registration: AppRegistrationRecord = previous ? { ...previous, ...input, appId: fresh.appId, azureAdDeviceId: fresh.azureAdDeviceId, azureAdDeviceIdVerified: fresh.azureAdDeviceIdVerified, clientId: fresh.clientId, lastCheckInAt: previous.lastCheckInAt } : stored;
    // A new registration holds nothing: it is told its policy and configuration, or null for none.
    const answer = await this.answer(caller, snapshot, registration, { policyVersion: undefined, configurationVersion: undefined }, now);
    return { registrationId: stored.id, created: previous === null, ...answer };
  }

  async checkIn(caller: VerifiedIdentity, registrationId: string, input: CheckInInput): Promise<CheckInAnswer> {
    const now = this.options.clock();
    const state = await this.options.store.getCheckInState(registrationId);
    const owned = this.owned(caller, registrationId, state?.registration);
    // The row carries the tenant's versions: the snapshot (and its catalogue) costs no query on a check-in.
    const snapshot = await this.snapshotAt(caller.tenantId, state);
    const current = await this.answeringTo(caller, owned, snapshot.catalogue);
    const registration: AppRegistrationRecord = {
      ...current,
      appVersion: input.appVersion,
      sdkVersion: input.sdkVersion,
      osVersion: input.osVersion,
      reportedFailures: input.healthCheckFailures.map((f) => `${f.setting}:${f.action}`),
    };
    return this.answer(caller, snapshot, registration, input, now, current, state);
  }

  /** The app's result of a wipe it was given. `not_found` for an action never issued to it; `conflict` when already completed. */
  async reportResult(caller: VerifiedIdentity, registrationId: string, actionId: string, result: { status: 'succeeded' | 'failed'; detail: string | null }): Promise<void> {
    const registration = await this.ownRegistration(caller, registrationId, { allowWiped: true });
    const operation = await this.options.store.getOperation(actionId);
    if (!operation || operation.registrationId !== registration.id) throw new OpenMamError('not_found', `no action ${actionId} was issued to this registration`);
    const now = this.options.clock();
    const done = await this.options.store.completeOperation(actionId, { ...result, completedAt: now, expiresAt: now + OPERATION_RETENTION_MS });
    if (!done) throw new OpenMamError('conflict', `action ${actionId} is already ${operation.status}`);
  }

  /** The caller's own registration, answering to its client (wiped ones too: a wipe's result comes after it). */
  private async ownRegistration(caller: VerifiedIdentity, id: string, options: { allowWiped?: boolean } = {}): Promise<AppRegistrationRecord> {
    const owned = this.owned(caller, id, await this.options.store.getRegistration(id), options);
    return this.answeringTo(caller, owned, (await this.options.snapshots.get(caller.tenantId)).catalogue);
  }

  /** The user's active registration; another user's or tenant's id is `not_found`, like an unknown one. */
  private owned(caller: VerifiedIdentity, id: string, registration: AppRegistrationRecord | undefined, options: { allowWiped?: boolean } = {}): AppRegistrationRecord {
    if (!registration || registration.tenantId !== caller.tenantId || registration.userId !== caller.objectId) {
      throw new OpenMamError('not_found', `no registration ${id} for this user`);
    }
    if (registration.state === 'wiped' && !options.allowWiped) throw new OpenMamError('not_found', `registration ${id} was wiped: register the app again`);
    return registration;
  }

  /**
   * The registration, if it answers to the token's client (caller-identity.ts): another client's is refused with
   * `clientMismatch`, even for the same user. A registration older than client ids is bound to its first client here.
   */
  private async answeringTo(caller: VerifiedIdentity, registration: AppRegistrationRecord, catalogue: AppCatalogue): Promise<AppRegistrationRecord> {
    const answers = required(registrationAnswersTo(registration, catalogue, caller), `registration ${registration.id}`);
    if (answers.bindClient && caller.clientId !== undefined) {
      await this.options.store.updateRegistration(registration.id, { clientId: caller.clientId });
      return { ...registration, clientId: caller.clientId };
    }
    return registration;
  }

  /** The tenant's snapshot at the versions read with the registration, else the current one. */
  private snapshotAt(tenantId: string, state: CheckInState | undefined): Promise<TenantAppSnapshot> {
    const { snapshots } = this.options;
    return state ? snapshots.at(tenantId, state.appConfigVersion, state.configVersion) : snapshots.get(tenantId);
  }

  private async answer(
    caller: VerifiedIdentity,
    snapshot: TenantAppSnapshot,
    registration: AppRegistrationRecord,
    /** What the app holds; undefined: nothing yet (a registration), so both documents are sent. */
    held: { policyVersion: string | null | undefined; configurationVersion: string | null | undefined },
    now: number,
    stored?: AppRegistrationRecord,
    /** Read with the registration (a check-in): the tenant's versions and the blocked and pending flags. */
    state?: CheckInState,
  ): Promise<CheckInAnswer> {
    const { store, snapshots } = this.options;
    const groups = await snapshots.groupsOf(caller.tenantId, caller.objectId, caller.groups);
    const facts = await readFacts(store, snapshot, registration, groups, now, state);
    const verdict = judge(facts, now, true);
    const added = await this.newWipes(facts, verdict, now);
    if (added.length > 0) {
      facts.pending.push(...added);
      Object.assign(verdict, judge(facts, now, true));
    }
    const protection = facts.intended.protection;
    // At registration (nothing held) the policy goes in this very answer, which the SDK applies before it returns: the
    // registration holds it from now on, so that an access decision right after agrees with the app. A later check-in
    // that does not report it clears it again.
    const appliedNow = protection !== undefined && (held.policyVersion === undefined || held.policyVersion === policyVersionTag(protection));
    await this.persist(registration, stored, verdict, appliedNow ? protection : undefined, held.policyVersion ?? null, now);
    this.count(caller.tenantId, verdict.complianceState, now);

    const notSetUp = protection === undefined && mustBeProtected(snapshot.accessPolicies, groups);
    const answer: CheckInAnswer = {
      actions: notSetUp ? [...actionsOf(facts, verdict), NOT_SET_UP_ACTION] : actionsOf(facts, verdict),
      complianceState: verdict.complianceState,
      // An app told "not set up" comes back soon, to pick up the policy an admin assigns.
      nextCheckInSeconds: protection || notSetUp || facts.intended.configurations.length > 0 ? CHECKIN_SECONDS.targeted : CHECKIN_SECONDS.notTargeted,
    };
    const policyTag = protection ? policyVersionTag(protection) : null;
    if (held.policyVersion !== policyTag) answer.policy = protection ? policyDocument(protection) : null;
    const configuration = configurationDocument(facts.intended.configurations, {
      tenantId: caller.tenantId,
      userId: caller.objectId,
      upn: caller.upn ?? null,
      mail: caller.mail ?? null,
      name: caller.name ?? null,
    });
    if (held.configurationVersion !== (configuration?.version ?? null)) answer.configuration = configuration;
    return answer;
  }

  /** A wiped-and-blocked user, or a health check that wipes, gets a wipe operation (one pending per registration). */
  private async newWipes(facts: RegistrationFacts, verdict: Verdict, now: number): Promise<AppOperationRecord[]> {
    if (facts.pending.length > 0) return [];
    const reason = facts.blocked ? 'userBlocked' : verdict.health.actions.some((a) => a.type === 'wipe') ? 'healthCheck' : undefined;
    if (reason === undefined) return [];
    const offlineWipe = facts.policy ? (parseIsoDuration(facts.policy.periodOfflineBeforeWipeIsEnforced) ?? 0) : 0;
    const operation = pendingWipe(facts.registration, reason, this.options.newId(), now, offlineWipe);
    return this.options.store.addOperations([operation]);
  }

  /**
   * Counted in memory (core/activity-rollups.ts), whether the check-in wrote its changes or only its time: compliant
   * and not compliant are the verdict's complianceState (evaluation.ts); `unknown` (no app protection policy) is
   * neither.
   */
  private count(tenantId: string, state: Verdict['complianceState'], now: number): void {
    const { activity } = this.options;
    activity.count(tenantId, 'appCheckIns', now);
    if (state === 'compliant') activity.count(tenantId, 'compliantCheckIns', now);
    else if (state === 'notCompliant') activity.count(tenantId, 'noncompliantCheckIns', now);
  }

  /** Writes only what changed; an unchanged check-in only records its time (buffered). */
  private async persist(
    registration: AppRegistrationRecord,
    stored: AppRegistrationRecord | undefined,
    verdict: Verdict,
    appliedNow: { id: string; version: number } | undefined,
    heldPolicy: string | null,
    now: number,
  ): Promise<void> {
    const before = stored ?? registration;
    const change: Parameters<AppRegistrationStore['updateRegistration']>[1] = {};
    for (const field of ['appVersion', 'sdkVersion', 'osVersion'] as const) {
      if (registration[field] !== before[field]) change[field] = registration[field];
    }
    for (const field of ['deviceName', 'deviceModel', 'deviceManufacturer'] as const) {
      if (registration[field] !== before[field]) change[field] = registration[field];
    }
    if (!sameList(registration.reportedFailures, before.reportedFailures)) change.reportedFailures = registration.reportedFailures;
    const applied = appliedNow ? { id: appliedNow.id, version: appliedNow.version } : heldPolicy === null ? { id: null, version: null } : undefined;
    if (applied && (applied.id !== before.appliedPolicyId || applied.version !== before.appliedPolicyVersion)) {
      change.appliedPolicyId = applied.id;
      change.appliedPolicyVersion = applied.version;
    }
    if (verdict.complianceState !== before.complianceState || !sameList(verdict.complianceReasons, before.complianceReasons)) {
      change.complianceState = verdict.complianceState;
      change.complianceReasons = verdict.complianceReasons;
      if (verdict.complianceState !== before.complianceState) change.complianceChangedAt = now;
    }
    if (Object.keys(change).length > 0) await this.options.store.updateRegistration(registration.id, { ...change, lastCheckInAt: now });
    else this.options.checkins.record(registration.id, now);
  }
}

/**
 * Seed 003's "App not set up": the user must reach some resource from a protected app (an enabled conditional access
 * policy targets them with `compliantApplication`), but no app protection policy targets this app for them. The app
 * blocks org data and says so, rather than failing later at the resource with a generic denial.
 */
const NOT_SET_UP_ACTION: AppAction = { id: 'block:appNotSetUp', type: 'block', reason: 'appNotSetUp', message: userMessage('appNotSetUp') };

function mustBeProtected(policies: readonly AccessPolicyRecord[], groups: ReadonlySet<string>): boolean {
  return policies.some((policy) => policy.state === 'enabled' && policy.grantControls.includes('compliantApplication') && targetsUser(policy, groups));
}

/** Pending wipes first (each with its own id, for the result), then the health checks' block and warn actions. */
function actionsOf(facts: RegistrationFacts, verdict: Verdict): AppAction[] {
  const wipes = facts.pending.map((operation): AppAction => {
    const reason: ReasonCode = operation.reason === 'healthCheck' ? healthWipeReason(verdict) : 'adminWipe';
    return { id: operation.id, type: 'wipe', reason, message: userMessage(reason) };
  });
  const others = verdict.health.actions
    .filter((action) => action.type !== 'wipe')
    .map((action): AppAction => ({ id: `${action.type}:${action.reason}`, type: action.type, reason: action.reason, message: userMessage(action.reason as ReasonCode) }));
  return [...wipes, ...others];
}

function healthWipeReason(verdict: Verdict): ReasonCode {
  return (verdict.health.actions.find((a) => a.type === 'wipe')?.reason ?? 'adminWipe') as ReasonCode;
}

const REFUSALS: Record<IdentityRefusal, (what: string) => string> = {
  unableToRegister: (what) => `${what} is not a managed app of this tenant (openMamManagedApps): the token's client decides the app`,
  appIdMismatch: () => "appId: is not the app of the token's client",
  deviceIdMismatch: () => "azureAdDeviceId: is not the device of the token's deviceid claim",
  clientMismatch: (what) => `${what} was made by another client application than the token's`,
};

/** The value, or a 403 `identity_mismatch` carrying the refusal as its reason (json-api.ts shows it as the code). */
function required<T>(resolved: Resolved<T>, what: string): T {
  if (resolved.ok) return resolved.value;
  throw new OpenMamError('identity_mismatch', REFUSALS[resolved.reason](what), { reason: resolved.reason });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

// ---- input rules (the HTTP layer hands over parsed JSON)


/** Reads and checks a registration body; every refusal names the field. */
export function readRegistrationInput(body: unknown): RegistrationInput {
  const input = objectOf(body);
  refuseUnknown(input, ['appId', 'appVersion', 'sdkVersion', 'osVersion', 'deviceName', 'deviceModel', 'deviceManufacturer', 'deviceTag', 'azureAdDeviceId']);
  const azureAdDeviceId = optionalText(input, 'azureAdDeviceId');
  if (azureAdDeviceId !== null && !isGuid(azureAdDeviceId)) throw new OpenMamError('malformed_request', 'azureAdDeviceId: must be the Entra device object id (GUID)');
  return {
    appId: input['appId'] === undefined || input['appId'] === null ? null : appIdOf(input),
    ...versionsOf(input),
    deviceName: optionalText(input, 'deviceName'),
    deviceModel: optionalText(input, 'deviceModel'),
    deviceManufacturer: optionalText(input, 'deviceManufacturer'),
    deviceTag: requiredText(input, 'deviceTag'),
    azureAdDeviceId: azureAdDeviceId?.toLowerCase() ?? null,
  };
}

export function readCheckInInput(body: unknown): CheckInInput {
  const input = objectOf(body);
  refuseUnknown(input, ['appVersion', 'sdkVersion', 'osVersion', 'policyVersion', 'configurationVersion', 'healthCheckFailures']);
  const failures = input['healthCheckFailures'] ?? [];
  if (!Array.isArray(failures) || failures.length > MAX_HEALTH_CHECK_FAILURES) throw new OpenMamError('malformed_request', `healthCheckFailures: must be an array of at most ${MAX_HEALTH_CHECK_FAILURES} failures`);
  return {
    ...versionsOf(input),
    policyVersion: optionalText(input, 'policyVersion'),
    configurationVersion: optionalText(input, 'configurationVersion'),
    healthCheckFailures: failures.map((failure: unknown, i) => {
      const entry = objectOf(failure, `healthCheckFailures[${i}]`);
      const action = entry['action'];
      if (action !== 'block' && action !== 'wipe' && action !== 'warn') throw new OpenMamError('malformed_request', `healthCheckFailures[${i}].action: must be block, wipe or warn`);
      return { setting: requiredText(entry, 'setting', `healthCheckFailures[${i}].`), action };
    }),
  };
}

export function readActionResult(body: unknown): { status: 'succeeded' | 'failed'; detail: string | null } {
  const input = objectOf(body);
  refuseUnknown(input, ['status', 'detail']);
  const status = input['status'];
  if (status !== 'succeeded' && status !== 'failed') throw new OpenMamError('malformed_request', 'status: must be "succeeded" or "failed"');
  const detail = input['detail'];
  if (detail !== undefined && detail !== null && (typeof detail !== 'string' || detail.length > MAX_RESULT_DETAIL)) throw new OpenMamError('malformed_request', `detail: must be text of at most ${MAX_RESULT_DETAIL} characters`);
  return { status, detail: typeof detail === 'string' ? detail : null };
}

function versionsOf(input: Record<string, unknown>): Pick<RegistrationInput, 'appVersion' | 'sdkVersion' | 'osVersion'> {
  return { appVersion: versionOf(input, 'appVersion'), sdkVersion: versionOf(input, 'sdkVersion'), osVersion: versionOf(input, 'osVersion') };
}

function versionOf(input: Record<string, unknown>, field: string): string {
  const text = requiredText(input, field);
  if (parseVersion(text) === undefined) throw new OpenMamError('malformed_request', `${field}: "${text}" is not a version (numbers separated by dots, e.g. 10.0.22631.3155)`);
  return text;
}

/** App ids are package-style names (`com.microsoft.edge`) or GUIDs: letters, digits, dots, dashes, underscores. */
function appIdOf(input: Record<string, unknown>): string {
  const appId = requiredText(input, 'appId');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(appId)) throw new OpenMamError('malformed_request', 'appId: letters, digits, dots, dashes and underscores only');
  return appId.toLowerCase();
}

function objectOf(value: unknown, path = '$'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OpenMamError('malformed_request', `${path}: must be a JSON object`);
  return value as Record<string, unknown>;
}

function refuseUnknown(input: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(input).find((name) => !known.includes(name));
  if (unknown !== undefined) throw new OpenMamError('malformed_request', `${unknown}: unknown property`);
}

function requiredText(input: Record<string, unknown>, field: string, prefix = ''): string {
  const value = input[field];
  if (typeof value !== 'string' || value.trim() === '') throw new OpenMamError('malformed_request', `${prefix}${field}: required text`);
  if (value.length > MAX_TEXT) throw new OpenMamError('malformed_request', `${prefix}${field}: at most ${MAX_TEXT} characters`);
  return value;
}

function optionalText(input: Record<string, unknown>, field: string): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  return requiredText(input, field);
}
