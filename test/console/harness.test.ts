import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { assertAccessible, chromiumSkipReason, launchChromium, openTab, settled, type ConsoleTab } from './browser.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The browser tests' own checks can fail: axe-core finds what WCAG 2 A/AA forbids and names it, passes a page that
 * conforms, and leaves out Tabster's focus dummies only; page errors are collected. Pages are set in place (no server).
 */
skippableSuite('console browser test harness', { skip: chromiumSkipReason('the console browser test harness checks') ?? false }, () => {
  let browser: Browser;
  let tab: ConsoleTab;
  before(async () => {
    browser = await launchChromium();
    tab = await openTab(browser);
  });
  after(async () => {
    await tab?.close();
    await browser?.close();
  });

  const page = (body: string): string => `<!doctype html><html lang="en"><head><title>Harness</title></head><body><main><h1>Harness</h1>${body}</main></body></html>`;

  it('fails on WCAG 2 A/AA violations, naming each rule and element', async () => {
    await tab.page.setContent(page('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="logo"><input type="text" id="nameless"><p style="color:#aaa;background:#fff">faint</p>'));
    await assert.rejects(assertAccessible(tab.page, 'a page with faults'), (error: Error) => {
      assert.match(error.message, /of a page with faults/);
      assert.match(error.message, /- image-alt \[critical\].*#logo/);
      assert.match(error.message, /- label \[critical\].*#nameless/);
      assert.match(error.message, /- color-contrast \[serious\]/);
      return true;
    });
  });

  it('passes a page that conforms, and leaves out focus dummies (data-tabster-dummy) only', async () => {
    await tab.page.setContent(page('<label for="name">Name</label><input type="text" id="name"><i tabindex="0" aria-hidden="true" data-tabster-dummy=""></i>'));
    await assertAccessible(tab.page, 'a page that conforms');
    await tab.page.setContent(page('<i tabindex="0" aria-hidden="true" data-focus-bumper=""></i>'));
    await assert.rejects(assertAccessible(tab.page, 'a page with another hidden focusable'), /aria-hidden-focus/);
  });

  it('checks a page at rest: after the answers it waits for and the transitions they start', async () => {
    // A Refresh button disabled while its list is read, as the console's are: its disabled colours fail contrast
    // (WCAG exempts an inactive control), and once enabled it fades to colours that pass. Judged half-way, it fails.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    await tab.page.route('https://harness.example/list', async (route) => {
      await answered;
      await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': '*' }, body: '[]' });
    });
    try {
      await tab.page.setContent(page(`<style>button { color: #242424; background: #fff; border: 1px solid #616161; transition: color 300ms, background-color 300ms; }
        button:disabled { color: #bdbdbd; background: #f0f0f0; }</style><button type="button" id="refresh" disabled>Refresh</button>
        <script>fetch('https://harness.example/list').then((r) => r.json()).then(() => { document.getElementById('refresh').disabled = false; });</script>`));
      const check = assertAccessible(tab.page, 'a page whose list is being read');
      setTimeout(answer, 1000);
      await check;
      const button = await tab.page.evaluate('(() => { const b = document.getElementById("refresh"); return { disabled: b.disabled, color: getComputedStyle(b).color }; })()');
      assert.deepEqual(button, { disabled: false, color: 'rgb(36, 36, 36)' }, 'checked once the answer arrived and the button had faded in');
    } finally {
      answer();
      await tab.page.unroute('https://harness.example/list');
    }
  });

  it('fails a page that never comes to rest, saying why', async () => {
    await tab.page.setContent(page('<p id="clock">0</p><script>setInterval(() => { document.getElementById("clock").textContent = String(Date.now()); }, 5);</script>'));
    await assert.rejects(settled(tab.page, 500), /did not settle within 500 ms: its DOM kept changing/);
  });

  it('collects uncaught page errors', async () => {
    await tab.page.setContent(page('<button type="button" id="b">Throw</button>'));
    await tab.page.evaluate('document.getElementById("b").addEventListener("click", () => { throw new Error("boom from the page"); })');
    await tab.page.click('#b');
    await tab.page.waitForTimeout(100);
    assert.ok(tab.problems.some((problem) => problem.includes('boom from the page')), tab.problems.join('\n'));
  });
});
