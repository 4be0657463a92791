/**
 * `npm run bench:overload`: one OpenMAM server process (SQLite, HTTPS, production logging) offered twice the managed
 * app check-ins (`POST /mam/v1/registrations/{id}/checkin`) it can answer, open loop (requests arrive at a fixed rate
 * whatever the answers do, as a fleet of devices does), without and with load shedding (src/http/load-shedding.ts).
 *
 *  1. Capacity: the most steady check-ins per second the server answers, closed loop (autocannon, 16 connections).
 *  2. Overload without shedding (OPENMAM_MAX_IN_FLIGHT=0, OPENMAM_MAX_EVENT_LOOP_DELAY=0): BENCH_OVERLOAD x capacity,
 *     open loop (bench/open-loop.ts) over BENCH_CONNECTIONS connections: the requests the server cannot take yet wait
 *     (in the server's sockets and the clients' queue) and their latency grows for as long as the overload lasts.
 *  3. The same load on a server that sheds (the production defaults, or BENCH_MAX_IN_FLIGHT): what it cannot take is
 *     answered 503 with Retry-After at once; what it takes is answered at its capacity with a bounded latency.
 * Each run reports goodput (200s answered per second), p50/p99 of the 200s (from when each request was due to be sent,
 * so time queued counts), the 503s (shed), and that nothing is lost: every request answered, 200 or 503, no connection
 * error or timeout, no other status. Each server runs in a child process of its own and is warmed up at half its
 * capacity first (its token cache, the tenant snapshot, the JIT).
 * The last line of output is JSON: {"bench":"overload","capacity_ops_per_s":..,"shed":{...},"unshed":{...}}.
 * Environment: BENCH_USERS (default 2000), BENCH_DURATION (seconds of each overload run, default 10),
 * BENCH_CAPACITY_DURATION (default 5), BENCH_CONNECTIONS (open-loop connections, default 1024: more than the in-flight
 * limit, as a fleet has more devices than a node has slots), BENCH_OVERLOAD (default 2), BENCH_RATE (an offered rate
 * instead), BENCH_CAPACITY_CONNECTIONS (default 16), BENCH_MAX_IN_FLIGHT (the shedding server's limit; default the
 * production default), BENCH_MAX_EVENT_LOOP_DELAY (its event-loop delay limit, ms; default the production default).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { DEFAULT_MAX_EVENT_LOOP_DELAY_MS, DEFAULT_MAX_IN_FLIGHT } from '../src/config.ts';
import { SHED_RETRY_AFTER_MAX_SECONDS } from '../src/http/load-shedding.ts';
import { seededRandom } from '../src/simulator/random.ts';
import { benchConfig, checkInBody, checkInPath, cpuSecondsOf, JsonClient, log, prepareTenant, round, startServer, stopAll, stopServer, type BenchUser, type Child } from './app-protection-setup.ts';
import { fleet, type FleetResult } from './fleet.ts';
import { httpRequest, openLoop, type OpenLoopResult, type Percentiles } from './open-loop.ts';

const USERS = Number(process.env['BENCH_USERS'] ?? 2000);
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CAPACITY_DURATION = Number(process.env['BENCH_CAPACITY_DURATION'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 1024);
const OVERLOAD = Number(process.env['BENCH_OVERLOAD'] ?? 2);
const MAX_IN_FLIGHT = Number(process.env['BENCH_MAX_IN_FLIGHT'] ?? DEFAULT_MAX_IN_FLIGHT);
const MAX_EVENT_LOOP_DELAY = Number(process.env['BENCH_MAX_EVENT_LOOP_DELAY'] ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS);
const CLOSED_LOOP_CONNECTIONS = Number(process.env['BENCH_CAPACITY_CONNECTIONS'] ?? 16);
/** An offered rate of one's own (requests/s), instead of BENCH_OVERLOAD x the measured capacity. */
const RATE = process.env['BENCH_RATE'] === undefined ? undefined : Number(process.env['BENCH_RATE']);
/** Clients of the fleet phase; default one per prepared user (registration). */
const FLEET_CLIENTS = process.env['BENCH_FLEET_CLIENTS'] === undefined ? undefined : Number(process.env['BENCH_FLEET_CLIENTS']);
const FLEET_DURATION = Number(process.env['BENCH_FLEET_DURATION'] ?? DURATION);
const PHASES = new Set((process.env['BENCH_PHASES'] ?? 'fleet,open-loop').split(',').map((phase) => phase.trim()));
for (const phase of PHASES) if (phase !== 'fleet' && phase !== 'open-loop') throw new Error(`BENCH_PHASES: unknown phase ${phase} (fleet, open-loop)`);
/**
 * How long the fleet's check-ins under way at the end of its run may take to finish: a refusal's back-off at most
 * (the largest Retry-After the node sends, x 1.5 for the clients' jitter) twice over, and 10 s for the answers.
 */
