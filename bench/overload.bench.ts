/**
 * `npm run bench:overload`: one OpenMAM server process (SQLite or PostgreSQL, HTTPS, production logging) offered twice the requests
 * it can answer, without and with load shedding (src/http/load-shedding.ts), by two kinds of clients: a fleet that
 * honours `Retry-After`, as the SDK, the device simulator and Windows do, and an open loop that ignores it. The
 * requests (BENCH_WORKLOAD):
 *  - `check-in` (the default): steady managed app check-ins (`POST /mam/v1/registrations/{id}/checkin`), the cheapest
 *    request a node answers, so cheap that refusing one costs nearly as much (`refusalCost`);
 *  - `changes`: the first message of an OMA-DM session of a Windows device that has 50 settings to receive (an admin's
 *    change reaching the fleet; bench/oma-dm-devices.ts), each answered with those settings' commands: the dear load
 *    that overloads a node in real life. BENCH_USERS devices are enrolled over HTTPS and settled first.
 *
 *  1. Capacity: the most steady check-ins per second the server answers, closed loop (autocannon, 16 connections),
 *     and the server's CPU per check-in, on kept-alive connections and on a new TLS connection each (a full handshake
 *     per request, as a device that connects for each session costs); then (between the two nodes below) the CPU a
 *     refusal costs, both ways, against a node whose one slot is held (`refusalCost`).
 *  2. Fleet (bench/fleet.ts; phase `fleet`): BENCH_FLEET_CLIENTS clients (default one per prepared user, each its own
 *     app registration) check in on a schedule, each every clients / offered seconds, so that together they offer
 *     BENCH_OVERLOAD x capacity; a check-in answered 503 is tried again after its Retry-After x (1 + U/2) (the
 *     simulator's rule), then the client resumes its schedule. Over BENCH_FLEET_DURATION: goodput (200s answered per
 *     second), p50/p99 of the 200s (from each attempt's send), the 503s, each check-in's time from its first attempt
 *     to its 200, and that nothing is lost: every check-in begun ended with a 200 or was parked (refused, waiting out
 *     its Retry-After when the run ended), no other status, no connection error. The node's Retry-After is 10 to 19 s
 *     while it admits everything, longer the more it sheds and the longer it keeps shedding (up to 2 to 4 minutes):
 *     a refused client offers nothing for that long, skipping its slots meanwhile, which brings the fleet's offered
 *     load down to what the node takes with few refusals.
 *  3. Open loop (bench/open-loop.ts; phase `open-loop`): the same rate arrives whatever the answers say, over
 *     BENCH_CONNECTIONS connections; a refusal is answered and forgotten, so a 503 costs the node without taking load
 *     off it. Goodput, p50/p99 of the 200s (from when each request was due, so time queued counts), the 503s, and
 *     nothing lost: every request answered, 200 or 503, no connection error or timeout, no other status.
 * Each phase runs against a node without shedding (OPENMAM_MAX_IN_FLIGHT=0, OPENMAM_MAX_EVENT_LOOP_DELAY=0) and
 * against a node that sheds (the production defaults, or BENCH_MAX_IN_FLIGHT, BENCH_MAX_EVENT_LOOP_DELAY), in
 * BENCH_ROUNDS rounds (default 3), their order alternating (A B, B A, A B, ...), each node fresh; the report gives each
 * round's goodput with shedding over without, their median and spread, and the median round's figures. Each node runs
 * in a child process of its own and is warmed up at half its capacity first (its token cache, the tenant snapshot,
 * the JIT).
 * A fleet of N clients has at most N check-ins under way: without shedding, the 200s' latency is bounded by about
 * N / capacity (Little's law) and the schedule slips (slots skipped) rather than a queue growing without end, as it
 * does in the open loop.
 * The last line of output is JSON: {"bench":"overload","capacity_ops_per_s":..,"refusal_cost_ratio":..,"new_connection_refusal_cost_ratio":..,"fleet":{"shed":{...},"unshed":{...}},
 * "shed":{...},"unshed":{...}} (the top-level "shed" and "unshed" are the open loop's).
 * Environment: BENCH_STORE (sqlite or postgres: bench/bench-store.ts), BENCH_WORKLOAD (check-in or changes), BENCH_USERS (app users or devices; default 2000, changes 1000), BENCH_PHASES (default `fleet,open-loop`), BENCH_DURATION (seconds of each
 * open-loop run, default 10), BENCH_FLEET_DURATION (seconds of each fleet run, default BENCH_DURATION; several
 * back-offs, 120 or more, for the fleet to settle), BENCH_FLEET_CLIENTS (default BENCH_USERS; `auto`: offered x the
 * longest back-off at the base Retry-After, 28.5 s, so that a refusal by a node admitting everything costs a client one
 * check-in at most), BENCH_CAPACITY_DURATION (default 5),
 * BENCH_CONNECTIONS (connections, default 1024: more than the in-flight limit, as a fleet has more devices than a node
 * has slots; the fleet uses no more than it has clients), BENCH_OVERLOAD (default 2), BENCH_RATE (an offered rate
 * instead), BENCH_CAPACITY_CONNECTIONS (default 16), BENCH_MAX_IN_FLIGHT (the shedding server's limit; default the
 * production default), BENCH_MAX_EVENT_LOOP_DELAY (its event-loop delay limit, ms; default the production default).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_MAX_EVENT_LOOP_DELAY_MS, DEFAULT_MAX_IN_FLIGHT, type Config } from '../src/config.ts';
import { ConfigurationService } from '../src/core/management/configuration.ts';
import { shedRetryAfterSeconds } from '../src/http/load-shedding.ts';
import { DevIdentityProvider } from '../src/identity/dev-idp.ts';
import { MDM_PATH, MDM_QUERY } from '../src/simulator/device-simulator.ts';
import { seededRandom } from '../src/simulator/random.ts';
import { openStore } from '../src/store/open-store.ts';
import { benchConfig, checkInBody, checkInPath, JsonClient, log, prepareTenant, round, startServer, stopAll, stopServer, withServerCores, type BenchUser, type Child } from './app-protection-setup.ts';
import { openBenchStore } from './bench-store.ts';
import { fleet, longestRetryDelayMs, TIMELINE_SECONDS, type FleetResult } from './fleet.ts';
import { median } from './interleave.ts';
import { CHANGED_SETTINGS, commandsIn, deviceHeaders, enrollDevices, fiftySettings, firstPackage, headerStatusOf } from './oma-dm-devices.ts';
import { httpRequest, newConnections, openLoop, type NewConnectionsResult, type OpenLoopResult, type Percentiles } from './open-loop.ts';

const WORKLOADS = ['check-in', 'changes'] as const;
const WORKLOAD = process.env['BENCH_WORKLOAD'] ?? 'check-in';
if (!(WORKLOADS as readonly string[]).includes(WORKLOAD)) throw new Error(`BENCH_WORKLOAD: unknown workload ${WORKLOAD} (${WORKLOADS.join(', ')})`);
/** App users (check-in) or Windows devices (changes) prepared. */
const USERS = Number(process.env['BENCH_USERS'] ?? (WORKLOAD === 'changes' ? 1000 : 2000));
/** Parallel enrollments and first sessions while preparing the devices of `changes`. */
const PREPARE_CONCURRENCY = 16;
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CAPACITY_DURATION = Number(process.env['BENCH_CAPACITY_DURATION'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 1024);
const OVERLOAD = Number(process.env['BENCH_OVERLOAD'] ?? 2);
const MAX_IN_FLIGHT = Number(process.env['BENCH_MAX_IN_FLIGHT'] ?? DEFAULT_MAX_IN_FLIGHT);
const MAX_EVENT_LOOP_DELAY = Number(process.env['BENCH_MAX_EVENT_LOOP_DELAY'] ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS);
const CLOSED_LOOP_CONNECTIONS = Number(process.env['BENCH_CAPACITY_CONNECTIONS'] ?? 16);
/** An offered rate of one's own (requests/s), instead of BENCH_OVERLOAD x the measured capacity. */
const RATE = process.env['BENCH_RATE'] === undefined ? undefined : Number(process.env['BENCH_RATE']);
/**
 * Clients of the fleet phase; default one per prepared user (registration); `auto`: enough that a client's interval
 * is at least the longest back-off (see fleetRun).
 */
const FLEET_CLIENTS_SETTING = process.env['BENCH_FLEET_CLIENTS'];
/** Rounds of a node without shedding and one with, in turn; the figures are the median round's. */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const FLEET_DURATION = Number(process.env['BENCH_FLEET_DURATION'] ?? DURATION);
const PHASES = new Set((process.env['BENCH_PHASES'] ?? 'fleet,open-loop').split(',').map((phase) => phase.trim()));
for (const phase of PHASES) if (phase !== 'fleet' && phase !== 'open-loop') throw new Error(`BENCH_PHASES: unknown phase ${phase} (fleet, open-loop)`);
/**
 * The longest back-off after a refusal while the node admits everything (its in-flight limit refusing): Retry-After
 * 19 s. `auto` sizes the fleet by it; the longer Retry-Afters of a node that sheds much or long (up to 4 minutes) make
 * a refused client skip check-ins, which is how the node brings the fleet's load down.
 */
const BASE_BACK_OFF_S = longestRetryDelayMs(shedRetryAfterSeconds(1, 1, 1 - Number.EPSILON)) / 1000;

/** For the drain time only: the backlog left when the offered load stops drains at no less than this. */
const CAPACITY_FLOOR_PER_S = 500;

/** The nodes' scrape token: the bench reads each node's load-shedding series at /metrics. */
const SCRAPE_TOKEN = randomBytes(24).toString('base64url');

/** What a node's /metrics says of its load shedding (http/metrics/metrics.ts `loadShedding`). */
interface ShedReading {
  inFlight: number;
  eventLoopDelay: number;
  rateLimited: number;
  admittedShare: number;
}

async function shedReading(client: JsonClient): Promise<ShedReading> {
  const scraped = await client.raw('GET', '/metrics', undefined, { authorization: `Bearer ${SCRAPE_TOKEN}` });
  if (scraped.status !== 200) throw new Error(`/metrics: ${scraped.status}`);
  const text = scraped.text;
  const value = (name: string): number => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    if (line === undefined) throw new Error(`/metrics has no ${name}`);
    return Number(line.slice(name.length + 1));
  };
  return {
    inFlight: value('openmam_load_shed_requests_total{reason="in_flight"}'),
    eventLoopDelay: value('openmam_load_shed_requests_total{reason="event_loop_delay"}'),
    rateLimited: value('openmam_load_shed_requests_total{reason="rate_limited"}'),
    admittedShare: value('openmam_load_shedding_admitted_share'),
  };
}

