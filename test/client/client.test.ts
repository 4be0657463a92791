import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  AccountDisabledError,
  AccountMismatchError,
  MamClient,
  MemoryStorage,
  WipedError,
  WrongAccountError,
  type AccessState,
  type ConfigurationDocument,
  type MamAction,
  type MamClientOptions,
  type PolicyDocument,
  type WipeContext,
} from '../../packages/client/src/index.ts';
import { JsonFileStorage } from '../../packages/client/src/json-file-storage.ts';
import { action, FakeClock, MamServerDouble, policyDocument, tokenFor } from './mam-server-double.ts';

/** `@openmam/client` against a test double of `/mam/v1` over real HTTP: registration, documents, actions, wipes. */

const server = new MamServerDouble();
before(() => server.start());
after(() => server.close());

let clock: FakeClock;
let events: { policies: (PolicyDocument | null)[]; configurations: (ConfigurationDocument | null)[]; actions: MamAction[]; states: AccessState[]; errors: unknown[] };

beforeEach(() => {
  clock = new FakeClock();
  events = { policies: [], configurations: [], actions: [], states: [], errors: [] };
  Object.assign(server, { policy: null, configuration: null, actions: [], nextCheckInSeconds: 1800, notOnboarded: false, deviceOwner: undefined, failWith: undefined, failRetryAfter: undefined });
  server.requests.length = 0;
  server.results.length = 0;
});

let counter = 0;
function newClient(overrides: Partial<MamClientOptions> = {}, user = `user-${++counter}`): MamClient {
  return new MamClient({
    serverUrl: server.url,
    getToken: async () => tokenFor(user),
    app: { appId: 'com.contoso.notes', appVersion: '4.2.0', sdkVersion: '1.0.0' },
    device: { osVersion: '10.0.22631.3155', deviceName: 'LAPTOP-7', deviceTag: `tag-${user}` },
    clock,
    onPolicy: (p) => events.policies.push(p),
    onConfiguration: (c) => events.configurations.push(c),
    onAction: (a) => events.actions.push(a),
    onAccessStateChange: (s) => events.states.push(s),
    onError: (e) => events.errors.push(e),
    ...overrides,
  });
}

