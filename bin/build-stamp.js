// The production build's stamp: which sources dist/ was compiled from. `openmam` runs the compiled JavaScript only
// when the stamp names exactly the sources on disk, so an edited source can never be served from a stale build
// without a word (bin/openmam.js falls back to the sources, under tsx, and says so). Plain JavaScript: it runs
// before tsx is loaded. `node bin/build-stamp.js build [--if-stale]` compiles (what `npm run build:server` runs).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installation's root (this file is in bin/). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build reads: the compiler settings and every TypeScript source it compiles (src/ reaches both packages). */
const SOURCE_FOLDERS = ['src', 'packages/contract/src', 'packages/client/src'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/** Where tsconfig.build.json writes (rootDir is the repository root, so src/cli/main.ts becomes dist/src/cli/main.js). */
export const DIST = 'dist';
export const STAMP = 'dist/build-stamp.json';
export const COMPILED_CLI = 'dist/src/cli/main.js';

/**
 * SHA-256 over the sources' paths (with forward slashes, sorted) and contents: the same on every machine, and
 * different as soon as one file is added, removed, renamed or edited (a timestamp would not notice a copy that
 * keeps old times, or a checkout of older content). About 10 ms for the whole tree.
 */
export function sourceDigest(root = ROOT) {
  const files = [...SOURCE_FILES];
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true, recursive: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) files.push(path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    }
  }
  const hash = createHash('sha256');
  for (const file of files.sort()) hash.update(file).update('\0').update(readFileSync(path.join(root, file))).update('\0');
  return hash.digest('hex');
}

/** The digest the build in dist/ was compiled from; undefined when there is no (complete) build. */
export function stampedDigest(root = ROOT) {
  try {
    const stamp = JSON.parse(readFileSync(path.join(root, STAMP), 'utf8'));
    return typeof stamp.sourceDigest === 'string' ? stamp.sourceDigest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * 'current' (dist/ was compiled from these very sources), 'stale' (from others) or 'missing' (never built, or a build
 * that failed). An installation shipped without its sources (dist/ and package.json only) has nothing to be stale
 * against: its build is current.
 */
export function buildState(root = ROOT) {
  const stamped = stampedDigest(root);
  if (stamped === undefined) return 'missing';
  if (!existsSync(path.join(root, 'src'))) return 'current';
  return stamped === sourceDigest(root) ? 'current' : 'stale';
}

/**
 * Compiles src/ to dist/ afresh: the digest is taken before compiling (an edit during the build leaves the stamp
 * naming the older sources, so the build is then stale, never wrongly current), dist/ is emptied (a deleted source
 * leaves no module behind), and the stamp is written last, only when the compiler succeeded. Returns the exit code.
 */
export function build(root = ROOT) {
  const digest = sourceDigest(root);
  rmSync(path.join(root, DIST), { recursive: true, force: true });
  const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) return result.status ?? 1;
  writeFileSync(path.join(root, STAMP), `${JSON.stringify({ sourceDigest: digest, builtAt: new Date().toISOString() }, null, 2)}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, ...flags] = process.argv.slice(2);
  if (command !== 'build' || flags.some((flag) => flag !== '--if-stale')) {
    process.stderr.write('usage: node bin/build-stamp.js build [--if-stale]\n');
    process.exitCode = 2;
  } else if (!flags.includes('--if-stale')) {
    process.stderr.write('Compiling the server (src/ -> dist/)\n');
    process.exitCode = build();
  } else if (buildState() !== 'current') {
    // `npm start`'s prestart: a failed compile does not stop the server; bin/openmam.js then runs the sources and says so.
    process.stderr.write('The compiled server is missing or older than the sources: compiling (src/ -> dist/)\n');
    if (build() !== 0) process.stderr.write('The compile failed; OpenMAM starts from the sources (tsx) instead.\n');
  }
}