/** The refusals of a phase by the node's reason, and its admitted share read every second (median, lowest). */
interface ShedWatch {
  inFlight: number;
  eventLoopDelay: number;
  share: { median: number; min: number };
}

/** Runs `phase` while reading the node's load-shedding series every second (one small scrape: negligible load). */
async function watchShedding<T>(server: Child, ca: string, phase: () => Promise<T>): Promise<T & { shedding: ShedWatch }> {
  const client = new JsonClient(server.info.port, ca, 1);
  const before = await shedReading(client);
  const shares: number[] = [];
  const timer = setInterval(() => {
    shedReading(client).then(
      (reading) => shares.push(reading.admittedShare),
      () => undefined,
    );
  }, 1000);
  try {
    const result = await phase();
    const after = await shedReading(client);
    shares.sort((a, b) => a - b);
    return {
      ...result,
      shedding: {
        inFlight: after.inFlight - before.inFlight,
        eventLoopDelay: after.eventLoopDelay - before.eventLoopDelay,
        share: { median: shares[Math.floor(shares.length / 2)] ?? 1, min: shares[0] ?? 1 },
      },
    };
  } finally {
    clearInterval(timer);
    client.close();
  }
}

const describeShedding = (watch: ShedWatch): string =>
  `refused by in-flight limit ${watch.inFlight}, by event-loop limit ${watch.eventLoopDelay}; admitted share median ${watch.share.median.toFixed(3)}, lowest ${watch.share.min.toFixed(3)}`;
