import type { VerifiedIdentity } from '../../identity/identity.ts';
import type { EnrollmentRecord } from '../../store/records.ts';

/**
 * Linking a MAM enrollment to its Entra device (one device, one picture: the managedDevice's `azureADDeviceId`, and
 * through it the app registrations made on the same device). The id is only ever the `deviceid` claim of a token
 * OpenMAM verified (learn.microsoft.com/entra/identity-platform/access-token-claims-reference: the device the token was
 * obtained on), never a body, header or DevInfo value:
 * - at enrollment, from the enrollment token (core/enrollment.ts);
 * - otherwise, once, from a later OMA-DM session's verified USER token (the enrollment's own user) carrying `deviceid`,
 *   recorded in the same transaction as the message's other changes (SyncOutcome.entraDeviceLink), and only where the
 *   enrollment still has none.
 * An enrollment already linked is never re-linked by a token: a user token with another `deviceid` is ignored for the
 * link and logged (`mismatch`); the session itself is still the user's. Refusing it would lock out a user whose device
 * was registered in Entra again (a new device object); enrolling again (re-enrollment in place takes the new token's
 * `deviceid`) is how such a device is linked anew. A device token (no user) is accepted only when its `deviceid` is
 * the enrollment's already (session.ts authenticate), so it never links. Pure.
 */
export type DeviceLink =
  /** Nothing to record: no `deviceid`, or the one the enrollment has. */
  | { kind: 'none' }
  /** An unlinked enrollment takes the token's `deviceid`. */
  | { kind: 'link'; entraDeviceId: string }
  /** The token names another device than the enrollment's: not linked, logged. */
  | { kind: 'mismatch'; tokenDeviceId: string; enrollmentDeviceId: string };

export function deviceLinkOf(enrollment: Pick<EnrollmentRecord, 'entraDeviceId' | 'userOid'>, identity: Pick<VerifiedIdentity, 'objectId' | 'deviceId'>): DeviceLink {
  if (identity.objectId !== enrollment.userOid || identity.deviceId === undefined) return { kind: 'none' };
  const tokenDeviceId = identity.deviceId.toLowerCase();
  if (enrollment.entraDeviceId === null) return { kind: 'link', entraDeviceId: tokenDeviceId };
  if (enrollment.entraDeviceId.toLowerCase() === tokenDeviceId) return { kind: 'none' };
  return { kind: 'mismatch', tokenDeviceId, enrollmentDeviceId: enrollment.entraDeviceId };
}
