/**
 * Back-off after a failed check-in (network failure, server error): exponential from 30 seconds, doubling, capped
 * at 60 minutes, with "equal jitter" (a random point in the upper half of the step) so that the apps of a fleet
 * that lost the server together do not come back together, yet none retries sooner than half the step.
 */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 60 * 60_000;

/** The delay before the next attempt after `failures` consecutive failures (1 for the first). */
export function backoffDelayMs(failures: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * The delay after a "try later" (503 or 429 with `Retry-After`, RFC 9110 §10.2.3): never sooner than the server asked,
 * spread over up to half as long again so that the apps a busy server refused together do not return together, and
 * never sooner than the back-off after as many failures, so that a server that keeps refusing is asked less and less.
 */
export function retryLaterDelayMs(retryAfterSeconds: number, failures: number, random: () => number = Math.random): number {
  const asked = retryAfterSeconds * 1000;
  return Math.max(Math.round(asked + random() * (asked / 2)), backoffDelayMs(failures, random));
}
