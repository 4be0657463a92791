import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { skippableSuite } from '../support/skippable-suite.ts';
import { MICROSOFT_EDGE_CLIENT_ID } from '../../src/core/app-protection/app-catalogue.ts';
import { RST_MAM_JWT_TEMPLATE } from '../../src/simulator/rst-template.ts';
import { DeviceSimulator, ENROLLMENT_PATH, TryLaterError } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { SHED_RETRY_AFTER_MAX_SECONDS } from '../../src/http/load-shedding.ts';

/**
 * Load shedding (http/load-shedding.ts) and per-client rate limits (http/rate-limiter.ts) of the device and app
 * surfaces: past a limit each answers its protocol's "try later" (503 or 429 with Retry-After) at once, while the
 * admin API and health keep answering.
 */
export const WIP = '/graph/beta/deviceAppManagement/windowsInformationProtectionPolicies';
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };

export const registration = () => ({ appId: 'com.microsoft.edge', appVersion: '1', sdkVersion: '1', osVersion: '10.0.22631.4460', deviceTag: randomUUID() });
const checkIn = { appVersion: '1', sdkVersion: '1', osVersion: '10.0.22631.4460' };
const rst = (token: string, devId: string) => RST_MAM_JWT_TEMPLATE.replaceAll('{{TOKEN_BASE64}}', Buffer.from(token).toString('base64')).replaceAll('{{DEVICE_ID}}', devId);
const devId = () => randomUUID().replaceAll('-', '').toUpperCase();

/** Polls `condition` (every 10 ms, up to `ms`); fails with `message`. */
export async function eventually(condition: () => boolean | Promise<boolean>, message: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    assert.ok(Date.now() < until, message);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A request that stays in flight: its headers arrive (the route admits it) but its body does not, until `finish()`
 * sends the rest or `abort()` drops the connection.
 */
export function heldRequest(server: TestServer, path: string, token: string): { finish: () => Promise<number>; abort: () => void } {
  const body = JSON.stringify(checkIn);
  const request = https.request(`${server.url}${path}`, {
    method: 'POST',
    ca: server.ca,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  });
  const answered = new Promise<number>((resolve, reject) => {
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
  });
  request.write(body.slice(0, 5));
  return {
    finish: async () => {
      request.end(body.slice(5));
      return answered;
    },
    abort: () => {
      answered.catch(() => undefined);
      request.destroy();
    },
  };
}

function assertTryLater(response: { status: number; headers: JsonResponse['headers'] }, status: number, what: string): number {
  assert.equal(response.status, status, `${what}: HTTP ${status}`);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `${what}: Retry-After in whole seconds, got ${String(response.headers['retry-after'])}`);
  return retryAfter;
}