const FLEET_DRAIN_MS = 2 * SHED_RETRY_AFTER_MAX_SECONDS * 1.5 * 1000 + 10_000;

/** For the drain time only: the backlog left when the offered load stops drains at no less than this. */
const CAPACITY_FLOOR_PER_S = 500;

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
}

interface FleetOutcome {
  offeredPerSecond: number;
  run: FleetResult;
  serverCores: number;
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

function requestsOf(users: readonly BenchUser[], policyVersion: string): Buffer[] {
  return users.map((user) =>
    httpRequest('POST', checkInPath(user), { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, checkInBody(policyVersion, user.configurationVersion)),
  );
}

/** The most steady check-ins per second, closed loop. */
async function capacity(server: Child, users: readonly BenchUser[], policyVersion: string): Promise<number> {
  let next = 0;
  const result = await autocannon({
    url: `https://127.0.0.1:${server.info.port}`,
    connections: CLOSED_LOOP_CONNECTIONS,
    duration: CAPACITY_DURATION,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const user = users[next++ % users.length]!;
          return { ...request, path: checkInPath(user), body: checkInBody(policyVersion, user.configurationVersion), headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` } };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`capacity run: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result['2xx'] / (result.duration || CAPACITY_DURATION);
}

async function overload(server: Child, requests: readonly Buffer[], rate: number, seconds: number): Promise<{ run: OpenLoopResult; serverCores: number }> {
  const cpuBefore = await cpuSecondsOf(server.info.pid);
  const run = await openLoop({
    port: server.info.port,
    rate,
    seconds,
    connections: CONNECTIONS,
    request: (index) => requests[index % requests.length]!,
    // Without shedding the backlog drains at capacity after the offered load stops: (overload - 1) x the run.
    drainMs: Math.max(10_000, (rate / CAPACITY_FLOOR_PER_S) * seconds * 1000 + 10_000),
  });
  const cpuSeconds = (await cpuSecondsOf(server.info.pid)) - cpuBefore;
  return { run, serverCores: cpuSeconds / run.elapsedSeconds };
}

async function fleetRun(server: Child, requests: readonly Buffer[], rate: number): Promise<FleetOutcome> {
  const cpuBefore = await cpuSecondsOf(server.info.pid);
  const run = await fleet({
    port: server.info.port,
    clients: FLEET_CLIENTS ?? requests.length,
    rate,
    seconds: FLEET_DURATION,
    // A client has one check-in under way at most: more connections than clients would stay idle.
    connections: Math.min(CONNECTIONS, FLEET_CLIENTS ?? requests.length),
    request: (client) => requests[client % requests.length]!,
    drainMs: FLEET_DRAIN_MS,
    random: seededRandom(1),
  });
  const cpuSeconds = (await cpuSecondsOf(server.info.pid)) - cpuBefore;
  return { offeredPerSecond: rate, run, serverCores: cpuSeconds / run.elapsedSeconds };
}

function outcomeOf({ run, serverCores }: { run: OpenLoopResult; serverCores: number }, rate: number): Outcome {
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
  };
}

const ms = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : `${value.toFixed(1)} ms`);
const describeOutcome = (o: Outcome): string =>
  `goodput ${o.goodputPerSecond.toFixed(0)}/s of ${o.offeredPerSecond.toFixed(0)}/s offered; accepted p50 ${ms(o.accepted?.p50)}, p99 ${ms(o.accepted?.p99)}, max ${ms(o.accepted?.max)}; ` +
  `shed ${o.shed} (p99 ${ms(o.shedLatency?.p99)}); answered ${o.answered}/${o.scheduled}, errors ${o.errors}, other statuses ${JSON.stringify(o.otherStatuses)}; ` +
  `server ${o.serverCores.toFixed(2)} cores; longest client queue ${o.maxClientQueue}`;
const nothingLost = (o: Outcome): boolean => o.lost === 0 && o.errors === 0 && Object.keys(o.otherStatuses).length === 0;
/** Every check-in begun finished with a 200 (within the drain), no other answer, no connection error. */
const fleetNothingLost = ({ run }: FleetOutcome): boolean => run.finished === run.begun && run.errors === 0 && Object.keys(run.otherStatuses).length === 0;
const describeFleet = (o: FleetOutcome): string =>
  `${o.run.clients} clients every ${(o.run.intervalMs / 1000).toFixed(2)} s; goodput ${o.run.goodputPerSecond.toFixed(0)}/s of ${o.offeredPerSecond.toFixed(0)}/s scheduled ` +
  `(attempts ${o.run.attemptsPerSecond.toFixed(0)}/s, ${o.run.skippedSlots} slots skipped); accepted p50 ${ms(o.run.accepted?.p50)}, p99 ${ms(o.run.accepted?.p99)}; ` +
  `refused ${o.run.refused}${o.run.retryAfter === undefined ? '' : ` (Retry-After ${o.run.retryAfter.min}-${o.run.retryAfter.max} s)`}; ` +
  `check-in end to end p50 ${ms(o.run.endToEnd?.p50)}, p99 ${ms(o.run.endToEnd?.p99)}; finished ${o.run.finished}/${o.run.begun} (drain ${o.run.drainSeconds.toFixed(1)} s), ` +
  `errors ${o.run.errors}, other statuses ${JSON.stringify(o.run.otherStatuses)}; server ${o.serverCores.toFixed(2)} cores; longest client queue ${o.run.maxClientQueue}`;
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
  skipped_slots: o.run.skippedSlots,
  drain_s: round(o.run.drainSeconds, 1),
  errors: o.run.errors,
  other_statuses: o.run.otherStatuses,
  nothing_lost: fleetNothingLost(o),
  server_cores: round(o.serverCores, 2),
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
});

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-overload-'));
  try {
    const config = benchConfig(dataDir);
    const unshedEnv = { OPENMAM_MAX_IN_FLIGHT: '0', OPENMAM_MAX_EVENT_LOOP_DELAY: '0' };
    let server = await startWith(dataDir, unshedEnv);
    const client = new JsonClient(server.info.port, await readFile(config.tlsCertFile, 'utf8'));
    const tenant = await prepareTenant({ dataDir, config, client, tenantId: server.info.tenantId!, users: USERS, accessPolicy: false, log });
    client.close();
    const requests = requestsOf(tenant.users, tenant.policyVersion);

    log(`capacity: closed loop, ${CLOSED_LOOP_CONNECTIONS} connections, ${CAPACITY_DURATION} s...`);
    const capacityPerSecond = await capacity(server, tenant.users, tenant.policyVersion);
    const rate = RATE ?? Math.round(capacityPerSecond * OVERLOAD);
    log(`  ${capacityPerSecond.toFixed(0)} check-ins/s; offering ${rate}/s (${(rate / capacityPerSecond).toFixed(1)}x) over ${CONNECTIONS} connections, phases ${[...PHASES].join(', ')}`);

    /** Each phase against one node, warmed up at half its capacity first. */
    const phases = async (node: Child): Promise<{ fleet: FleetOutcome | undefined; open: Outcome | undefined }> => {
      await overload(node, requests, Math.round(capacityPerSecond / 2), Math.min(2, DURATION));
      let fleetOutcome: FleetOutcome | undefined;
      let open: Outcome | undefined;
      if (PHASES.has('fleet')) {
        fleetOutcome = await fleetRun(node, requests, rate);
        log(`  fleet: ${describeFleet(fleetOutcome)}`);
      }
      if (PHASES.has('open-loop')) {
        open = outcomeOf(await overload(node, requests, rate, DURATION), rate);
        log(`  open loop: ${describeOutcome(open)}`);
      }
      return { fleet: fleetOutcome, open };
    };

    log('without load shedding...');
    const unshed = await phases(server);
    await stopServer(server);

    const shedEnv = { OPENMAM_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT), OPENMAM_MAX_EVENT_LOOP_DELAY: String(MAX_EVENT_LOOP_DELAY) };
    log(`with load shedding (max in flight ${MAX_IN_FLIGHT}, event-loop delay ${MAX_EVENT_LOOP_DELAY} ms)...`);
    server = await startWith(dataDir, shedEnv);
    const shed = await phases(server);
    await stopServer(server);

