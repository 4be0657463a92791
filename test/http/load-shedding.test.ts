import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { MICROSOFT_EDGE_CLIENT_ID } from '../../src/core/app-protection/app-catalogue.ts';
import { AdmitFraction, LoadShedding, RetryAfterScale, SHED_RETRY_AFTER_MAX_SECONDS, shedRetryAfterSeconds, type TryLaterAnswer } from '../../src/http/load-shedding.ts';
import { serverWithFront } from '../../src/http/node-server.ts';
import { RateLimiter } from '../../src/http/rate-limiter.ts';
import { startTestServer, type JsonResponse, type TestServer } from '../support/server.ts';
import { eventually, heldRequest, registration, WIP } from './load-shedding-suite.ts';

/**
 * Load shedding (http/load-shedding.ts) on the event loop's delay, the device scope's set-up, and the admission and
 * rate-limit arithmetic. The in-flight limit and the per-client rate limits run end to end on both stores in
 * load-shedding-suite.ts.
 */
describe('load shedding on the event loop delay', () => {
  let server: TestServer;
  let admin: string;
  let user: string;

  before(async () => {
    server = await startTestServer('sqlite', { OPENMAM_MAX_IN_FLIGHT: '0', OPENMAM_MAX_EVENT_LOOP_DELAY: '5' });
    admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    user = await server.mint({ upn: 'alice@contoso.example', deviceId: randomUUID(), clientId: MICROSOFT_EDGE_CLIENT_ID });
  });
  after(async () => server?.close());

  it('sheds device and app requests while the event loop is late, not admin requests', async () => {
    const blockFor = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until);
    };
    const registered = await server.json('POST', '/mam/v1/registrations', user, registration());
    assert.equal(registered.status, 201);
    const checkInPath = `/mam/v1/registrations/${String(registered.body['registrationId'])}/checkin`;
    const shedding = server.runtime.app.loadShedding;
    const held: ReturnType<typeof heldRequest>[] = [];
    let shed: JsonResponse | undefined;
    // An overload: requests arrive that the node does not finish (held in flight), and its loop is late. The delay is
    // a mean over 500 ms samples: block until a sample sees it (the share admitted halves), then ask. A loop late while
    // the node finishes all that arrives is not shed (the share never falls below what admits what it finishes).
    try {
      for (let attempt = 0; attempt < 5 && shed === undefined; attempt++) {
        const arrived = (): number => shedding.counts.admitted + shedding.counts.shedEventLoopDelay;
        const before = arrived();
        for (let i = 0; i < 40; i++) held.push(heldRequest(server, checkInPath, user));
        await eventually(() => arrived() >= before + 40, 'the held check-ins are admitted (or shed)');
        blockFor(1500);
        for (let i = 0; i < 20 && shed === undefined; i++) {
          const answer = await server.json('POST', '/mam/v1/registrations', user, registration());
          if (answer.status === 503) {
            shed = answer;
            assert.equal((await server.json('GET', WIP, admin)).status, 200, 'the admin API is answered while the device surfaces shed');
          }
        }
      }
    } finally {
      // Their connections would keep the server from closing.
      for (const request of held) request.abort();
    }
    assert.ok(shed !== undefined, 'a request is shed after the event loop was blocked');
    const retryAfter = Number(shed.headers['retry-after']);
    // 10 to 19 s after a half second that admitted everything, longer the fewer it admitted (shedRetryAfterSeconds, below).
    assert.ok(retryAfter >= 10 && retryAfter <= SHED_RETRY_AFTER_MAX_SECONDS, `Retry-After 10 to ${SHED_RETRY_AFTER_MAX_SECONDS} s, got ${retryAfter}`);
    assert.equal((shed.body['error'] as { code: string }).code, 'serviceUnavailable');
    assert.ok(server.runtime.app.loadShedding.counts.shedEventLoopDelay >= 1);
  });
});

describe('the device scope', () => {
  it('refuses at start a device or app route that does not say how it answers "try later"', async () => {
    const app = Fastify();
    const shedding = new LoadShedding({ maxInFlight: 1, maxEventLoopDelayMs: 0 }, () => undefined);
    await assert.rejects(
      shedding.register(app, async (scope) => {
        scope.get('/forgot', async () => 'ok');
      }),
      /GET \/forgot: config.tryLater is required/,
    );
    await app.close().catch(() => undefined);
  });
});