const sheddingJson = (watch: ShedWatch) => ({ shed_in_flight: watch.inFlight, shed_event_loop_delay: watch.eventLoopDelay, admitted_share_median: round(watch.share.median, 3), admitted_share_min: round(watch.share.min, 3) });

interface Outcome {
  offeredPerSecond: number;
  scheduled: number;
  answered: number;
  goodputPerSecond: number;
  accepted: Percentiles | undefined;
  shed: number;
  shedLatency: Percentiles | undefined;
  /** Statuses other than 200 and 503. */
  otherStatuses: Record<string, number>;
  /** Connection errors and requests unanswered after the drain. */
  errors: number;
  lost: number;
  serverCores: number;
  maxClientQueue: number;
  resent: number;
  /** The node's own account of its refusals during the run. */
  shedding: ShedWatch;
}

interface FleetOutcome {
  offeredPerSecond: number;
  run: FleetResult;
  serverCores: number;
  shedding: ShedWatch;
}

/** Starts the OpenMAM child with `env` set for it (the child reads the load-shedding settings from its environment). */
async function startWith(dataDir: string, env: Record<string, string>): Promise<Child> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await startServer('openmam', dataDir);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  }
}

/** One request of the offered load (a POST): autocannon sends its parts, the open loop and the fleet its bytes. */
interface OfferedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What the clients offer (BENCH_WORKLOAD), request by request. */
interface Workload {
  name: (typeof WORKLOADS)[number];
  /** What one request is, for the report. */
  description: string;
  /** Request number `index` (a client's number in the fleet). */
  parts: (index: number) => OfferedRequest;
  /** Its bytes (open-loop.ts `httpRequest`). */
  bytes: (index: number) => Buffer;
}

const bytesOf = (request: OfferedRequest): Buffer => httpRequest('POST', request.path, request.headers, request.body);

/** Steady app check-ins, one user's registration after another; their bytes built once. */
function checkInWorkload(users: readonly BenchUser[], policyVersion: string): Workload {
  const parts = (index: number): OfferedRequest => {
    const user = users[index % users.length]!;
    return { path: checkInPath(user), headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, body: checkInBody(policyVersion, user.configurationVersion) };
  };
  const bytes = users.map((_, index) => bytesOf(parts(index)));
  return { name: 'check-in', description: 'steady app check-ins', parts, bytes: (index) => bytes[index % bytes.length]! };
}

/**
 * The first message of an OMA-DM session of a Windows device with CHANGED_SETTINGS settings to receive: what a fleet
 * sends after an admin's change. Each is answered with the settings' commands; the device never answers those, so its
 * next session is as dear. Every request opens a session of its own (a new SessionID: a first message again in an open
 * session is refused, its SyncHdr status 400), built when it is sent.
 */
function changesWorkload(devices: readonly { devId: string; token: string }[]): Workload {
  let session = 0;
  const parts = (index: number): OfferedRequest => {
    const device = devices[index % devices.length]!;
    session = (session % 0xffff) + 1;
    return { path: `${MDM_PATH}${MDM_QUERY}`, headers: deviceHeaders(device.token), body: firstPackage(device.devId, session.toString(16).toUpperCase()) };
  };
  return { name: 'changes', description: `OMA-DM first messages answered with ${CHANGED_SETTINGS} changed settings`, parts, bytes: (index) => bytesOf(parts(index)) };
}

