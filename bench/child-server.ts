import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { QUERY_COUNT_REQUEST, type QueryCountAnswer, type QueryCounts } from './query-counter.ts';

/**
 * A benchmark server in a child process of its own (so the load generator and the server do not share a core).
 * The script prints one JSON line ({"port": N, ...}) on stdout once it listens, and stops on SIGTERM.
 * BENCH_PROFILE=<dir> writes a CPU profile of the server there (node --cpu-prof). The child has an IPC channel:
 * `queryCountsOf` asks it for the statements its store has sent so far (bench/query-counter.ts).
 */
export interface ChildServer<Info> {
  process: ChildProcess;
  info: Info;
}

export async function startChildServer<Info>(script: URL, args: readonly string[]): Promise<ChildServer<Info>> {
  const profile = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script.pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script.pathname} ${args.join(' ')} exited with ${code}`)));
  });
  return { process: child, info: JSON.parse(firstLine) as Info };
}

/** The statements the child's store has sent so far, by SQL text (the child must call answerQueryCountRequests). */
export function queryCountsOf(child: ChildProcess, timeoutMs = 5000): Promise<QueryCounts> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('the server child did not answer the query count request'));
    }, timeoutMs);
    const onMessage = (message: unknown): void => {
      if (typeof message !== 'object' || message === null || (message as Partial<QueryCountAnswer>).type !== QUERY_COUNT_REQUEST) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve((message as QueryCountAnswer).counts);
    };
    child.on('message', onMessage);
    child.send(QUERY_COUNT_REQUEST);
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * In a server child: exit when the benchmark does. The IPC channel closes when the parent exits, even when it is
 * killed or stopped with Ctrl-C and its `finally` never runs, so no server is left running behind it.
 */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0));
}

/**
 * The load-shedding and rate-limit settings of a benchmark server (src/http/load-shedding.ts). Per-client rate limits
 * off: a benchmark replays a few thousand clients (all from 127.0.0.1) at thousands of requests per second, each far
 * past any one device's, app's or address's rate. Event-loop shedding off too: these benchmarks measure capacity, and
 * their set-up phases (thousands of enrollments and first sessions as fast as the node takes them) saturate the loop
 * on purpose, where a shedding node answers 503 (bench:overload measures shedding, with its own settings). The
 * caller's environment overrides any of them (OPENMAM_MAX_EVENT_LOOP_DELAY=100 measures with the production default).
 */
export function benchLimitsEnv(): Record<string, string> {
  const env: Record<string, string> = { OPENMAM_APP_RATE_LIMIT: '0', OPENMAM_DEVICE_RATE_LIMIT: '0', OPENMAM_ENROLLMENT_RATE_LIMIT: '0', OPENMAM_MAX_EVENT_LOOP_DELAY: '0' };
  // And the scrape token with which bench:overload reads a node's own account of its shedding at /metrics.
  for (const name of ['OPENMAM_MAX_IN_FLIGHT', 'OPENMAM_MAX_EVENT_LOOP_DELAY', 'OPENMAM_METRICS_TOKEN', ...Object.keys(env)]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
