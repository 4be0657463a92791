import { OpenMamError } from '../errors.ts';
import type { VersionedDelete, VersionedWrite } from '../store/roles.ts';

/**
 * Optimistic concurrency of admin writes (PATCH, assign, targetApps, DELETE), over the store's compare-and-set on
 * the object's version (store/roles.ts VersionedWrite):
 * - unconditioned (no If-Match, or `*`): a write that loses the race reads the fresh object, applies its change
 *   again, validates again and retries, after a short random pause, at most MAX_ATTEMPTS times (then `conflict`):
 *   concurrent changes of different fields all land, each at its own version;
 * - conditioned on versions (If-Match with entity tags): one compare-and-set on the version read, which must be one
 *   of them; otherwise `precondition_failed` and nothing is written (RFC 9110 §13.1.1);
 * - an object that is not there (deleted meanwhile too) is `not_found` whatever the condition, as RFC 9110 §13.2.1 says
 *   (preconditions are ignored when the answer without them would not be 2xx), and is never re-created.
 */

/** What a write is conditioned on: `any` existing object (no If-Match, or `*`), or one of these versions. */
export type ExpectedVersion = { kind: 'any' } | { kind: 'versions'; versions: readonly number[] };

export const ANY_VERSION: ExpectedVersion = { kind: 'any' };

/**
 * Of writers racing for one object, each round has one winner; the pause before a retry is random and grows (full
 * jitter, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015), so the losers spread out instead of
 * colliding again: a burst of a few dozen concurrent writes of one object all land. The bound guards against a livelock.
 */
const MAX_ATTEMPTS = 10;
const BACKOFF_BASE_MS = 4;
const BACKOFF_CAP_MS = 250;

function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function requireVersion(expected: ExpectedVersion, current: number, what: string): void {
  if (expected.kind === 'versions' && !expected.versions.includes(current)) {
    throw new OpenMamError('precondition_failed', `${what} has changed: it is at version ${current}, the request is conditioned on ${expected.versions.join(', ') || 'another entity tag'}`);
  }
}

/**
 * Read, change, compare-and-set, as above. `read` throws `not_found` when the object is not there; `change` returns
 * the validated new object, still carrying the version it was read at; `write` is the store's compare-and-set.
 * Answers the object as saved, at its new version.
 */
export async function writeVersioned<R extends { version: number }>(options: {
  what: string;
  expected: ExpectedVersion;
  read: () => Promise<R>;
  change: (current: R) => R | Promise<R>;
  write: (next: R) => Promise<VersionedWrite>;
}): Promise<R> {
  const { what, expected } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await options.read();
    requireVersion(expected, current.version, what);
    const next = await options.change(current);
    const outcome = await options.write({ ...next, version: current.version });
    if (outcome.kind === 'saved') return { ...next, version: outcome.version };
    if (outcome.kind === 'not_found') throw new OpenMamError('not_found', `${what} does not exist any more`);
    // Stale: someone else wrote first.
    requireVersion(expected, outcome.current, what);
    if (expected.kind === 'versions') {
      // Pinned to a version that did match when read: one compare-and-set only, never a retry.
      throw new OpenMamError('precondition_failed', `${what} has changed: it is at version ${outcome.current}`);
    }
    if (attempt >= MAX_ATTEMPTS) throw new OpenMamError('conflict', `${what} is being changed concurrently; ${MAX_ATTEMPTS} attempts lost the race, try again`);
    await pause(attempt);
  }
}

/**
 * A delete: unconditioned, whatever the version (`not_found` when absent); conditioned, only at the version read,
 * which must be one of the expected ones. `read` throws `not_found` when the object is not there (and may check
 * what the caller may see of it); it is only called when something must be checked first.
 */
export async function deleteVersioned(options: {
  what: string;
  expected: ExpectedVersion;
  read: () => Promise<{ version: number }>;
  remove: (expectedVersion: number | undefined) => Promise<VersionedDelete>;
  readFirst?: boolean;
}): Promise<void> {
  const { what, expected } = options;
  let version: number | undefined;
  if (expected.kind === 'versions' || options.readFirst === true) {
    const current = await options.read();
    requireVersion(expected, current.version, what);
    version = expected.kind === 'versions' ? current.version : undefined;
  }
  const outcome = await options.remove(version);
  if (outcome.kind === 'not_found') throw new OpenMamError('not_found', `${what} does not exist`);
  if (outcome.kind === 'stale') throw new OpenMamError('precondition_failed', `${what} has changed: it is at version ${outcome.current}`);
}