/**
 * USERS Windows devices enrolled over HTTPS (MS-MDE2, the device simulator), each settled by a full first session
 * (inventory), then CHANGED_SETTINGS settings assigned to all of them (bench/oma-dm-devices.ts), and a sample of
 * their first messages checked to be answered with those settings.
 */
async function prepareChanges(dataDir: string, config: Config, server: Child, ca: string): Promise<Workload> {
  const started = Date.now();
  const tenantId = server.info.tenantId!;
  log(`preparing ${USERS} Windows devices: enrolling over HTTPS, one full session each, then ${CHANGED_SETTINGS} settings for all...`);
  const idp = await DevIdentityProvider.open(dataDir, config.publicUrl);
  const agent = new Agent({ keepAlive: true, ca, maxSockets: PREPARE_CONCURRENCY });
  const { simulators, tokens } = await enrollDevices({ idp, config, tenantId, baseUrl: `https://127.0.0.1:${server.info.port}`, ca, agent, count: USERS, concurrency: PREPARE_CONCURRENCY }).finally(() => agent.destroy());
  const store = await openStore(config.databaseUrl);
  try {
    const target = { kind: 'groups' as const, include: [], exclude: [], allUsers: true };
    const assigned = await new ConfigurationService(store, Date.now).putSet({ tenantId, name: `bench: ${CHANGED_SETTINGS} settings`, target, settings: fiftySettings() });
    if (assigned.refused.length > 0) throw new Error(`settings refused: ${assigned.refused.map((refused) => refused.locUri).join(', ')}`);
  } finally {
    await store.close();
  }
  const workload = changesWorkload(simulators.map((simulator, i) => ({ devId: simulator.devId, token: tokens[i]! })));
  const client = new JsonClient(server.info.port, ca, 1);
  try {
    for (let i = 0; i < USERS; i += Math.max(1, Math.floor(USERS / 8))) {
      const { path: target, headers, body } = workload.parts(i);
      const reply = await client.raw('POST', target, body, headers);
      const commands = commandsIn(reply.text);
      if (reply.status !== 200 || headerStatusOf(reply.text) !== '200' || commands < CHANGED_SETTINGS) {
        throw new Error(`device ${i}'s first message: HTTP ${reply.status}, SyncHdr status ${headerStatusOf(reply.text)}, ${commands} commands (expected ${CHANGED_SETTINGS} or more)`);
      }
    }
  } finally {
    client.close();
  }
  log(`  prepared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return workload;
}

interface ClosedLoop {
  ok: number;
  refused: number;
  errors: number;
  elapsedSeconds: number;
}

/** The workload's requests back to back over BENCH_CAPACITY_CONNECTIONS connections (autocannon), and the server's CPU. */
async function closedLoop(server: Child, workload: Workload, seconds: number): Promise<{ run: ClosedLoop; serverCores: number }> {
  let next = 0;
  return withServerCores(server.info.pid, async () => {
    const result = await autocannon({
      url: `https://127.0.0.1:${server.info.port}`,
      connections: CLOSED_LOOP_CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => ({ ...request, ...workload.parts(next++) }),
        },
      ],
    });
    return { ok: result['2xx'], refused: result.non2xx, errors: result.errors, elapsedSeconds: result.duration || seconds };
  });
}

/** The most requests of the workload per second, closed loop, and the server's CPU per request (µs). */
async function capacity(server: Child, workload: Workload): Promise<{ perSecond: number; cpuMicroseconds: number }> {
  const { run, serverCores } = await closedLoop(server, workload, CAPACITY_DURATION);
  if (run.refused > 0 || run.errors > 0) throw new Error(`capacity run: ${run.refused} non-2xx, ${run.errors} errors`);
  const perSecond = run.ok / run.elapsedSeconds;
  return { perSecond, cpuMicroseconds: (serverCores * 1e6) / perSecond };
}

/**
 * What refusing costs the node: the same closed loop against a node that admits one request at a time
 * (OPENMAM_MAX_IN_FLIGHT=1) while a request of the workload holds that one slot (its body one byte short, so the node
 * waits for the rest), so that every request is refused: the server's CPU per refusal, on kept-alive connections as
 * the rest of this benchmark sends them and on a new TLS connection each (`newConnections`). Shedding can raise goodput
 * only when a refusal is much cheaper than the request it refuses: at twice the capacity, a node whose refusals cost
 * half a request is full refusing alone.
 */
async function refusalCost(dataDir: string, workload: Workload): Promise<{ keptAlive: number; newConnection: number }> {
  const node = await startWith(dataDir, { OPENMAM_MAX_IN_FLIGHT: '1', OPENMAM_MAX_EVENT_LOOP_DELAY: '0', OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN });
  const held = holdSlot(node.info.port, workload.parts(0));
  try {
    await held.admitted;
    await closedLoop(node, workload, 2);
    const { run, serverCores } = await closedLoop(node, workload, CAPACITY_DURATION);
    if (run.errors > 0 || run.ok > 0 || run.refused === 0) throw new Error(`refusal cost run: ${run.ok} admitted, ${run.refused} refused, ${run.errors} errors`);
    const fresh = await newConnectionCost(node, workload);
    if (fresh.statuses['503'] !== fresh.answered) throw new Error(`refusal cost on new connections: ${JSON.stringify(fresh.statuses)}`);
    return { keptAlive: (serverCores * run.elapsedSeconds * 1e6) / run.refused, newConnection: fresh.cpuMicroseconds };
  } finally {
    held.release();
    await stopServer(node);
  }
}