describe('registration', () => {
  it('registers with the app and device, keeps the registration and applies the documents', async () => {
    server.policy = policyDocument('pol-1:1');
    server.configuration = { version: 'cfg-1', settings: [{ name: 'tenantHint', value: 'contoso' }] };
    const storage = new MemoryStorage();
    const client = newClient({ storage });
    const result = await client.register();

    const [call] = server.calls('registrations');
    assert.deepEqual(call!.body, {
      appId: 'com.contoso.notes',
      appVersion: '4.2.0',
      sdkVersion: '1.0.0',
      osVersion: '10.0.22631.3155',
      deviceTag: `tag-user-${counter}`,
      deviceName: 'LAPTOP-7',
    });
    assert.equal(call!.authorization, `Bearer ${tokenFor(`user-${counter}`)}`);
    assert.equal(result.registrationId, server.registrationOf(`user-${counter}`));
    assert.equal(client.registrationId, result.registrationId);
    assert.equal(client.accountId, `user-${counter}`);
    assert.equal(client.lastCheckInAt, clock.now());
    assert.equal(result.nextCheckInSeconds, 1800);
    assert.deepEqual(events.policies, [server.policy]);
    assert.deepEqual(events.configurations, [server.configuration]);
    assert.equal(client.accessState().status, 'allowed');
    assert.equal(client.canAccessOrgData(), true);
    assert.deepEqual(client.accessHeaders(), { 'X-OpenMAM-App-Id': 'com.contoso.notes', 'X-OpenMAM-Registration-Id': result.registrationId });

    const saved = await storage.load();
    assert.equal(saved?.registrationId, result.registrationId);
    assert.equal(saved?.policy?.version, 'pol-1:1');
    assert.equal(saved?.lastCheckInAt, clock.now());

    // Registering again answers the same registration.
    assert.equal((await client.register()).registrationId, result.registrationId);
  });

  it('checkIn registers first when the app has no registration yet', async () => {
    const client = newClient();
    assert.equal(client.accessState().status, 'notRegistered');
    assert.equal(client.canAccessOrgData(), false);
    await client.checkIn();
    assert.equal(server.calls('registrations').length, 1);
    assert.equal(server.calls('checkin').length, 0);
    assert.ok(client.registrationId);
  });

  it('409 wrongAccount: a distinct error and state carrying the user message; nothing is retried', async () => {
    server.deviceOwner = 'someone-else';
    const client = newClient();
    await client.start();
    clock.runNext();
    await client.whenIdle();
    const error = events.errors.find((e) => e instanceof WrongAccountError);
    assert.ok(error instanceof WrongAccountError, 'the scheduler reports a WrongAccountError');
    assert.match(error.userMessage, /someone-else/);
    const state = client.accessState();
    assert.equal(state.status, 'wrongAccount');
    assert.equal(state.message?.title, "Accessing your organization's data");
    assert.match(state.message!.text, /someone-else/);
    assert.equal(client.canAccessOrgData(), false);
    assert.equal(client.nextCheckInAt, null, 'the scheduler stopped');
    await assert.rejects(client.register(), (e: unknown) => e instanceof WrongAccountError && e.status === 409 && e.code === 'wrongAccount');

    // Once the other account is gone, registering works and clears the state.
    server.deviceOwner = undefined;
    await client.register();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('a token of another user than the bound account is refused before reaching the server', async () => {
    let user = 'alice';
    const client = newClient({ getToken: async () => tokenFor(user) });
    await client.register();
    user = 'bob';
    const before = server.requests.length;
    await assert.rejects(client.checkIn(), AccountMismatchError);
    assert.equal(server.requests.length, before);
  });
});

describe('check-in', () => {
  it('sends versions, held document versions and local failures; applies a new policy and clears it with null', async () => {
    const client = newClient();
    await client.register();
    assert.equal(client.policy, null);

    server.policy = policyDocument('pol-1:1', { minimumRequiredOsVersion: '10.0.26100.1' });
    server.configuration = { version: 'cfg-1', settings: [{ name: 'mode', value: 'a' }] };
    const first = await client.checkIn();
    assert.equal(first.policyChanged, true);
    assert.equal(first.configurationChanged, true);
    assert.deepEqual(client.policy, server.policy);
    assert.deepEqual(client.configuration, server.configuration);
    assert.deepEqual(events.policies, [server.policy]);

    // The next check-in names what the app holds, and reports the OS below the policy's minimum (checked locally).
    const second = await client.checkIn();
    const body = server.calls('checkin').at(-1)!.body;
    assert.deepEqual(body, {
      appVersion: '4.2.0',
      sdkVersion: '1.0.0',
      osVersion: '10.0.22631.3155',
      policyVersion: 'pol-1:1',
      configurationVersion: 'cfg-1',
      healthCheckFailures: [{ setting: 'minimumRequiredOsVersion', action: 'block' }],
    });
    assert.equal(second.policyChanged, false);
    assert.equal(events.policies.length, 1, 'an unchanged policy is not announced again');

    // No policy applies any more: null clears it.
    server.policy = null;
    server.configuration = null;
    const third = await client.checkIn();
    assert.equal(third.policyChanged, true);
    assert.equal(client.policy, null);
    assert.equal(client.configuration, null);
    assert.deepEqual(events.policies.at(-1), null);
    assert.deepEqual(events.configurations.at(-1), null);
    await client.checkIn();
    assert.equal(server.calls('checkin').at(-1)!.body['policyVersion'], null);
    assert.deepEqual(server.calls('checkin').at(-1)!.body['healthCheckFailures'], [], 'no policy, nothing to fail');
  });

  it('block and warn actions become state and are announced once, with their message', async () => {
    const client = newClient();
    await client.register();
    server.actions = [action('warn:minimumWarningAppVersion', 'warn', 'minimumWarningAppVersion', 'Update recommended')];
    await client.checkIn();
    let state = client.accessState();
    assert.equal(state.status, 'warned');
    assert.equal(client.canAccessOrgData(), true);
    assert.deepEqual(state.warnings.map((w) => w.title), ['Update recommended']);

    server.actions = [action('block:deviceThreatLevel', 'block', 'deviceThreatLevel', 'Device non-compliant'), ...server.actions];
    await client.checkIn();
    await client.checkIn();
    state = client.accessState();
    assert.equal(state.status, 'blocked');
    assert.deepEqual(state.reasons, ['deviceThreatLevel', 'minimumWarningAppVersion']);
    assert.equal(state.message?.title, 'Device non-compliant');
    assert.equal(client.canAccessOrgData(), false);
    assert.deepEqual(
      events.actions.map((a) => a.id),
      ['warn:minimumWarningAppVersion', 'block:deviceThreatLevel'],
    );
    assert.ok(events.states.some((s) => s.status === 'blocked'));

    // The block lifts when an answer no longer lists it.
    server.actions = [];
    await client.checkIn();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('a registration the server no longer knows is registered again', async () => {
    const storage = new MemoryStorage();
    const client = newClient({ storage }, 'gina');
    const { registrationId } = await client.register();
    await storage.save({ ...(await storage.load())!, registrationId: 'reg-gone' });
    const restarted = newClient({ storage }, 'gina');
    const result = await restarted.checkIn();
    assert.equal(result.registrationId, registrationId);
    assert.equal(restarted.registrationId, registrationId);
  });
});

describe('selective wipe', () => {
  it('runs every wipe handler, posts succeeded, and leaves the account wiped', async () => {
    const client = newClient();
    const ran: WipeContext[] = [];
    client.onWipe(async (context) => {
      ran.push(context);
    });
    client.onWipe(() => {
      ran.push({ reason: 'second', trigger: 'server', actionId: null });
    });
    server.policy = policyDocument('pol-1:1');
    await client.register();
    server.actions = [action('op-1', 'wipe', 'adminWipe', 'Your organization has removed its data')];
    await client.checkIn();

    assert.equal(ran.length, 2);
    assert.deepEqual(ran[0], { reason: 'adminWipe', trigger: 'server', actionId: 'op-1' });
    assert.equal(server.results.length, 1);
    assert.equal(server.results[0]!.actionId, 'op-1');
    assert.equal(server.results[0]!.status, 'succeeded');
    const state = client.accessState();
    assert.equal(state.status, 'wiped');
    assert.equal(state.message?.title, 'Your organization has removed its data');
    assert.equal(client.canAccessOrgData(), false);
    assert.equal(client.registrationId, null);
    assert.equal(client.policy, null);
    assert.deepEqual(events.policies.at(-1), null);
    assert.deepEqual(events.actions.map((a) => a.id), ['op-1']);
    await assert.rejects(client.checkIn(), WipedError);

    // The user signs in again: a new registration starts afresh.
    await client.register();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('a failing handler: every handler still runs, the result is failed with the detail, access stays blocked', async () => {
    const client = newClient();
    let others = 0;
    client.onWipe(() => {
      throw new Error('could not delete C:\\Users\\alex\\Contoso\\notes.db: EBUSY');
    });
    client.onWipe(async () => {
      others += 1;
    });
    await client.register();
    server.actions = [action('op-2', 'wipe', 'adminWipe')];
    await client.checkIn();
    assert.equal(others, 1);
    assert.equal(server.results[0]!.status, 'failed');
    assert.match(String(server.results[0]!.detail), /1 of 2 wipe handler\(s\) failed: could not delete .*EBUSY/);
    const state = client.accessState();
    assert.equal(state.status, 'blocked');
    assert.deepEqual(state.reasons, ['wipeFailed']);
    assert.ok(client.registrationId, 'the registration stays, so a new wipe can arrive');
  });

  it('no wipe handler registered is a failed wipe, never a silent success', async () => {
    const client = newClient();
    await client.register();
    server.actions = [action('op-3', 'wipe', 'adminWipe')];
    await client.checkIn();
    assert.equal(server.results[0]!.status, 'failed');
    assert.match(String(server.results[0]!.detail), /no wipe handler/);
  });

  it('a result that could not be posted is delivered later, and the wipe does not run twice', async () => {
    let online = true;
    const client = newClient({ fetch: (input, init) => (online || !String(input).endsWith('/result') ? fetch(input, init) : Promise.reject(new TypeError('fetch failed'))) });
    let runs = 0;
    client.onWipe(() => {
      runs += 1;
    });
    await client.register();
    server.actions = [action('op-4', 'wipe', 'adminWipe')];
    online = false;
    await client.checkIn();
    assert.equal(runs, 1);
    assert.equal(server.results.length, 0, 'the result could not be posted');
    assert.equal(client.accessState().status, 'wiped');
    online = true;
    // Nothing is left to check in for, but the result is owed: it goes first.
    await assert.rejects(client.checkIn(), WipedError);
    assert.equal(runs, 1, 'the same action is not carried out again');
    assert.deepEqual(server.results.map((r) => [r.actionId, r.status]), [['op-4', 'succeeded']]);
  });
});

describe('disabled account', () => {
  it('block: getToken marked accountDisabled blocks access until a token comes again', async () => {
    let disabled = false;
    const client = newClient({ getToken: async () => (disabled ? Promise.reject(new AccountDisabledError('AADSTS50057: user account is disabled')) : tokenFor('carol')) });
    server.policy = policyDocument('pol-1:1', { appActionIfUnableToAuthenticateUser: 'block' });
    await client.register();
    disabled = true;
    await assert.rejects(client.checkIn(), AccountDisabledError);
    const state = client.accessState();
    assert.equal(state.status, 'blocked');
    assert.deepEqual(state.reasons, ['accountDisabled']);
    disabled = false;
    await client.checkIn();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('wipe: an error the app marks with accountDisabled runs the wipe handlers once', async () => {
    const marked = Object.assign(new Error('interaction_required'), { accountDisabled: true });
    let disabled = false;
    const client = newClient({ getToken: async () => (disabled ? Promise.reject(marked) : tokenFor('dave')) });
    let runs = 0;
    const contexts: WipeContext[] = [];
    client.onWipe((context) => {
      runs += 1;
      contexts.push(context);
    });
    server.policy = policyDocument('pol-1:1', { appActionIfUnableToAuthenticateUser: 'wipe' });
    await client.register();
    disabled = true;
    await assert.rejects(client.checkIn(), (e: unknown) => e instanceof AccountDisabledError && e.cause === marked);
    await assert.rejects(client.checkIn(), AccountDisabledError);
    assert.equal(runs, 1);
    assert.deepEqual(contexts[0], { reason: 'accountDisabled', trigger: 'accountDisabled', actionId: null });
    assert.equal(client.accessState().status, 'wiped');
  });

  it('without a policy, a disabled account only fails the check-in', async () => {
    let disabled = false;
    const client = newClient({ getToken: async () => (disabled ? Promise.reject(new AccountDisabledError()) : tokenFor('erin')) });
    await client.register();
    disabled = true;
    await assert.rejects(client.checkIn(), AccountDisabledError);
    assert.equal(client.accessState().status, 'allowed');
  });
});

describe('JSON file storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'openmam-client-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the registration, documents and last check-in across restarts, in a file only the user reads', async () => {
    const file = path.join(dir, 'state', 'mam.json');
    server.policy = policyDocument('pol-1:1');
    const first = newClient({ storage: new JsonFileStorage(file) }, 'frank');
    await first.register();
    const mode = (await stat(file)).mode & 0o777;
    if (process.platform !== 'win32') assert.equal(mode, 0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { registrationId: string; format: number };
    assert.equal(saved.format, 1);
    assert.equal(saved.registrationId, first.registrationId);

    const restarted = newClient({ storage: new JsonFileStorage(file) }, 'frank');
    await restarted.load();
    assert.equal(restarted.registrationId, first.registrationId);
    assert.deepEqual(restarted.policy, server.policy);
    assert.equal(restarted.lastCheckInAt, clock.now());
    assert.equal(restarted.accessState().status, 'allowed');
  });

  it('a missing or unreadable file is no state', async () => {
    const file = path.join(dir, 'mam.json');
    assert.equal(await new JsonFileStorage(file).load(), undefined);
    await import('node:fs/promises').then((fs) => fs.writeFile(file, '{not json'));
    assert.equal(await new JsonFileStorage(file).load(), undefined);
    await new JsonFileStorage(file).clear();
    await new JsonFileStorage(file).clear();
  });
});
