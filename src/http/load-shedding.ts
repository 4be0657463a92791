import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { RequestListener } from './node-server.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { RETRY_AFTER_SECONDS, retryLater } from './retry-later.ts';

/**
 * Load shedding of the device and app surfaces (enrollment, OMA-DM management, `/mam/v1`, `/mtd/v1`, `/access/v1`):
 * past a limit a request is answered at once with its protocol's "try later" (HTTP 503 and `Retry-After`, RFC 9110
 * §15.6.4 and §10.2.3; retry-later.ts) instead of waiting in a queue that grows without bound, so the requests admitted
 * keep their latency and every device learns when to come back. Two limits, each off at 0:
 * - requests in flight on these surfaces (from arrival until their answer is ready), counted here: the work the node
 *   has accepted and not done, waiting on the database or the loop; at a limit L and a capacity C, an admitted request
 *   waits about L / C at most (Little's law);
 * - the event loop's delay (Node's `monitorEventLoopDelay`, the mean over a sample): the node's CPU is saturated. Not a gate (all requests
 *   refused for a sample, all admitted the next: a refusal costs the node a good part of what a steady request does,
 *   TLS and HTTP included, so the loop swings between the two): a share of the requests is admitted, halved after
 *   each sample over the limit and raised by a tenth after each under it (AIMD, as TCP's congestion window), so it
 *   settles where the loop keeps up; never below what admits the most the node recently finished (`AdmitFraction`).
 * A shed request is told to come back later the more the node sheds and the longer it keeps shedding
 * (`shedRetryAfterSeconds`, `RetryAfterScale`): clients that honour `Retry-After` then skip check-ins, which is what
 * brings a fleet's load down to what the node takes without refusals eating the node's time.
 * Admin (`/graph`), the console, health and the identity provider are registered outside this scope and are never
 * shed: an operator can still see and act on an overloaded node.
 *
 * Admission happens at the door (`LoadShedding.door`): the node's HTTP request listener, in front of Fastify, looks the
 * request up in a router of the device and app routes alone (the same router library and options as Fastify's) and
 * answers a refusal there, raw, without the framework's request, reply, routing, hooks or logger: for a steady
 * check-in, whose refusal otherwise costs a third to a half of answering it, the refusal's cost is what bounds the
 * goodput of an overloaded node (docs/benchmarks.md "Issue 16, seventh session"). The route's own hook admits what did
 * not come through the door (`inject()`, a test's request).
 *
 * Per-client rate limits (rate-limiter.ts) are applied by each surface where its client is known (an address, a
 * DevId once the message is parsed, a verified user) and answered the same way.
 */

export type RefusalReason = 'overloaded' | 'rate_limited';

export interface Refusal {
  reason: RefusalReason;
  /** Whole seconds, for `Retry-After`. */
  retryAfterSeconds: number;
}

/** A "try later" answer: its status (503, or 429 where the protocol has it) and body; `Retry-After` is added to it. */
export interface TryLaterReply {
  statusCode: number;
  contentType: string;
  body: string;
}

/**
 * How a route says "try later" in its protocol (SOAP fault, JSON error body, plain 503 for OMA-DM): a function of the
 * refusal and the request's id alone, so that the door can answer it before the request's body is read, its token
 * checked or anything of Fastify run, and a surface's rate limit (which knows its client only later) the same way.
 */
export type TryLaterAnswer = (refusal: Refusal, requestId: string) => TryLaterReply;

/** Sends `refusal`'s try-later through Fastify (a surface's rate limit, or admission by the route's hook). */
export function sendTryLater(reply: FastifyReply, answer: TryLaterAnswer, refusal: Refusal): FastifyReply {
  const { statusCode, contentType, body } = answer(refusal, reply.request.id);
  return retryLater(reply, refusal.retryAfterSeconds).code(statusCode).type(contentType).send(body);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route of the device and app scope (checked when the route is added). */
    tryLater?: TryLaterAnswer;
  }
  interface FastifyRequest {
    /** Why a device or app request was refused for load (the access log reads it); null when admitted. */
    loadRefusal: Refusal | null;
  }
}

