#!/usr/bin/env node
// Entry point of the `openmam` command. It runs the compiled JavaScript in dist/ (`npm run build:server`; `npm ci`
// and `npm start` build it) when that build was compiled from exactly the sources on disk (bin/build-stamp.js), and
// otherwise the TypeScript sources under tsx, saying why in one line: stale code never runs silently.
// OPENMAM_RUN_SOURCES=true runs the sources without a word (the tests do: they test the sources).
import { buildState, COMPILED_CLI } from './build-stamp.js';

async function loadCli() {
  if (process.env.OPENMAM_RUN_SOURCES !== 'true') {
    const state = buildState();
    if (state === 'current') return import(new URL(`../${COMPILED_CLI}`, import.meta.url).href);
    process.stderr.write(
      state === 'stale'
        ? 'openmam: dist/ was compiled from other sources: running the sources with tsx (slower start; `npm run build:server` compiles)\n'
        : 'openmam: no compiled build in dist/: running the sources with tsx (slower start; `npm run build:server` compiles)\n',
    );
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL('../src/cli/main.ts', import.meta.url).href);
}

const { runCli } = await loadCli();
process.exitCode = await runCli(process.argv.slice(2));
