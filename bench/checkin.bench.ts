/**
 * `npm run bench:checkin`: managed apps' check-ins (`POST /mam/v1/registrations/{id}/checkin`) per second on one
 * OpenMAM server process (SQLite, or PostgreSQL with BENCH_STORE=postgres: bench/bench-store.ts; HTTPS, production-like
 * logging), against a bare Fastify HTTPS handler that takes
 * the same requests and answers a fixed JSON reply of the same size, measured in the same run. The load generator
 * (autocannon) runs in this process, each server in a child process: two cores, one each.
 *
 *  1. Steady state. USERS users, each with a registration of a targeted app under a Level 2 app protection policy
 *     (and an app configuration policy, and a threat defense connector with a `secured` report per device), assigned
 *     to a group: bench/app-protection-setup.ts, all over HTTPS as an admin and the apps would. Every request is
 *     then a steady check-in: the body sends the policy and configuration versions the app holds, with that user's
 *     own bearer token (tokens are cached by the server's validator after their first use, as in production), users
 *     round-robin; the reply is `{"actions":[],"complianceState":"compliant","nextCheckInSeconds":1800}`. A sample is
 *     replayed with a plain client, and a short unmeasured autocannon run checks every reply (200, no `policy`, no
 *     `configuration`, no action, compliant).
 *  2. Changed: the policy is changed (PATCH printBlocked: the version moves); the same requests (apps still holding
 *     the old version) are then check-ins whose reply carries the whole policy document; then one check-in per user
 *     holding the new version, which records it applied (a registration write each): both measured, replies checked.
 *  3. In-process: ManagedAppService.checkIn called directly in a loop (after the token check, cached, measured on its
 *     own): what a check-in costs without HTTP, TLS, Fastify and the access log.
 *  4. Baseline: the same paths, bodies and headers against a bare Fastify handler answering the steady reply's bytes.
 *
 * Every load reports the server's CPU time (user + system, /proc/<pid>/stat) per answered request, and the statements
 * the server sent its store per answered request (counted at the drivers: bench/query-counter.ts; target 1).
 * The last line of output is JSON: {"bench":"checkin","ops_per_s":..,"baseline_ops_per_s":..,"ratio":..,...}.
 * Environment: BENCH_DURATION (seconds per measurement, default 10), BENCH_CONNECTIONS (default 16), BENCH_USERS
 * (default 2000), BENCH_CHANGED_DURATION (default 5), BENCH_INPROCESS (check-ins in the in-process loop, default
 * 20000), BENCH_PROFILE=<dir> (CPU profiles of the server processes, node --cpu-prof), BENCH_STORE (sqlite or postgres;
 * OPENMAM_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test: a fresh schema per run, dropped after).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { readCheckInInput } from '../src/core/app-protection/managed-apps.ts';
import { openBenchStore } from './bench-store.ts';
import { queryCountsOf } from './child-server.ts';
import { describeQueries, queryDelta, type QueryDelta } from './query-counter.ts';
import { createRuntime } from '../src/main.ts';
import {
  benchConfig,
  serverTokenValidator,
  checkInBody,
  checkInPath,
  cpuSecondsOf,
  JsonClient,
  log,
  parseObject,
  prepareTenant,
  PROTECTIONS,
  round,
  startServer,
  steadyProblem,
  stopAll,
  stopServer,
  type BenchUser,
  type Child,
} from './app-protection-setup.ts';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const WARMUP = Math.min(3, DURATION);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const USERS = Number(process.env['BENCH_USERS'] ?? 2000);
const CHANGED_DURATION = Number(process.env['BENCH_CHANGED_DURATION'] ?? 5);
const IN_PROCESS = Number(process.env['BENCH_INPROCESS'] ?? 20_000);
const TARGET = 8000;
const CHECKIN_ROUTE = '/mam/v1/registrations/:id/checkin';

interface Request {
  path: string;
  body: string;
  headers: Record<string, string>;
}

interface Measured {
  opsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server CPU time (user + system) per answered request, µs: less sensitive to a shared machine than ops/s. */
  cpuUsPerOp: number;
  seconds: number;
  /** Statements the server sent its store during the run (bench/query-counter.ts), and per answered request. */
  queries: QueryDelta;
  queriesPerOp: number;
  /** Requests answered (any status). */
  answered: number;
}

