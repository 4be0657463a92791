/**
 * The one error type of OpenMAM. Every refusal carries a stable `code` that protocol adapters map to their own
 * error shape (SOAP fault subcode, SyncML status, Graph error). `expose` says whether `message` may be shown to the
 * caller; unexposed errors leave the process as a generic fault, their details only in the log (via `cause`).
 */
export type ErrorCode =
  | 'malformed_request' // the bytes could not be understood (XML, SOAP, missing fields)
  | 'unsupported_action' // a well-formed request for something we do not do
  | 'authentication_failed' // missing, invalid, expired or foreign token
  | 'not_authorized' // authenticated, but this user or tenant may not do it
  | 'tenant_not_onboarded'
  | 'device_not_supported' // e.g. an Entra join (MDM) sent to the MAM enrollment service
  | 'device_already_enrolled' // a second MAM work account on one device
  | 'account_not_set_up' // the user is outside the tenant's MAM user scope
  | 'identity_mismatch' // what the caller claims (an app, a device, a registration) disagrees with what its token proves
  | 'invalid_enrollment_data' // Terms of Use blob missing, forged, expired or another user's
  | 'payload_too_large'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed' // a write conditioned on a version (If-Match) that is no longer the object's
  | 'invalid_configuration'
  | 'upstream_unavailable' // a service we depend on (Entra OIDC discovery, the database) did not answer
  | 'internal';

export class OpenMamError extends Error {
  override readonly name = 'OpenMamError';
  readonly code: ErrorCode;
  readonly expose: boolean;
  /** A finer, stable reason a client can act on (e.g. `appIdMismatch`); adapters that have a place for it show it. */
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, options: { expose?: boolean; cause?: unknown; reason?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.expose = options.expose ?? (code !== 'internal' && code !== 'upstream_unavailable');
    this.reason = options.reason;
  }
}

export function isOpenMamError(value: unknown): value is OpenMamError {
  return value instanceof OpenMamError;
}