/**
 * A request of the workload that the node admits and then waits on: its body is sent one byte short of its
 * Content-Length. `admitted` once the node has had time to take it in; `release` closes it.
 */
function holdSlot(port: number, request: OfferedRequest): { admitted: Promise<void>; release: () => void } {
  const bytes = httpRequest('POST', request.path, request.headers, `${request.body} `);
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  socket.on('error', () => undefined);
  const admitted = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.write(bytes.subarray(0, bytes.length - 1));
      // Half a second for the node to read the head and admit it (it parses nothing before then).
      setTimeout(resolve, 500);
    });
  });
  return { admitted, release: () => socket.destroy() };
}

/** The workload's requests each on a new TLS connection, 16 at a time: the server's CPU per connection (µs). */
async function newConnectionCost(server: Child, workload: Workload): Promise<NewConnectionsResult & { cpuMicroseconds: number }> {
  const request = (index: number): Buffer => {
    const { path: target, headers, body } = workload.parts(index);
    return httpRequest('POST', target, { ...headers, connection: 'close' }, body);
  };
  await newConnections({ port: server.info.port, request, parallel: CLOSED_LOOP_CONNECTIONS, seconds: 1 });
  const { run, serverCores } = await withServerCores(server.info.pid, () => newConnections({ port: server.info.port, request, parallel: CLOSED_LOOP_CONNECTIONS, seconds: CAPACITY_DURATION }));
  if (run.errors > 0 || run.answered === 0) throw new Error(`new connections: ${run.errors} errors, ${run.answered} answered`);
  return { ...run, cpuMicroseconds: (serverCores * run.elapsedSeconds * 1e6) / run.answered };
}

function overload(server: Child, workload: Workload, rate: number, seconds: number): Promise<{ run: OpenLoopResult; serverCores: number }> {
  return withServerCores(server.info.pid, () =>
    openLoop({
      port: server.info.port,
      rate,
      seconds,
      connections: CONNECTIONS,
      request: workload.bytes,
      // Without shedding the backlog drains at capacity after the offered load stops: (overload - 1) x the run.
      drainMs: Math.max(10_000, (rate / CAPACITY_FLOOR_PER_S) * seconds * 1000 + 10_000),
    }),
  );
}

async function fleetRun(server: Child, ca: string, workload: Workload, rate: number, capacityPerSecond: number): Promise<FleetOutcome> {
  const enough = Math.ceil(rate * BASE_BACK_OFF_S);
  const clients = FLEET_CLIENTS_SETTING === undefined ? USERS : FLEET_CLIENTS_SETTING === 'auto' ? enough : Number(FLEET_CLIENTS_SETTING);
  if (clients / rate < BASE_BACK_OFF_S) {
    // A real fleet checks in every half hour or so and a refusal costs a device a small part of one interval; here a
    // refused client misses many of its slots, so a burst of refusals takes a large share of the fleet away at once.
    log(
      `  (the fleet's clients check in every ${(clients / rate).toFixed(2)} s, less than a back-off of up to ${BASE_BACK_OFF_S} s: ` +
        `BENCH_FLEET_CLIENTS=${enough} (or auto) for a refusal to cost a client at most one check-in)`,
    );
  }
  const { run, serverCores, shedding } = await watchShedding(server, ca, () =>
    withServerCores(server.info.pid, () =>
      fleet({
      port: server.info.port,
      clients,
      rate,
      seconds: FLEET_DURATION,
      // A client has one check-in under way at most: more connections than clients would stay idle.
      connections: Math.min(CONNECTIONS, clients),
      request: workload.bytes,
      // The attempts awaiting an answer when the run ends (those backing off are parked): up to one per client queued
      // (without shedding), answered at no less than half the capacity; and 10 s.
      drainMs: (clients / Math.max(CAPACITY_FLOOR_PER_S, capacityPerSecond / 2)) * 1000 + 10_000,
      random: seededRandom(1),
    }),
    ),
  );
  return { offeredPerSecond: rate, run, serverCores, shedding };
}

function outcomeOf({ run, serverCores, shedding }: { run: OpenLoopResult; serverCores: number; shedding: ShedWatch }, rate: number): Outcome {
  const ok = run.statuses['200'] ?? 0;
  const otherStatuses = Object.fromEntries(Object.entries(run.statuses).filter(([status]) => status !== '200' && status !== '503'));
  return {
    offeredPerSecond: rate,
    scheduled: run.scheduled,
    answered: run.completed,
    goodputPerSecond: ok / run.elapsedSeconds,
    accepted: run.latencyByStatus['200'],
    shed: run.statuses['503'] ?? 0,
    shedLatency: run.latencyByStatus['503'],
    otherStatuses,
    errors: run.errors,
    lost: run.scheduled - run.completed,
    serverCores,
    maxClientQueue: run.maxQueue,
    resent: run.resent,
    shedding,
  };
}

