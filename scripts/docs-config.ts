// Writes docs/configuration.md from the settings table in src/config.ts (`npm run docs:config`).
// test/config.test.ts fails when the committed file and the table disagree.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { configurationMarkdown } from '../src/config.ts';

const target = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, configurationMarkdown());
process.stderr.write(`wrote ${path.relative(process.cwd(), target)}\n`);
