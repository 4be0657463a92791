import { OpenMamError } from '../errors.ts';
import { isUserIdentity, type TokenVerifier, type VerifiedIdentity } from '../identity/identity.ts';
import type { TenantDirectory } from '../identity/tenants.ts';
import type { MamUserScope } from './mam-user-scope.ts';
import type { MamProvisioning } from '../protocol/mde2/provisioning.ts';
import { contextValue, type AdditionalContext, type RequestSecurityToken } from '../protocol/mde2/wstep.ts';
import type { EnrollmentRecord, TenantRecord } from '../store/records.ts';
import type { EnrollmentStore } from '../store/roles.ts';
import type { TermsOfUse } from './terms-of-use.ts';

/**
 * MAM enrollment (MS-MDE2 MAM extension, seed 000/001): a user adds a work account, Entra sends the device here with
 * the user's token, and we record the enrollment and answer with the OMA-DM account the device will sync with.
 * Each rule is a small function below, applied in order; the first that fails refuses the request and nothing is
 * stored.
 */
export interface EnrollmentServiceOptions {
  verifier: TokenVerifier;
  /** Who may use MAM at all (the tenant's MAM user scope). */
  scope: Pick<MamUserScope, 'require'>;
  tenants: Pick<TenantDirectory, 'get'>;
  enrollments: Pick<EnrollmentStore, 'enroll'>;
  termsOfUse: TermsOfUse;
  clock: () => number;
  newId: () => string;
  providerId: string;
  managementUrl: string;
  aadResourceId: string;
}

export interface EnrollmentResult {
  enrollment: EnrollmentRecord;
  replaced: boolean;
  provisioning: MamProvisioning;
}

/** The APPLICATION back-off of Microsoft's enrollment examples: 6 retries, 30 s first back-off, 2 min at most. */
export const MAM_BACKOFF = { connRetryFreq: 6, initialBackoffTimeMs: 30_000, maxBackoffTimeMs: 120_000 } as const;

const MAX_DEVICE_ID_LENGTH = 256;
const MAX_CONTEXT_VALUE_LENGTH = 512;

/**
 * Devices one user may have enrolled (active MAM enrollments) in a tenant. Intune's device limit restriction is 15
 * devices per user at most ("Device limit restrictions", learn.microsoft.com/mem/intune/enrollment/enrollment-restrictions-set)
 * and is answered with the MS-MDE2 fault type `DeviceCapReached` ([MS-MDE2] 2.2.10 errortype; Windows shows
 * MENROLL_E_DEVICECAPREACHED, 0x80180013). OpenMAM's bound is wider, 100 (virtual machines and lab devices enroll
 * too), and is there so that one user, or one stolen token, cannot make enrollment rows without end. Re-enrolling
 * a device the user has already is not counted; an unenrolled or retired device frees its place.
 */
export const MAX_ACTIVE_ENROLLMENTS_PER_USER = 100;

/** The refusal's reason, which the SOAP adapter answers as the MS-MDE2 fault type of the same name. */
export const DEVICE_CAP_REACHED = 'DeviceCapReached';

export class EnrollmentService {
  /** Tenant records are shared from the directory's cache, so one provisioning object serves all its enrollments. */
  private readonly provisioning = new WeakMap<TenantRecord, MamProvisioning>();

  constructor(private readonly options: EnrollmentServiceOptions) {}

  async enroll(request: RequestSecurityToken): Promise<EnrollmentResult> {
    const token = requireUserToken(request);
    const devId = requireDeviceId(request.context);
    refuseEntraJoin(request.context);
    const identity = await this.options.verifier.verify(token);
    requireUser(identity);
    const tenant = await this.requireEnrollingTenant(identity);
    await this.options.scope.require(tenant, identity);
    const termsAcceptedAt = await this.checkTermsOfUse(tenant, request.context, identity);

    const outcome = await this.options.enrollments.enroll(
      {
        id: this.options.newId(),
        tenantId: tenant.id,
        devId,
        userOid: identity.objectId,
        upn: identity.upn ?? null,
        entraDeviceId: identity.deviceId ?? null,
        enrollmentType: 'MAM',
        hwDevId: optionalContext(request.context, 'HWDevID'),
        deviceName: optionalContext(request.context, 'DeviceName'),
        deviceType: optionalContext(request.context, 'DeviceType'),
        osEdition: optionalContext(request.context, 'OSEdition'),
        osVersion: optionalContext(request.context, 'OSVersion'),
        locale: optionalContext(request.context, 'Locale'),
        applicationVersion: optionalContext(request.context, 'ApplicationVersion'),
        requestVersion: optionalContext(request.context, 'RequestVersion'),
        termsAcceptedAt,
      },
      this.options.clock(),
      identity.name ?? null,
      MAX_ACTIVE_ENROLLMENTS_PER_USER,
    );
    if (outcome.kind === 'user_limit') {
      throw new OpenMamError('not_authorized', `You have reached the maximum number of devices (${MAX_ACTIVE_ENROLLMENTS_PER_USER}) you can enroll. Remove the work account from a device you no longer use.`, {
        reason: DEVICE_CAP_REACHED,
      });
    }
    if (outcome.kind === 'device_taken') {
      throw new OpenMamError(
        'device_already_enrolled',
        'This device already has a work account managed for app protection. Remove that account before adding another one.',
      );
    }
    return { enrollment: outcome.enrollment, replaced: outcome.replaced, provisioning: this.provisioningFor(tenant) };
  }

