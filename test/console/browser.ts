import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AxeResults, Result as AxeViolation, RunOptions } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * The browser side of the console's tests: Debian's Chromium driven by playwright-core (no downloaded browser), the
 * console built when its sources are newer than its build, an accessibility check with axe-core on every page the
 * tests visit, and screenshots for docs/console.md when asked for (OPENMAM_SCREENSHOTS=1).
 */
export const CHROMIUM = '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 } as const;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = path.join(ROOT, 'web');
const DIST_INDEX = path.join(WEB, 'dist', 'index.html');
const AXE_SOURCE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const SCREENSHOTS = path.join(ROOT, 'docs', 'console');

/**
 * WCAG 2.0 and 2.1, levels A and AA: the rules axe-core tags with these (deque.com/axe/core-documentation/api-documentation/#axe-core-tags).
 * Best practices are left out: they are advice, not conformance.
 */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;

/**
 * What to pass as node:test's `skip` for the browser suites: undefined when Chromium is installed, else why they are
 * skipped. Under CI (process.env.CI set) it throws instead: CI installs Chromium (.ci/run) and must never skip.
 */
export function chromiumSkipReason(what = 'the console browser tests'): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`${CHROMIUM} is missing; CI is set, so ${what} fail instead of skipping (.ci/run installs Debian's chromium)`);
  }
  return `${CHROMIUM} is missing: skipping ${what} (apt-get install chromium)`;
}

async function newestSource(entry: string): Promise<number> {
  const info = await stat(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const child of await readdir(entry)) newest = Math.max(newest, await newestSource(path.join(entry, child)));
  return newest;
}

/**
 * Builds the console (`npm run build:console`) when web/dist is missing or older than any of its sources, so that a
 * fresh clone's `npm test` (or a test run after editing a page) tests what the sources say.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'].map((name) => path.join(WEB, name)).filter((p) => existsSync(p));
  const newest = Math.max(...(await Promise.all(sources.map(newestSource))));
  if (existsSync(DIST_INDEX) && (await stat(DIST_INDEX)).mtimeMs >= newest) return;
  await promisify(execFile)('npm', ['run', 'build', '--workspace=@openmam/console'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox: CI containers run as root, where Chromium's sandbox cannot start. The rest keeps the browser from
    // calling home during tests.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * One browser context (its own cookies and memory: one signed-in user) at 1280x800, trusting the test server's
 * self-signed certificate. The page's Content-Security-Policy stays on: a refused script or style is a failure
 * (`problems`), as is an uncaught exception in the page.
 */
export interface ConsoleTab {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and Content-Security-Policy refusals seen so far. */
  problems: string[];
  close(): Promise<void>;
}

export async function openTab(browser: Browser, options: { colorScheme?: 'light' | 'dark' } = {}): Promise<ConsoleTab> {
  const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true, colorScheme: options.colorScheme ?? 'light', locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  return { context, page, problems, close: () => context.close() };
}

/** One axe-core violation as a line of a failure message: rule, impact, what it asks, and where. */
function describeViolation(violation: AxeViolation): string {
  const where = violation.nodes.slice(0, 5).map((node) => `${node.target.join(' ')}${node.failureSummary ? ` (${node.failureSummary.replace(/\s+/g, ' ')})` : ''}`);
  return `- ${violation.id} [${violation.impact ?? 'n/a'}] ${violation.help}: ${where.join('; ')}${violation.nodes.length > 5 ? `; and ${violation.nodes.length - 5} more` : ''}`;
}

let axeSource: string | undefined;

/**
 * Elements axe-core is not asked about: Tabster's focus "dummies" (Fluent UI v9 keeps focus in drawers, dialogs and
 * menus with them), empty elements that are focusable and aria-hidden on purpose, to hand focus on at once without
 * being announced. axe reports them as aria-hidden-focus, a known false positive (github.com/microsoft/tabster/issues/288;
 * Accessibility Insights excludes them the same way, github.com/microsoft/accessibility-insights-web/pull/7605).
 */
