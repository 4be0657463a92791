/**
 * The top costs in a V8 CPU profile (a `.cpuprofile` that BENCH_PROFILE=<dir> makes node --cpu-prof write for the
 * benchmark servers): self time by function and by module (package, or file under src/), and inclusive time of the
 * functions that take the most, in % of all samples (idle excluded).
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> [rows (default 25)] [inclusive-filter regexp]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, filterArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-top.ts <file.cpuprofile> [rows] [inclusive-filter regexp]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const filter = filterArg ? new RegExp(filterArg) : undefined;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

function moduleOf(url: string): string {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\/([^/]+).*$/, 'node:internal/$1');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const source = /\/(src|bench|test)\/(.*)$/.exec(url);
  return source ? `${source[1]}/${source[2]}` : url;
}

const keyOf = (frame: CallFrame): string => `${frame.functionName || '(anonymous)'} ${moduleOf(frame.url)}:${frame.lineNumber + 1}`;
const IDLE = new Set(['(idle)', '(program)']);

const self = new Map<string, number>();
const modules = new Map<string, number>();
const inclusive = new Map<string, number>();
let counted = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]!)!;
  const weight = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
  if (IDLE.has(node.callFrame.functionName)) {
    idle += weight;
    continue;
  }
  counted += weight;
  const key = keyOf(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + weight);
  const module = node.callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : moduleOf(node.callFrame.url);
  modules.set(module, (modules.get(module) ?? 0) + weight);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(root)') continue;
    const stackKey = keyOf(frame);
    if (seen.has(stackKey)) continue;
    seen.add(stackKey);
    inclusive.set(stackKey, (inclusive.get(stackKey) ?? 0) + weight);
  }
}

const pct = (value: number): string => `${((value / counted) * 100).toFixed(1).padStart(5)}%`;
const top = (map: Map<string, number>, n: number, keep: (key: string) => boolean = () => true): string[] =>
  [...map]
    .filter(([key]) => keep(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, value]) => `  ${pct(value)}  ${key}`);

process.stdout.write(
  [
    `${file}: ${(counted / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle`,
    'self time by module:',
    ...top(modules, rows),
    'self time by function:',
    ...top(self, rows),
    `inclusive time${filter ? ` (functions matching ${filter})` : ''}:`,
    ...top(inclusive, rows * 2, filter ? (key) => filter.test(key) : () => true),
  ].join('\n') + '\n',
);