const ms = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : `${value.toFixed(1)} ms`);
const describeOutcome = (o: Outcome): string =>
  `goodput ${o.goodputPerSecond.toFixed(0)}/s of ${o.offeredPerSecond.toFixed(0)}/s offered; accepted p50 ${ms(o.accepted?.p50)}, p99 ${ms(o.accepted?.p99)}, max ${ms(o.accepted?.max)}; ` +
  `shed ${o.shed} (p99 ${ms(o.shedLatency?.p99)}); answered ${o.answered}/${o.scheduled}, errors ${o.errors}, other statuses ${JSON.stringify(o.otherStatuses)}; ` +
  `server ${o.serverCores.toFixed(2)} cores; longest client queue ${o.maxClientQueue}, resent ${o.resent}; ${describeShedding(o.shedding)}`;
const nothingLost = (o: Outcome): boolean => o.lost === 0 && o.errors === 0 && Object.keys(o.otherStatuses).length === 0;
/** Every check-in begun finished with a 200 or is parked with its Retry-After, no other answer, no connection error. */
const fleetNothingLost = ({ run }: FleetOutcome): boolean => run.finished + run.parked === run.begun && run.errors === 0 && Object.keys(run.otherStatuses).length === 0;
const describeFleet = (o: FleetOutcome): string =>
  `${o.run.clients} clients every ${(o.run.intervalMs / 1000).toFixed(2)} s; goodput ${o.run.goodputPerSecond.toFixed(0)}/s of ${o.offeredPerSecond.toFixed(0)}/s scheduled ` +
  `(attempts ${o.run.attemptsPerSecond.toFixed(0)}/s, ${o.run.skippedSlots} slots skipped); accepted p50 ${ms(o.run.accepted?.p50)}, p99 ${ms(o.run.accepted?.p99)}; ` +
  `refused ${o.run.refused}${o.run.retryAfter === undefined ? '' : ` (Retry-After ${o.run.retryAfter.min}-${o.run.retryAfter.max} s)`}; ` +
  `check-in end to end p50 ${ms(o.run.endToEnd?.p50)}, p99 ${ms(o.run.endToEnd?.p99)}; finished ${o.run.finished}/${o.run.begun}, parked ${o.run.parked} (drain ${o.run.drainSeconds.toFixed(1)} s), ` +
  `errors ${o.run.errors}, other statuses ${JSON.stringify(o.run.otherStatuses)}; server ${o.serverCores.toFixed(2)} cores, fleet ${o.run.generatorCores.toFixed(2)}; longest client queue ${o.run.maxClientQueue}, resent ${o.run.resent}; ${describeShedding(o.shedding)}; ` +
  `200s/503s per second, each ${TIMELINE_SECONDS} s: ${describeTimeline(o)}`;
/** Per 10 s of the run: 200s/s and 503s/s, as "ok/refused". */
const describeTimeline = (o: FleetOutcome): string => o.run.timeline.map(({ ok, refused }) => `${ok.toFixed(0)}/${refused.toFixed(0)}`).join(' ');
const fleetJson = (o: FleetOutcome) => ({
  clients: o.run.clients,
  interval_s: round(o.run.intervalMs / 1000, 3),
  offered_per_s: round(o.offeredPerSecond),
  attempts_per_s: round(o.run.attemptsPerSecond),
  goodput_per_s: round(o.run.goodputPerSecond),
  p50_ms: o.run.accepted === undefined ? null : round(o.run.accepted.p50, 1),
  p99_ms: o.run.accepted === undefined ? null : round(o.run.accepted.p99, 1),
  shed: o.run.refused,
  end_to_end_p50_ms: o.run.endToEnd === undefined ? null : round(o.run.endToEnd.p50, 1),
  end_to_end_p99_ms: o.run.endToEnd === undefined ? null : round(o.run.endToEnd.p99, 1),
  begun: o.run.begun,
  finished: o.run.finished,
  parked: o.run.parked,
  skipped_slots: o.run.skippedSlots,
  drain_s: round(o.run.drainSeconds, 1),
  errors: o.run.errors,
  other_statuses: o.run.otherStatuses,
  nothing_lost: fleetNothingLost(o),
  server_cores: round(o.serverCores, 2),
  generator_cores: round(o.run.generatorCores, 2),
  resent: o.run.resent,
  timeline_per_s: o.run.timeline.map(({ attempts, ok, refused }) => ({ attempts: round(attempts), ok: round(ok), refused: round(refused) })),
  ...sheddingJson(o.shedding),
});
const json = (o: Outcome) => ({
  offered_per_s: round(o.offeredPerSecond),
  goodput_per_s: round(o.goodputPerSecond),
  p50_ms: o.accepted === undefined ? null : round(o.accepted.p50, 1),
  p99_ms: o.accepted === undefined ? null : round(o.accepted.p99, 1),
  max_ms: o.accepted === undefined ? null : round(o.accepted.max, 1),
  shed: o.shed,
  scheduled: o.scheduled,
  answered: o.answered,
  errors: o.errors,
  other_statuses: o.otherStatuses,
  nothing_lost: nothingLost(o),
  server_cores: round(o.serverCores, 2),
  resent: o.resent,
  ...sheddingJson(o.shedding),
});

/** One round: each phase's outcome on a node without shedding and on one with. */
interface PhaseOutcomes {
  fleet: FleetOutcome | undefined;
  open: Outcome | undefined;
}
interface Round {
  unshed: PhaseOutcomes;
  shed: PhaseOutcomes;
}

