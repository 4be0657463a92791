/** Every error of the client is a MamError with a stable `code`. */
export class MamError extends Error {
  override name = 'MamError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** OpenMAM could not be reached (DNS, connection, TLS, timeout). The client backs off and retries. */
export class MamNetworkError extends MamError {
  override name = 'MamNetworkError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('network', message, options);
  }
}

/** OpenMAM answered with an error status; `code` is its `error.code` (or `http_<status>`). */
export class MamHttpError extends MamError {
  override name = 'MamHttpError';
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/**
 * `503` or `429` with `Retry-After`: OpenMAM is busy (it sheds load) or this app is over its rate. The client tries
 * again no sooner than `retryAfterSeconds` (and no sooner than its back-off after repeated refusals).
 */
export class TryLaterError extends MamHttpError {
  override name = 'TryLaterError';
  readonly retryAfterSeconds: number;

  constructor(status: number, code: string, message: string, retryAfterSeconds: number) {
    super(status, code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * `409 wrongAccount`: another work account already has managed apps on this device (one MAM account per device).
 * Show `userMessage` ("Accessing your organization's data"); the client does not retry by itself.
 */
export class WrongAccountError extends MamHttpError {
  override name = 'WrongAccountError';
  readonly userMessage: string;

  constructor(message: string, userMessage: string) {
    super(409, 'wrongAccount', message);
    this.userMessage = userMessage;
  }
}

/** `403`: the user's organization does not use OpenMAM (tenant not onboarded). The client retries after a day. */
export class NotOnboardedError extends MamHttpError {
  override name = 'NotOnboardedError';
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(403, code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Throw this from `getToken` (or any error with `accountDisabled: true` or `code: 'accountDisabled'`) when the
 * identity provider says the work account is disabled or deleted: the client applies the policy's
 * `appActionIfUnableToAuthenticateUser` (block or wipe).
 */
export class AccountDisabledError extends MamError {
  override name = 'AccountDisabledError';
  readonly accountDisabled = true;

  constructor(message = 'the work account is disabled', options?: { cause?: unknown }) {
    super('accountDisabled', message, options);
  }
}

/** The work account's data was wiped on this device; call `register()` again once the user has signed in again. */
export class WipedError extends MamError {
  override name = 'WipedError';

  constructor() {
    super('wiped', "the work account's data was wiped on this device: register again after the user signs in");
  }
}

/** `getToken` returned a token of another user than the one this client (and its stored state) is bound to. */
export class AccountMismatchError extends MamError {
  override name = 'AccountMismatchError';

  constructor(bound: string, got: string) {
    super('accountMismatch', `this client is bound to work account ${bound}, but getToken returned a token of ${got}; use one MamClient (and storage) per work account`);
  }
}

export function isAccountDisabled(error: unknown): boolean {
  if (error instanceof AccountDisabledError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const marked = error as { accountDisabled?: unknown; code?: unknown };
  return marked.accountDisabled === true || marked.code === 'accountDisabled';
}
