import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AxeResults, Result as AxeViolation, RunOptions } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';

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

/**
 * The requests a tab's page has under way, and how many it ever started: an answer changes the page (a list arrives,
 * the Refresh button beside it is enabled again), so a check waits for them (`settled`).
 */
class Traffic {
  readonly open = new Set<Request>();
  started = 0;
  readonly #idle = new Set<() => void>();

  constructor(page: Page) {
    page.on('request', (request) => {
      this.open.add(request);
      this.started++;
    });
    // A redirect ends its request (requestfinished) and starts another; a cancelled fetch (a query dropped when its
    // page is left) fails.
    const end = (request: Request): void => {
      this.open.delete(request);
      if (this.open.size === 0) for (const resolve of this.#idle) resolve();
    };
    page.on('requestfinished', end);
    page.on('requestfailed', end);
  }

  /** Resolves true once no request is under way, false if some still is after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (answer: boolean): void => {
        clearTimeout(timer);
        this.#idle.delete(onIdle);
        resolve(answer);
      };
      const onIdle = (): void => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.#idle.add(onIdle);
    });
  }

  describeOpen(): string {
    return [...this.open].map((request) => `${request.method()} ${request.url()}`).join(', ');
  }
}

const TRAFFIC = new WeakMap<Page, Traffic>();

export async function openTab(browser: Browser, options: { colorScheme?: 'light' | 'dark' } = {}): Promise<ConsoleTab> {
  const context = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true, colorScheme: options.colorScheme ?? 'light', locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  TRAFFIC.set(page, new Traffic(page));
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
 * Runs axe-core's WCAG 2 A and AA rules on the page once it has settled (`settled`) and fails, listing every
 * violation, when any is found. axe is evaluated through the DevTools protocol, which the page's
 * Content-Security-Policy does not apply to (an injected script element would be refused, as it should be).
 *
 * A run takes a few hundred milliseconds and reads the page bit by bit: when the page changes meanwhile (a late
 * answer enables a button, whose colours then fade from the disabled ones), axe judges a mix of two states, e.g. an
 * enabled button in its disabled colours, which fails contrast while neither state does. Such a run is not a
 * verdict: the page is let settle and checked again.
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= `${await readFile(AXE_SOURCE, 'utf8')}\n;true`;
  const options: RunOptions = { runOnly: { type: 'tag', values: [...WCAG_TAGS] }, resultTypes: ['violations'] };
  const traffic = TRAFFIC.get(page);
  for (let attempt = 1; ; attempt++) {
    await settled(page);
    const loaded = await page.evaluate('typeof axe === "object"');
    if (loaded !== true) await page.evaluate(axeSource);
    const started = traffic?.started ?? 0;
    await page.evaluate(WATCH_FOR_CHANGES);
    const results = await page.evaluate(async ({ runOptions, exclude }) => {
      const axe = Reflect.get(globalThis, 'axe') as { run(context: { exclude: string[][] }, options: RunOptions): Promise<AxeResults> };
      const answer = await axe.run({ exclude }, runOptions);
      return { violations: answer.violations.map((v) => ({ ...v, nodes: v.nodes.map((n) => ({ ...n, any: [], all: [], none: [] })) })) };
    }, { runOptions: options, exclude: NOT_CONTENT.map((selector) => [selector]) });
    const changed = (await page.evaluate(CHANGED_SINCE_WATCH)) === true || (traffic !== undefined && traffic.started !== started);
    if (changed && attempt < AXE_ATTEMPTS) continue;
    const note = changed ? `\n(the page still changed during the last of ${AXE_ATTEMPTS} checks)` : '';
    assert.equal(results.violations.length, 0, `accessibility (axe-core, ${WCAG_TAGS.join(', ')}) of ${what}:\n${results.violations.map((v) => describeViolation(v as AxeViolation)).join('\n')}${note}`);
    return;
  }
}

/** How many times a check is run when the page changes under it before its last run's result stands. */
const AXE_ATTEMPTS = 3;

/**
 * In the page, as plain script (evaluated through the DevTools protocol, so the page's CSP does not refuse it, and
 * not transpiled, so no helper of the test's compiler leaks into it): whether a finite animation or transition is
 * running. Endless ones, such as a spinner's, never end and are left out.
 */
const FINITE_ANIMATION_RUNNING = `document.getAnimations().some((a) => a.playState === 'running' && a.effect !== null && a.effect.getComputedTiming().iterations !== Infinity)`;

/**
 * Whether a list of MutationRecords (`records`) changes content: Tabster restyles its focus dummies (NOT_CONTENT,
 * which axe is not asked about) a moment after the DOM around them changed, and that changes nothing axe judges.
 */
const CHANGES_CONTENT = `records.some((r) => !(r.type === 'attributes' && r.target instanceof Element && r.target.matches(${JSON.stringify(NOT_CONTENT.join(', '))})))`;

/** Starts recording changes to the page's DOM (CHANGED_SINCE_WATCH reads them). */
const WATCH_FOR_CHANGES = `(() => {
  const watch = { changed: false };
  watch.observer = new MutationObserver((records) => { if (${CHANGES_CONTENT}) watch.changed = true; });
  watch.observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  globalThis.__openmamWatch = watch;
  return true;
})()`;

/** Whether the content's DOM changed, or an animation started, since WATCH_FOR_CHANGES; stops recording. */
const CHANGED_SINCE_WATCH = `(() => {
  const watch = globalThis.__openmamWatch;
  if (watch === undefined) return true;
  const records = watch.observer.takeRecords();
  const pending = ${CHANGES_CONTENT};
  watch.observer.disconnect();
  delete globalThis.__openmamWatch;
  return watch.changed || pending || ${FINITE_ANIMATION_RUNNING};
})()`;

/** Frames in a row in which the page must not change for it to count as settled. */
const QUIET_FRAMES = 3;

/**
 * Resolves true once the page has not changed (no DOM mutation, no finite animation running) for QUIET_FRAMES frames
 * in a row, false after `timeoutMs`. An answer's data reaches the DOM a task or two after it arrives (the query
 * cache, then React's commit), and the transitions that commit starts run from the next style update: quiet frames
 * see both through.
 */
function quietFrames(timeoutMs: number): string {
  return `new Promise((resolve) => {
  const deadline = performance.now() + ${Math.max(0, Math.round(timeoutMs))};
  let changed = false;
  let quiet = 0;
  const observer = new MutationObserver((records) => { if (${CHANGES_CONTENT}) changed = true; });
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const frame = () => {
    if (changed || ${FINITE_ANIMATION_RUNNING}) {
      changed = false;
      quiet = 0;
    } else {
      quiet++;
    }
    if (quiet >= ${QUIET_FRAMES} || performance.now() > deadline) {
      observer.disconnect();
      resolve(quiet >= ${QUIET_FRAMES});
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})`;
}

/**
 * Waits until the page is at rest: every request it made answered (and none started since), and then no change to
 * its DOM and no finite animation or transition (a theme change fades colours for a moment, a button enabled again
 * fades from its disabled colours) for a few frames. Endless animations, such as a spinner, are ignored. A page that
 * is still busy after `timeoutMs` fails, saying with what.
 */
export async function settled(page: Page, timeoutMs = 10_000): Promise<void> {
  const traffic = TRAFFIC.get(page);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (traffic !== undefined && !(await traffic.idle(deadline - Date.now()))) {
      throw new Error(`the page did not settle within ${timeoutMs} ms: requests still under way: ${traffic.describeOpen()}`);
    }
    const started = traffic?.started ?? 0;
    const quiet = await page.evaluate(quietFrames(deadline - Date.now())).catch((error: unknown) => {
      // The page navigated meanwhile (its script context went with the old document): not at rest yet, look again.
      if (error instanceof Error && /Execution context was destroyed/.test(error.message) && Date.now() < deadline) return 'navigated';
      throw error;
    });
    if (quiet === 'navigated') continue;
    if (quiet !== true) {
      throw new Error(`the page did not settle within ${timeoutMs} ms: its DOM kept changing or an animation kept running`);
    }
    // What an answer rendered may have asked for more (a dependent query): settled only when nothing new was asked.
    if (traffic === undefined || (traffic.started === started && traffic.open.size === 0)) return;
  }
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