/** The round whose ratio is the median (the lower middle one of an even count). */
function medianRound<T>(rounds: readonly T[], ratios: readonly number[]): T | undefined {
  const order = ratios.map((ratio, index) => ({ ratio, index })).sort((a, b) => a.ratio - b.ratio);
  const middle = order[Math.floor((order.length - 1) / 2)];
  return middle === undefined ? undefined : rounds[middle.index];
}

const describeRatios = (ratios: readonly number[]): string =>
  `${ratios.map((ratio) => ratio.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}, spread ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-overload-'));
  const benchStore = await openBenchStore(dataDir);
  try {
    log(`store: ${benchStore.kind}`);
    const config = benchConfig(dataDir);
    const unshedEnv = { OPENMAM_MAX_IN_FLIGHT: '0', OPENMAM_MAX_EVENT_LOOP_DELAY: '0', OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN };
    const server = await startWith(dataDir, unshedEnv);
    const ca = await readFile(config.tlsCertFile, 'utf8');
    let workload: Workload;
    if (WORKLOAD === 'changes') workload = await prepareChanges(dataDir, config, server, ca);
    else {
      const client = new JsonClient(server.info.port, ca);
      const tenant = await prepareTenant({ dataDir, config, client, tenantId: server.info.tenantId!, users: USERS, accessPolicy: false, log });
      client.close();
      workload = checkInWorkload(tenant.users, tenant.policyVersion);
    }

    log(`capacity: closed loop, ${CLOSED_LOOP_CONNECTIONS} connections, ${CAPACITY_DURATION} s...`);
    const measured = await capacity(server, workload);
    const fresh = await newConnectionCost(server, workload);
    if (fresh.statuses['200'] !== fresh.answered) throw new Error(`requests on new connections: ${JSON.stringify(fresh.statuses)}`);
    log(`  on a new TLS connection each: ${fresh.cpuMicroseconds.toFixed(0)} µs of server CPU per request (${(fresh.answered / fresh.elapsedSeconds).toFixed(0)}/s, ${CLOSED_LOOP_CONNECTIONS} at a time)`);
    const capacityPerSecond = measured.perSecond;
    const rate = RATE ?? Math.round(capacityPerSecond * OVERLOAD);
    log(`  ${capacityPerSecond.toFixed(0)} ${workload.description}/s; offering ${rate}/s (${(rate / capacityPerSecond).toFixed(1)}x) over ${CONNECTIONS} connections, phases ${[...PHASES].join(', ')}`);

    /** Each phase against one node, warmed up at half its capacity first. */
    const phases = async (node: Child): Promise<PhaseOutcomes> => {
      await overload(node, workload, Math.round(capacityPerSecond / 2), Math.min(2, DURATION));
      let fleetOutcome: FleetOutcome | undefined;
      let open: Outcome | undefined;
      if (PHASES.has('fleet')) {
        fleetOutcome = await fleetRun(node, ca, workload, rate, capacityPerSecond);
        log(`  fleet: ${describeFleet(fleetOutcome)}`);
      }
      if (PHASES.has('open-loop')) {
        open = outcomeOf(await watchShedding(node, ca, () => overload(node, workload, rate, DURATION)), rate);
        log(`  open loop: ${describeOutcome(open)}`);
      }
      return { fleet: fleetOutcome, open };
    };

    await stopServer(server);

    log('what a refusal costs: a node admitting one request at a time, that one held, closed loop...');
    const refusal = await refusalCost(dataDir, workload);
    const refusalMicroseconds = refusal.keptAlive;
    log(`  ${refusalMicroseconds.toFixed(0)} µs of server CPU per refusal, against ${measured.cpuMicroseconds.toFixed(0)} µs per request (${(refusalMicroseconds / measured.cpuMicroseconds).toFixed(2)})`);
    log(`  on a new TLS connection each: ${refusal.newConnection.toFixed(0)} µs per refusal, against ${fresh.cpuMicroseconds.toFixed(0)} µs per request (${(refusal.newConnection / fresh.cpuMicroseconds).toFixed(2)})`);

    // Rounds of a node without shedding and one with, each fresh, in turn (A B B A A B ...): this VM's speed drifts
    // within minutes, so each round's ratio compares two nodes measured minutes apart at most.
    const shedEnv = { OPENMAM_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT), OPENMAM_MAX_EVENT_LOOP_DELAY: String(MAX_EVENT_LOOP_DELAY), OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN };
    const rounds: Round[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      const outcomes: Partial<Round> = {};
      for (const kind of index % 2 === 0 ? (['unshed', 'shed'] as const) : (['shed', 'unshed'] as const)) {
        log(`round ${index + 1} of ${ROUNDS}, ${kind === 'shed' ? `with load shedding (max in flight ${MAX_IN_FLIGHT}, event-loop delay ${MAX_EVENT_LOOP_DELAY} ms)` : 'without load shedding'}...`);
        const node = await startWith(dataDir, kind === 'shed' ? shedEnv : unshedEnv);
        outcomes[kind] = await phases(node);
        await stopServer(node);
      }
      rounds.push(outcomes as Round);
    }

    const lines = [
      `capacity (closed loop): ${capacityPerSecond.toFixed(0)} ${workload.description}/s, ${measured.cpuMicroseconds.toFixed(0)} µs of server CPU each; offered ${rate}/s (${(rate / capacityPerSecond).toFixed(1)}x), ${USERS} users`,
      `a refusal costs the node ${refusalMicroseconds.toFixed(0)} µs of CPU, ${(refusalMicroseconds / measured.cpuMicroseconds).toFixed(2)} of a request it answers; ` +
        `on a new TLS connection each, ${refusal.newConnection.toFixed(0)} µs against ${fresh.cpuMicroseconds.toFixed(0)} µs (${(refusal.newConnection / fresh.cpuMicroseconds).toFixed(2)})`,
    ];
    const fleetRounds = rounds.flatMap(({ shed, unshed }) => (shed.fleet && unshed.fleet ? [{ shed: shed.fleet, unshed: unshed.fleet }] : []));
    const fleetRatios = fleetRounds.map(({ shed, unshed }) => shed.run.goodputPerSecond / unshed.run.goodputPerSecond);
    const fleetMedian = medianRound(fleetRounds, fleetRatios);
    if (fleetMedian) {
      const { shed, unshed } = fleetMedian;
      lines.push(
        `fleet (${FLEET_DURATION} s, clients honour Retry-After), the median round, without shedding: ${describeFleet(unshed)}`,
        `fleet, with shedding (max in flight ${MAX_IN_FLIGHT}): ${describeFleet(shed)}`,
        `fleet goodput with shedding / without, by round: ${describeRatios(fleetRatios)}; the median round's with shedding ${((shed.run.goodputPerSecond / capacityPerSecond) * 100).toFixed(0)}% of the closed-loop capacity; ` +
          `nothing lost: ${fleetRounds.every((r) => fleetNothingLost(r.shed)) ? 'yes' : 'NO'} (without shedding: ${fleetRounds.every((r) => fleetNothingLost(r.unshed)) ? 'yes' : 'NO'})`,
      );
    }
    const openRounds = rounds.flatMap(({ shed, unshed }) => (shed.open && unshed.open ? [{ shed: shed.open, unshed: unshed.open }] : []));
    const openRatios = openRounds.map(({ shed, unshed }) => shed.goodputPerSecond / unshed.goodputPerSecond);
    const openMedian = medianRound(openRounds, openRatios);
    if (openMedian) {
      const { shed, unshed } = openMedian;
      lines.push(
        `open loop (${DURATION} s, ${CONNECTIONS} connections, Retry-After ignored), the median round, without shedding: ${describeOutcome(unshed)}`,
        `open loop, with shedding (max in flight ${MAX_IN_FLIGHT}): ${describeOutcome(shed)}`,
        `open-loop goodput with shedding / without, by round: ${describeRatios(openRatios)}; the median round's with shedding ${((shed.goodputPerSecond / capacityPerSecond) * 100).toFixed(0)}% of the closed-loop capacity; ` +
          `nothing lost: ${openRounds.every((r) => nothingLost(r.shed)) ? 'yes' : 'NO'} (without shedding: ${openRounds.every((r) => nothingLost(r.unshed)) ? 'yes' : 'NO'})`,
      );
    }
    const openLoopSummary = openMedian
      ? {
          goodput_ratio: round(openMedian.shed.goodputPerSecond / capacityPerSecond, 3),
          goodput_vs_unshed: round(median(openRatios), 3),
          goodput_vs_unshed_by_round: openRatios.map((ratio) => round(ratio, 3)),
          shed: json(openMedian.shed),
          unshed: json(openMedian.unshed),
        }
      : {};
    const fleetSummary = fleetMedian
      ? {
          fleet: {
            goodput_ratio: round(fleetMedian.shed.run.goodputPerSecond / capacityPerSecond, 3),
            goodput_vs_unshed: round(median(fleetRatios), 3),
            goodput_vs_unshed_by_round: fleetRatios.map((ratio) => round(ratio, 3)),
            duration_s: FLEET_DURATION,
            shed: fleetJson(fleetMedian.shed),
            unshed: fleetJson(fleetMedian.unshed),
          },
        }
      : {};
    lines.push(
      JSON.stringify({
        bench: 'overload',
        workload: workload.name,
        capacity_ops_per_s: round(capacityPerSecond),
        check_in_cpu_us: round(measured.cpuMicroseconds),
        refusal_cpu_us: round(refusalMicroseconds),
        refusal_cost_ratio: round(refusalMicroseconds / measured.cpuMicroseconds, 3),
        new_connection_request_cpu_us: round(fresh.cpuMicroseconds),
        new_connection_refusal_cpu_us: round(refusal.newConnection),
        new_connection_refusal_cost_ratio: round(refusal.newConnection / fresh.cpuMicroseconds, 3),
        offered_per_s: rate,
        overload: round(rate / capacityPerSecond, 2),
        max_in_flight: MAX_IN_FLIGHT,
        max_event_loop_delay_ms: MAX_EVENT_LOOP_DELAY,
        ...openLoopSummary,
        ...fleetSummary,
        rounds: ROUNDS,
        users: USERS,
        connections: CONNECTIONS,
        duration_s: DURATION,
        store: benchStore.kind,
      }),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stopAll();
    await benchStore.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