/** What makes a reply acceptable (undefined) or not (the problem). */
type Check = (status: number, body: string) => string | undefined;

const requestsOf = (users: readonly BenchUser[], policyVersion: string): Request[] =>
  users.map((user) => ({
    path: checkInPath(user),
    body: checkInBody(policyVersion, user.configurationVersion),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
  }));

/**
 * Drives `requests` round-robin for `seconds` (or exactly `amount` requests). Measured runs do not read replies (that
 * would load the client's core); with `check`, every reply is checked (unmeasured runs, and the one-pass runs).
 */
async function load(server: Child, requests: readonly Request[], run: { seconds: number } | { amount: number }, check?: { check: Check; tally: Map<string, number> }): Promise<Measured> {
  let next = 0;
  const queriesBefore = await queryCountsOf(server.process);
  const cpuBefore = await cpuSecondsOf(server.info.pid);
  const result = await autocannon({
    url: `https://127.0.0.1:${server.info.port}`,
    connections: CONNECTIONS,
    ...('seconds' in run ? { duration: run.seconds } : { amount: run.amount }),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const chosen = requests[next++ % requests.length]!;
          // A copy: autocannon writes Content-Length into the headers object it is given.
          return { ...request, path: chosen.path, body: chosen.body, headers: { ...chosen.headers } };
        },
        ...(check
          ? {
              onResponse: (status: number, body: string) => {
                const problem = check.check(status, body) ?? 'ok';
                check.tally.set(problem, (check.tally.get(problem) ?? 0) + 1);
              },
            }
          : {}),
      },
    ],
  });
  const cpuSeconds = (await cpuSecondsOf(server.info.pid)) - cpuBefore;
  const seconds = result.duration || ('seconds' in run ? run.seconds : 1);
  const queries = queryDelta(queriesBefore, await queryCountsOf(server.process));
  const answered = Math.max(1, result['2xx'] + result.non2xx);
  return {
    opsPerSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuUsPerOp: (cpuSeconds * 1e6) / answered,
    seconds,
    queries,
    queriesPerOp: queries.total / answered,
    answered,
  };
}

const describe = (tally: ReadonlyMap<string, number>): string => [...tally].map(([problem, count]) => `${count} ${problem}`).join(', ');
const bad = (tally: ReadonlyMap<string, number>): number => [...tally].reduce((n, [problem, count]) => (problem === 'ok' ? n : n + count), 0);
const total = (tally: ReadonlyMap<string, number>): number => [...tally.values()].reduce((a, b) => a + b, 0);
const describeMeasured = (m: Measured, unit: string): string =>
  `${m.opsPerSecond.toFixed(0)} ${unit}/s (p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}), server CPU ${m.cpuUsPerOp.toFixed(0)} µs per ${unit.replace(/s$/, '')}`;

/** A one-pass run (each user once): autocannon ends it on its one-second tick, so its rate says little; CPU per request does. */
const describeConfirm = (m: Measured): string => `server CPU ${m.cpuUsPerOp.toFixed(0)} µs per check-in (p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors})`;

/** Replays a sample of the requests with a plain client; each reply must pass `check`. */
async function replaySample(client: JsonClient, requests: readonly Request[], samples: number, check: Check): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  const step = Math.max(1, Math.floor(requests.length / samples));
  let checked = 0;
  for (let i = 0; i < requests.length && checked < samples; i += step, checked++) {
    const request = requests[i]!;
    const response = await client.raw('POST', request.path, request.body, request.headers);
    const problem = check(response.status, response.text);
    if (problem !== undefined) problems.push(`${request.path}: ${problem}`);
  }
  return { checked, problems };
}

