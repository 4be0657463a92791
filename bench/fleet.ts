/**
 * A fleet of clients that honour `Retry-After`, for overload: each client checks in on a schedule of its own, and a
 * check-in answered 503 with `Retry-After` (RFC 9110 §15.6.4, §10.2.3: seconds or an HTTP-date) is tried again, the
 * same check-in, no sooner than the server asked, as the SDK and the device simulator do.
 *
 * - Schedule: `clients` clients offer `rate` check-ins per second together, so each client's interval is
 *   clients / rate seconds; client i's slots are at i / rate + k x interval (the first attempts spread evenly over one
 *   interval). A client has one check-in under way at most, as an app or a device has: a slot that comes while its
 *   check-in is still waiting for an answer or backing off is skipped (counted), and after its 200 the client resumes
 *   its schedule at its next slot.
 * - Back-off: after a 503 the client waits Retry-After x (1 + U/2), U uniform in [0, 1): never sooner than asked,
 *   spread over up to half as long again so that the clients refused together do not return together. That is the
 *   device simulator's rule (src/simulator/simulation.ts `retryLaterMs`, reused here with its seeded random) and the
 *   first term of the SDK's (packages/client/src/backoff.ts `retryLaterDelayMs`), which also waits at least its
 *   exponential back-off (15-30 s after a first refusal): the fleet is the less patient of the two, so the harsher test.
 *   The header is read as the simulator reads it (src/simulator/device-simulator.ts `tryLaterOf`).
 * - Requests go over a pool of TLS keep-alive connections (open-loop.ts `ConnectionPool`); an attempt that waits in
 *   the pool's queue counts that wait in its latency (measured from when the attempt was due).
 * - Only slots due within `seconds` begin check-ins. When the run ends, a check-in backing off (refused, waiting out its
 *   Retry-After) is counted as parked and not tried again: the node told it when to come back, up to minutes
 *   later (http/load-shedding.ts), longer than a run; an attempt awaiting its answer is answered in the drain, bounded
 *   by `drainMs` (and parked if that answer is another 503).
 */
import { tryLaterOf } from '../src/simulator/device-simulator.ts';
import { seededRandom, type Random } from '../src/simulator/random.ts';
import { retryLaterMs } from '../src/simulator/simulation.ts';
import { ConnectionPool, percentilesOf, type Percentiles } from './open-loop.ts';

export interface FleetOptions {
  port: number;
  host?: string;
  clients: number;
  /** Check-ins per second the whole fleet offers. */
  rate: number;
  seconds: number;
  connections: number;
  /** The bytes of client `client`'s check-in (see open-loop.ts `httpRequest`). */
  request: (client: number) => Buffer;
  /** How long after the run check-ins under way may take to finish (ms). */
  drainMs: number;
  /** The back-off's jitter. */
  random: Random;
}

export interface FleetResult {
  clients: number;
  intervalMs: number;
  /** Check-ins begun (first attempts) during the run, and those that ended with a 200 (during the run or the drain). */
  begun: number;
  finished: number;
  /** Check-ins refused and still waiting out their Retry-After when the run ended. */
  parked: number;
  /** CPU the fleet itself used over the run (cores): near 1, it was the bottleneck and its attempts came late and in bursts. */
  generatorCores: number;
  /** Per TIMELINE_SECONDS of the run, per second: attempts sent, 200s and 503s answered (how the fleet settles). */
  timeline: { attempts: number; ok: number; refused: number }[];
  /** Slots a client skipped because its previous check-in was still under way. */
  skippedSlots: number;
  /** 200s answered within the run, per second of the run. */
  goodputPerSecond: number;
  /** Attempts (first attempts and retries) sent within the run, per second. */
  attemptsPerSecond: number;
  /** Attempts answered 503 with a Retry-After, and the Retry-After values (seconds) they carried. */
  refused: number;
  retryAfter: { min: number; max: number } | undefined;
  /** From each attempt's due time to its answer: the 200s, the 503s. */
  accepted: Percentiles | undefined;
  refusedLatency: Percentiles | undefined;
  /** From each finished check-in's first attempt to its 200 (ms). */
  endToEnd: Percentiles | undefined;
  /** Answers other than 200 and 503 with Retry-After (a 503 without one is counted as "503 without Retry-After"). */
  otherStatuses: Record<string, number>;
  /** Attempts lost with their connection, and replacement connections that could not be opened. */
  errors: number;
  /** From the end of the run until the last check-in finished (s). */
  drainSeconds: number;
  maxClientQueue: number;
  /** Attempts sent again after their kept-alive connection closed before any of their reply (open-loop.ts ConnectionPool). */
  resent: number;
  elapsedSeconds: number;
}

