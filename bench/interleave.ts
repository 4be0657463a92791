/**
 * `npm run bench:interleave -- --base <git-rev | .> [--base-env KEY=VALUE ...] [--head-env KEY=VALUE ...] [--rounds 3]
 *  [--abba] [--out <dir>] -- <script> [<script> ...]`
 *
 * Runs a benchmark alternately on a base revision and on this working tree (head: the tree this file is in, with its
 * uncommitted changes), or on this tree in two environments, A B A B ..., and compares each round's pair: on a shared VM the machine's speed drifts by more
 * than most changes between two runs minutes apart, so only figures measured side by side, round after round, say
 * anything. For every numeric figure of the benchmark's JSON summary (the last line of its output that is a JSON
 * object with a "bench" field; nested objects and arrays are flattened to dotted names) it prints the base and head medians,
 * each round's head/base ratio, their median and their spread (min–max).
 *
 * - `<script>` is a script name of package.json (`bench:sync`), run as that tree's own package.json defines it (so a
 *   benchmark that changed between the two revisions runs as each revision wrote it). Several scripts run one after
 *   the other within each round.
 * - The base runs from a worktree of `<git-rev>` (`git worktree add --detach`, made once in the OS temporary folder and
 *   reused while it is at that commit); its node_modules are symlinks to this tree's (a base whose package-lock.json
 *   differs is reported: its dependencies are then not its own).
 * - The environment is passed through: `BENCH_DURATION=5 BENCH_DEVICES=200000 npm run bench:interleave -- ...`.
 * - `--base-env KEY=VALUE` and `--head-env KEY=VALUE` (repeatable) set a variable for that side's runs only, on top of
 *   the passed-through environment: `--base-env BENCH_STORE=sqlite --head-env BENCH_STORE=postgres` gives
 *   postgres/sqlite ratios measured in the same minutes.
 * - `--base .` runs the base from this tree too (no worktree): both sides are the same code, only their environments
 *   differ (with none given, an A/A run).
 * - `--abba` runs head first in every other round (A B B A ...), which cancels a steady drift of the machine.
 * - Each run's full output is kept in `--out` (default: a new folder in the OS temporary folder).
 * - The last line is JSON: {"interleave": {"base": .., "head": .., "same_tree": .., "base_env": {KEY: VALUE},
 *   "head_env": {..}, "rounds": .., "scripts": {script: {figure: {"base": [..], "head": [..], "ratios": [..], "median_ratio": .., "min_ratio": ..,
 *   "max_ratio": ..}}}}}.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Options {
  /** A git revision, or `.` (SAME_TREE): this tree on both sides. */
  base: string;
  /** Variables set for the base's runs only, and for head's, over the passed-through environment. */
  baseEnv: Record<string, string>;
  headEnv: Record<string, string>;
  rounds: number;
  abba: boolean;
  out: string | undefined;
  scripts: string[];
}

const USAGE =
  'usage: npm run bench:interleave -- --base <git-rev | . (this tree on both sides)> [--base-env KEY=VALUE ...] [--head-env KEY=VALUE ...] [--rounds N (default 3)] [--abba] [--out <dir>] -- <package.json script> [...]';

/** `--base .`: the base runs from this tree, not from a worktree of a revision. */
export const SAME_TREE = '.';

/** An environment variable's name as POSIX shells accept it (IEEE Std 1003.1, Base Definitions 8.1). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` (the value may be empty or hold further `=`); throws with the usage when it is not that. */
export function parseAssignment(flag: string, text: string): [string, string] {
  const equals = text.indexOf('=');
  const key = equals < 0 ? '' : text.slice(0, equals);
  if (!VARIABLE_NAME.test(key)) throw new Error(`${flag} takes KEY=VALUE (KEY: letters, digits, _; not starting with a digit), not "${text}"\n${USAGE}`);
  return [key, text.slice(equals + 1)];
}

