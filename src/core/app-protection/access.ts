import { isGuid } from '../../config.ts';
import { MAX_IP_ADDRESS, MAX_TEXT, MAX_TOKEN_LENGTH } from '../../../packages/contract/src/limits.ts';
import { OpenMamError } from '../../errors.ts';
import { isUserIdentity, TokenAudienceError, type TokenVerifier, type VerifiedIdentity } from '../../identity/identity.ts';
import type { AppRegistrationRecord, ManagedAppCatalogueRecord, ServicePrincipalRecord, SignInRecord } from '../../store/app-protection-records.ts';
import type { AccessPolicyStore, AppRegistrationStore, CheckInState } from '../../store/app-protection-roles.ts';
import type { ComplianceStore } from '../../store/compliance-records.ts';
import type { DeviceComplianceState } from '../../store/records.ts';
import { decideAccess, denial, type AccessDecision, type AppProtectionState } from './access-decision.ts';
import { deviceOfCaller, registrationAnswersTo, type CallerDevice } from './caller-identity.ts';
import { judge, readFacts, type FactsStore } from './evaluation.ts';
import { newSignInId } from './sign-in-log.ts';
import type { TenantAppSnapshot, TenantAppSnapshots } from './tenant-snapshot.ts';

/**
 * Access decisions for gateways (`/access/v1/evaluate`): app protection CA (seed 002) and app-based CA with approved
 * apps per resource (seed 004), judged at request time from what the user's token proves (docs/app-protection.md,
 * "Trust model"):
 * - the resource is a service principal of the tenant, named by its application id or one of its audiences; the user
 *   token must have been issued for it (the token the app sends to the resource anyway), never for OpenMAM or another
 *   resource;
 * - the app is the token's client (`azp`/`appid`) through the managed app catalogue; the device is the token's
 *   `deviceid`. An app id, device id or registration id the caller sends must agree with the token, or the decision
 *   is deny;
 * - a device id no token vouches for is a hint that can only make the decision stricter (its threat reports count);
 *   `compliantDevice` rests only on the token's `deviceid`;
 * - without a registration id, every registration of the user's app that may be this device is judged, and all must
 *   pass: a second device cannot borrow the first one's state.
 * The registrations are judged live at every decision (health, threat, offline period, wipes, blocked user), so a
 * threat report or a policy change is reflected by the very next decision on any node. Every decision is written to
 * the sign-in log (buffered, off the request path).
 */
export interface AccessRequest {
  /** The user's token for the resource (what the app sends to the resource). */
  userToken: string;
  /** The resource's application id, or one of its audiences (servicePrincipalNames). */
  resource: string;
  /** The registration the app names (the SDK's); it must be the token's user's and client's. */
  registrationId: string | null;
  /** Claims that must agree with the token: the app's Windows app id, the Entra device id. */
  appId: string | null;
  azureAdDeviceId: string | null;
  /** The client's address as the gateway saw it: for the sign-in log only. */
  ipAddress: string | null;
}

/** Where decisions are recorded (core/app-protection/sign-in-log.ts): synchronous, buffered, never throws. */
export interface SignInRecorder {
  record(entry: SignInRecord): void;
}

export interface AccessServiceOptions {
  store: AppRegistrationStore & Pick<AccessPolicyStore, 'saveDeviceCompliance' | 'getDeviceCompliance'> & FactsStore;
  snapshots: TenantAppSnapshots;
  verifier: TokenVerifier;
  clock: () => number;
  signIns?: SignInRecorder;
  /** OpenMAM's own compliance of the devices it manages (store.compliance); absent: outside MDM reports only. */
  deviceCompliance?: Pick<ComplianceStore, 'activeDeviceCompliance'>;
}