describe('the device scope, alone', () => {
  it("counts a request once and releases it, for a GET and Fastify's automatic HEAD of it", async () => {
    const app = Fastify();
    const shedding = new LoadShedding({ maxInFlight: 10, maxEventLoopDelayMs: 0 }, () => undefined);
    await shedding.register(app, async (scope) => {
      scope.get('/probe', { config: { tryLater: () => ({ statusCode: 503, contentType: 'text/plain', body: '' }) } }, async () => 'ok');
    });
    try {
      for (const method of ['GET', 'HEAD', 'HEAD'] as const) {
        const answer = await app.inject({ method, url: '/probe' });
        assert.equal(answer.statusCode, 200, method);
        await eventually(() => shedding.counts.inFlight === 0, `${method}: released`);
      }
      assert.equal(shedding.counts.admitted, 3, 'each admitted once');
    } finally {
      await app.close();
    }
  });
});

/** The status of one raw HTTP/1.1 request line sent as is (fetch would normalise it), with an empty body. */
function rawStatus(port: number, requestLine: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`${requestLine}\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])));
  });
}

describe('the door (in front of Fastify)', () => {
  it("admits a device request once, refuses the next raw in its route's protocol, and lets every other request through", async () => {
    const shedding = new LoadShedding({ maxInFlight: 1, maxEventLoopDelayMs: 0 }, () => undefined, { routerOptions: { caseSensitive: false } });
    const refused: string[] = [];
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const app = Fastify({ requestTimeout: 12_345, routerOptions: { caseSensitive: false }, serverFactory: serverWithFront(undefined, (handler) => shedding.door(handler)) });
    // Before the device scope, so that it applies there: a 503 Fastify answered would be seen here.
    app.addHook('onResponse', (request, reply, done) => {
      if (reply.statusCode === 503) refused.push(request.url);
      done();
    });
    await shedding.register(app, async (scope) => {
      const tryLater: TryLaterAnswer = (refusal, requestId) => ({ statusCode: 503, contentType: 'text/plain; charset=utf-8', body: `busy ${refusal.reason} ${requestId}` });
      scope.post('/devices/:id/work', { config: { tryLater } }, async () => {
        await held;
        return 'done';
      });
    });
    app.get('/admin', async () => 'admin');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      // The server is Fastify's own, with its options: what serverWithFront copies.
      assert.equal(app.server.requestTimeout, 12_345);
      assert.equal(app.server.keepAliveTimeout, 72_000, "Fastify's default keep-alive timeout");
      const { port } = app.server.address() as AddressInfo;
      const call = (method: string, path: string) => fetch(`http://127.0.0.1:${port}${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
      const first = call('POST', '/devices/1/work');
      await eventually(() => shedding.counts.inFlight === 1, 'the first request is admitted');
      assert.equal(shedding.counts.admitted, 1, "admitted at the door, not again by the route's hook");
      const second = await call('POST', '/Devices/2/Work?x=1');
      assert.equal(second.status, 503);
      const body = await second.text();
      assert.match(body, /^busy overloaded [0-9a-f-]{36}$/);
      assert.equal(second.headers.get('x-request-id'), body.slice('busy overloaded '.length), 'the request id, in the header and the body');
      assert.equal(second.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.ok(Number(second.headers.get('retry-after')) >= 10);
      assert.deepEqual(refused, [], "refused at the door: Fastify's hooks never saw it");
      assert.equal(shedding.counts.shedInFlight, 1);
      assert.equal((await call('GET', '/admin')).status, 200, 'a route outside the device scope is not shed');
      assert.equal((await call('POST', '/devices')).status, 404, 'a path the device routes do not match goes to Fastify');
      // A path the router cannot decode: not found at the door, answered by Fastify (its 400), never thrown in the listener.
      assert.equal(await rawStatus(port, 'POST /devices/%E0%A4%A/work HTTP/1.1'), 400, 'a malformed path');
      assert.equal(await rawStatus(port, 'PATCH /devices/1/work HTTP/1.1'), 404, 'a method no device route has');
      release();
      assert.equal(await (await first).text(), 'done');
      await eventually(() => shedding.counts.inFlight === 0, 'released');
      assert.equal((await call('POST', '/devices/3/work')).status, 200, 'admitted again once the slot is free');
    } finally {
      release();
      await app.close();
    }
  });
});