/** A check-in reply that carries the changed policy (version `version`, printBlocked now true), else steady. */
function changedProblem(version: string): Check {
  return (status, text) => {
    if (status !== 200) return `HTTP ${status}`;
    const body = parseObject(text) as { policy?: { version?: string; settings?: { printBlocked?: boolean } }; configuration?: unknown; actions?: unknown[]; complianceState?: string } | undefined;
    if (body === undefined) return 'the reply is not a JSON object';
    if (body.policy?.version !== version) return `policy version ${body.policy?.version ?? 'missing'}`;
    if (body.policy.settings?.printBlocked !== true) return 'the policy does not carry the change';
    if ('configuration' in body) return 'the reply carries the configuration';
    if (body.actions?.length !== 0 || body.complianceState !== 'compliant') return `actions ${JSON.stringify(body.actions)}, ${body.complianceState}`;
    return undefined;
  };
}

/** The service alone, in this process: ManagedAppService.checkIn for the users' steady check-ins, round-robin. */
async function inProcess(dataDir: string, users: readonly BenchUser[], policyVersion: string): Promise<{ tokenUs: number; checkInUs: number; problems: number }> {
  const config = benchConfig(dataDir);
  const runtime = await createRuntime(config, { logger: { level: 'silent' } });
  try {
    const validator = serverTokenValidator(runtime, config);
    const { apps } = runtime.app.appProtection;
    const inputs = users.map((user) => readCheckInInput(JSON.parse(checkInBody(policyVersion, user.configurationVersion))));
    const identities = await Promise.all(users.map((user) => validator.verify(user.token)));
    let problems = 0;
    // Warm-up: every user once (JIT, the tenant snapshot, the group cache).
    for (let i = 0; i < users.length; i++) await apps.checkIn(identities[i]!, users[i]!.registrationId, inputs[i]!);
    let t0 = performance.now();
    for (let i = 0; i < IN_PROCESS; i++) await validator.verify(users[i % users.length]!.token);
    const tokenUs = ((performance.now() - t0) * 1000) / IN_PROCESS;
    t0 = performance.now();
    for (let i = 0; i < IN_PROCESS; i++) {
      const k = i % users.length;
      const answer = await apps.checkIn(identities[k]!, users[k]!.registrationId, inputs[k]!);
      if (answer.policy !== undefined || answer.complianceState !== 'compliant' || answer.actions.length > 0) problems++;
    }
    const checkInUs = ((performance.now() - t0) * 1000) / IN_PROCESS;
    return { tokenUs, checkInUs, problems };
  } finally {
    await runtime.app.server.close();
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-bench-checkin-'));
  const benchStore = await openBenchStore(dataDir);
  const started = Date.now();
  try {
    log(`store: ${benchStore.kind}`);
    const config = benchConfig(dataDir);
    const openmam = await startServer('openmam', dataDir);
    const ca = await readFile(config.tlsCertFile, 'utf8');
    const client = new JsonClient(openmam.info.port, ca);
    const tenant = await prepareTenant({ dataDir, config, client, tenantId: openmam.info.tenantId!, users: USERS, accessPolicy: false, log });
    const steadyRequests = requestsOf(tenant.users, tenant.policyVersion);
    const requestBytes = Buffer.byteLength(steadyRequests[0]!.body);
    const replyBytes = Buffer.byteLength(tenant.steadyReply);

    // ---- 1: steady state.
    const before = await replaySample(client, steadyRequests, 16, steadyProblem);
    if (before.problems.length > 0) throw new Error(`not steady before the run: ${before.problems.join('; ')}`);
    log(`warming up for ${WARMUP} s...`);
    await load(openmam, steadyRequests, { seconds: WARMUP });
    log(`measuring steady check-ins for ${DURATION} s with ${CONNECTIONS} connections...`);
    const steady = await load(openmam, steadyRequests, { seconds: DURATION });
    log(`  ${describeMeasured(steady, 'check-ins')}; ${describeQueries(steady.queries, steady.answered)}`);
    for (const { sql, count } of steady.queries.top) log(`    ${(count / Math.max(1, steady.answered)).toFixed(3)} x ${sql}`);
    const steadyReplies = new Map<string, number>();
    await load(openmam, steadyRequests, { seconds: Math.min(2, DURATION) }, { check: steadyProblem, tally: steadyReplies });
    const steadySample = await replaySample(client, steadyRequests, 16, steadyProblem);
    log(`  checked autocannon replies: ${describe(steadyReplies)}; replayed ${steadySample.checked}: ${steadySample.problems.length === 0 ? 'all steady' : steadySample.problems.join('; ')}`);

    // ---- 2: the policy changes; apps still hold the old version.
    const patched = await client.call('PATCH', `${PROTECTIONS}/${tenant.policyId}`, { printBlocked: true }, tenant.adminToken);
    if (patched.status !== 200) throw new Error(`PATCH the policy: HTTP ${patched.status} ${patched.text.slice(0, 300)}`);
    const newVersion = `${tenant.policyId}:${String(patched.json?.['version'])}`;
    const isChanged = changedProblem(newVersion);
    const changedSample = await replaySample(client, steadyRequests, 16, isChanged);
    if (changedSample.problems.length > 0) throw new Error(`the change did not reach the apps: ${changedSample.problems.join('; ')}`);
    const changedReply = await client.raw('POST', steadyRequests[0]!.path, steadyRequests[0]!.body, steadyRequests[0]!.headers);
    const changedReplyBytes = Buffer.byteLength(changedReply.text);
    log(`policy changed (${tenant.policyVersion} -> ${newVersion}); reply with the policy ${changedReplyBytes} bytes; measuring check-ins that get it for ${CHANGED_DURATION} s...`);
    await load(openmam, steadyRequests, { seconds: Math.min(2, CHANGED_DURATION) });
    const changed = await load(openmam, steadyRequests, { seconds: CHANGED_DURATION });
    const changedReplies = new Map<string, number>();
    await load(openmam, steadyRequests, { seconds: 1 }, { check: isChanged, tally: changedReplies });
    log(`  ${describeMeasured(changed, 'check-ins')}; checked replies: ${describe(changedReplies)}`);

    // Each app now confirms the new version once: the registration records it applied (one write each).
    const confirmRequests = requestsOf(tenant.users, newVersion);
    const confirmReplies = new Map<string, number>();
    const confirm = await load(openmam, confirmRequests, { amount: confirmRequests.length }, { check: steadyProblem, tally: confirmReplies });
    log(`  one confirming check-in per user (registration write): ${describeConfirm(confirm)}; replies: ${describe(confirmReplies)}`);
    const afterConfirm = await replaySample(client, confirmRequests, 16, steadyProblem);
    client.close();
    await stopServer(openmam);

    // ---- 3: the service alone, in this process.
    log(`in-process: ${IN_PROCESS} check-ins through ManagedAppService.checkIn...`);
    const alone = await inProcess(dataDir, tenant.users, newVersion);
    log(`  token check (cached) ${alone.tokenUs.toFixed(1)} µs, check-in ${alone.checkInUs.toFixed(1)} µs${alone.problems > 0 ? `, ${alone.problems} NOT STEADY` : ''}`);

    // ---- 4: the bare Fastify baseline: same requests, a fixed reply of the steady reply's bytes.
    const baseline = await startServer('baseline', dataDir, CHECKIN_ROUTE, tenant.steadyReply);
    await load(baseline, steadyRequests, { seconds: WARMUP });
    log(`measuring the bare Fastify baseline for ${DURATION} s...`);
    const bare = await load(baseline, steadyRequests, { seconds: DURATION });
    const bareReplies = new Map<string, number>();
    await load(baseline, steadyRequests, { seconds: 1 }, { check: (status, body) => (status === 200 && body === tenant.steadyReply ? undefined : `HTTP ${status}`), tally: bareReplies });
    await stopServer(baseline);

    const ratio = steady.opsPerSecond / bare.opsPerSecond;
    const cpuRatio = bare.cpuUsPerOp / steady.cpuUsPerOp;
    const repliesChecked = total(steadyReplies) + total(changedReplies) + total(confirmReplies);
    const repliesBad = bad(steadyReplies) + bad(changedReplies) + bad(confirmReplies) + bad(bareReplies);
    const sampleProblems = [...steadySample.problems, ...afterConfirm.problems];
    const met = steady.opsPerSecond >= TARGET;
    process.stdout.write(
      [
        `OpenMAM steady check-ins (${USERS} users, Level 2 + app configuration + threat connector):  ${describeMeasured(steady, 'check-ins')}`,
        `bare Fastify baseline (same requests, fixed ${replyBytes}-byte reply):  ${describeMeasured(bare, 'check-ins')}`,
        `ratio: ${ratio.toFixed(3)} (CPU ratio ${cpuRatio.toFixed(3)}: ${(1e6 / steady.cpuUsPerOp).toFixed(0)} check-ins per server CPU-second, baseline ${(1e6 / bare.cpuUsPerOp).toFixed(0)})`,
        `target >= ${TARGET} check-ins/s on one process: ${met ? 'MET' : 'NOT MET'} (${steady.opsPerSecond.toFixed(0)}/s)`,
        `store (${benchStore.kind}) queries per steady check-in: ${steady.queriesPerOp.toFixed(3)} (target 1); per changed-policy check-in ${changed.queriesPerOp.toFixed(3)}; per confirming check-in ${confirm.queriesPerOp.toFixed(3)}`,
        `changed policy (reply carries the ${changedReplyBytes}-byte policy): ${describeMeasured(changed, 'check-ins')}, ${(changed.cpuUsPerOp / steady.cpuUsPerOp).toFixed(2)}x a steady one's CPU`,
        `confirming check-in (records the new version applied, one write): ${describeConfirm(confirm)}, ${(confirm.cpuUsPerOp / steady.cpuUsPerOp).toFixed(2)}x a steady one's CPU`,
        `in-process (no HTTP/TLS/logging): ManagedAppService.checkIn ${alone.checkInUs.toFixed(1)} µs + token check (cached) ${alone.tokenUs.toFixed(1)} µs, i.e. ${(((alone.checkInUs + alone.tokenUs) / steady.cpuUsPerOp) * 100).toFixed(0)}% of the server CPU per HTTP check-in`,
        `checks: ${repliesChecked} autocannon replies checked, ${repliesBad} bad${repliesBad > 0 ? ` (${describe(steadyReplies)} / ${describe(changedReplies)} / ${describe(confirmReplies)} / baseline ${describe(bareReplies)})` : ''}; ` +
          `${before.checked + steadySample.checked + changedSample.checked + afterConfirm.checked} replayed with a plain client${sampleProblems.length > 0 ? `, PROBLEMS: ${sampleProblems.join('; ')}` : ', all as expected'}; ` +
          `in-process not steady: ${alone.problems}; total time ${((Date.now() - started) / 1000).toFixed(0)} s`,
        JSON.stringify({
          bench: 'checkin',
          ops_per_s: round(steady.opsPerSecond),
          baseline_ops_per_s: round(bare.opsPerSecond),
          ratio: round(ratio, 3),
          target_ops_per_s: TARGET,
          target_met: met,
          p50_ms: steady.p50,
          p99_ms: steady.p99,
          baseline_p50_ms: bare.p50,
          baseline_p99_ms: bare.p99,
          cpu_us_per_checkin: round(steady.cpuUsPerOp),
          baseline_cpu_us_per_checkin: round(bare.cpuUsPerOp),
          cpu_ratio: round(cpuRatio, 3),
          changed_ops_per_s: round(changed.opsPerSecond),
          changed_cpu_us_per_checkin: round(changed.cpuUsPerOp),
          changed_reply_bytes: changedReplyBytes,
          confirm_cpu_us_per_checkin: round(confirm.cpuUsPerOp),
          in_process_checkin_us: round(alone.checkInUs, 1),
          in_process_token_us: round(alone.tokenUs, 1),
          non2xx: steady.non2xx + changed.non2xx + confirm.non2xx,
          errors: steady.errors + changed.errors + confirm.errors,
          replies_checked: repliesChecked,
          replies_bad: repliesBad,
          sample_problems: sampleProblems.length,
          users: USERS,
          request_bytes: requestBytes,
          response_bytes: replyBytes,
          connections: CONNECTIONS,
          duration_s: DURATION,
          queries_per_checkin: round(steady.queriesPerOp, 3),
          changed_queries_per_checkin: round(changed.queriesPerOp, 3),
          confirm_queries_per_checkin: round(confirm.queriesPerOp, 3),
          store: benchStore.kind,
        }),
      ].join('\n') + '\n',
    );
  } finally {
    await stopAll();
    await benchStore.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