/**
 * One device, one picture: when OpenMAM manages the token's device (an active MAM enrollment with that Entra device
 * id), its own complianceState decides the `compliantDevice` grant; otherwise what an outside MDM reported. Intune lets
 * a device in its grace period keep access ("the device is noncompliant, but it's still in the grace period" and is
 * treated as compliant until the block action's schedule ends: learn.microsoft.com/mem/intune/protect/
 * actions-for-noncompliance), so `inGracePeriod` grants too; `unknown`, `noncompliant` and the rest do not.
 */
export function deviceCompliantFrom(own: { state: DeviceComplianceState } | undefined, reported: { compliant: boolean } | undefined): boolean | undefined {
  if (own !== undefined) return own.state === 'compliant' || own.state === 'inGracePeriod';
  return reported?.compliant;
}

/** The most registrations of one user's app judged together (a user has a handful of devices). */
const MAX_JUDGED_REGISTRATIONS = 20;

/** What a decision rested on, for the sign-in log. */
interface Context {
  user?: VerifiedIdentity;
  app?: ManagedAppCatalogueRecord;
  resource?: ServicePrincipalRecord;
  device?: CallerDevice;
  registrationId?: string;
}

export class AccessService {
  constructor(private readonly options: AccessServiceOptions) {}

  /** `gatewayTenant`: the tenant of the gateway's own credential; a user of another tenant is denied. */
  async evaluate(gatewayTenant: string, request: AccessRequest, correlationId = ''): Promise<AccessDecision> {
    const context: Context = {};
    const decision = await this.#decide(gatewayTenant, request, context);
    this.#record(gatewayTenant, request, correlationId, context, decision);
    return decision;
  }

  /** An MDM's report of a device's compliance (the `compliantDevice` grant). */
  async reportDeviceCompliance(tenantId: string, azureAdDeviceId: string, compliant: boolean): Promise<void> {
    await this.options.store.saveDeviceCompliance({ tenantId, azureAdDeviceId: azureAdDeviceId.toLowerCase(), compliant, reportedAt: this.options.clock() });
  }

  async #decide(gatewayTenant: string, request: AccessRequest, context: Context): Promise<AccessDecision> {
    const { store, snapshots } = this.options;
    // A named registration is read first: its row carries the tenant's versions, so the snapshot costs no query.
    const state = request.registrationId === null ? undefined : await store.getCheckInState(request.registrationId);
    const snapshot =
      state && state.registration.tenantId === gatewayTenant
        ? await snapshots.at(gatewayTenant, state.appConfigVersion, state.configVersion)
        : await snapshots.get(gatewayTenant);
    const resource = snapshot.catalogue.resource(request.resource);
    if (resource === undefined) return denial(['unknownResource']);
    context.resource = resource;

    const user = await this.#user(request.userToken, snapshot.catalogue.audiencesOf(resource), context);
    if (typeof user === 'string') return denial([user]);
    context.user = user;
    if (user.tenantId !== gatewayTenant) return denial(['foreignTenant']);
    if (!isUserIdentity(user)) return denial(['userTokenRequired']);

    const app = snapshot.catalogue.appOfClient(user.clientId);
    if (app !== undefined) context.app = app;
    if (request.appId !== null && request.appId.toLowerCase() !== app?.windowsAppId) return denial(['appIdMismatch']);
    const device = deviceOfCaller(user, request.azureAdDeviceId);
    if (!device.ok) return denial([device.reason]);
    context.device = device.value;