describe('AdmitFraction (the event loop delay limit)', () => {
  it('halves the share of requests admitted after each late sample, down to a floor, and raises it by a tenth after each timely one', () => {
    const fraction = new AdmitFraction();
    assert.equal(fraction.value, 1);
    assert.ok(fraction.admits(0.999), 'everything goes while the loop keeps up');
    fraction.sample(150, 100);
    assert.equal(fraction.value, 0.5);
    assert.ok(fraction.admits(0.49) && !fraction.admits(0.5), 'half of the requests go');
    for (let i = 0; i < 20; i++) fraction.sample(1000, 100);
    assert.equal(fraction.value, AdmitFraction.MIN, 'never none: a few still go, and show when the node can take more');
    assert.ok(fraction.admits(0));
    fraction.sample(100, 100);
    assert.ok(Math.abs(fraction.value - (AdmitFraction.MIN + 0.1)) < 1e-9, 'a sample at the limit is not over it');
    for (let i = 0; i < 20; i++) fraction.sample(3, 100);
    assert.equal(fraction.value, 1, 'back to everything, a tenth per sample');
  });

  it('does not count a late sample whose loop was idle for a tenth of it or more: bursts, not a busy node', () => {
    const fraction = new AdmitFraction();
    fraction.sample(400, 100, 3000, 600, 0.99);
    assert.equal(fraction.value, 0.5, 'late and busy: halved');
    fraction.sample(400, 100, 3000, 600, 0.7);
    assert.ok(Math.abs(fraction.value - 0.6) < 1e-9, 'late but idle for 30% of the sample: raised a tenth');
    fraction.sample(400, 100, 3000, 600, AdmitFraction.BUSY_UTILIZATION);
    assert.ok(Math.abs(fraction.value - 0.3) < 1e-9, 'busy for 90% of it counts as busy');
  });

  it('never admits less than the most requests the node recently finished in a sample, however long its loop stays late', () => {
    const fraction = new AdmitFraction();
    // On time: 1,000 requests arrived in the sample and all were answered.
    fraction.sample(5, 100, 1000, 1000);
    // Then four times that arrives, the node still finishes 1,000 a sample and its loop stays late (refusals alone
    // fill it): halving stops at 1,000 of 4,000.
    for (let i = 0; i < 100; i++) fraction.sample(400, 100, 4000, 1000);
    assert.equal(fraction.value, 0.25, 'the 1,000 the node finishes, of 4,000');
    // The floor follows the load: twice as many arriving, half the share.
    fraction.sample(400, 100, 8000, 1000);
    assert.equal(fraction.value, 0.125);
    // Arrivals so many that the floor is under the fixed one: halved down to the fixed one.
    for (let i = 0; i < 5; i++) fraction.sample(400, 100, 100_000, 1000);
    assert.equal(fraction.value, AdmitFraction.MIN);
  });

  it('forgets, within minutes of timely samples, a rate the node no longer takes on time', () => {
    const fraction = new AdmitFraction();
    fraction.sample(5, 100, 1000, 1000);
    // Requests got dearer: the node now keeps up with 100 a sample only, for 700 samples (about 6 minutes).
    for (let i = 0; i < 700; i++) fraction.sample(5, 100, 100, 100);
    for (let i = 0; i < 10; i++) fraction.sample(400, 100, 4000, 100);
    assert.ok(fraction.value < 0.25 / 3, `the floor from 1,000 a sample is mostly forgotten (0.998^700 < 1/4), got ${fraction.value}`);
    assert.ok(fraction.value >= 100 / 4000, 'the floor from the 100 it took on time holds');
  });

  it('counts what a late node finishes: busy with dear requests, its loop is late however many it admits', () => {
    const late = new AdmitFraction();
    // Late, but finishing all that arrives: refusing would only leave it idle.
    for (let i = 0; i < 10; i++) late.sample(300, 100, 800, 800);
    assert.equal(late.value, 1, 'everything still goes');
    const fraction = new AdmitFraction();
    // Never on time: each sample 800 arrive and the node finishes 400 of them, its loop late by one long turn.
    for (let i = 0; i < 50; i++) fraction.sample(300, 100, 800, 400);
    assert.equal(fraction.value, 0.5, 'the share that admits the 400 it finishes, not the fixed floor');
    // It finishes fewer (the requests got dearer): the floor follows within minutes, not at once.
    for (let i = 0; i < 700; i++) fraction.sample(300, 100, 800, 100);
    assert.ok(fraction.value < 0.5 / 3 && fraction.value >= 100 / 800, `mostly forgotten, down to what it finishes now, got ${fraction.value}`);
  });
});

