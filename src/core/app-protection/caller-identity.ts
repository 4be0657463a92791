import type { VerifiedIdentity } from '../../identity/identity.ts';
import type { AppRegistrationRecord, ManagedAppCatalogueRecord } from '../../store/app-protection-records.ts';
import type { AppCatalogue } from './app-catalogue.ts';

/**
 * What a managed app's or a gateway's request may rest on (docs/app-protection.md, "Trust model"): the app is the
 * token's client (`azp`/`appid`) through the tenant's catalogue; the device is the token's `deviceid`. What the caller
 * writes beside the token (an app id, a device id, a registration id) may only narrow: it must agree with the token, or
 * the request is refused (registration, check-in) or denied (access decision) with the reason below. Pure.
 * Claims: learn.microsoft.com/entra/identity-platform/access-token-claims-reference.
 */
export type IdentityRefusal =
  /** The token's client is in no catalogue entry: it speaks for no managed app. */
  | 'unableToRegister'
  /** A body or header app id that is not the token's client's app. */
  | 'appIdMismatch'
  /** A body or header device id that is not the token's `deviceid`. */
  | 'deviceIdMismatch'
  /** A registration made by another client (or another app) than the token's. */
  | 'clientMismatch';

export type Resolved<T> = { ok: true; value: T } | { ok: false; reason: IdentityRefusal };

/** The managed app the token's client speaks for; a claimed app id must be that app's. */
export function appOfCaller(catalogue: AppCatalogue, caller: Pick<VerifiedIdentity, 'clientId'>, claimedAppId: string | null): Resolved<ManagedAppCatalogueRecord> {
  const app = catalogue.appOfClient(caller.clientId);
  if (app === undefined) return { ok: false, reason: 'unableToRegister' };
  if (claimedAppId !== null && claimedAppId.toLowerCase() !== app.windowsAppId) return { ok: false, reason: 'appIdMismatch' };
  return { ok: true, value: app };
}

export interface CallerDevice {
  /** The device id to record or to judge by; null when neither the token nor the caller named one. */
  azureAdDeviceId: string | null;
  /** True when it is the token's `deviceid`. */
  verified: boolean;
}

/** The token's `deviceid` when it has one (a claimed id must equal it), else the claim as an unverified hint. */
export function deviceOfCaller(caller: Pick<VerifiedIdentity, 'deviceId'>, claimedDeviceId: string | null): Resolved<CallerDevice> {
  const claimed = claimedDeviceId?.toLowerCase() ?? null;
  if (caller.deviceId !== undefined) {
    if (claimed !== null && claimed !== caller.deviceId) return { ok: false, reason: 'deviceIdMismatch' };
    return { ok: true, value: { azureAdDeviceId: caller.deviceId, verified: true } };
  }
  return { ok: true, value: { azureAdDeviceId: claimed, verified: false } };
}

/**
 * A registration answers only to tokens of the client that made it. One made before clients were recorded (clientId
 * null) answers to any client of the same catalogue app, and is bound to the first one (the caller records it).
 * A registration whose device a token proved answers only to tokens without `deviceid` or with the same one.
 */
export function registrationAnswersTo(
  registration: Pick<AppRegistrationRecord, 'clientId' | 'appId' | 'azureAdDeviceId' | 'azureAdDeviceIdVerified'>,
  catalogue: AppCatalogue,
  caller: Pick<VerifiedIdentity, 'clientId' | 'deviceId'>,
): Resolved<{ bindClient: boolean }> {
  if (registration.clientId !== null) {
    if (registration.clientId !== caller.clientId) return { ok: false, reason: 'clientMismatch' };
  } else if (catalogue.appOfClient(caller.clientId)?.windowsAppId !== registration.appId) {
    return { ok: false, reason: 'clientMismatch' };
  }
  if (caller.deviceId !== undefined && registration.azureAdDeviceIdVerified && registration.azureAdDeviceId !== caller.deviceId) {
    return { ok: false, reason: 'deviceIdMismatch' };
  }
  return { ok: true, value: { bindClient: registration.clientId === null } };
}
