import { randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { OpenMamError } from '../errors.ts';
import type { Clock, VerifiedIdentity } from '../identity/identity.ts';
import type { SecretStore } from '../store/roles.ts';

/**
 * The Terms of Use contract of Entra's MDM/MAM integration: when a user accepts our terms, the page hands Windows an
 * OpaqueBlob, and Windows returns it to the enrollment service as AdditionalContext `EnrollmentData`. The blob is
 * a short-lived JWS (HMAC, key shared by all nodes through the store) bound to the tenant and user who accepted,
 * so a blob cannot be replayed by another user, forged, or kept for later.
 */
const SECRET_NAME = 'terms-of-use-acceptance';
const ACCEPTANCE_TYPE = 'openmam-tou+jwt';
export const ACCEPTANCE_LIFETIME_SECONDS = 3600;

export class TermsOfUse {
  private key: Promise<Uint8Array> | undefined;

  constructor(
    private readonly secrets: SecretStore,
    private readonly clock: Clock,
  ) {}

  private signingKey(): Promise<Uint8Array> {
    this.key ??= this.secrets.getOrCreateSecret(SECRET_NAME, randomBytes(32)).catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  /** The OpaqueBlob for a user who just accepted the terms. */
  async accept(identity: VerifiedIdentity): Promise<string> {
    const now = Math.floor(this.clock() / 1000);
    return new SignJWT({ tid: identity.tenantId, oid: identity.objectId })
      .setProtectedHeader({ alg: 'HS256', typ: ACCEPTANCE_TYPE })
      .setIssuedAt(now)
      .setExpirationTime(now + ACCEPTANCE_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(await this.signingKey());
  }

  /** When the enrolling user accepted the terms; refuses a blob of another user or tenant, forged or expired. */
  async verifyAcceptance(blob: string, identity: VerifiedIdentity): Promise<number> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(blob, await this.signingKey(), {
        algorithms: ['HS256'],
        typ: ACCEPTANCE_TYPE,
        currentDate: new Date(this.clock()),
        requiredClaims: ['iat', 'exp', 'tid', 'oid'],
      }));
    } catch (error) {
      throw new OpenMamError('invalid_enrollment_data', 'the Terms of Use acceptance (EnrollmentData) is not valid or has expired', { cause: error });
    }
    if (payload['tid'] !== identity.tenantId || payload['oid'] !== identity.objectId) {
      throw new OpenMamError('invalid_enrollment_data', 'the Terms of Use were accepted by another user');
    }
    return Number(payload['iat']) * 1000;
  }
}