describe('shedRetryAfterSeconds', () => {
  it('asks for longer the smaller the share admitted, spread over up to as long again, bounded', () => {
    assert.equal(shedRetryAfterSeconds(1, 1, 0), 10);
    assert.equal(shedRetryAfterSeconds(1, 1, 0.999), 19, 'everything admitted (the in-flight limit refuses): 10 to 19 s');
    assert.equal(shedRetryAfterSeconds(0.5, 1, 0), 20);
    assert.equal(shedRetryAfterSeconds(0.25, 1, 0.5), 60, 'a quarter admitted: four tries on average, 40 to 79 s');
    assert.equal(shedRetryAfterSeconds(AdmitFraction.MIN, 1, 0), 60, 'at most six times the base for the share');
  });

  it('asks for longer still while the node keeps shedding, up to 2 minutes (4 with the spread)', () => {
    assert.equal(shedRetryAfterSeconds(1, 3, 0), 30, 'the sustained factor alone');
    assert.equal(shedRetryAfterSeconds(0.25, 2, 0), 40, 'the larger of the two factors, not their product');
    assert.equal(shedRetryAfterSeconds(AdmitFraction.MIN, RetryAfterScale.MAX, 0), 120);
    assert.equal(SHED_RETRY_AFTER_MAX_SECONDS, 239);
  });
});

describe('RetryAfterScale', () => {
  it('grows while the node refuses more than a tenth of what it finishes, to its bound, and falls back after', () => {
    const scale = new RetryAfterScale();
    scale.sample(100, 1000);
    assert.equal(scale.value, 1, 'a tenth refused: not yet');
    scale.sample(101, 1000);
    assert.equal(scale.value, RetryAfterScale.GROWTH);
    // 7 s of half-second samples refusing as much as it answers: about twice the delay.
    for (let i = 1; i < 14; i++) scale.sample(1000, 1000);
    assert.ok(scale.value > 1.9 && scale.value < 2.1, `doubled in about 7 s, got ${scale.value}`);
    // Refusing with nothing finished (the node stuck) counts as over the target too.
    for (let i = 0; i < 200; i++) scale.sample(10, 0);
    assert.equal(scale.value, RetryAfterScale.MAX, 'bounded');
    for (let i = 0; i < 34; i++) scale.sample(0, 1000);
    assert.ok(scale.value > RetryAfterScale.MAX / 2 - 0.5 && scale.value < RetryAfterScale.MAX / 2 + 0.5, `halved in about 17 s, got ${scale.value}`);
    for (let i = 0; i < 1000; i++) scale.sample(0, 0);
    assert.equal(scale.value, 1, 'a quiet node is back to the base');
  });
});

describe('RateLimiter', () => {
  it('gives a client its allowance as a burst, then one request per 1/rate, and says when the next is due', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 6, maxKeys: 10 }, () => now);
    for (let i = 0; i < 6; i++) assert.equal(limiter.take('a'), undefined, `request ${i + 1} of the burst`);
    assert.equal(limiter.take('a'), 10, 'one token every 10 s');
    assert.equal(limiter.take('b'), undefined, 'another client has its own bucket');
    now += 4_000;
    assert.equal(limiter.take('a'), 6, 'a refused request spends nothing: 6 s to go');
    now += 6_000;
    assert.equal(limiter.take('a'), undefined, 'a token is due after 10 s');
    assert.equal(limiter.take('a'), 10);
    now += 3_600_000;
    for (let i = 0; i < 6; i++) assert.equal(limiter.take('a'), undefined, 'the bucket refills to its size, no more');
    assert.notEqual(limiter.take('a'), undefined);
  });

  it('keeps at most maxKeys clients, dropping the least recently seen', () => {
    const limiter = new RateLimiter({ perMinute: 1, maxKeys: 100 });
    assert.equal(limiter.take('steady'), undefined);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`client-${i}`);
      if (i % 50 === 0) limiter.take('steady');
      assert.ok(limiter.size <= 100, `at most 100 clients tracked, ${limiter.size} after ${i + 1}`);
    }
    assert.equal(limiter.size, 100);
    assert.notEqual(limiter.take('steady'), undefined, 'a client seen recently is still tracked (and still over its rate)');
    assert.equal(limiter.take('client-0'), undefined, 'a client dropped long ago comes back with a full bucket');
  });

  it('has no limit at 0 per minute and refuses a bound below 1', () => {
    const none = new RateLimiter({ perMinute: 0, maxKeys: 1 });
    assert.equal(none.enabled, false);
    for (let i = 0; i < 100; i++) assert.equal(none.take('a'), undefined);
    assert.equal(none.size, 0);
    assert.throws(() => new RateLimiter({ perMinute: 1, maxKeys: 0 }), RangeError);
  });
});