/** Told of a request refused at the door: its route pattern, method, status and the seconds its answer took. */
export type RefusalObserver = (route: string, method: string, statusCode: number, seconds: number) => void;

/** A device or app route as the door knows it. */
interface DoorRoute {
  url: string;
  answer: TryLaterAnswer;
}

/** Applies one client's rate limit: undefined when its request may go, else the refusal to answer. */
export type ClientLimit = (key: string) => Refusal | undefined;

export interface LoadSheddingLimits {
  /** Most device and app requests in flight at once on this node; 0: no limit. */
  maxInFlight: number;
  /** Most mean event-loop delay (ms, over one sample of EVENT_LOOP_SAMPLE_MS) before shedding; 0: no limit. */
  maxEventLoopDelayMs: number;
}

export interface LoadSheddingCounts {
  /** Device and app requests in flight now. */
  inFlight: number;
  admitted: number;
  /** Refused because `maxInFlight` requests were in flight. */
  shedInFlight: number;
  /** Refused because the event loop was late. */
  shedEventLoopDelay: number;
  /** Refused by a per-client rate limit. */
  rateLimited: number;
}

/**
 * The event loop's delay is a mean over this interval: short enough to react within a second, long enough that one
 * slow tick (a GC pause) does not shed a burst of healthy requests.
 */
const EVENT_LOOP_SAMPLE_MS = 500;
/**
 * The delay histogram's timer resolution (ms), subtracted from its mean as the timer's own period: what
 * @fastify/under-pressure measures, without its per-request hook (https://nodejs.org/api/perf_hooks.html#perf_hooksmonitoreventloopdelayoptions).
 */
const EVENT_LOOP_RESOLUTION_MS = 10;
/** At most one warning per interval while shedding: under overload, a log line per refused request would add load. */
const WARN_INTERVAL_MS = 10_000;

/**
 * How much longer a shed request is told to wait than at the base Retry-After while the share admitted is low, at
 * most: 10 s x 6 = 60 s (up to 119 s with the spread). Immediate: it follows the last half second.
 */
const MAX_SHARE_FACTOR = 6;

/**
 * Retry-After of a shed request (whole seconds), for `random` in [0, 1): the base (RETRY_AFTER_SECONDS) times the
 * larger of two factors, then spread over up to as long again (10 to 19 s when the node admits everything and refuses
 * on its in-flight limit):
 * - 1 / the share of requests the node admits (each refused client would otherwise be back for another try while the
 *   node still takes that share only: at 1/4 admitted, four tries on average), at most MAX_SHARE_FACTOR;
 * - the sustained-overload factor (`RetryAfterScale`), which grows while the node keeps refusing.
 * The requests a busy node refuses arrive together; told the same delay, the clients that do not spread their
 * retries themselves (the SDK and the simulator do) would all come back in the same second and be refused together again.
 */
export function shedRetryAfterSeconds(admittedShare: number, sustainedFactor: number, random: number): number {
  const shareFactor = Math.min(MAX_SHARE_FACTOR, 1 / Math.max(admittedShare, 1 / MAX_SHARE_FACTOR));
  const base = Math.round(RETRY_AFTER_SECONDS * Math.max(shareFactor, sustainedFactor));
  return base + Math.floor(random * base);
}

