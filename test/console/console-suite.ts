import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { freePort } from '../support/free-port.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { assertAccessible, ensureConsoleBuilt, eventually, FIRST_LOAD_JS_BUDGET_BYTES, launchChromium, openTab, recordScripts, screenshot, type ConsoleTab } from './browser.ts';
import { EXCHANGE_ONLINE, Fleet, type SimulatedApp } from './fleet.ts';
import { signIn } from './sign-in.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The admin console in a real browser (Debian's Chromium through playwright-core) against a real server over HTTPS:
 * an Admin signs in with the built-in identity provider's development page and sets up and acts on a simulated
 * fleet; a Reader sees everything and can change nothing. Every page visited is checked with axe-core. The steps
 * share one server and run in order. Run per store backend.
 */
const ADMIN = 'admin@contoso.example';
const READER = 'reader@contoso.example';
const ALICE = 'alice@contoso.example';
const GROUP = 'Windows MAM users';
const POLICY = 'Edge Level 2';
const WIP = 'Protect Contoso data';
const CA_POLICY = 'Exchange Online from protected apps';
/** Alice's laptop: Edge runs on it, and it is MAM-enrolled. */
const LAPTOP = Fleet.newDevice('LAPTOP-ALICE');
/** Level 2 blocks Windows builds below this one (the template's minimumOsVersion). */
const MINIMUM_OS = '10.0.22631.2506';
const STEP_TIMEOUT_MS = 90_000;

