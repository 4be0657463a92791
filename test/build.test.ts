import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildState, sourceDigest, STAMP } from '../bin/build-stamp.js';

/**
 * The production build's rule (bin/build-stamp.js, bin/openmam.js): the compiled dist/ runs only when its stamp names
 * exactly the sources on disk; otherwise the sources run under tsx, with one line that says so.
 */
describe('the production build stamp', () => {
  let root: string;
  const write = async (file: string, content: string): Promise<void> => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  };
  const stamp = (digest: string): Promise<void> => write(STAMP, JSON.stringify({ sourceDigest: digest, builtAt: new Date().toISOString() }));

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'openmam-build-'));
    await write('tsconfig.json', '{}');
    await write('tsconfig.build.json', '{}');
    await write('src/cli/main.ts', 'export const a = 1;\n');
    await write('packages/contract/src/index.ts', 'export const b = 2;\n');
    await write('packages/client/src/index.ts', 'export const c = 3;\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('is missing without a stamp, current with the sources\' digest, stale after any edit, addition or removal', async () => {
    assert.equal(buildState(root), 'missing');
    await stamp(sourceDigest(root));
    assert.equal(buildState(root), 'current');

    await write('src/cli/main.ts', 'export const a = 2;\n');
    assert.equal(buildState(root), 'stale', 'an edited source');
    await stamp(sourceDigest(root));
    await write('src/core/new.ts', 'export {};\n');
    assert.equal(buildState(root), 'stale', 'an added source');
    await stamp(sourceDigest(root));
    await unlink(path.join(root, 'src/core/new.ts'));
    assert.equal(buildState(root), 'stale', 'a removed source');
    await stamp(sourceDigest(root));
    await write('packages/contract/src/index.ts', 'export const b = 3;\n');
    assert.equal(buildState(root), 'stale', 'an edited package source (src/ compiles it too)');
    await stamp(sourceDigest(root));
    await write('tsconfig.build.json', '{"compilerOptions":{}}');
    assert.equal(buildState(root), 'stale', 'changed compiler settings');
    await stamp(sourceDigest(root));
    await write('src/notes.md', 'not a source');
    assert.equal(buildState(root), 'current', 'a file the compiler does not read changes nothing');
  });

  it('is missing when the stamp is unreadable (a build that failed half-way writes none)', async () => {
    await write(STAMP, '{"sourceDigest":');
    assert.equal(buildState(root), 'missing');
  });

  it('is current in an installation shipped without its sources (only dist/ to run)', async () => {
    await stamp('a digest of sources that are not here');
    await rm(path.join(root, 'src'), { recursive: true });
    assert.equal(buildState(root), 'current');
  });
});

describe('bin/openmam.js', () => {
  it('runs dist/ silently only when it is current, and otherwise says it runs the sources', async () => {
    const bin = fileURLToPath(new URL('../bin/openmam.js', import.meta.url));
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'OPENMAM_RUN_SOURCES'));
    const child = spawn(process.execPath, [bin, '--version'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^openmam \d+\.\d+\.\d+\n$/);
    const state = buildState();
    if (state === 'current') assert.equal(stderr, '', 'a current build runs without a word');
    else assert.match(stderr, state === 'stale' ? /^openmam: dist\/ was compiled from other sources: running the sources with tsx/ : /^openmam: no compiled build in dist\/: running the sources with tsx/);
  });
});