  private async requireEnrollingTenant(identity: VerifiedIdentity): Promise<TenantRecord> {
    const tenant = await this.options.tenants.get(identity.tenantId);
    if (!tenant) throw new OpenMamError('tenant_not_onboarded', `tenant ${identity.tenantId} is not onboarded on this server`);
    if (!tenant.enrollmentAllowed) throw new OpenMamError('not_authorized', 'Your organisation does not allow new enrollments at the moment.');
    return tenant;
  }

  /** EnrollmentData, when present, must be our own acceptance for this user; the tenant may require it. */
  private async checkTermsOfUse(tenant: TenantRecord, context: AdditionalContext, identity: VerifiedIdentity): Promise<number | null> {
    const blob = contextValue(context, 'EnrollmentData');
    if (blob !== undefined) return this.options.termsOfUse.verifyAcceptance(blob, identity);
    if (tenant.settings.requireTermsOfUse) {
      throw new OpenMamError('invalid_enrollment_data', 'Your organisation requires you to accept its terms of use before enrolling.');
    }
    return null;
  }

  private provisioningFor(tenant: TenantRecord): MamProvisioning {
    let provisioning = this.provisioning.get(tenant);
    if (!provisioning) {
      provisioning = this.buildProvisioning(tenant);
      this.provisioning.set(tenant, provisioning);
    }
    return provisioning;
  }

  private buildProvisioning(tenant: TenantRecord): MamProvisioning {
    return {
      providerId: this.options.providerId,
      name: tenant.name,
      managementUrl: this.options.managementUrl,
      backoff: MAM_BACKOFF,
      poll: tenant.settings.pollSchedule,
      aadResourceId: this.options.aadResourceId,
    };
  }
}

/** A MAM enrollment adds a user's work account: an application's or a device's own token has none to add. */
function requireUser(identity: VerifiedIdentity): void {
  if (!isUserIdentity(identity)) throw new OpenMamError('not_authorized', "MAM enrollment needs a user's token, not an application's or a device's");
}

function requireUserToken(request: RequestSecurityToken): string {
  if (!request.userToken) throw new OpenMamError('authentication_failed', 'no user token in the wsse:Security header');
  if (!request.userToken.jwt) throw new OpenMamError('authentication_failed', 'the wsse:BinarySecurityToken does not hold a JWT');
  return request.userToken.jwt;
}

/** DeviceID becomes the OMA-DM DevId the device will identify itself with in every policy sync. */
function requireDeviceId(context: AdditionalContext): string {
  const devId = contextValue(context, 'DeviceID');
  if (!devId) throw new OpenMamError('malformed_request', 'AdditionalContext has no DeviceID');
  if (devId.length > MAX_DEVICE_ID_LENGTH || !/^[\x21-\x7e]+$/.test(devId)) {
    throw new OpenMamError('malformed_request', 'AdditionalContext DeviceID is not a valid device id');
  }
  return devId;
}

/** EnrollmentType `Device` is an Entra join, which enrolls to MDM, not to this MAM service (seed 000). */
function refuseEntraJoin(context: AdditionalContext): void {
  if (contextValue(context, 'EnrollmentType')?.toLowerCase() === 'device') {
    throw new OpenMamError('device_not_supported', 'Joining a device to Entra ID enrolls it to MDM; this service only enrolls work accounts for MAM.');
  }
}

function optionalContext(context: AdditionalContext, name: string): string | null {
  const value = contextValue(context, name);
  return value === undefined ? null : value.slice(0, MAX_CONTEXT_VALUE_LENGTH);
}
