import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { assertAccessible, chromiumSkipReason, launchChromium, openTab, type ConsoleTab } from './browser.ts';
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

  it('collects uncaught page errors', async () => {
    await tab.page.setContent(page('<button type="button" id="b">Throw</button>'));
    await tab.page.evaluate('document.getElementById("b").addEventListener("click", () => { throw new Error("boom from the page"); })');
    await tab.page.click('#b');
    await tab.page.waitForTimeout(100);
    assert.ok(tab.problems.some((problem) => problem.includes('boom from the page')), tab.problems.join('\n'));
  });
});