/**
 * How much longer than the base a shed request is told to wait, from how long the node has kept refusing: the factor
 * grows by GROWTH each half-second sample in which the node refused more than TARGET_REFUSED_PER_FINISHED of what it
 * finished, and falls back by DECAY in each sample under it, between 1 and MAX.
 *
 * Why: with clients that come back on a schedule (an app every 30 minutes, a device at its poll interval) and honour
 * Retry-After, a fleet that wants f times what the node answers can only be served if (1 - 1/f) of its clients are
 * waiting out a Retry-After at any moment; the node then refuses about (f - 1) x interval / Retry-After requests for
 * each one it answers (Little's law). A refusal costs 0.2 to 0.8 of a steady check-in (docs/benchmarks.md), so the
 * node keeps more of its goodput the fewer refusals per answer, the longer Retry-After; it does not know the clients'
 * interval, so it lengthens the delay while the refusals stay many. The instantaneous share admitted (the other
 * factor of shedRetryAfterSeconds) reacts within half a second but forgets as soon as the parked clients stop asking.
 * Bounded: a client told to wait cannot be called back, and in a model of bench:overload's fleet (`npm run
 * model:fleet`) a bound above 12 refused a little less but answered no more, while its clients waited longer
 * (docs/benchmarks.md "Issue 16, sixth session").
 */
export class RetryAfterScale {
  /** Refusals per request finished that the node tolerates before asking for longer. */
  static readonly TARGET_REFUSED_PER_FINISHED = 0.1;
  /** Per sample over the target: doubles in about 7 s of sustained refusals. */
  static readonly GROWTH = 1.05;
  /** Per sample under it: halves in about 17 s, so a delay found is not forgotten while the clients it parked come back. */
  static readonly DECAY = 0.98;
  /** 10 s x 12 = 2 minutes (up to 4 with the spread): twice the longest the share alone asks for; see above. */
  static readonly MAX = 12;
  #value = 1;

  /** `max`: another bound than MAX, for bench/fleet-model.ts, which weighs bounds against each other. */
  constructor(private readonly max: number = RetryAfterScale.MAX) {}

  get value(): number {
    return this.#value;
  }

