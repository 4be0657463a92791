import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { TestServer } from '../support/server.ts';
import { assertAccessible } from './browser.ts';

export type ConsoleRole = 'OpenMAM.Admin' | 'OpenMAM.Reader';

export interface SignedIn {
  /** The access token the console received from the token endpoint (kept by the console in memory only). */
  accessToken: string;
}

/**
 * Signs in to the console as a person does: open /console, go through the built-in identity provider's development
 * sign-in page (authorization code with PKCE), pick the user and the app role, and land back in the console. The
 * access token is read off the token endpoint's answer as it passes, for the API checks the scenarios make with it.
 */
export async function signIn(page: Page, server: TestServer, upn: string, role: ConsoleRole): Promise<SignedIn> {
  await page.goto(`${server.url}/console/`);
  const form = page.getByRole('heading', { name: 'Sign in to OpenMAM', level: 1 });
  const consoleButton = page.getByRole('button', { name: /^Sign in/ });
  // The console either sends the browser to the identity provider at once or offers a sign-in button first.
  await form.or(consoleButton).first().waitFor();
  if (!(await form.isVisible())) {
    await assertAccessible(page, 'the console before sign-in');
    await consoleButton.click();
  }
  await form.waitFor();
  assert.equal(new URL(page.url()).pathname, `/idp/${server.tenantId}/oauth2/v2.0/authorize`);
  await assertAccessible(page, 'the development sign-in page');
  await page.getByLabel('User principal name').fill(upn);
  await page.getByRole('checkbox', { name: role }).check();
  const [answer] = await Promise.all([
    page.waitForResponse((response) => response.request().method() === 'POST' && /\/idp\/[^/]+\/oauth2\/v2\.0\/token$/.test(new URL(response.url()).pathname)),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
  assert.equal(answer.status(), 200, `token endpoint: ${answer.status()} ${await answer.text()}`);
  const accessToken = ((await answer.json()) as { access_token?: unknown }).access_token;
  assert.equal(typeof accessToken, 'string');
  await page.getByRole('navigation', { name: 'Console areas' }).waitFor();
  assert.equal(new URL(page.url()).origin, server.url);
  await page.getByText(upn, { exact: true }).waitFor();
  return { accessToken: accessToken as string };
}