    const found = await this.#registrations(snapshot, user, app, device.value, state, request.registrationId);
    if (typeof found === 'string') return denial([found]);
    if (found.length === 1) context.registrationId = found[0]!.registration.id;
    const now = this.options.clock();
    const groups = await snapshots.groupsOf(user.tenantId, user.objectId, user.groups);
    const needsDevice = snapshot.accessPolicies.some((p) => p.grantControls.includes('compliantDevice'));
    // Only a device the token vouches for can be a compliant device.
    const vouched = needsDevice && device.value.verified && device.value.azureAdDeviceId !== null ? device.value.azureAdDeviceId : undefined;
    const [appProtection, deviceCompliance, ownCompliance] = await Promise.all([
      this.#appProtection(snapshot, found, groups, now, device.value),
      vouched !== undefined ? store.getDeviceCompliance(user.tenantId, vouched) : Promise.resolve(undefined),
      // The one extra indexed read (enrollments_entra_device), alongside the outside report's.
      vouched !== undefined && this.options.deviceCompliance !== undefined ? this.options.deviceCompliance.activeDeviceCompliance(user.tenantId, vouched) : Promise.resolve(undefined),
    ]);
    return decideAccess({
      policies: snapshot.accessPolicies,
      resource: resource.appId,
      userGroups: groups,
      // A client outside the catalogue is no app: nothing approves it.
      appId: app?.windowsAppId ?? '',
      registered: found.length > 0,
      appProtection,
      deviceCompliant: deviceCompliantFrom(ownCompliance, deviceCompliance),
    });
  }

  /**
   * The verified user, or why the token is not one for this resource. A genuine token for another audience still says
   * whose it is: the sign-in log records the user (of the gateway's tenant only), never the decision.
   */
  async #user(token: string, audiences: readonly string[], context: Context): Promise<VerifiedIdentity | 'invalidUserToken' | 'tokenAudienceMismatch'> {
    try {
      return await this.options.verifier.verify(token, audiences);
    } catch (error) {
      // An unreachable identity provider is the gateway's 503, not a user's deny.
      if (error instanceof OpenMamError && error.code === 'upstream_unavailable') throw error;
      if (!(error instanceof TokenAudienceError)) return 'invalidUserToken';
      context.user = error.identity;
      return 'tokenAudienceMismatch';
    }
  }

  /**
   * The registrations to judge. Named: that one, if it is the user's, active, and answers to the token's client and
   * device (else `clientMismatch` / `deviceIdMismatch`; an unknown or foreign id is no registration). Not named: every
   * active registration of the user's app except those a token proved to be on another device.
   */
  async #registrations(
    snapshot: TenantAppSnapshot,
    user: VerifiedIdentity,
    app: ManagedAppCatalogueRecord | undefined,
    device: CallerDevice,
    state: CheckInState | undefined,
    registrationId: string | null,
  ): Promise<{ registration: AppRegistrationRecord; state?: CheckInState }[] | 'clientMismatch' | 'deviceIdMismatch'> {
    if (registrationId !== null) {
      const registration = state?.registration;
      if (!registration || registration.tenantId !== user.tenantId || registration.userId !== user.objectId || registration.state !== 'active') return [];
      const answers = registrationAnswersTo(registration, snapshot.catalogue, user);
      if (!answers.ok) return answers.reason === 'deviceIdMismatch' ? 'deviceIdMismatch' : 'clientMismatch';
      return [{ registration, state }];
    }
    if (app === undefined) return [];
    const all = await this.options.store.listRegistrations(user.tenantId, { userId: user.objectId, appId: app.windowsAppId }, MAX_JUDGED_REGISTRATIONS);
    const elsewhere = (r: AppRegistrationRecord): boolean => device.verified && r.azureAdDeviceIdVerified && r.azureAdDeviceId !== device.azureAdDeviceId;
    return all.filter((registration) => !elsewhere(registration)).map((registration) => ({ registration }));
  }

  /**
   * The registrations' state, all of them together: applied and compliant only when each is. A device id that only
   * the caller claims is judged too, as the registration's device (its threat reports count against the app).
   */
  async #appProtection(
    snapshot: TenantAppSnapshot,
    found: readonly { registration: AppRegistrationRecord; state?: CheckInState }[],
    groups: ReadonlySet<string>,
    now: number,
    device: CallerDevice,
  ): Promise<AppProtectionState | undefined> {
    if (found.length === 0) return undefined;
    const judged = found.flatMap(({ registration, state }) => {
      const own = this.#judge(snapshot, registration, groups, now, state);
      const hint = device.verified ? null : device.azureAdDeviceId;
      if (hint === null || hint === registration.azureAdDeviceId) return [own];
      return [own, this.#judge(snapshot, { ...registration, azureAdDeviceId: hint }, groups, now, undefined)];
    });
    const states = await Promise.all(judged);
    if (states.length === 1) return states[0];
    return {
      applied: states.every((s) => s.applied),
      compliant: states.every((s) => s.compliant),
      reasons: [...new Set(states.flatMap((s) => s.reasons))],
    };
  }

  async #judge(snapshot: TenantAppSnapshot, registration: AppRegistrationRecord, groups: ReadonlySet<string>, now: number, state: CheckInState | undefined): Promise<AppProtectionState> {
    const verdict = judge(await readFacts(this.options.store, snapshot, registration, groups, now, state), now, false);
    return { applied: verdict.applied, compliant: verdict.complianceState === 'compliant', reasons: verdict.complianceReasons };
  }

  #record(tenantId: string, request: AccessRequest, correlationId: string, context: Context, decision: AccessDecision): void {
    const { signIns } = this.options;
    if (signIns === undefined) return;
    const { app, resource, device } = context;
    // A user of another tenant is not written into this tenant's log.
    const user = context.user?.tenantId === tenantId ? context.user : undefined;
    const now = this.options.clock();
    signIns.record({
      tenantId,
      id: newSignInId(now),
      createdAt: now,
      userId: user?.objectId ?? null,
      userPrincipalName: user?.upn ?? null,
      appId: user?.clientId ?? null,
      appDisplayName: app?.displayName ?? null,
      windowsAppId: app?.windowsAppId ?? null,
      resourceId: resource?.appId ?? null,
      resourceDisplayName: resource?.displayName ?? request.resource,
      deviceId: device?.azureAdDeviceId ?? null,
      deviceIdVerified: device?.verified ?? false,
      registrationId: context.registrationId ?? null,
      ipAddress: request.ipAddress,
      correlationId,
      decision: decision.decision,
      reasons: decision.reasons,
      conditionalAccessStatus: decision.appliedPolicies.length === 0 ? 'notApplied' : decision.decision === 'allow' ? 'success' : 'failure',
      appliedPolicies: decision.appliedPolicies,
    });
  }
}

