import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ErrorCode } from '../../errors.ts';
import type { CacheObserver } from '../../identity/identity.ts';
import type { QueryKind, QueryObserver } from '../../store/roles.ts';
import { LeanCounter, LeanHistogram, type CounterCell, type HistogramCell } from './cells.ts';
import { RETRY_AFTER_SECONDS } from '../retry-later.ts';

/**
 * The series OpenMAM exposes at `/metrics` (docs/operations.md "Metrics" says what each means), in one registry per
 * app: tests build many apps in one process, and prom-client's global default registry would mix them. Names follow
 * prometheus.io/docs/practices/naming: the `openmam_` prefix, base units in the name (`_seconds`), `_total` for
 * counters. Every label has a bounded set of values: route patterns (never the raw URL), status codes, outcome words,
 * OpenMAM's error codes; no tenant, user or device ever becomes a label.
 */

/** The surfaces of docs/ARCHITECTURE.md, by path. `other`: `/openapi.json`, unknown paths. */
export type Surface = 'enrollment' | 'management' | 'admin' | 'mam' | 'mtd' | 'access' | 'idp' | 'console' | 'health' | 'metrics' | 'other';

const SURFACE_PREFIXES: readonly (readonly [RegExp, Surface])[] = [
  [/^\/EnrollmentServer\//i, 'enrollment'],
  [/^\/ManagementServer\//i, 'management'],
  [/^\/graph(\/|$)/i, 'admin'],
  [/^\/mam\/v1(\/|$)/i, 'mam'],
  [/^\/mtd\/v1(\/|$)/i, 'mtd'],
  [/^\/access\/v1(\/|$)/i, 'access'],
  [/^\/console(\/|$)/i, 'console'],
  // The built-in identity provider: its discovery documents and keys under /idp, and its sign-in endpoints.
  [/^\/idp(\/|$)/i, 'idp'],
  [/^\/healthz$/i, 'health'],
  [/^\/metrics$/i, 'metrics'],
];

export function surfaceOf(path: string): Surface {
  for (const [prefix, surface] of SURFACE_PREFIXES) if (prefix.test(path)) return surface;
  return 'other';
}

/** Seconds. A device request is answered in milliseconds; the top bound is the server's request timeout (30 s). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds. An indexed read takes tens of microseconds on SQLite, a round trip or more on PostgreSQL. */
const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Device messages in one OMA-DM session: 1 when steady, a few while configuring, more when packed under MaxMsgSize. */
const SESSION_MESSAGE_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50];

/** The route label of requests no route matched (404s of unknown paths, scanners). */
const UNMATCHED_ROUTE = '(unmatched)';

/** Every QueryKind (a Record: a kind added to store/roles.ts without its series here does not compile). */
const QUERY_KINDS = Object.keys({ select: true, insert: true, update: true, delete: true, transaction: true, other: true } satisfies Record<QueryKind, true>) as QueryKind[];

/** What `OpenMamMetrics.loadShedding` reads at a scrape (http/load-shedding.ts `LoadSheddingCounts` and its share). */
export interface LoadSheddingReading {
  inFlight: number;
  shedInFlight: number;
  shedEventLoopDelay: number;
  rateLimited: number;
  admittedShare: number;
  retryAfterBaseSeconds: number;
}

const NO_LOAD_SHEDDING: LoadSheddingReading = { inFlight: 0, shedInFlight: 0, shedEventLoopDelay: 0, rateLimited: 0, admittedShare: 1, retryAfterBaseSeconds: RETRY_AFTER_SECONDS };

/** The request series of one route pattern and method, by status code: bound at the first request with that code. */
export class RouteSeries {
  readonly #byStatus = new Map<number, { count: CounterCell<string>; latency: HistogramCell<string> }>();

  constructor(
    private readonly metrics: OpenMamMetrics,
    readonly surface: Surface,
    readonly route: string,
    readonly method: string,
  ) {}

  observe(statusCode: number, seconds: number): void {
    let cells = this.#byStatus.get(statusCode);
    if (cells === undefined) {
      const code = String(statusCode);
      cells = {
        count: this.metrics.httpRequests.cell({ surface: this.surface, route: this.route, method: this.method, code }),
        latency: this.metrics.httpDuration.cell({ surface: this.surface, route: this.route, method: this.method, status_class: `${code[0]}xx` }),
      };
      this.#byStatus.set(statusCode, cells);
    }
    cells.count.inc();
    cells.latency.observe(seconds);
  }
}

export type EnrollmentResult = 'created' | 'replaced' | ErrorCode;

export type BufferName = 'device_checkins' | 'app_checkins' | 'sign_ins' | 'activity';

/** The cells of a one-label counter by label value, bound at first use: a hot path then does one Map look-up. */
class ByValue<L extends string> {
  readonly #cells = new Map<string, CounterCell<L>>();

  constructor(
    private readonly counter: LeanCounter<L>,
    private readonly labels: (value: string) => Record<L, string>,
  ) {}

  inc(value: string): void {
    let cell = this.#cells.get(value);
    if (cell === undefined) {
      cell = this.counter.cell(this.labels(value));
      this.#cells.set(value, cell);
    }
    cell.inc();
  }
}

export class OpenMamMetrics {
  readonly registry = new Registry();
  readonly httpRequests: LeanCounter<'surface' | 'route' | 'method' | 'code'>;
  readonly httpDuration: LeanHistogram<'surface' | 'route' | 'method' | 'status_class'>;
  readonly #omaDmRefused: ByValue<'outcome' | 'code'>;
  readonly #omaDmContinued: CounterCell<'outcome' | 'code'>;
  readonly #omaDmEnded: CounterCell<'outcome' | 'code'>;
  readonly #omaDmSessionMessages: HistogramCell<never>;
  readonly #enrollments: ByValue<'result'>;
  readonly #appCheckins: ByValue<'compliance_state'>;
  readonly #accessDecisions: ByValue<'decision'>;
  readonly #cacheLookups: LeanCounter<'cache' | 'result'>;
  readonly #queryDuration: Record<QueryKind, HistogramCell<'kind'>>;
  readonly #queryErrors: Record<QueryKind, CounterCell<'kind'>>;
  readonly #buffers = new Map<BufferName, () => number>();
  /** The load-shedding counts, once the app gives them (loadShedding); before, nothing in flight or shed. */
  #loadShedding: () => LoadSheddingReading = () => NO_LOAD_SHEDDING;
  /** By route pattern, then method. */
  readonly #routes = new Map<string, Map<string, RouteSeries>>();
  /** Requests no route matched, by surface (from the path), then method. */
  readonly #unmatched = new Map<string, Map<string, RouteSeries>>();

  constructor(version: string) {
    const registry = this.registry;
    this.httpRequests = new LeanCounter({
      name: 'openmam_http_requests_total',
      help: 'HTTP requests answered, by surface, route pattern, method and status code.',
      labelNames: ['surface', 'route', 'method', 'code'],
      registry,
    });
    this.httpDuration = new LeanHistogram({
      name: 'openmam_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to sending its answer, by surface, route pattern, method and status class.',
      labelNames: ['surface', 'route', 'method', 'status_class'],
      buckets: HTTP_BUCKETS,
      registry,
    });
    const omaDmMessages = new LeanCounter({
      name: 'openmam_omadm_messages_total',
      help: 'OMA-DM messages answered: continued (the session goes on), ended (the session ended with this answer), refused (with the SyncHdr status code).',
      labelNames: ['outcome', 'code'],
      registry,
    });
    this.#omaDmContinued = omaDmMessages.cell({ outcome: 'continued', code: '200' });
    this.#omaDmEnded = omaDmMessages.cell({ outcome: 'ended', code: '200' });
    this.#omaDmRefused = new ByValue(omaDmMessages, (code) => ({ outcome: 'refused', code }));
    this.#omaDmSessionMessages = new LeanHistogram<never>({
      name: 'openmam_omadm_session_messages',
      help: 'Device messages per OMA-DM session that ended (1: a steady check-in).',
      labelNames: [],
      buckets: SESSION_MESSAGE_BUCKETS,
      registry,
    }).cell({});
    const enrollments = new LeanCounter({
      name: 'openmam_enrollments_total',
      help: 'MAM enrollment requests answered: created, replaced (a re-enrollment of the device), or the error code of the SOAP fault.',
      labelNames: ['result'],
      registry,
    });
    this.#enrollments = new ByValue(enrollments, (result) => ({ result }));
    const appCheckins = new LeanCounter({
      name: 'openmam_app_checkins_total',
      help: 'Managed app check-ins answered (/mam/v1), by the compliance state answered; refused ones are in openmam_http_requests_total.',
      labelNames: ['compliance_state'],
      registry,
    });
    this.#appCheckins = new ByValue(appCheckins, (state) => ({ compliance_state: state }));
    const accessDecisions = new LeanCounter({
      name: 'openmam_access_decisions_total',
      help: 'Access decisions answered to gateways (/access/v1/evaluate), by decision.',
      labelNames: ['decision'],
      registry,
    });
    this.#accessDecisions = new ByValue(accessDecisions, (decision) => ({ decision }));
    this.#cacheLookups = new LeanCounter({
      name: 'openmam_cache_lookups_total',
      help: 'Look-ups of the per-node caches: token (verified tokens), tenant (onboarded tenants), tenant_snapshot (app protection policies); hit or miss.',
      labelNames: ['cache', 'result'],
      registry,
    });
    const queryDuration = new LeanHistogram({
      name: 'openmam_store_query_duration_seconds',
      help: 'Duration of the store queries, by statement kind (select, insert, update, delete, transaction, other).',
      labelNames: ['kind'],
      buckets: QUERY_BUCKETS,
      registry,
    });
    const queryErrors = new LeanCounter({ name: 'openmam_store_query_errors_total', help: 'Store queries that failed, by statement kind.', labelNames: ['kind'], registry });
    this.#queryDuration = Object.fromEntries(QUERY_KINDS.map((kind) => [kind, queryDuration.cell({ kind })])) as Record<QueryKind, HistogramCell<'kind'>>;
    this.#queryErrors = Object.fromEntries(QUERY_KINDS.map((kind) => [kind, queryErrors.cell({ kind })])) as Record<QueryKind, CounterCell<'kind'>>;
    const buffers = this.#buffers;
    new Gauge({
      name: 'openmam_buffered_writes_pending',
      help: 'Entries written behind the request path and not written yet: device_checkins, app_checkins, sign_ins, activity.',
      labelNames: ['buffer'],
      registers: [registry],
      // Read at scrape time only: the buffers keep their own counts.
      collect() {
        for (const [buffer, pending] of buffers) this.set({ buffer }, pending());
      },
    });
    const shedding = (): LoadSheddingReading => this.#loadShedding();
    new Gauge({
      name: 'openmam_device_requests_in_flight',
      help: 'Device and app requests admitted and not answered yet (the OPENMAM_MAX_IN_FLIGHT limit counts these).',
      registers: [registry],
      collect() {
        this.set(shedding().inFlight);
      },
    });
    new Gauge({
      name: 'openmam_load_shedding_admitted_share',
      help: 'Share of device and app requests admitted over the last half second that had any, by both node limits: 1 while none is shed.',
      registers: [registry],
      collect() {
        this.set(shedding().admittedShare);
      },
    });
    new Gauge({
      name: 'openmam_load_shedding_retry_after_seconds',
      help: 'Retry-After a device or app request shed now is told, before its random spread of up to as long again: 10 while the node sheds little, longer while it keeps shedding.',
      registers: [registry],
      collect() {
        this.set(shedding().retryAfterBaseSeconds);
      },
    });
    new Counter({
      name: 'openmam_load_shed_requests_total',
      help: 'Device and app requests answered "try later" (503 or 429 with Retry-After): in_flight and event_loop_delay (node limits), rate_limited (one client over its rate).',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const now = shedding();
        // A counter read from counts that only grow: set by reset and add (prom-client counters have no set).
        this.reset();
        this.inc({ reason: 'in_flight' }, now.shedInFlight);
        this.inc({ reason: 'event_loop_delay' }, now.shedEventLoopDelay);
        this.inc({ reason: 'rate_limited' }, now.rateLimited);
      },
    });
    new Gauge({ name: 'openmam_build_info', help: 'Always 1; the version label says which OpenMAM this node runs.', labelNames: ['version'], registers: [registry] }).set({ version }, 1);
    // The process series start with the first app, not at its first scrape: their event-loop delay monitor and GC
    // observer then cover the node from its start (started at the first scrape, GC time before it was never counted
    // and the first scrape had no GC series at all).
    processRegistry();
  }

  /** The request series of a route pattern (`request.routeOptions.url`; undefined: no route matched) and method. */
  route(routePattern: string | undefined, method: string, path: string): RouteSeries {
    // No route matched: the surface from the path (a bounded set) and a fixed route label, never the path itself.
    const [routes, key, route] = routePattern === undefined ? [this.#unmatched, surfaceOf(path), UNMATCHED_ROUTE] : [this.#routes, routePattern, routePattern];
    let byMethod = routes.get(key);
    if (byMethod === undefined) {
      byMethod = new Map();
      routes.set(key, byMethod);
    }
    let series = byMethod.get(method);
    if (series === undefined) {
      series = new RouteSeries(this, surfaceOf(route === UNMATCHED_ROUTE ? path : route), route, method);
      byMethod.set(method, series);
    }
    return series;
  }

  /** An OMA-DM message answered and the session goes on (more commands, or Alert 1222 for the device's next message). */
  omaDmContinued(): void {
    this.#omaDmContinued.inc();
  }

  /** The session ended with this answer; `deviceMessages`: the device's MsgID, how many messages the session took. */
  omaDmEnded(deviceMessages: number): void {
    this.#omaDmEnded.inc();
    this.#omaDmSessionMessages.observe(deviceMessages);
  }

  /** The message was refused with this SyncHdr status (400, 401, 407, 503): nothing of it was applied. */
  omaDmRefused(code: string): void {
    this.#omaDmRefused.inc(code);
  }

  enrollment(result: EnrollmentResult): void {
    this.#enrollments.inc(result);
  }

  appCheckin(complianceState: 'compliant' | 'notCompliant' | 'unknown'): void {
    this.#appCheckins.inc(complianceState);
  }

  accessDecision(decision: 'allow' | 'deny'): void {
    this.#accessDecisions.inc(decision);
  }

  /** The observer of one cache, bound to its two cells. */
  cache(name: 'token' | 'tenant' | 'tenant_snapshot'): CacheObserver {
    const hits = this.#cacheLookups.cell({ cache: name, result: 'hit' });
    const misses = this.#cacheLookups.cell({ cache: name, result: 'miss' });
    return { hit: () => hits.inc(), miss: () => misses.inc() };
  }

  readonly storeQuery: QueryObserver = (kind, seconds, failed) => {
    this.#queryDuration[kind].observe(seconds);
    if (failed) this.#queryErrors[kind].inc();
  };

  /** A write-behind buffer whose pending entries are read at each scrape. */
  buffer(name: BufferName, pending: () => number): void {
    this.#buffers.set(name, pending);
  }

  /**
   * The load shedding of the device and app surfaces (http/load-shedding.ts), read at each scrape from its own counts:
   * nothing is added to a request's path. Until it is given, its series say nothing is in flight or shed.
   */
  loadShedding(reading: () => LoadSheddingReading): void {
    this.#loadShedding = reading;
  }

  /** The exposition text (prometheus.io/docs/instrumenting/exposition_formats, version 0.0.4) with the process's series. */
  async scrape(): Promise<string> {
    return Registry.merge([this.registry, processRegistry()]).metrics();
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
}

let processMetrics: Registry | undefined;

/**
 * prom-client's default Node.js series (event-loop lag, GC, heap, CPU, handles: its `collectDefaultMetrics`), in a
 * registry of their own, made once per process: they describe the process, not an app, and every collection starts
 * an event-loop delay monitor and a GC observer that live as long as the process. Their standard names
 * (`process_*`, `nodejs_*`) are kept unprefixed: the published Node.js dashboards and alerts use them.
 */
function processRegistry(): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