  /** One sample: device and app requests refused for load during it, and admitted requests finished during it. */
  sample(refused: number, finished: number): void {
    this.#value =
      refused > RetryAfterScale.TARGET_REFUSED_PER_FINISHED * finished
        ? Math.min(this.max, this.#value * RetryAfterScale.GROWTH)
        : Math.max(1, this.#value * RetryAfterScale.DECAY);
  }
}

/** The longest Retry-After a shed request is told (seconds). */
export const SHED_RETRY_AFTER_MAX_SECONDS = shedRetryAfterSeconds(1, RetryAfterScale.MAX, 1 - Number.EPSILON);

/**
 * The share of requests admitted while the event loop is late: multiplicative decrease, additive increase, with a
 * floor that follows what the node sustains. Refusing is not free: a refusal still costs TLS, HTTP parsing, routing
 * and an answer, 0.4 to 0.8 of what a steady check-in costs (docs/benchmarks.md "Issue 16, fourth session"). Past the load where
 * refusals alone fill the loop, refusing more cannot bring the delay down, and halving down to the fixed floor only
 * turned away the requests the node could still answer (goodput fell to 7% of capacity at twice it). And a node busy
 * with dear requests (OMA-DM sessions carrying changes) is late by the length of one turn of its loop, however many it
 * admits: cutting its share below what it finishes only leaves it idle. So the share never falls below what admits
 * the most requests the node recently finished in a sample, late or not.
 * And a late loop is not a busy one when the requests come in bursts: a fleet's check-ins arrive together, a turn of
 * the loop reads thousands at once and the delay's mean passes the limit while the loop idles between bursts (the
 * seventh session's fleet: 0.8 of a core used, the share down to 1/8, a quarter of the capacity answered). So a
 * sample counts as late only if the loop was also busy for most of it (`performance.eventLoopUtilization`, the share
 * of the time the loop was not waiting for events: https://nodejs.org/api/perf_hooks.html#performanceeventlooputilizationutilization1-utilization2).
 */
export class AdmitFraction {
  /** Never below: a few requests still go, and their answers show when the node can take more. */
  static readonly MIN = 1 / 32;
  static readonly STEP_UP = 0.1;
  /**
   * Each sample, the remembered rate decays by this before the sample's own count: a node whose requests got dearer
   * (another mix, a slower database) forgets the old rate within minutes (0.998^700, about 6 minutes of 500 ms
   * samples, is 1/4), while clients that back off for a minute or two, then come back together, do not make it
   * forget what it took.
   */
  static readonly SUSTAINED_DECAY = 0.998;
  /** A loop busy for less of a sample than this has time for more requests, whatever its delay. */
  static readonly BUSY_UTILIZATION = 0.9;
  #value = 1;
  /** Requests finished in the best recent sample (decaying). */
  #sustained = 0;

  get value(): number {
    return this.#value;
  }

  /**
   * One sample: the mean event-loop delay (ms) against the limit, the device and app requests that arrived during it,
   * those the node finished during it, and the event loop's utilization over it (0 to 1).
   */
  sample(delayMs: number, limitMs: number, arrived = 0, finished = 0, utilization = 1): void {
    this.#sustained = Math.max(finished, this.#sustained * AdmitFraction.SUSTAINED_DECAY);
    if (delayMs <= limitMs || utilization < AdmitFraction.BUSY_UTILIZATION) {
      this.#value = Math.min(1, this.#value + AdmitFraction.STEP_UP);
      return;
    }
    const floor = arrived > 0 ? Math.min(1, this.#sustained / arrived) : 0;
    this.#value = Math.max(AdmitFraction.MIN, floor, this.#value / 2);
  }

  /** Whether a request goes, for `random` in [0, 1). */
  admits(random: number): boolean {
    return this.#value >= 1 || random < this.#value;
  }
}

export class LoadShedding {
  readonly counts: LoadSheddingCounts = { inFlight: 0, admitted: 0, shedInFlight: 0, shedEventLoopDelay: 0, rateLimited: 0 };
  readonly #limits: LoadSheddingLimits;
  readonly #warn: (details: Record<string, unknown>, message: string) => void;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  /** The share of device and app requests admitted, from the event loop's delay. */
  readonly eventLoop = new AdmitFraction();
  /** How much longer shed requests are told to wait while the node keeps refusing. */
  readonly retryAfter = new RetryAfterScale();
  /** The share of device and app requests admitted in the last sample that had any, by both limits. */
  #admittedShare = 1;
  /** Releases an admitted request's slot; one listener for every response, no closure per request. */
  readonly #release = (): void => {
    this.counts.inFlight--;
  };

  /** The device and app routes, for the door; each route's store is how it answers "try later". */
  readonly #doorRoutes: ReturnType<typeof FindMyWay>;
  /** Requests admitted at the door: the route's own hook lets them through without counting them again. */
  readonly #admittedAtDoor = new WeakSet<IncomingMessage>();
  readonly #observeRefusal: RefusalObserver;

  /**
   * `routerOptions`: Fastify's own (caseSensitive, ignoreTrailingSlash, ...), so that the door finds the routes
   * Fastify would. `observeRefusal`: told of each refusal at the door (Fastify's hooks never see it), for the request
   * series.
   */
  constructor(
    limits: LoadSheddingLimits,
    warn: (details: Record<string, unknown>, message: string) => void,
    options: { routerOptions?: { caseSensitive?: boolean; ignoreTrailingSlash?: boolean }; observeRefusal?: RefusalObserver } = {},
  ) {
    this.#limits = limits;
    this.#warn = warn;
    this.#doorRoutes = FindMyWay({ caseSensitive: true, ...options.routerOptions });
    this.#observeRefusal = options.observeRefusal ?? (() => undefined);
  }

  /** Whether either limit is on: with both off, the door is a plain pass-through (the routes' hook still counts). */
  get #limited(): boolean {
    return this.#limits.maxInFlight > 0 || this.#limits.maxEventLoopDelayMs > 0;
  }

  /**
   * The node's HTTP request listener: `next` (Fastify's) behind the door. A device or app request is admitted, or
   * answered its route's try-later here, raw: the status, `Retry-After`, the request id Fastify would have given it
   * (`x-request-id`) and the body, before the body is read (Node discards an unread body once the answer is sent,
   * and the connection stays open). Everything else goes straight to `next`.
   */
  door(next: RequestListener): RequestListener {
    if (!this.#limited) return next;
    return (request, response) => {
      const { method, url } = request;
      if (method === undefined || url === undefined) return next(request, response);
      const found = this.#doorRoutes.find(method as HTTPMethod, url);
      if (found === null) return next(request, response);
      const refusal = this.#admit(response);
      if (refusal === undefined) {
        this.#admittedAtDoor.add(request);
        return next(request, response);
      }
      // Timed from the refusal: an admitted request (or one not ours) pays no clock read here.
      const start = performance.now();
      const route = found.store as DoorRoute;
      const requestId = randomUUID();
      const { statusCode, contentType, body } = route.answer(refusal, requestId);
      response.writeHead(statusCode, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'retry-after': String(refusal.retryAfterSeconds),
        'x-request-id': requestId,
      });
      response.end(body);
      this.#observeRefusal(route.url, method, statusCode, (performance.now() - start) / 1000);
    };
  }

  /**
   * Registers the device and app surfaces (`routes` registers them in the scope it is given) in one encapsulated scope
   * where every route is admitted, or answered its "try later", before anything else of it runs.
   */
  async register(server: FastifyInstance, routes: (scope: FastifyInstance) => Promise<void>): Promise<void> {
    await server.register(async (scope) => {
      scope.decorateRequest('loadRefusal', null);
      const limitMs = this.#limits.maxEventLoopDelayMs;
      if (limitMs > 0 || this.#limits.maxInFlight > 0) {
        const delay = limitMs > 0 ? monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS }) : undefined;
        let sampler: NodeJS.Timeout | undefined;
        // From once the node is ready: a starting node blocks its own loop (migrations, schema compilation), which is
        // not load, so what the histogram saw before is discarded and its first requests are not shed for it.
        scope.addHook('onReady', (done) => {
          delay?.enable();
          let utilizationBefore = performance.eventLoopUtilization();
          let arrivedBefore = this.#arrived();
          let admittedBefore = this.counts.admitted;
          let finishedBefore = this.#finished();
          sampler = setInterval(() => {
            // No reading yet (this timer ran before the histogram's after a long block): the next sample will have it.
            if (delay !== undefined && delay.count === 0) return;
            const [arrivedNow, admittedNow, finishedNow] = [this.#arrived(), this.counts.admitted, this.#finished()];
            const [arrived, admitted, finished] = [arrivedNow - arrivedBefore, admittedNow - admittedBefore, finishedNow - finishedBefore];
            [arrivedBefore, admittedBefore, finishedBefore] = [arrivedNow, admittedNow, finishedNow];
            // A quiet half second says nothing of the node's load: the share stays what the last busy one measured.
            if (arrived > 0) this.#admittedShare = admitted / arrived;
            this.retryAfter.sample(arrived - admitted, finished);
            if (delay === undefined) return;
            const utilizationNow = performance.eventLoopUtilization();
            const { utilization } = performance.eventLoopUtilization(utilizationNow, utilizationBefore);
            utilizationBefore = utilizationNow;
            this.eventLoop.sample(Math.max(0, delay.mean / 1e6 - EVENT_LOOP_RESOLUTION_MS), limitMs, arrived, finished, utilization);
            delay.reset();
          }, EVENT_LOOP_SAMPLE_MS);
          sampler.unref();
          done();
        });
        scope.addHook('onClose', (_instance, done) => {
          clearInterval(sampler);
          delay?.disable();
          done();
        });
      }
      scope.addHook('onRoute', (route) => {
        // Fail at start-up: a device route that forgot how to say "try later" would never be shed.
        const answer = route.config?.tryLater;
        if (answer === undefined) throw new Error(`${route.method} ${route.url}: config.tryLater is required on a device or app route`);
        for (const method of [route.method].flat()) {
          if (!this.#doorRoutes.hasRoute(method as HTTPMethod, route.url)) this.#doorRoutes.on(method as HTTPMethod, route.url, () => undefined, { url: route.url, answer } satisfies DoorRoute);
        }
        // First of the route's own hooks: a request that did not come through the door is admitted here, and a refused
        // one costs no token check.
        const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
        route.onRequest = [this.#admission(answer), ...existing];
      });
      await routes(scope);
    });
  }

  /**
   * A per-client limit as a surface applies it (`limit(key)`: undefined when the request may go, else its refusal,
   * counted); undefined when `limiter` has no limit configured, so the surface builds no key.
   */
  clientLimit(limiter: RateLimiter): ClientLimit | undefined {
    if (!limiter.enabled) return undefined;
    return (key) => {
      const retryAfterSeconds = limiter.take(key);
      if (retryAfterSeconds === undefined) return undefined;
      this.counts.rateLimited++;
      this.#warnNow();
      return { reason: 'rate_limited', retryAfterSeconds };
    };
  }

  #admission(answer: TryLaterAnswer): onRequestHookHandler {
    return (request, reply, done) => {
      if (this.#admittedAtDoor.has(request.raw)) return done();
      const refusal = this.#admit(reply.raw);
      if (refusal === undefined) {
        done();
      } else {
        request.loadRefusal = refusal;
        // Answered from the hook: the rest of the route (body, token check, handler) never runs.
        void sendTryLater(reply, answer, refusal);
      }
    };
  }

  /**
   * The share of device and app requests the node admitted over the last half second that had any, by both limits:
   * 1 when it refused none. A shed request's Retry-After grows as it falls (shedRetryAfterSeconds).
   */
  get admittedShare(): number {
    return this.#admittedShare;
  }

  /** The Retry-After a request shed now is told, before its spread (seconds): 10 while the node sheds little. */
  get retryAfterBaseSeconds(): number {
    return shedRetryAfterSeconds(this.#admittedShare, this.retryAfter.value, 0);
  }

  /** Admitted device and app requests answered (or whose client went away) so far. */
  #finished(): number {
    return this.counts.admitted - this.counts.inFlight;
  }

  /** Device and app requests that reached admission so far (the per-client limits come after it). */
  #arrived(): number {
    return this.counts.admitted + this.counts.shedInFlight + this.counts.shedEventLoopDelay;
  }

  #admit(response: ServerResponse): Refusal | undefined {
    const { maxInFlight } = this.#limits;
    const shedBy = !this.eventLoop.admits(Math.random())
      ? 'shedEventLoopDelay'
      : maxInFlight > 0 && this.counts.inFlight >= maxInFlight
        ? 'shedInFlight'
        : undefined;
    if (shedBy !== undefined) {
      this.counts[shedBy]++;
      this.#warnNow();
      return { reason: 'overloaded', retryAfterSeconds: shedRetryAfterSeconds(this.#admittedShare, this.retryAfter.value, Math.random()) };
    }
    this.counts.inFlight++;
    this.counts.admitted++;
    // Released on the response's 'close', emitted once per response: when its answer has been written, and also when
    // the client went away first (where no answer is sent and Fastify's onResponse never runs), so the count cannot
    // leak. The slot bounds the work of the request and the writing of its (small) answer, not a slow client's reading
    // of it. A listener on the response rather than an onSend hook: no hook runs for a request of this scope that was
    // refused, and no set of admitted responses is kept.
    response.once('close', this.#release);
    return undefined;
  }

  #warnNow(): void {
    const now = Date.now();
    if (now - this.#lastWarnAt < WARN_INTERVAL_MS) return;
    this.#lastWarnAt = now;
    this.#warn({ ...this.counts, limits: this.#limits }, 'shedding load: device and app requests are answered 503 with Retry-After');
  }
}