export function readAccessRequest(body: unknown): AccessRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OpenMamError('malformed_request', '$: must be a JSON object');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((name) => !ACCESS_REQUEST_FIELDS.includes(name));
  if (unknown !== undefined) throw new OpenMamError('malformed_request', `${unknown}: unknown property`);
  return {
    userToken: requiredText(input, 'userToken', MAX_TOKEN_LENGTH),
    resource: requiredText(input, 'resource', MAX_TEXT),
    registrationId: optionalGuid(input, 'registrationId'),
    appId: optionalText(input, 'appId', MAX_TEXT),
    azureAdDeviceId: optionalGuid(input, 'azureAdDeviceId'),
    ipAddress: optionalText(input, 'ipAddress', MAX_IP_ADDRESS),
  };
}

const ACCESS_REQUEST_FIELDS: readonly string[] = ['userToken', 'resource', 'registrationId', 'appId', 'azureAdDeviceId', 'ipAddress'];

function requiredText(input: Record<string, unknown>, field: string, max: number): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '' || value.length > max) throw new OpenMamError('malformed_request', `${field}: required text of at most ${max} characters`);
  return value;
}

function optionalText(input: Record<string, unknown>, field: string, max: number): string | null {
  return input[field] === undefined || input[field] === null ? null : requiredText(input, field, max);
}

function optionalGuid(input: Record<string, unknown>, field: string): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !isGuid(value)) throw new OpenMamError('malformed_request', `${field}: must be a GUID`);
  return value.toLowerCase();
}
