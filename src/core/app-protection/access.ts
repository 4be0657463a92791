import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { TokenVerifier, VerifiedIdentity } from '../../identity/identity.ts';
import type { AppRegistrationRecord } from '../../store/app-protection-records.ts';
import type { AppProtectionStore, CheckInState } from '../../store/app-protection-roles.ts';
import { accessRemediation, decideAccess, type AccessDecision } from './access-decision.ts';
import { judge, readFacts } from './evaluation.ts';
import type { TenantAppSnapshot, TenantAppSnapshots } from './tenant-snapshot.ts';

/**
 * Access decisions for gateways (`/access/v1/evaluate`): app protection CA (seed 002) and app-based CA with approved
 * apps per resource (seed 004). The registration is judged live at every decision (health, threat, offline period,
 * wipes, blocked user), so a threat report or a policy change is reflected by the very next decision on any node.
 */
export interface AccessRequest {
  userToken: string;
  appId: string;
  registrationId: string | null;
  azureAdDeviceId: string | null;
  resource: string;
}

export interface AccessServiceOptions {
  store: AppProtectionStore;
  snapshots: TenantAppSnapshots;
  verifier: TokenVerifier;
  clock: () => number;
}

export class AccessService {
  constructor(private readonly options: AccessServiceOptions) {}

  /** `gatewayTenant`: the tenant of the gateway's own credential; a user of another tenant is denied. */
  async evaluate(gatewayTenant: string, request: AccessRequest): Promise<AccessDecision> {
    const user = await this.user(request.userToken);
    if (!user) return deny('invalidUserToken', 'protectionPolicyRequired');
    if (user.tenantId !== gatewayTenant) return deny('foreignTenant', 'protectionPolicyRequired');
    const now = this.options.clock();
    const found = await this.registrationOf(user, request);
    const registration = found?.registration;
    const snapshot = found?.state
      ? await this.options.snapshots.at(user.tenantId, found.state.appConfigVersion, found.state.configVersion)
      : await this.options.snapshots.get(user.tenantId);
    const groups = await this.options.snapshots.groupsOf(user.tenantId, user.objectId, user.groups);
    const deviceId = registration?.azureAdDeviceId ?? request.azureAdDeviceId ?? user.deviceId ?? null;
    const needsDevice = snapshot.accessPolicies.some((p) => p.grantControls.includes('compliantDevice'));
    const [appProtection, deviceCompliance] = await Promise.all([
      registration ? this.appProtection(snapshot, registration, groups, now, found?.state) : Promise.resolve(undefined),
      needsDevice && deviceId ? this.options.store.getDeviceCompliance(user.tenantId, deviceId) : Promise.resolve(undefined),
    ]);
    return decideAccess({
      policies: snapshot.accessPolicies,
      resource: request.resource,
      userGroups: groups,
      appId: request.appId.toLowerCase(),
      registered: registration !== undefined,
      appProtection,
      deviceCompliant: deviceCompliance?.compliant,
    });
  }

  /** An MDM's report of a device's compliance (the `compliantDevice` grant). */
  async reportDeviceCompliance(tenantId: string, azureAdDeviceId: string, compliant: boolean): Promise<void> {
    await this.options.store.saveDeviceCompliance({ tenantId, azureAdDeviceId: azureAdDeviceId.toLowerCase(), compliant, reportedAt: this.options.clock() });
  }

  private async user(token: string): Promise<VerifiedIdentity | undefined> {
    try {
      return await this.options.verifier.verify(token);
    } catch (error) {
      // An unreachable identity provider is the gateway's 503, not a user's deny.
      if (error instanceof OpenMamError && error.code === 'upstream_unavailable') throw error;
      return undefined;
    }
  }

  /** The user's registration of this app: by id (it must be theirs and this app's), else on the named device. */
  private async registrationOf(user: VerifiedIdentity, request: AccessRequest): Promise<{ registration: AppRegistrationRecord; state?: CheckInState } | undefined> {
    const appId = request.appId.toLowerCase();
    if (request.registrationId !== null) {
      const state = await this.options.store.getCheckInState(request.registrationId);
      const registration = state?.registration;
      const own = registration && registration.tenantId === user.tenantId && registration.userId === user.objectId && registration.appId === appId && registration.state === 'active';
      return own ? { registration, state } : undefined;
    }
    const deviceId = request.azureAdDeviceId ?? user.deviceId;
    if (!deviceId) return undefined;
    const [registration] = await this.options.store.listRegistrations(user.tenantId, { userId: user.objectId, appId, azureAdDeviceId: deviceId.toLowerCase() }, 1);
    return registration ? { registration } : undefined;
  }

  private async appProtection(snapshot: TenantAppSnapshot, registration: AppRegistrationRecord, groups: ReadonlySet<string>, now: number, state: CheckInState | undefined) {
    const verdict = judge(await readFacts(this.options.store, snapshot, registration, groups, now, state), now, false);
    return { applied: verdict.applied, compliant: verdict.complianceState === 'compliant', reasons: verdict.complianceReasons };
  }
}

function deny(reason: string, message: 'protectionPolicyRequired'): AccessDecision {
  return { decision: 'deny', reasons: [reason], remediation: accessRemediation(message) };
}

export function readAccessRequest(body: unknown): AccessRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OpenMamError('malformed_request', '$: must be a JSON object');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((name) => !ACCESS_REQUEST_FIELDS.includes(name));
  if (unknown !== undefined) throw new OpenMamError('malformed_request', `${unknown}: unknown property`);
  return {
    userToken: requiredText(input, 'userToken', 16_384),
    appId: requiredText(input, 'appId', 256),
    registrationId: optionalGuid(input, 'registrationId'),
    azureAdDeviceId: optionalGuid(input, 'azureAdDeviceId'),
    resource: requiredText(input, 'resource', 256),
  };
}

const ACCESS_REQUEST_FIELDS: readonly string[] = ['userToken', 'appId', 'registrationId', 'azureAdDeviceId', 'resource'];

function requiredText(input: Record<string, unknown>, field: string, max: number): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '' || value.length > max) throw new OpenMamError('malformed_request', `${field}: required text of at most ${max} characters`);
  return value;
}

function optionalGuid(input: Record<string, unknown>, field: string): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !isGuid(value)) throw new OpenMamError('malformed_request', `${field}: must be a GUID`);
  return value.toLowerCase();
}
