/**
 * Per-client rate limits of the device and app surfaces (one device's OMA-DM messages, one address's enrollments, one
 * user's managed app requests): a token bucket per key, so a client may burst up to its allowance and then gets one
 * request per 1/rate, and the answer says when the next token is due (`Retry-After`, RFC 9110 §10.2.3).
 *
 * Why not @fastify/rate-limit: its check is a promise chain and a `request.routeOptions` read (an object per read) on
 * every request, its fixed window lets a client send twice its allowance across a window's edge, and the OMA-DM key
 * (the DevId) is known only once the handler has parsed the SyncML message, where a route hook cannot see it.
 *
 * Bounded: at most `maxKeys` buckets. A Map keeps insertion order, so re-inserting a key on use makes the first key the
 * least recently used, and that one is dropped when a new key would exceed the bound: memory stays O(maxKeys) whatever
 * the number of clients (or of keys an attacker invents). A dropped key comes back with a full bucket, which is no
 * worse than a client that waited; the in-flight limit (load-shedding.ts) still bounds the node's work.
 */

export interface RateLimit {
  /** Requests a client may make per minute, sustained; also the burst (a full bucket). 0: no limit. */
  perMinute: number;
  /** Most clients tracked at once (least recently seen dropped first). */
  maxKeys: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (clock ms). */
  at: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;
  readonly #tokensPerMs: number;
  readonly #maxKeys: number;
  readonly #clock: () => number;

  constructor(limit: RateLimit, clock: () => number = Date.now) {
    if (!Number.isInteger(limit.maxKeys) || limit.maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${limit.maxKeys}`);
    this.#capacity = limit.perMinute;
    this.#tokensPerMs = limit.perMinute / 60_000;
    this.#maxKeys = limit.maxKeys;
    this.#clock = clock;
  }

  /** False when no limit is configured (`perMinute` 0): callers skip building the key. */
  get enabled(): boolean {
    return this.#capacity > 0;
  }

  /** Clients tracked now (at most maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token of `key`'s bucket: undefined when the request may go, otherwise the whole seconds until a token is
   * due (at least 1), for `Retry-After`.
   */
  take(key: string): number | undefined {
    if (!this.enabled) return undefined;
    const now = this.#clock();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, at: now };
      if (this.#buckets.size >= this.#maxKeys) this.#dropLeastRecentlyUsed();
    } else {
      // Re-inserted below: the Map's order is the order of last use.
      this.#buckets.delete(key);
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#tokensPerMs);
      bucket.at = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#tokensPerMs / 1000));
  }

  #dropLeastRecentlyUsed(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) this.#buckets.delete(oldest.value);
  }
}