/** Reads the command line; throws with the usage on anything it does not know. */
export function parseArguments(args: readonly string[]): Options {
  const options: Options = { base: '', baseEnv: {}, headEnv: {}, rounds: 3, abba: false, out: undefined, scripts: [] };
  let i = 0;
  const value = (flag: string): string => {
    const next = args[++i];
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return next;
  };
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      options.scripts.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--base') options.base = value(arg);
    else if (arg === '--base-env' || arg === '--head-env') {
      const [key, text] = parseAssignment(arg, value(arg));
      (arg === '--base-env' ? options.baseEnv : options.headEnv)[key] = text;
    } else if (arg === '--rounds') options.rounds = Number(value(arg));
    else if (arg === '--abba') options.abba = true;
    else if (arg === '--out') options.out = value(arg);
    else if (!arg.startsWith('--')) options.scripts.push(arg);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  if (options.base === '') throw new Error(`--base is required\n${USAGE}`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error(`--rounds must be a whole number >= 1\n${USAGE}`);
  if (options.scripts.length === 0) throw new Error(`name at least one benchmark script (e.g. bench:sync)\n${USAGE}`);
  return options;
}

/** A benchmark's summary: the last line of its stdout that is a JSON object with a "bench" field. */
export function summaryOf(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.split('\n').map((line) => line.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'bench' in parsed) return parsed as Record<string, unknown>;
    } catch {
      // Not JSON: a log line that starts with a brace.
    }
  }
  return undefined;
}

/** Fields that name an element of an array of results (graph-paging's `results: [{store: 'sqlite', ...}]`). */
const ELEMENT_NAMES = ['store', 'name', 'call', 'label', 'id'];

/**
 * The numeric figures of a summary, nested objects flattened to dotted names (booleans and strings left out). An
 * array's elements are named by their `store`/`name`/`call`/`label`/`id` field when they have one, else by index.
 */
export function numericFigures(summary: Record<string, unknown> | readonly unknown[], prefix = ''): Map<string, number> {
  const figures = new Map<string, number>();
  const entries: [string, unknown][] = Array.isArray(summary)
    ? summary.map((element, i) => [elementName(element) ?? String(i), element])
    : Object.entries(summary);
  for (const [key, value] of entries) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'number' && Number.isFinite(value)) figures.set(name, value);
    else if (typeof value === 'object' && value !== null) {
      for (const [inner, n] of numericFigures(value as Record<string, unknown> | unknown[], name)) figures.set(inner, n);
    }
  }
  return figures;
}