/** The slot number of a client's next check-in after `atMs`: the first whose time, phase + k x interval, is later. */
export function nextSlot(phaseMs: number, intervalMs: number, atMs: number): number {
  return Math.max(0, Math.floor((atMs - phaseMs) / intervalMs) + 1);
}

/**
 * The slot a client resumes at after the check-in it began at `previousSlot` ended at `atMs`: the next one, and never
 * the slot just run again (a timer may fire up to a millisecond early, and a fast answer come before the slot's time).
 */
export function resumeSlot(previousSlot: number, phaseMs: number, intervalMs: number, atMs: number): number {
  return Math.max(previousSlot + 1, nextSlot(phaseMs, intervalMs, atMs));
}

/**
 * When a refused attempt is tried again (ms from `nowMs`): undefined when the answer is not a "try later" (any
 * status but 503 and 429, or no readable Retry-After).
 */
export function retryDelayMs(status: number, retryAfter: string | undefined, random: Random, nowMs: number = Date.now()): number | undefined {
  const refusal = tryLaterOf({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } }, 'check-in', nowMs);
  return refusal === undefined ? undefined : retryLaterMs(refusal, random);
}

/** The longest a client waits after a refusal with this Retry-After (seconds): the jitter at its most. */
export function longestRetryDelayMs(retryAfterSeconds: number): number {
  return retryDelayMs(503, String(retryAfterSeconds), { ...seededRandom(0), next: () => 1 })!;
}

const RETRY_AFTER = /\r\nretry-after:[ \t]*([^\r]*)/i;

/** The value of a reply head's Retry-After header, if any. */
export function retryAfterOf(head: string): string | undefined {
  return RETRY_AFTER.exec(head)?.[1]?.trim();
}

/** The timeline's step (seconds). */
export const TIMELINE_SECONDS = 10;

