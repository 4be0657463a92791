#!/usr/bin/env node
// Entry point of the `openmam` command. Node 20 cannot run TypeScript by itself, so tsx loads the sources
// (a runtime dependency: one less build step for the user, and the same code path as the tests).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