const NOT_CONTENT = ['[data-tabster-dummy]'];

/**
 * Runs axe-core's WCAG 2 A and AA rules on the page as it is now and fails, listing every violation, when any is
 * found. axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy does not apply to
 * (an injected script element would be refused, as it should be).
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= `${await readFile(AXE_SOURCE, 'utf8')}\n;true`;
  await settled(page);
  const loaded = await page.evaluate('typeof axe === "object"');
  if (loaded !== true) await page.evaluate(axeSource);
  const options: RunOptions = { runOnly: { type: 'tag', values: [...WCAG_TAGS] }, resultTypes: ['violations'] };
  const results = await page.evaluate(async ({ runOptions, exclude }) => {
    const axe = (globalThis as unknown as { axe: { run(context: { exclude: string[][] }, options: RunOptions): Promise<AxeResults> } }).axe;
    const answer = await axe.run({ exclude }, runOptions);
    return { violations: answer.violations.map((v) => ({ ...v, nodes: v.nodes.map((n) => ({ ...n, any: [], all: [], none: [] })) })) };
  }, { runOptions: options, exclude: NOT_CONTENT.map((selector) => [selector]) });
  assert.equal(results.violations.length, 0, `accessibility (axe-core, ${WCAG_TAGS.join(', ')}) of ${what}:\n${results.violations.map((v) => describeViolation(v as AxeViolation)).join('\n')}`);
}

/**
 * Waits until the page's finite animations and transitions have ended (a theme change fades colours for a moment,
 * and a colour half-way is neither theme's), ignoring endless ones such as a spinner.
 */
export async function settled(page: Page): Promise<void> {
  // A function, not a string: the page's Content-Security-Policy (no 'unsafe-eval') refuses a string predicate.
  interface Animation { playState: string; effect: { getComputedTiming(): { iterations: number } } | null }
  await page.waitForFunction(
    () => (globalThis as unknown as { document: { getAnimations(): Animation[] } }).document.getAnimations().every((a) => a.playState !== 'running' || a.effect === null || a.effect.getComputedTiming().iterations === Infinity),
    undefined,
    { timeout: 5000 },
  );
}

/** Whether this run writes the documentation's screenshots (docs/console/*.png); CI does not, so it never rewrites them. */
export const TAKING_SCREENSHOTS = process.env.OPENMAM_SCREENSHOTS === '1';

/** A screenshot of the viewport for docs/console.md, only when TAKING_SCREENSHOTS; `name` without extension. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!TAKING_SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  // The top of the page, no focus ring or caret, animations (Fluent's transitions, a drawer opening) settled.
  await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur(); window.scrollTo(0, 0)');
  await settled(page);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

/** Retries `check` until it passes or `timeoutMs` has passed (then its last failure is thrown): for state that arrives later. */
export async function eventually(check: () => Promise<void>, timeoutMs = 10_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}

/** The issue's budget for the console's JavaScript on first load, gzipped. */
export const FIRST_LOAD_JS_BUDGET_BYTES = 500 * 1024;

/**
 * Records every script the page loads from now on: call `gzippedBytes()` once the page is shown to get what that
 * load cost on the wire with gzip (each distinct script once, compressed as a server would, level 9 being a
 * conservative stand-in for what a CDN or reverse proxy sends).
 */
export function recordScripts(page: Page): { gzippedBytes(): Promise<number>; urls(): string[] } {
  const bodies = new Map<string, Promise<Buffer>>();
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'script' || bodies.has(response.url())) return;
    bodies.set(response.url(), response.body());
  });
  return {
    urls: () => [...bodies.keys()],
    gzippedBytes: async () => {
      let total = 0;
      for (const body of bodies.values()) total += gzipSync(await body, { level: 9 }).length;
      return total;
    },
  };
}