export async function fleet(options: FleetOptions): Promise<FleetResult> {
  const { clients, random } = options;
  const intervalMs = (clients * 1000) / options.rate;
  const runMs = options.seconds * 1000;
  const phaseOf = (client: number): number => (client * 1000) / options.rate;
  /** Per client: its slot, when its check-in began, when its attempt was due (performance.now()). */
  const slotOf = new Float64Array(clients);
  const begunAt = new Float64Array(clients);
  const dueAt = new Float64Array(clients);
  const accepted: number[] = [];
  const refusedLatency: number[] = [];
  const endToEnd: number[] = [];
  const otherStatuses: Record<string, number> = {};
  let begun = 0;
  let finished = 0;
  let skippedSlots = 0;
  let okInRun = 0;
  let attemptsInRun = 0;
  let refused = 0;
  let minRetryAfter = Number.POSITIVE_INFINITY;
  let maxRetryAfter = 0;
  let lost = 0;
  let underWay = 0;
  let parked = 0;
  /** The retry timer of each client backing off. */
  const backingOff = new Map<number, NodeJS.Timeout>();
  const timeline = Array.from({ length: Math.ceil(options.seconds / TIMELINE_SECONDS) }, () => ({ attempts: 0, ok: 0, refused: 0 }));
  /** Counts an attempt or an answer in the timeline's bucket of `now` (performance.now()), if it is within the run. */
  const tally = (now: number, what: 'attempts' | 'ok' | 'refused'): void => {
    const bucket = timeline[Math.floor((now - start) / 1000 / TIMELINE_SECONDS)];
    if (bucket) bucket[what]++;
  };
  let lastFinishedAt = 0;
  let start = 0;
  let runOver = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const attempt = (client: number): void => {
    const now = performance.now();
    dueAt[client] = now;
    if (now - start < runMs) attemptsInRun++;
    tally(now, 'attempts');
    pool.send(client);
  };
  const begin = (client: number): void => {
    begun++;
    underWay++;
    begunAt[client] = performance.now();
    attempt(client);
  };
  /** Schedules the client's next slot, if the run still has one for it. */
  const resume = (client: number, now: number): void => {
    const slot = resumeSlot(slotOf[client]!, phaseOf(client), intervalMs, now - start);
    skippedSlots += Math.max(0, slot - slotOf[client]! - 1);
    slotOf[client] = slot;
    const at = phaseOf(client) + slot * intervalMs;
    if (at < runMs) later(at - (now - start), () => begin(client));
  };
  /** The run is over and the check-in was refused: it waits out its Retry-After beyond the run. */
  const park = (): void => {
    parked++;
    underWay--;
    if (underWay === 0) finish();
  };
  /** The check-in ended (a 200, or given up); `now` is performance.now(). */
  const end = (client: number, now: number): void => {
    underWay--;
    resume(client, now);
    if (runOver && underWay === 0) finish();
  };

  const pool = await ConnectionPool.open({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    connections: options.connections,
    request: options.request,
    onReply: (client, status, head) => {
      const now = performance.now();
      const latency = now - dueAt[client]!;
      if (status === 200) {
        accepted.push(latency);
        endToEnd.push(now - begunAt[client]!);
        finished++;
        lastFinishedAt = now;
        if (now - start <= runMs) okInRun++;
        tally(now, 'ok');
        end(client, now);
        return;
      }
      const retryAfter = status === 503 ? retryAfterOf(head) : undefined;
      const delay = status === 503 ? retryDelayMs(status, retryAfter, random) : undefined;
      if (delay === undefined) {
        const key = status === 503 ? '503 without Retry-After' : String(status);
        otherStatuses[key] = (otherStatuses[key] ?? 0) + 1;
        end(client, now);
        return;
      }
      refused++;
      tally(now, 'refused');
      refusedLatency.push(latency);
      const seconds = Number(retryAfter);
      if (Number.isFinite(seconds)) {
        minRetryAfter = Math.min(minRetryAfter, seconds);
        maxRetryAfter = Math.max(maxRetryAfter, seconds);
      }
      if (runOver) {
        park();
        return;
      }
      const timer = setTimeout(() => {
        backingOff.delete(client);
        attempt(client);
      }, delay);
      backingOff.set(client, timer);
    },
    onLost: (client) => {
      lost++;
      end(client, performance.now());
    },
  });

  start = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let client = 0; client < clients; client++) {
    const at = phaseOf(client);
    if (at < runMs) later(at, () => begin(client));
  }
  await new Promise<void>((resolve) => setTimeout(resolve, runMs));
  runOver = true;
  const cpu = process.cpuUsage(cpuBefore);
  const generatorCores = (cpu.user + cpu.system) / 1000 / runMs;
  for (const timer of backingOff.values()) {
    clearTimeout(timer);
    park();
  }
  backingOff.clear();
  if (underWay === 0) finish();
  const drain = new Promise<void>((resolve) => setTimeout(resolve, options.drainMs).unref());
  await Promise.race([done, drain]);
  const elapsedMs = performance.now() - start;
  for (const timer of timers) clearTimeout(timer);
  pool.close();

  const of = (values: number[]): Percentiles | undefined => (values.length === 0 ? undefined : percentilesOf(Float64Array.from(values)));
  return {
    clients,
    intervalMs,
    begun,
    finished,
    parked,
    generatorCores,
    timeline: timeline.map(({ attempts, ok, refused: no }) => ({ attempts: attempts / TIMELINE_SECONDS, ok: ok / TIMELINE_SECONDS, refused: no / TIMELINE_SECONDS })),
    skippedSlots,
    goodputPerSecond: okInRun / options.seconds,
    attemptsPerSecond: attemptsInRun / options.seconds,
    refused,
    retryAfter: refused === 0 ? undefined : { min: minRetryAfter, max: maxRetryAfter },
    accepted: of(accepted),
    refusedLatency: of(refusedLatency),
    endToEnd: of(endToEnd),
    otherStatuses,
    errors: lost + pool.failedOpens,
    drainSeconds: Math.max(0, lastFinishedAt - start - runMs) / 1000,
    maxClientQueue: pool.maxQueue,
    resent: pool.resent,
    elapsedSeconds: elapsedMs / 1000,
  };
}