/** The in-flight limit and the per-client rate limits, end to end on a real server and store (run per backend). */
export function loadSheddingEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`load shedding and rate limits (${backend})`, { skip }, () => {
  describe('load shedding of the device and app surfaces: too many requests in flight', () => {
    let server: TestServer;
    let admin: string;
    let user: string;
    let connector: string;
    let registrationId: string;
    let device: DeviceSimulator;

    before(async () => {
      // One request in flight at a time; the event loop's delay and the rates are not limited here.
      server = await startTestServer(backend, { OPENMAM_MAX_IN_FLIGHT: '1', OPENMAM_MAX_EVENT_LOOP_DELAY: '0' });
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      connector = await server.mint({ upn: 'connector@contoso.example', roles: ['OpenMAM.ThreatConnector'] });
      user = await server.mint({ upn: 'alice@contoso.example', deviceId: randomUUID(), clientId: MICROSOFT_EDGE_CLIENT_ID });
      device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: user });
      await device.enroll();
      assert.equal((await device.sync()).headerStatus, '200');
      const registered = await server.json('POST', '/mam/v1/registrations', user, registration());
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      registrationId = registered.body['registrationId'] as string;
    });
    after(async () => {
      device?.close();
      await server?.close();
    });

    it('answers every device surface its try-later while one request is in flight, and /graph and /healthz as usual', async () => {
      const shedding = server.runtime.app.loadShedding;
      const held = heldRequest(server, `/mam/v1/registrations/${registrationId}/checkin`, user);
      await eventually(() => shedding.counts.inFlight === 1, 'the held request is admitted and counted in flight');
      const shedBefore = shedding.counts.shedInFlight;
      try {
        const sync = await device.sync();
        const message = sync.messages[0]!;
        const retryAfter = assertTryLater(message, 503, 'OMA-DM');
        assert.ok(retryAfter >= 10 && retryAfter <= SHED_RETRY_AFTER_MAX_SECONDS, `a shed request comes back in 10 s or more, got ${retryAfter}`);
        // Answered before the message is read: a plain 503, on which Windows' DM client retries at the HTTP level.
        assert.match(String(message.headers['content-type']), /^text\/plain/, 'OMA-DM shed: not a SyncML answer');
        assert.match(message.response, /busy; try again later/);

        const enrollment = await server.request(ENROLLMENT_PATH, { method: 'POST', headers: SOAP, body: rst(user, devId()) });
        assertTryLater(enrollment, 503, 'MS-MDE2 enrollment');
        assert.match(enrollment.body, /<errortype>InMaintenance<\/errortype>/, 'MS-MDE2: the InMaintenance fault');
        assert.match(enrollment.body, /busy/);

        const mam = await server.json('POST', `/mam/v1/registrations/${registrationId}/checkin`, user, checkIn);
        assertTryLater(mam, 503, '/mam/v1');
        assert.equal((mam.body['error'] as { code: string }).code, 'serviceUnavailable');
        // Refused at the door, before Fastify: still the request id Fastify gives every answer, in the header and body.
        assert.match(String(mam.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a request id');
        assert.equal((mam.body['error'] as { requestId: string }).requestId, mam.headers['x-request-id']);
        assert.match(String(mam.headers['content-type']), /^application\/json; charset=utf-8$/);
        // The door finds routes as Fastify does: ignoring case, with a query string.
        assertTryLater(await server.json('POST', `/MAM/V1/Registrations/${registrationId}/CheckIn?x=1`, user, checkIn), 503, '/mam/v1 in another case');

        const mtd = await server.json('POST', '/mtd/v1/health', connector, { appId: 'com.microsoft.edge', threatLevel: 'low', registrationId });
        assertTryLater(mtd, 503, '/mtd/v1');

        const access = await server.json('POST', '/access/v1/evaluate', connector, {});
        assertTryLater(access, 503, '/access/v1 (shed before its token is checked)');

        const spread = new Set<string>();
        for (let i = 0; i < 20; i++) spread.add(String((await server.json('POST', '/mtd/v1/health', connector, {})).headers['retry-after']));
        assert.ok(spread.size > 1, `the Retry-After of shed requests is spread, got ${[...spread].join(', ')}`);
        assert.equal((await server.json('GET', WIP, admin)).status, 200, 'the admin API is not shed');
        assert.equal((await server.request('/healthz')).status, 200, 'health is not shed');
        assert.equal(shedding.counts.shedInFlight - shedBefore, 26, 'every device and app request shed');
        // Not a device route: the door lets it through to Fastify, which answers it (404), however busy the node.
        assert.equal((await server.request('/mam/v1/nowhere', { method: 'POST' })).status, 404, 'an unknown path is not shed');
        assert.equal(shedding.counts.inFlight, 1, 'a shed request is not counted in flight');
        // Once a half second has seen the node refuse nearly everything, the refused are told to wait longer.
        await eventually(() => shedding.admittedShare < 0.5, 'a sample that refused most requests');
        const later = await server.json('POST', '/mtd/v1/health', connector, {});
        assert.ok(Number(later.headers['retry-after']) >= 20, `Retry-After grows as the share admitted falls, got ${String(later.headers['retry-after'])}`);
        // What an operator sees: /metrics reads the same counts at the scrape.
        const scraped = await server.request('/metrics', { headers: { authorization: `Bearer ${admin}` } });
        assert.equal(scraped.status, 200);
        assert.match(scraped.body, /^openmam_device_requests_in_flight 1$/m, 'the held request, in flight');
        assert.match(scraped.body, new RegExp(`^openmam_load_shed_requests_total\\{reason="in_flight"\\} ${shedding.counts.shedInFlight}$`, 'm'), 'the shed requests, by reason');
        assert.match(scraped.body, /^openmam_load_shed_requests_total\{reason="event_loop_delay"\} 0$/m, 'the event-loop limit is off here');
        // Refusals at the door are in the request series, by route, as Fastify's own answers are.
        const shedCheckIns = Number(/^openmam_http_requests_total\{surface="mam",route="\/mam\/v1\/registrations\/:id\/checkin",method="POST",code="503"\} (\d+)$/m.exec(scraped.body)?.[1]);
        assert.equal(shedCheckIns, 2, 'both shed check-ins, in the series of their route');
        const share = Number(/^openmam_load_shedding_admitted_share (\S+)$/m.exec(scraped.body)?.[1]);
        assert.ok(share < 0.5 && share === shedding.admittedShare, `the share admitted in the last busy half second, got ${share}`);
        const told = Number(/^openmam_load_shedding_retry_after_seconds (\S+)$/m.exec(scraped.body)?.[1]);
        assert.ok(told >= 20 && told === shedding.retryAfterBaseSeconds, `the Retry-After shed requests are told now, got ${told}`);
        // Refusing with nothing finished, half second after half second: the delay asked for keeps growing.
        assert.ok(shedding.retryAfter.value > 1, `sustained shedding lengthens Retry-After, got a factor of ${shedding.retryAfter.value}`);
      } finally {
        assert.equal(await held.finish(), 200, 'the held check-in is served');
      }
      await eventually(() => shedding.counts.inFlight === 0, 'the served request leaves the count');
      assert.equal((await device.sync()).headerStatus, '200', 'served again once the request in flight is done');
      assert.equal((await server.json('POST', `/mam/v1/registrations/${registrationId}/checkin`, user, checkIn)).status, 200);
    });

    it('releases a request whose client went away before its answer: the count cannot leak', async () => {
      const shedding = server.runtime.app.loadShedding;
      const held = heldRequest(server, `/mam/v1/registrations/${registrationId}/checkin`, user);
      await eventually(() => shedding.counts.inFlight === 1, 'the held request is admitted');
      held.abort();
      await eventually(() => shedding.counts.inFlight === 0, 'the aborted request leaves the count');
      assert.equal((await server.json('POST', `/mam/v1/registrations/${registrationId}/checkin`, user, checkIn)).status, 200);
    });
  });

  describe('per-client rate limits', () => {
    let server: TestServer;
    let admin: string;

    before(async () => {
      server = await startTestServer(backend, {
        OPENMAM_MAX_IN_FLIGHT: '0',
        OPENMAM_MAX_EVENT_LOOP_DELAY: '0',
        OPENMAM_DEVICE_RATE_LIMIT: '4',
        OPENMAM_APP_RATE_LIMIT: '3',
        OPENMAM_ENROLLMENT_RATE_LIMIT: '3',
      });
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    });
    after(async () => server?.close());

    it('refuses a device enrolling past its rate with the InMaintenance fault (503, Retry-After), not other devices; and OMA-DM past its rate', async () => {
      const aliceToken = await server.mint({ upn: 'alice@contoso.example', deviceId: randomUUID() });
      const alice = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: aliceToken });
      const aliceDevId = alice.devId;
      const bob = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: 'bob@contoso.example', deviceId: randomUUID() }) });
      try {
        // Three enrollments a minute per device and user token: Alice's device enrolls (and enrolls again) three times.
        for (let i = 0; i < 3; i++) await alice.enroll();
        await assert.rejects(alice.enroll(), (error: unknown) => error instanceof TryLaterError && error.status === 503 && error.retryAfterSeconds <= 20, 'the fourth is refused, a token due within 60/3 s');
        const refused = await server.request(ENROLLMENT_PATH, { method: 'POST', headers: SOAP, body: rst(aliceToken, aliceDevId) });
        assertTryLater(refused, 503, 'a fifth, as the device sends it');
        assert.match(refused.body, /<errortype>InMaintenance<\/errortype>/);
        assert.match(refused.body, /Too many enrollment requests from this device/);
        await bob.enroll();
        assert.equal(server.runtime.app.loadShedding.counts.rateLimited, 2);
        const other = await server.request(ENROLLMENT_PATH, { method: 'POST', headers: SOAP, body: rst(aliceToken, devId()) });
        assert.equal(other.status, 200, 'the same user enrolling another device is another key');
        assert.doesNotMatch(other.body, /InMaintenance/);

        // One device over its rate of OMA-DM messages is refused; another device is served meanwhile.
        let refusedSync;
        for (let i = 0; i < 6 && refusedSync === undefined; i++) {
          const sync = await alice.sync();
          if (sync.messages.some((message) => message.status !== 200)) refusedSync = sync;
        }
        assert.ok(refusedSync !== undefined, 'a device sending more than 4 messages a minute is refused');
        const last = refusedSync.messages.at(-1)!;
        const deviceRetry = assertTryLater(last, 503, 'OMA-DM over its rate');
        assert.ok(deviceRetry <= 15, `a token is due within 60/4 s, Retry-After ${deviceRetry}`);
        assert.match(last.response, /<Cmd>SyncHdr<\/Cmd>\s*<Data>503<\/Data>/);
        assert.equal((await bob.sync()).headerStatus, '200', 'another device is served');
        // The DevId is only claimed: a message naming Alice's device with another token is counted apart (and refused
        // by the session engine, not by the limit), so nobody without its token can spend a device's allowance.
        const impostor = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: 'mallory@contoso.example' }), devId: alice.devId });
        try {
          const spoofed = await impostor.sync();
          assert.equal(spoofed.messages[0]?.status, 200, 'not rate limited');
          assert.notEqual(spoofed.headerStatus, '200', 'but not served either');
        } finally {
          impostor.close();
        }
        assert.equal((await server.json('GET', WIP, admin)).status, 200, 'the admin API has no such limit');
      } finally {
        alice.close();
        bob.close();
      }
    });

    it("refuses a user's requests past the rate of one registration with 429 and Retry-After; the user's other registration is served", async () => {
      const user = await server.mint({ upn: 'dave@contoso.example', deviceId: randomUUID(), clientId: MICROSOFT_EDGE_CLIENT_ID });
      const first = await server.json('POST', '/mam/v1/registrations', user, registration());
      const second = await server.json('POST', '/mam/v1/registrations', user, registration());
      assert.equal(first.status, 201);
      assert.equal(second.status, 201, 'registering another device is another registration');
      const id = first.body['registrationId'] as string;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await server.json('POST', `/mam/v1/registrations/${id}/checkin`, user, checkIn)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429], 'three a minute, then refused');
      const refused = await server.json('POST', `/mam/v1/registrations/${id}/checkin`, user, checkIn);
      assert.ok(assertTryLater(refused, 429, 'over the rate') <= 20);
      assert.equal((refused.body['error'] as { code: string }).code, 'tooManyRequests');
      const other = await server.json('POST', `/mam/v1/registrations/${second.body['registrationId'] as string}/checkin`, user, checkIn);
      assert.equal(other.status, 200, "the user's other registration has its own allowance");
      const someoneElse = await server.mint({ upn: 'erin@contoso.example', deviceId: randomUUID(), clientId: MICROSOFT_EDGE_CLIENT_ID });
      const theirs = await server.json('POST', `/mam/v1/registrations/${id}/checkin`, someoneElse, checkIn);
      assert.notEqual(theirs.status, 429, "another user's requests naming the registration do not spend its allowance");
    });
  });
  });
}
