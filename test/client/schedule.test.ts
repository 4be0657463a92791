import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BACKOFF_MAX_MS, MamClient, MamNetworkError, NotOnboardedError, TryLaterError, type MamClientOptions, type WipeContext } from '../../packages/client/src/index.ts';
import { action, DAY, FakeClock, HOUR, MamServerDouble, policyDocument, tokenFor } from './mam-server-double.ts';

/** When the client checks in, backs off, waits a day, and what it decides by itself while offline. */

const server = new MamServerDouble();
before(() => server.start());
after(() => server.close());

let clock: FakeClock;
let online: boolean;
let errors: unknown[];

beforeEach(() => {
  clock = new FakeClock();
  online = true;
  errors = [];
  Object.assign(server, { policy: null, configuration: null, actions: [], nextCheckInSeconds: 1800, notOnboarded: false, deviceOwner: undefined, failWith: undefined, failRetryAfter: undefined });
  server.requests.length = 0;
  server.results.length = 0;
});

let users = 0;
function newClient(overrides: Partial<MamClientOptions> = {}): MamClient {
  const user = `sched-${++users}`;
  return new MamClient({
    serverUrl: server.url,
    getToken: async () => tokenFor(user),
    app: { appId: 'com.contoso.notes', appVersion: '4.2.0', sdkVersion: '1.0.0' },
    device: { osVersion: '10.0.22631.3155', deviceTag: `tag-${user}` },
    clock,
    // The network, as the device sees it: unplugged means every request fails like fetch does.
    fetch: (input, init) => (online ? fetch(input, init) : Promise.reject(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND') }))),
    onError: (e) => errors.push(e),
    ...overrides,
  });
}

/** Runs the next scheduled check-in and waits for it; returns how long the client had waited for it. */
async function nextCheckIn(client: MamClient): Promise<number> {
  const waited = clock.runNext();
  assert.notEqual(waited, undefined, 'a check-in is scheduled');
  await client.whenIdle();
  return waited!;
}

describe('schedule', () => {
  it('checks in at once, then every nextCheckInSeconds: 30 minutes with a policy, 12 hours without', async () => {
    server.policy = policyDocument('pol-1:1');
    const client = newClient();
    await client.start();
    assert.equal(client.nextCheckInAt, clock.now(), 'the first check-in is due now');
    assert.equal(await nextCheckIn(client), 0);
    assert.equal(server.calls('registrations').length, 1);
    assert.equal(client.nextCheckInAt, clock.now() + 30 * 60_000);

    server.policy = null;
    server.nextCheckInSeconds = 43200;
    assert.equal(await nextCheckIn(client), 30 * 60_000);
    assert.equal(server.calls('checkin').length, 1);
    assert.equal(await nextCheckIn(client), 12 * HOUR);
    client.stop();
    assert.equal(client.nextCheckInAt, null);
    assert.equal(clock.pending, 0);
  });

  it('backs off exponentially with jitter, up to 60 minutes, and returns to the schedule once through', async () => {
    const half = newClient({ random: () => 0 });
    online = false;
    await half.start();
    await nextCheckIn(half);
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) delays.push(await nextCheckIn(half));
    // random 0: half of each step (30 s doubling, capped at 60 minutes).
    assert.deepEqual(delays, [15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000]);
    assert.ok(errors.every((e) => e instanceof MamNetworkError));
    half.stop();

    const full = newClient({ random: () => 0.999999 });
    await full.start();
    await nextCheckIn(full);
    const upper: number[] = [];
    for (let i = 0; i < 10; i++) upper.push(await nextCheckIn(full));
    assert.deepEqual(upper.slice(0, 3), [30_000, 60_000, 120_000]);
    assert.ok(upper.every((d) => d <= BACKOFF_MAX_MS));
    assert.ok(upper.at(-1)! > BACKOFF_MAX_MS - 10, 'the cap: 60 minutes');

    online = true;
    await nextCheckIn(full);
    assert.equal(full.nextCheckInAt, clock.now() + 30 * 60_000, 'back on the server schedule');
    online = false;
    await nextCheckIn(full);
    assert.equal(full.nextCheckInAt, clock.now() + 30_000, 'the back-off starts over');
    full.stop();
  });

  it('a server error (5xx) backs off like a network failure', async () => {
    const client = newClient({ random: () => 0 });
    server.failWith = 503;
    await client.start();
    await nextCheckIn(client);
    assert.equal(client.nextCheckInAt, clock.now() + 15_000);
    client.stop();
  });

  it('503 or 429 with Retry-After (OpenMAM sheds load, or the app is over its rate): not sooner than asked, spread, and backing off', async () => {
    const client = newClient({ random: () => 0 });
    server.failWith = 503;
    server.failRetryAfter = '120';
    await client.start();
    await nextCheckIn(client);
    assert.ok(errors[0] instanceof TryLaterError, 'a TryLaterError');
    assert.equal((errors[0] as TryLaterError).retryAfterSeconds, 120);
    assert.equal(client.nextCheckInAt, clock.now() + 120_000, 'after Retry-After, not the 15 s of the back-off');

    server.failWith = 429;
    // Asked for 120 s from now, when the next attempt runs: 300 s after it.
    server.failRetryAfter = new Date(clock.now() + 120_000 + 300_000).toUTCString();
    assert.equal(await nextCheckIn(client), 120_000);
    assert.equal((errors[1] as TryLaterError).status, 429);
    assert.equal(client.nextCheckInAt, clock.now() + 300_000, 'Retry-After as an HTTP date');

    // A short Retry-After after many refusals: the back-off wins (the server keeps refusing: ask less often).
    server.failWith = 503;
    server.failRetryAfter = '1';
    for (let i = 0; i < 4; i++) await nextCheckIn(client);
    assert.equal(client.nextCheckInAt, clock.now() + 480_000, 'the sixth refusal: half of 30 s x 2^5');

    server.failWith = undefined;
    await nextCheckIn(client);
    assert.equal(client.nextCheckInAt, clock.now() + 30 * 60_000, 'back on the schedule once served');
    client.stop();
  });

  it('spreads the apps a busy server refused together over up to half as long again as Retry-After', async () => {
    const late = newClient({ random: () => 0.999 });
    server.failWith = 503;
    server.failRetryAfter = '600';
    await late.start();
    await nextCheckIn(late);
    const waited = (late.nextCheckInAt ?? 0) - clock.now();
    assert.ok(waited > 600_000 && waited <= 900_000, `between 600 and 900 s, got ${waited / 1000} s`);
    late.stop();
  });

  it('403 not onboarded: retries after 24 hours (Retry-After), the app is unmanaged meanwhile', async () => {
    server.notOnboarded = true;
    const client = newClient();
    await client.start();
    await nextCheckIn(client);
    assert.ok(errors[0] instanceof NotOnboardedError);
    assert.equal((errors[0] as NotOnboardedError).retryAfterSeconds, 86400);
    assert.equal(client.nextCheckInAt, clock.now() + DAY);
    assert.equal(client.accessState().status, 'unmanaged');
    assert.equal(client.canAccessOrgData(), true, 'nothing to enforce for an organization that does not use OpenMAM');

    server.notOnboarded = false;
    assert.equal(await nextCheckIn(client), DAY);
    assert.ok(client.registrationId);
    assert.equal(client.accessState().status, 'allowed');
    client.stop();
  });
});

describe('offline grace period', () => {
  it('blocks after periodOfflineBeforeAccessCheck, unblocks at the next check-in', async () => {
    server.policy = policyDocument('pol-1:1', { periodOfflineBeforeAccessCheck: 'PT720M' });
    const client = newClient();
    await client.register();
    online = false;
    await assert.rejects(client.checkIn(), MamNetworkError);
    clock.advance(12 * HOUR);
    assert.equal(client.accessState().status, 'allowed', 'exactly 720 minutes is still within the period');
    clock.advance(1);
    const state = client.accessState();
    assert.equal(state.status, 'blocked');
    assert.deepEqual(state.reasons, ['offlineBlock']);
    assert.equal(state.message?.title, 'Internet connection required');
    assert.equal(client.canAccessOrgData(), false);

    online = true;
    await client.checkIn();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('PT0S blocks as soon as OpenMAM cannot be reached', async () => {
    server.policy = policyDocument('pol-1:1', { periodOfflineBeforeAccessCheck: 'PT0S' });
    const client = newClient();
    await client.register();
    clock.advance(60_000);
    assert.equal(client.accessState().status, 'allowed');
    online = false;
    await assert.rejects(client.checkIn(), MamNetworkError);
    assert.deepEqual(client.accessState().reasons, ['offlineBlock']);
    online = true;
    await client.checkIn();
    assert.equal(client.accessState().status, 'allowed');
  });

  it('after periodOfflineBeforeWipeIsEnforced runs the wipe handlers locally, once, and acknowledges the server wipe later', async () => {
    server.policy = policyDocument('pol-1:1', { periodOfflineBeforeWipeIsEnforced: 'P30D' });
    const client = newClient();
    const ran: WipeContext[] = [];
    client.onWipe((context) => {
      ran.push(context);
    });
    await client.register();
    online = false;
    clock.advance(30 * DAY);
    assert.equal((await client.enforceLocalPolicy()).status, 'blocked', 'offline for exactly the period: blocked, not wiped');
    assert.equal(ran.length, 0);

    clock.advance(1);
    // accessState answers wiped at once and runs the handlers in the background.
    assert.equal(client.accessState().status, 'wiped');
    assert.equal(client.canAccessOrgData(), false);
    await client.whenIdle();
    assert.deepEqual(ran, [{ reason: 'offlineWipe', trigger: 'offline', actionId: null }]);
    client.accessState();
    await client.enforceLocalPolicy();
    clock.advance(DAY);
    client.accessState();
    await client.whenIdle();
    assert.equal(ran.length, 1, 'the local wipe runs once');
    assert.deepEqual(client.accessState().reasons, ['offlineWipe']);

    // Back online: the server's offlineWipe action is acknowledged without wiping again.
    online = true;
    server.actions = [action('op-offline', 'wipe', 'offlineWipe', 'Internet connection required')];
    await client.checkIn();
    assert.equal(ran.length, 1);
    assert.equal(server.results[0]?.actionId, 'op-offline');
    assert.equal(server.results[0]?.status, 'succeeded');
    assert.match(String(server.results[0]?.detail), /already wiped on the device .*offlineWipe/);
    assert.equal(client.accessState().status, 'wiped');
  });

  it('the scheduler enforces the offline wipe by itself while it backs off', async () => {
    server.policy = policyDocument('pol-1:1', { periodOfflineBeforeWipeIsEnforced: 'P1D' });
    const client = newClient({ random: () => 0.5 });
    let runs = 0;
    client.onWipe(() => {
      runs += 1;
    });
    await client.start();
    await nextCheckIn(client);
    online = false;
    let waited = 0;
    while (waited <= DAY + 2 * HOUR) waited += await nextCheckIn(client);
    assert.equal(runs, 1);
    assert.equal(client.accessState().status, 'wiped');
    client.stop();
  });

  it('PT0S for the wipe period never wipes for being offline', async () => {
    server.policy = policyDocument('pol-1:1', { periodOfflineBeforeWipeIsEnforced: 'PT0S' });
    const client = newClient();
    let runs = 0;
    client.onWipe(() => {
      runs += 1;
    });
    await client.register();
    clock.advance(400 * DAY);
    assert.equal((await client.enforceLocalPolicy()).status, 'blocked');
    assert.equal(runs, 0);
  });
});