    const lines = [`capacity (closed loop): ${capacityPerSecond.toFixed(0)} check-ins/s; offered ${rate}/s (${(rate / capacityPerSecond).toFixed(1)}x), ${USERS} users`];
    if (shed.fleet && unshed.fleet) {
      lines.push(
        `fleet (${FLEET_DURATION} s, clients honour Retry-After), without shedding: ${describeFleet(unshed.fleet)}`,
        `fleet, with shedding (max in flight ${MAX_IN_FLIGHT}): ${describeFleet(shed.fleet)}`,
        `fleet goodput with shedding ${((shed.fleet.run.goodputPerSecond / capacityPerSecond) * 100).toFixed(0)}% of the closed-loop capacity; nothing lost: ${fleetNothingLost(shed.fleet) ? 'yes' : 'NO'} (without shedding: ${fleetNothingLost(unshed.fleet) ? 'yes' : 'NO'})`,
      );
    }
    if (shed.open && unshed.open) {
      lines.push(
        `open loop (${DURATION} s, ${CONNECTIONS} connections, Retry-After ignored), without shedding: ${describeOutcome(unshed.open)}`,
        `open loop, with shedding (max in flight ${MAX_IN_FLIGHT}): ${describeOutcome(shed.open)}`,
        `open-loop goodput with shedding ${((shed.open.goodputPerSecond / capacityPerSecond) * 100).toFixed(0)}% of the closed-loop capacity, ${((shed.open.goodputPerSecond / unshed.open.goodputPerSecond) * 100).toFixed(0)}% of the goodput without shedding; nothing lost: ${nothingLost(shed.open) ? 'yes' : 'NO'} (without shedding: ${nothingLost(unshed.open) ? 'yes' : 'NO'})`,
      );
    }
    const openLoopSummary =
      shed.open && unshed.open
        ? {
            goodput_ratio: round(shed.open.goodputPerSecond / capacityPerSecond, 3),
            goodput_vs_unshed: round(shed.open.goodputPerSecond / unshed.open.goodputPerSecond, 3),
            shed: json(shed.open),
            unshed: json(unshed.open),
          }
        : {};
    const fleetSummary =
      shed.fleet && unshed.fleet
        ? { fleet: { goodput_ratio: round(shed.fleet.run.goodputPerSecond / capacityPerSecond, 3), duration_s: FLEET_DURATION, shed: fleetJson(shed.fleet), unshed: fleetJson(unshed.fleet) } }
        : {};
    lines.push(
      JSON.stringify({
        bench: 'overload',
        capacity_ops_per_s: round(capacityPerSecond),
        offered_per_s: rate,
        overload: round(rate / capacityPerSecond, 2),
        max_in_flight: MAX_IN_FLIGHT,
        max_event_loop_delay_ms: MAX_EVENT_LOOP_DELAY,
        ...openLoopSummary,
        ...fleetSummary,
        users: USERS,
        connections: CONNECTIONS,
        duration_s: DURATION,
        store: 'sqlite',
      }),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