function elementName(element: unknown): string | undefined {
  if (typeof element !== 'object' || element === null || Array.isArray(element)) return undefined;
  const record = element as Record<string, unknown>;
  const field = ELEMENT_NAMES.find((name) => typeof record[name] === 'string');
  return field === undefined ? undefined : String(record[field]);
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface FigureComparison {
  base: number[];
  head: number[];
  /** head / base, round by round (rounds where the base figure is 0 are left out). */
  ratios: number[];
  median_ratio: number | null;
  min_ratio: number | null;
  max_ratio: number | null;
}

/** Pairs round i of base with round i of head, figure by figure (figures missing from a run are left out). */
export function compareRounds(base: readonly Map<string, number>[], head: readonly Map<string, number>[]): Map<string, FigureComparison> {
  const names = new Set<string>();
  for (const run of [...base, ...head]) for (const name of run.keys()) names.add(name);
  const figures = new Map<string, FigureComparison>();
  for (const name of names) {
    const comparison: FigureComparison = { base: [], head: [], ratios: [], median_ratio: null, min_ratio: null, max_ratio: null };
    for (let round = 0; round < Math.min(base.length, head.length); round++) {
      const a = base[round]!.get(name);
      const b = head[round]!.get(name);
      if (a !== undefined) comparison.base.push(a);
      if (b !== undefined) comparison.head.push(b);
      if (a !== undefined && b !== undefined && a !== 0) comparison.ratios.push(b / a);
    }
    if (comparison.ratios.length > 0) {
      comparison.median_ratio = median(comparison.ratios);
      comparison.min_ratio = Math.min(...comparison.ratios);
      comparison.max_ratio = Math.max(...comparison.ratios);
    }
    figures.set(name, comparison);
  }
  return figures;
}

const HEAD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function git(args: readonly string[], cwd = HEAD_DIR): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * A worktree of `rev` with this tree's node_modules linked in: made once per commit under the OS temporary folder,
 * reused while it is still at that commit.
 */
function baseWorktree(rev: string): { dir: string; commit: string; notes: string[] } {
  const commit = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  const dir = path.join(tmpdir(), `openmam-bench-base-${commit.slice(0, 12)}`);
  const notes: string[] = [];
  if (existsSync(dir)) {
    const at = git(['rev-parse', 'HEAD'], dir);
    if (at !== commit) throw new Error(`${dir} exists but is at ${at}, not ${commit}: remove it (git worktree remove --force ${dir})`);
  } else {
    git(['worktree', 'add', '--detach', dir, commit]);
  }
  // The dependencies: this tree's, linked (no install); say so when the base's lock file differs.
  const moduleDirs = ['node_modules', 'web/node_modules', ...readdirSync(path.join(HEAD_DIR, 'packages'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `packages/${d.name}/node_modules`)];
  for (const relative of moduleDirs) {
    const source = path.join(HEAD_DIR, relative);
    const target = path.join(dir, relative);
    if (!existsSync(source) || !existsSync(path.dirname(target))) continue;
    if (existsSync(target) || isDanglingLink(target)) continue;
    symlinkSync(realpathSync(source), target);
  }
  const lock = (tree: string): string => (existsSync(path.join(tree, 'package-lock.json')) ? readFileSync(path.join(tree, 'package-lock.json'), 'utf8') : '');
  if (lock(dir) !== lock(HEAD_DIR)) notes.push(`the base's package-lock.json differs from head's: the base runs with head's node_modules`);
  return { dir, commit, notes };
}

function isDanglingLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A package.json script of `tree`, as npm would run it (sh -c, node_modules/.bin first on PATH). */
function scriptCommand(tree: string, script: string): string {
  const scripts = (JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const command = scripts[script];
  if (command === undefined) throw new Error(`${tree}/package.json has no script "${script}"`);
  return command;
}

interface RunResult {
  summary: Record<string, unknown>;
  seconds: number;
}

/** `KEY=VALUE KEY=VALUE`, or `(none)`: a side's variables as the log and the table headers show them. */
export function describeEnv(env: Readonly<Record<string, string>>): string {
  const entries = Object.entries(env);
  return entries.length === 0 ? '(none)' : entries.map(([key, value]) => `${key}=${value}`).join(' ');
}

/** A run's environment: the passed-through one, then the side's variables, then `tree`'s node_modules/.bin first on PATH. */
export function childEnvironment(tree: string, env: Readonly<Record<string, string>>, inherited: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const merged = { ...inherited, ...env };
  return { ...merged, PATH: `${path.join(tree, 'node_modules', '.bin')}${path.delimiter}${merged['PATH'] ?? ''}` };
}

/**
 * Runs one benchmark in `tree` with `env` over the passed-through environment; its stderr is echoed with `label`,
 * everything kept in `logFile`.
 */
function runBenchmark(tree: string, script: string, env: Readonly<Record<string, string>>, label: string, logFile: string): Promise<RunResult> {
  const command = scriptCommand(tree, script);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: tree,
      env: childEnvironment(tree, env, process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) process.stderr.write(`[${label}] ${line}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending !== '') process.stderr.write(`[${label}] ${pending}\n`);
      const assignments = Object.entries(env).map(([key, value]) => `${key}=${JSON.stringify(value)} `).join('');
      writeFileSync(logFile, `$ (cd ${tree} && ${assignments}${command})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      const summary = summaryOf(stdout);
      if (code !== 0) return reject(new Error(`${label}: ${script} exited with ${code} (output in ${logFile})`));
      if (summary === undefined) return reject(new Error(`${label}: ${script} printed no JSON summary line (output in ${logFile})`));
      resolve({ summary, seconds: (performance.now() - started) / 1000 });
    });
  });
}

const format = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));