export function consoleInBrowser(backend: Backend, skip?: string): void {
  skippableSuite(`admin console in Chromium (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let browser: Browser;
    let admin: ConsoleTab;
    let fleet: Fleet;
    let apiToken: string;
    let edge: SimulatedApp;
    const tabs: ConsoleTab[] = [];

    /** An API call the scenario makes beside the console (what is set up elsewhere: Entra groups, services). */
    async function graph(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
      const response = await server.json(method, path, apiToken, body);
      assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    }
    const page = (): Page => admin.page;
    /** Follows a navigation link, as a person does, and waits for the page's heading. */
    async function open(area: string, heading: string | RegExp = area): Promise<void> {
      await page().getByRole('navigation', { name: 'Console areas' }).getByRole('link', { name: area, exact: true }).click();
      await page().getByRole('heading', { level: 1, name: heading }).waitFor();
    }

    before(async () => {
      await ensureConsoleBuilt();
      // The public URL is the one the server listens on: the console's redirect URI is <public URL>/console/.
      const port = await freePort();
      server = await startTestServer(backend, { OPENMAM_PORT: String(port), OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}` });
      apiToken = await server.mint({ upn: 'setup@contoso.example', roles: ['OpenMAM.Admin'] });
      browser = await launchChromium();
      fleet = new Fleet(server);
      // Set up elsewhere in a real tenant: the group (Entra), the protected resource and its access policy (Entra
      // conditional access), the threat defense connector (Windows Security Center).
      const group = await graph('POST', '/graph/v1.0/groups', { displayName: GROUP });
      await graph('POST', `/graph/v1.0/groups/${String(group['id'])}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, ALICE)}` });
      await graph('POST', '/graph/v1.0/servicePrincipals', { displayName: EXCHANGE_ONLINE.displayName, appId: EXCHANGE_ONLINE.appId, servicePrincipalNames: [EXCHANGE_ONLINE.uri] });
      await graph('POST', '/graph/v1.0/identity/conditionalAccess/policies', {
        displayName: CA_POLICY,
        state: 'enabled',
        conditions: { applications: { includeApplications: [EXCHANGE_ONLINE.appId] }, users: { includeUsers: ['All'] } },
        grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
      });
      await graph('POST', '/graph/beta/deviceManagement/mobileThreatDefenseConnectors', { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true });
    });
    after(async () => {
      for (const tab of tabs) await tab.close().catch(() => undefined);
      await browser?.close();
      fleet?.close();
      await server?.close();
    }, { timeout: STEP_TIMEOUT_MS });

    /**
     * One step of the scenario. The steps build on each other (the policy the app gets, the app the wipe is for), so
     * when a step fails before the state the next steps need is in place, the later steps are skipped, saying which
     * step failed, instead of each timing out in turn. A step calls `stateReady()` once its changes to the fleet and
     * the tenant are made: a failure after that (of what the page shows) fails that step only.
     */
    let failedStep: string | undefined;
    function step(name: string, run: (stateReady: () => void) => Promise<void>): void {
      // A bound on every step: a browser or server that stops answering fails the run instead of holding CI.
      it(name, { timeout: STEP_TIMEOUT_MS }, async (t) => {
        if (failedStep !== undefined) return t.skip(`skipped: the earlier step "${failedStep}" failed`);
        let ready = false;
        try {
          await run(() => {
            ready = true;
          });
        } catch (error) {
          if (!ready) failedStep = name;
          throw error;
        }
      });
    }

    /** On a policy's page: target Microsoft Edge (when asked) and include the group, each saved. */
    async function assignTo(group: string, options: { edge: boolean }): Promise<void> {
      if (options.edge) {
        await page().getByRole('tab', { name: 'Target apps' }).click();
        await page().getByRole('checkbox', { name: /^Microsoft Edge/ }).check();
        await page().getByRole('button', { name: 'Save target apps' }).click();
        await page().getByRole('status').filter({ hasText: 'Target apps saved: 1.' }).waitFor();
      }
      await page().getByRole('tab', { name: 'Assignments' }).click();
      await page().getByRole('combobox', { name: 'Add included group' }).fill(group.slice(0, 7));
      await page().getByRole('option', { name: group }).click();
      await page().getByRole('list', { name: 'Included groups' }).getByText(group, { exact: true }).waitFor();
      await page().getByRole('button', { name: 'Save assignments' }).click();
      await page().getByRole('status').filter({ hasText: 'Assignments saved: 1 target.' }).waitFor();
    }

    /**
     * Retries `check` on the page now shown, whose data the simulated fleet changes from outside: the console keeps
     * what it read for 15 seconds, and a reload would sign out (tokens are in memory only), so the page is left for
     * Home and opened again through the browser's history until it shows fresh data.
     */
    async function fresh(heading: string, check: () => Promise<void>, meanwhile?: () => Promise<void>): Promise<void> {
      await eventually(async () => {
        try {
          await check();
        } catch (error) {
          await meanwhile?.();
          await page().goBack();
          await page().goForward();
          await page().getByRole('heading', { level: 1, name: heading }).waitFor();
          throw error;
        }
      }, 20_000, 1000);
    }

    async function newTab(colorScheme: 'light' | 'dark' = 'light'): Promise<ConsoleTab> {
      const tab = await openTab(browser, { colorScheme });
      tabs.push(tab);
      return tab;
    }

    step('signs an Admin in with the development sign-in page, and is used with the keyboard', async () => {
      admin = await newTab();
      const scripts = recordScripts(page());
      await signIn(page(), server, ADMIN, 'OpenMAM.Admin');
      await page().getByRole('heading', { level: 1, name: 'Home' }).waitFor();
      // The issue's budget: the console's JavaScript on first load (the shell, then Home once signed in) < 500 KB gzipped.
      const firstLoad = await scripts.gzippedBytes();
      assert.ok(scripts.urls().some((url) => /\/console\/assets\/HomePage-[\w-]+\.js$/.test(url)), `Home's own chunk is among the scripts: ${scripts.urls().join(', ')}`);
      assert.ok(firstLoad < FIRST_LOAD_JS_BUDGET_BYTES, `first load: ${firstLoad} bytes of JavaScript gzipped (budget ${FIRST_LOAD_JS_BUDGET_BYTES})`);
      console.log(`CONSOLE first load: ${(firstLoad / 1024).toFixed(1)} KiB of JavaScript gzipped in ${scripts.urls().length} scripts (budget 500 KiB)`);
      // The page has just loaded (back from the identity provider): the first Tab stop is the skip link, shown when focused.
      const isFocused = (element: unknown): boolean => element === (element as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement;
      await page().keyboard.press('Tab');
      const skip = page().getByRole('link', { name: 'Skip to content' });
      assert.equal(await skip.evaluate(isFocused), true, 'the first Tab stop is the skip link');
      assert.ok(await skip.isVisible(), 'the skip link shows when focused');
      // Tab on, through the top bar, into the navigation: it is one Tab stop (Fluent's Nav), entered at the current
      // area; the arrow keys move between its links; Enter opens one.
      const nav = page().getByRole('navigation', { name: 'Console areas' });
      const inNav = (element: unknown): boolean => (element as { contains(other: unknown): boolean }).contains((element as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement);
      let presses = 0;
      while ((await nav.evaluate(inNav)) !== true) {
        assert.ok(++presses <= 6, 'Tab reaches the navigation within 6 presses');
        await page().keyboard.press('Tab');
      }
      assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).evaluate(isFocused), true, 'the navigation is entered at the current area');
      await page().keyboard.press('ArrowDown');
      assert.equal(await nav.getByRole('link', { name: 'Policies', exact: true }).evaluate(isFocused), true, 'ArrowDown moves to the next area');
      await page().keyboard.press('Enter');
      await page().getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
      assert.equal(new URL(page().url()).pathname, '/console/policies');
      // Enter on the skip link moves focus past the navigation, to the content.
      await skip.focus();
      await page().keyboard.press('Enter');
      await eventually(async () => assert.equal(await page().evaluate('document.activeElement && document.activeElement.id'), 'content', 'the skip link moves focus to the content'), 2000);
    });

    step('shows Home, accessible in the light and the dark theme', async (stateReady) => {
      stateReady();
      await open('Home');
      await assertAccessible(page(), 'Home (light theme)');
      const theme = page().getByRole('switch', { name: 'Dark theme' });
      await theme.check();
      await eventually(async () => assert.equal(await page().evaluate('getComputedStyle(document.documentElement).colorScheme'), 'dark'));
      await assertAccessible(page(), 'Home (dark theme)');
      await theme.uncheck();
      await eventually(async () => assert.equal(await page().evaluate('getComputedStyle(document.documentElement).colorScheme'), 'light'));
      assert.deepEqual(admin.problems, []);
    });

    step('creates a Level 2 app protection policy from the template, targets Microsoft Edge and assigns it to a group', async () => {
      await open('Policies');
      await page().getByRole('tab', { name: 'App protection' }).click();
      await page().getByRole('button', { name: 'Create from template' }).click();
      await page().getByRole('radio', { name: /^Level 2/ }).check();
      await page().getByRole('textbox', { name: 'Minimum OS version' }).fill(MINIMUM_OS);
      await assertAccessible(page(), 'the framework level templates');
      await page().getByRole('button', { name: 'Use template' }).click();
      await page().getByRole('textbox', { name: 'Name', exact: true }).fill(POLICY);
      await assertAccessible(page(), 'the new app protection policy form');
      await page().getByRole('button', { name: 'Create', exact: true }).click();
      await page().getByRole('heading', { level: 1, name: POLICY }).waitFor();
      await assignTo(GROUP, { edge: true });
      await assertAccessible(page(), 'the Level 2 policy');
      await screenshot(page(), 'policy-level2');
      await open('Policies');
      await page().getByRole('tab', { name: 'App protection' }).click();
      await page().getByRole('table', { name: /app protection/i }).getByRole('row').filter({ hasText: POLICY }).waitFor();
      await assertAccessible(page(), 'Policies');
      await screenshot(page(), 'policies');

      // What the console did, read back through the API: the template's values, Edge targeted, the group assigned.
      const list = await graph('GET', '/graph/beta/deviceAppManagement/windowsManagedAppProtections');
      const policy = (list['value'] as Record<string, unknown>[]).find((p) => p['displayName'] === POLICY);
      assert.ok(policy, 'the policy was created');
      assert.equal(policy['maximumAllowedDeviceThreatLevel'], 'low', 'Level 2 of the framework');
      const apps = await graph('GET', `/graph/beta/deviceAppManagement/windowsManagedAppProtections/${String(policy['id'])}/apps`);
      assert.deepEqual((apps['value'] as { mobileAppIdentifier: { windowsAppId: string } }[]).map((a) => a.mobileAppIdentifier.windowsAppId), ['com.microsoft.edge']);
      const assignments = await graph('GET', `/graph/beta/deviceAppManagement/windowsManagedAppProtections/${String(policy['id'])}/assignments`);
      assert.equal((assignments['value'] as unknown[]).length, 1);
    });

    step('shows a simulated app that registers', async (stateReady) => {
      edge = await fleet.startApp(ALICE, LAPTOP);
      assert.equal(edge.complianceState, 'compliant', 'the Level 2 policy applies to Alice (in the group) and Edge');
      stateReady();
      await open('App registrations');
      const row = page().getByRole('table', { name: 'App registrations' }).getByRole('row').filter({ hasText: ALICE }).filter({ hasText: LAPTOP.deviceName });
      await row.waitFor();
      assert.match(await row.innerText(), /com\.microsoft\.edge/);
      assert.match(await row.innerText(), /\bCompliant\b/);
      await assertAccessible(page(), 'App registrations');
      await screenshot(page(), 'registrations');
    });

    step('turns the app non-compliant on Home when the threat defense connector reports a high threat', async (stateReady) => {
      await fleet.reportThreat(edge, 'high');
      assert.equal((await edge.checkIn()).complianceState, 'notCompliant', 'Level 2 allows a low threat level at most');
      stateReady();
      await open('Home');
      const compliance = page().getByRole('list', { name: 'Active registrations by compliance state' });
      const threats = page().getByRole('list', { name: 'Devices by their latest threat level' });
      await fresh('Home', async () => {
        assert.match(await compliance.getByRole('listitem').filter({ hasText: 'Not compliant' }).innerText({ timeout: 1000 }), /Not compliant\s*1$/);
        assert.match(await threats.getByRole('listitem').filter({ hasText: 'High' }).innerText({ timeout: 1000 }), /High\s*1$/);
      });
      assert.match(await compliance.getByRole('listitem').filter({ hasText: /^Compliant/ }).innerText(), /Compliant\s*0$/);
      await assertAccessible(page(), 'Home with a non-compliant app (light theme)');
      await screenshot(page(), 'home-light');
      const theme = page().getByRole('switch', { name: 'Dark theme' });
      await theme.check();
      await eventually(async () => assert.equal(await page().evaluate('getComputedStyle(document.documentElement).colorScheme'), 'dark'));
      await assertAccessible(page(), 'Home with a non-compliant app (dark theme)');
      await screenshot(page(), 'home-dark');
      await theme.uncheck();
      await eventually(async () => assert.equal(await page().evaluate('getComputedStyle(document.documentElement).colorScheme'), 'light'));
    });

    step('shows a denied access decision in the sign-in log with its reason', async (stateReady) => {
      const decision = await fleet.evaluate(edge, EXCHANGE_ONLINE.uri);
      assert.equal(decision.decision, 'deny');
      assert.ok(decision.reasons.includes('deviceThreatLevel'), JSON.stringify(decision));
      // The log is written behind the decision (batched, within a second): wait until the API has it.
      await eventually(async () => {
        const log = await graph('GET', '/graph/beta/auditLogs/signIns');
        // Always with a message: a failing assert.ok without one makes Node re-parse this (transpiled) file to word
        // it, which takes minutes on a retried check.
        assert.ok((log['value'] as { status: { errorCode: number } }[]).some((entry) => entry.status.errorCode !== 0), 'a denied decision is in the sign-in log');
      });
      stateReady();
      await open('Sign-in log');
      const row = page().getByRole('table', { name: 'Sign-ins' }).getByRole('row').filter({ hasText: ALICE }).filter({ hasText: 'Denied' });
      await row.waitFor();
      assert.match(await row.innerText(), /Exchange Online/);
      assert.match(await row.innerText(), /threat/i, 'the reason is shown in the list');
      await assertAccessible(page(), 'the sign-in log');
      await screenshot(page(), 'sign-in-log-denied');
      await row.getByRole('link').first().click();
      await page().getByRole('heading', { level: 1, name: `Denied: ${ALICE} to ${EXCHANGE_ONLINE.displayName}` }).waitFor();
      await page().getByRole('listitem').filter({ hasText: '(deviceThreatLevel)' }).waitFor();
      await page().getByRole('table', { name: 'Applied conditional access policies' }).getByRole('row').filter({ hasText: CA_POLICY }).waitFor();
      await assertAccessible(page(), 'a denied sign-in');
    });

    step('sends a wipe by device tag and shows it succeeded', async () => {
      await open('Users');
      await page().getByRole('table', { name: 'Users' }).getByRole('link', { name: ALICE }).click();
      await page().getByRole('heading', { level: 1, name: ALICE }).waitFor();
      const registration = page().getByRole('table', { name: "User's app registrations" }).getByRole('row').filter({ hasText: edge.device.deviceTag });
      await registration.getByRole('button', { name: 'Wipe by device tag' }).click();
      const dialog = page().getByRole('alertdialog');
      assert.match(await dialog.innerText(), new RegExp(edge.device.deviceTag), 'the dialog names the device tag');
      await assertAccessible(page(), 'the wipe confirmation');
      await dialog.getByRole('button', { name: 'Wipe', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
      await eventually(async () => assert.match(await registration.innerText(), /pending/i, 'the wipe is shown pending until the app checks in'));
      // The app checks in, removes the organization's data and reports the wipe succeeded.
      await edge.checkIn().catch(() => undefined);
      // The page re-reads a pending wipe every few seconds: no reload.
      await eventually(async () => assert.match(await registration.innerText({ timeout: 1000 }), /succeeded/i, 'the wipe is shown succeeded'), 15_000, 500);
      await assertAccessible(page(), 'the user with a succeeded wipe');
    });

    step('assigns a WIP policy and a simulated device shows it applied', async () => {
      const laptop = await fleet.enrollDevice(ALICE, LAPTOP);
      await laptop.sync();
      await open('Policies');
      await page().getByRole('tab', { name: 'WIP (MAM)' }).click();
      await page().getByRole('button', { name: 'Create policy' }).click();
      await page().getByRole('textbox', { name: 'Name', exact: true }).fill(WIP);
      await page().getByRole('textbox', { name: 'Enterprise domain', exact: true }).fill('contoso.example');
      await page().getByRole('button', { name: 'Add Microsoft Edge' }).click();
      await assertAccessible(page(), 'the new WIP policy form');
      await page().getByRole('button', { name: 'Create', exact: true }).click();
      await page().getByRole('heading', { level: 1, name: WIP }).waitFor();
      await assignTo(GROUP, { edge: false });
      await laptop.sync();
      await open('Devices');
      await page().getByRole('table', { name: 'MAM devices' }).getByRole('link', { name: LAPTOP.deviceName }).click();
      await page().getByRole('heading', { level: 1, name: LAPTOP.deviceName }).waitFor();
      const state = page().getByRole('table', { name: 'Policy states' }).getByRole('row').filter({ hasText: WIP });
      // The device syncs again while the page does not show it applied yet, as it would on its schedule: a new
      // assignment reaches a device's desired state in the background.
      await fresh(LAPTOP.deviceName, async () => assert.match(await state.innerText({ timeout: 1000 }), /succeeded|applied/i), () => laptop.sync().then(() => undefined));
      await assertAccessible(page(), 'the device');
      await screenshot(page(), 'device-detail');
      await open('Tenant settings');
      await assertAccessible(page(), 'Tenant settings');
      await screenshot(page(), 'tenant-settings');
      assert.deepEqual(admin.problems, []);
    });

    step("lists the Admin's change in the audit log, filtered by category and date, and shows its old and new values", async () => {
      // The WIP policy the Admin created in the console above, as the API recorded it.
      const trail = await graph('GET', `/graph/beta/deviceManagement/auditEvents?$filter=${encodeURIComponent(`actor/userPrincipalName eq '${ADMIN}' and activityOperationType eq 'Create'`)}&$top=100`);
      type Recorded = { id: string; activity: string; category: string; resources: { displayName: string | null }[] };
      const created = (trail['value'] as Recorded[]).find((e) => e.resources[0]?.displayName === WIP);
      assert.ok(created, `the WIP policy's creation is in the trail: ${JSON.stringify(trail['value'])}`);
      assert.notEqual(created.category, 'Other', 'a policy is not filed under Other, where the set-up group is');
      await open('Audit log');
      const table = page().getByRole('table', { name: 'Audit events' });
      const row = table.getByRole('row').filter({ hasText: created.activity }).filter({ hasText: WIP });
      await row.waitFor();
      assert.ok((await row.innerText()).includes(ADMIN), 'the actor is shown');
      assert.match(await row.innerText(), /\bSuccess\b/);
      await assertAccessible(page(), 'the audit log');
      await screenshot(page(), 'audit-log');

      // By category (the server's getAuditCategories()): the policy's keeps it, Other (the set-up group) does not.
      const category = page().getByRole('combobox', { name: 'Category' });
      await category.selectOption('Other');
      await table.getByRole('row').filter({ hasText: 'Create Group' }).first().waitFor();
      await row.waitFor({ state: 'detached' });
      await category.selectOption(created.category);
      await row.waitFor();
      // By date (the console's time zone is UTC here): today keeps it, from tomorrow on nothing matches.
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
      await page().getByLabel('From', { exact: true }).fill(today);
      await page().getByLabel('To', { exact: true }).fill(today);
      await row.waitFor();
      await page().getByLabel('From', { exact: true }).fill(tomorrow);
      await page().getByRole('status').filter({ hasText: 'No audit event matches.' }).waitFor();
      await page().getByLabel('From', { exact: true }).fill(today);
      await row.waitFor();

      // One event: who, and each property it set (a create: nothing before).
      await row.getByRole('link').first().click();
      await page().getByRole('heading', { level: 1, name: created.activity }).waitFor();
      const properties = page().getByRole('table', { name: `Modified properties of ${WIP}` });
      const name = properties.getByRole('row').filter({ has: page().getByRole('cell', { name: 'displayName', exact: true }) });
      await name.waitFor();
      assert.deepEqual((await name.getByRole('cell').allInnerTexts()).map((t) => t.trim()), ['displayName', '—', WIP], 'old value empty, new value the name');
      assert.ok((await page().getByRole('main').innerText()).includes(ADMIN), 'the actor is shown');
      await assertAccessible(page(), 'an audit event');
      await screenshot(page(), 'audit-event');
      assert.deepEqual(admin.problems, []);
    });

    step('lets a Reader see everything and change nothing; the API refuses the Reader token with 403', async () => {
      const reader = await newTab();
      const { accessToken } = await signIn(reader.page, server, READER, 'OpenMAM.Reader');
      const { page: view } = reader;
      await view.getByText('Read only').first().waitFor();
      const main = view.getByRole('main');
      /** Buttons of the page whose text starts with a verb that changes something: a Reader must see none. */
      const writeButtons = async (): Promise<string[]> => {
        const texts = await main.getByRole('button').allInnerTexts();
        return texts.map((t) => t.trim()).filter((t) => /^(create|new|add|edit|save|delete|remove|assign|wipe|block|unblock|load baseline|use template)\b/i.test(t));
      };
      /** Text fields a Reader could type into on a policy's page, other than list filters (reading is filtering). */
      const editableFields = (): Promise<string[]> =>
        main.getByRole('textbox').evaluateAll((inputs) => inputs.flatMap((input) => {
          const field = input as unknown as { readOnly: boolean; disabled: boolean; id: string; outerHTML: string; closest(selector: string): unknown };
          return !field.readOnly && !field.disabled && field.closest('[role="search"]') === null ? [field.outerHTML.slice(0, 160)] : [];
        }));
      const areas = await view.getByRole('navigation', { name: 'Console areas' }).getByRole('link').allInnerTexts();
      assert.ok(areas.length >= 11, `every area is offered to a Reader: ${areas.join(', ')}`);
      for (const area of areas.map((a) => a.trim())) {
        await view.getByRole('navigation', { name: 'Console areas' }).getByRole('link', { name: area, exact: true }).click();
        await view.getByRole('heading', { level: 1 }).first().waitFor();
        await view.waitForLoadState('networkidle');
        assert.deepEqual(await writeButtons(), [], `${area}: no write control for a Reader`);
        await assertAccessible(view, `${area} (Reader)`);
      }
      // The pages the Admin acted on: the policy, the user, the device; each readable, none changeable.
      await view.getByRole('navigation', { name: 'Console areas' }).getByRole('link', { name: 'Policies', exact: true }).click();
      await view.getByRole('tab', { name: 'App protection' }).click();
      await view.getByRole('link', { name: POLICY }).click();
      await view.getByRole('heading', { level: 1, name: POLICY }).waitFor();
      for (const tab of ['Settings', 'Target apps', 'Assignments']) {
        await view.getByRole('tab', { name: tab }).click();
        await view.waitForLoadState('networkidle');
        assert.deepEqual(await writeButtons(), [], `the policy's ${tab}: no write control for a Reader`);
        assert.deepEqual(await editableFields(), [], `the policy's ${tab}: no editable field for a Reader`);
        await assertAccessible(view, `the policy's ${tab} (Reader)`);
        if (tab === 'Target apps') {
          const edgeBox = main.getByRole('checkbox', { name: /^Microsoft Edge/ });
          assert.equal(await edgeBox.isChecked(), true, 'the Reader sees the target app');
          assert.equal(await edgeBox.isDisabled(), true, 'and cannot change it');
        }
      }
      await view.getByRole('navigation', { name: 'Console areas' }).getByRole('link', { name: 'Users', exact: true }).click();
      await view.getByRole('table', { name: 'Users' }).getByRole('link', { name: ALICE }).click();
      await view.getByRole('heading', { level: 1, name: ALICE }).waitFor();
      await view.waitForLoadState('networkidle');
      assert.deepEqual(await writeButtons(), [], "the user's page: no wipe or block for a Reader");
      await view.getByRole('table', { name: "User's MAM devices" }).getByRole('link', { name: LAPTOP.deviceName }).click();
      await view.getByRole('heading', { level: 1, name: LAPTOP.deviceName }).waitFor();
      await view.waitForLoadState('networkidle');
      assert.deepEqual(await writeButtons(), [], "the device's page: no write control for a Reader");
      await assertAccessible(view, 'the device (Reader)');
      // And the server refuses the Reader's own token, whatever the page shows.
      const refused = await server.json('POST', '/graph/v1.0/groups', accessToken, { displayName: 'not allowed' });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      const read = await server.json('GET', '/graph/beta/deviceAppManagement/windowsManagedAppProtections', accessToken);
      assert.equal(read.status, 200, 'the same token reads');
      assert.deepEqual(reader.problems, []);
    });
  });
}
