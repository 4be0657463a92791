/**
 * `npm run bench:start`: how long `openmam serve` takes from process start to listening, and its resident memory once
 * listening, when it runs the compiled build (dist/, `npm run build:server`) and when it runs the TypeScript sources
 * under tsx (OPENMAM_RUN_SOURCES=true). The two are interleaved (tsx, dist, tsx, dist, ...) so that a machine busy
 * with something else slows both alike. Each run starts a fresh server on a fresh data folder (SQLite; the first
 * start creates the database, migrates it and generates the TLS certificate and signing key, as a new install does)
 * and a second time on the same folder (a restart: nothing to create), and is stopped with SIGTERM.
 *
 * "Listening" is the moment the banner appears on stderr ("OpenMAM is running on"), which `serve` prints right after
 * `listen()` resolved. The RSS is the child's VmRSS (/proc, Linux) read then, before any request, and so is the CPU
 * time it used to get there (user + system, /proc/<pid>/stat): on a busy machine the wall time grows with the other
 * load, the CPU time much less.
 * The last line of output is JSON: {"bench":"start","tsx":{...},"dist":{...}}. Environment: BENCH_ROUNDS (default 5).
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildState } from '../bin/build-stamp.js';
import { freePort } from '../test/support/free-port.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BIN = fileURLToPath(new URL('../bin/openmam.js', import.meta.url));

type Mode = 'tsx' | 'dist';
type Phase = 'first' | 'restart';

interface Start {
  milliseconds: number;
  cpuMilliseconds: number;
  rssMiB: number;
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's utime and stime: 100 on every mainstream architecture (man 5 proc). */
const CLOCK_TICKS_PER_SECOND = 100;

async function startOnce(mode: Mode, dataDir: string): Promise<Start> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      OPENMAM_DATA_DIR: dataDir,
      OPENMAM_PORT: String(port),
      OPENMAM_HOST: '127.0.0.1',
      OPENMAM_LOG_LEVEL: 'warn',
      ...(mode === 'tsx' ? { OPENMAM_RUN_SOURCES: 'true' } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  try {
    const milliseconds = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.includes('OpenMAM is running on')) resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
      void exited.then((code) => reject(new Error(`openmam serve exited (${String(code)}) before listening:\n${stderr}`)));
    });
    const [status, stat] = await Promise.all([readFile(`/proc/${child.pid}/status`, 'utf8'), readFile(`/proc/${child.pid}/stat`, 'utf8')]);
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    // Fields after the command name (which may hold spaces, hence from the last ')'): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMilliseconds = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    return { milliseconds, cpuMilliseconds, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median: Math.round(median * 10) / 10, min: Math.round(sorted[0]! * 10) / 10, max: Math.round(sorted.at(-1)! * 10) / 10 };
}

if (buildState() !== 'current') {
  process.stderr.write('bench:start needs a current build: run `npm run build:server` first\n');
  process.exit(2);
}

const results: Record<Mode, Record<Phase, Start[]>> = { tsx: { first: [], restart: [] }, dist: { first: [], restart: [] } };
for (let round = 1; round <= ROUNDS; round++) {
  for (const mode of ['tsx', 'dist'] as const) {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-start-'));
    try {
      const first = await startOnce(mode, dataDir);
      const restart = await startOnce(mode, dataDir);
      results[mode].first.push(first);
      results[mode].restart.push(restart);
      process.stdout.write(
        `round ${round} ${mode.padEnd(4)}: first start ${first.milliseconds.toFixed(0)} ms (CPU ${first.cpuMilliseconds.toFixed(0)} ms), ${first.rssMiB.toFixed(1)} MiB; ` +
          `restart ${restart.milliseconds.toFixed(0)} ms (CPU ${restart.cpuMilliseconds.toFixed(0)} ms), ${restart.rssMiB.toFixed(1)} MiB\n`,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}

const figures = (mode: Mode): Record<string, unknown> => ({
  first_start_ms: summary(results[mode].first.map((s) => s.milliseconds)),
  first_cpu_ms: summary(results[mode].first.map((s) => s.cpuMilliseconds)),
  first_rss_mib: summary(results[mode].first.map((s) => s.rssMiB)),
  restart_ms: summary(results[mode].restart.map((s) => s.milliseconds)),
  restart_cpu_ms: summary(results[mode].restart.map((s) => s.cpuMilliseconds)),
  restart_rss_mib: summary(results[mode].restart.map((s) => s.rssMiB)),
});
process.stdout.write(`${JSON.stringify({ bench: 'start', rounds: ROUNDS, tsx: figures('tsx'), dist: figures('dist') })}\n`);