/** The comparison as a table: figure, base and head medians, per-round ratios, median ratio and spread. */
export function comparisonTable(figures: ReadonlyMap<string, FigureComparison>): string {
  const rows = [...figures].filter(([, f]) => f.ratios.length > 0);
  const width = Math.max(6, ...rows.map(([name]) => name.length));
  const lines = [`${'figure'.padEnd(width)}  ${'base'.padStart(10)}  ${'head'.padStart(10)}  ratios head/base by round        median  spread`];
  for (const [name, f] of rows) {
    const ratios = f.ratios.map((r) => r.toFixed(3)).join(' ');
    lines.push(
      `${name.padEnd(width)}  ${format(median(f.base)).padStart(10)}  ${format(median(f.head)).padStart(10)}  ${ratios.padEnd(30)}  ${f.median_ratio!.toFixed(3).padStart(6)}  ${f.min_ratio!.toFixed(3)}–${f.max_ratio!.toFixed(3)}`,
    );
  }
  const unpaired = [...figures].filter(([, f]) => f.ratios.length === 0).map(([name]) => name);
  if (unpaired.length > 0) lines.push(`(not compared: ${unpaired.join(', ')}: missing on one side, or 0 on the base)`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const headCommit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const sameTree = options.base === SAME_TREE;
  const base = sameTree ? { dir: HEAD_DIR, commit: headCommit, notes: [] } : baseWorktree(options.base);
  const out = options.out ?? mkdtempSync(path.join(tmpdir(), 'openmam-interleave-'));
  mkdirSync(out, { recursive: true });
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const trees = sameTree
    ? `this tree for both sides, ${headCommit.slice(0, 12)}${dirty ? ' + uncommitted changes' : ''} (${HEAD_DIR})`
    : `base ${base.commit.slice(0, 12)} (${base.dir}) and head ${headCommit.slice(0, 12)}${dirty ? ' + uncommitted changes' : ''} (${HEAD_DIR})`;
  log(`interleaving ${options.scripts.join(', ')}: ${trees}, ${options.rounds} rounds${options.abba ? ', ABBA order' : ''}; outputs in ${out}`);
  log(`base environment: ${describeEnv(options.baseEnv)}; head environment: ${describeEnv(options.headEnv)} (over the passed-through one)`);
  if (sameTree && describeEnv(options.baseEnv) === describeEnv(options.headEnv)) log('note: the same tree and environment on both sides: an A/A run');
  for (const note of base.notes) log(`note: ${note}`);
  if (options.rounds < 3) log('note: fewer than 3 rounds: the spread says little');

  const results = new Map<string, { base: Map<string, number>[]; head: Map<string, number>[] }>(options.scripts.map((s) => [s, { base: [], head: [] }]));
  for (let round = 1; round <= options.rounds; round++) {
    const headFirst = options.abba && round % 2 === 0;
    const order: ('base' | 'head')[] = headFirst ? ['head', 'base'] : ['base', 'head'];
    for (const script of options.scripts) {
      for (const side of order) {
        const tree = side === 'base' ? base.dir : HEAD_DIR;
        const label = `${side} r${round} ${script}`;
        const run = await runBenchmark(tree, script, side === 'base' ? options.baseEnv : options.headEnv, label, path.join(out, `${script.replace(/[^\w.-]/g, '_')}-r${round}-${side}.log`));
        results.get(script)![side].push(numericFigures(run.summary));
        log(`[${label}] done in ${run.seconds.toFixed(0)} s`);
      }
    }
  }

  const report: Record<string, Record<string, FigureComparison>> = {};
  for (const [script, runs] of results) {
    const figures = compareRounds(runs.base, runs.head);
    const sides = `base ${sameTree ? 'this tree' : base.commit.slice(0, 12)} [${describeEnv(options.baseEnv)}], head ${headCommit.slice(0, 12)}${dirty ? '+' : ''} [${describeEnv(options.headEnv)}]`;
    process.stdout.write(`\n${script}: ${options.rounds} rounds, ${sides}\n${comparisonTable(figures)}\n`);
    const rounded = (n: number | null): number | null => (n === null ? null : Number(n.toFixed(4)));
    report[script] = Object.fromEntries([...figures].map(([name, f]) => [name, { ...f, ratios: f.ratios.map((r) => rounded(r)!), median_ratio: rounded(f.median_ratio), min_ratio: rounded(f.min_ratio), max_ratio: rounded(f.max_ratio) }]));
  }
  process.stdout.write(`${JSON.stringify({ interleave: { base: base.commit, head: headCommit, head_dirty: dirty, same_tree: sameTree, base_env: options.baseEnv, head_env: options.headEnv, rounds: options.rounds, abba: options.abba, outputs: out, scripts: report } })}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
