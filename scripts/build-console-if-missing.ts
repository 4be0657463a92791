// `npm start`'s prestart: builds the admin console (web/ -> web/dist, `npm run build:console`) when it has not been
// built, so that a fresh clone serves /console with no extra command even when `npm ci` ran with --ignore-scripts
// (which skips the root `prepare` that normally builds it). A failed build does not stop the server: /console then
// answers 503 with what to run, and every other endpoint works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const index = fileURLToPath(new URL('../web/dist/index.html', import.meta.url));
if (!existsSync(index)) {
  process.stderr.write('The admin console is not built: running `npm run build:console`\n');
  // npm sets npm_execpath to its own CLI when it runs a script; use the same npm.
  const npm = process.env['npm_execpath'];
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build:console'], { stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build:console'], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.stderr.write('The console build failed; OpenMAM starts anyway and /console answers 503 until it is built.\n');
}
