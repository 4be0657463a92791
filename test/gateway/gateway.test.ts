import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { selfSignedCertificate } from '../../src/cli/tls.ts';
import { DecisionClient, type DecisionSource } from '../../src/gateway/decision-client.ts';
import { buildGateway } from '../../src/gateway/gateway.ts';
import { fileToken, fixedToken, type TokenSource } from '../../src/gateway/token-source.ts';
import { DecisionStub, EchoUpstream } from './doubles.ts';

/**
 * `openmam gateway` as a reverse proxy: a stub decision server (test double of `/access/v1/evaluate`) decides, a
 * real upstream echoes what reached it, and requests go through real sockets.
 */

const USER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhbGV4In0.c2ln';
const GATEWAY_TOKEN = 'gateway-app-token';
const DENY = {
  decision: 'deny',
  reasons: ['compliantApplication:notCompliant', 'approvedApplication:notApproved'],
  remediation: { title: 'Device non-compliant', message: 'Update Windows, then try again from Contoso Notes.' },
};

const upstream = new EchoUpstream();
const decisions = new DecisionStub();
before(async () => {
  await upstream.start();
  await decisions.start();
});
after(async () => {
  await upstream.close();
  await decisions.close();
});

const gateways: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

beforeEach(() => {
  upstream.received.length = 0;
  decisions.requests.length = 0;
  decisions.answer = () => ({ status: 200, body: { decision: 'allow', reasons: [] } });
});

async function startGateway(options: { source?: DecisionSource; openmamUrl?: string; token?: TokenSource; ca?: string } = {}): Promise<string> {
  const source =
    options.source ??
    new DecisionClient({ openmamUrl: options.openmamUrl ?? decisions.url, token: options.token ?? fixedToken(GATEWAY_TOKEN), timeoutMs: 2000, ...(options.ca ? { ca: options.ca } : {}) });
  const gateway = await buildGateway({ upstream: upstream.url, resource: 'contoso-files', decisions: source });
  gateways.push(gateway);
  await gateway.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
}

const APP_HEADERS = { authorization: `Bearer ${USER_TOKEN}`, 'x-openmam-app-id': 'com.contoso.notes', 'x-openmam-registration-id': 'reg-1' };

describe('gateway', () => {
  it('allow: forwards method, path, query, body and headers; answers with the upstream status and body', async () => {
    const url = await startGateway();
    const response = await fetch(`${url}/api/documents?folder=q3&sort=name`, {
      method: 'POST',
      headers: { ...APP_HEADERS, 'content-type': 'application/json', 'x-request-id': 'r-1', 'X-OpenMAM-Compliant': 'true', 'x-openmam-user': 'ceo@contoso.example' },
      body: JSON.stringify({ title: 'Plan', size: 3 }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-upstream'), 'echo');
    assert.deepEqual(await response.json(), { method: 'POST', url: '/api/documents?folder=q3&sort=name', body: JSON.stringify({ title: 'Plan', size: 3 }) });

    const [reached] = upstream.received;
    assert.equal(reached!.headers.authorization, `Bearer ${USER_TOKEN}`, 'Authorization is kept');
    assert.equal(reached!.headers['x-request-id'], 'r-1');
    assert.equal(reached!.headers['x-forwarded-for'], '127.0.0.1');
    assert.deepEqual(Object.keys(reached!.headers).filter((name) => name.toLowerCase().startsWith('x-openmam-')), [], 'every X-OpenMAM-* header is stripped, not only the three the gateway reads');

    assert.deepEqual(decisions.requests, [
      { authorization: `Bearer ${GATEWAY_TOKEN}`, body: { userToken: USER_TOKEN, resource: 'contoso-files', appId: 'com.contoso.notes', registrationId: 'reg-1', ipAddress: '127.0.0.1' } },
    ]);
  });

  it('allow: other methods, binary and empty bodies, upstream statuses pass through unchanged', async () => {
    const url = await startGateway();
    const put = await fetch(`${url}/blob/1`, { method: 'PUT', headers: { ...APP_HEADERS, 'content-type': 'application/octet-stream' }, body: new Uint8Array([0, 1, 2, 255]) });
    assert.equal(put.status, 200);
    assert.equal(upstream.received[0]!.method, 'PUT');
    assert.deepEqual([...upstream.received[0]!.raw], [0, 1, 2, 255]);
    assert.equal(upstream.received[0]!.headers['content-type'], 'application/octet-stream');
    const get = await fetch(`${url}/missing/thing`, { headers: APP_HEADERS });
    assert.equal(get.status, 404);
    const del = await fetch(`${url}/blob/1`, { method: 'DELETE', headers: APP_HEADERS });
    assert.equal(del.status, 200);
    assert.deepEqual(upstream.received.map((r) => `${r.method} ${r.url}`), ['PUT /blob/1', 'GET /missing/thing', 'DELETE /blob/1']);
  });

  it('deny: 403 access_denied with reasons and remediation; the upstream is never reached', async () => {
    decisions.answer = () => ({ status: 200, body: DENY });
    const url = await startGateway();
    const response = await fetch(`${url}/api/documents`, { method: 'POST', headers: { ...APP_HEADERS, 'content-type': 'application/json' }, body: '{"secret":true}' });
    assert.equal(response.status, 403);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await response.json(), {
      error: { code: 'access_denied', message: DENY.remediation.message, reasons: DENY.reasons, remediation: DENY.remediation },
    });
    assert.equal(upstream.received.length, 0);
  });

  it('deny without remediation gets a generic one', async () => {
    decisions.answer = () => ({ status: 200, body: { decision: 'deny', reasons: ['approvedApplication:notApproved'] } });
    const url = await startGateway();
    const body = (await (await fetch(`${url}/x`, { headers: APP_HEADERS })).json()) as { error: { remediation: { title: string } } };
    assert.equal(body.error.remediation.title, 'Access blocked');
  });

  it('no bearer token: 401, and no decision is asked', async () => {
    const url = await startGateway();
    for (const headers of [{}, { authorization: 'Basic YWxleDpwdw==' }, { authorization: 'Bearer ' }] as Record<string, string>[]) {
      const response = await fetch(`${url}/api/documents`, { headers: { 'x-openmam-app-id': 'com.contoso.notes', ...headers } });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unauthorized');
    }
    assert.equal(decisions.requests.length, 0);
    assert.equal(upstream.received.length, 0);
  });

  it('passes the app\'s app, registration and device claims on for OpenMAM to check against the token, with the client address', async () => {
    const url = await startGateway();
    const device = '0b9e7a52-8d4c-4d7e-9a43-2f6c1f0e9b11';
    await fetch(`${url}/x`, { headers: { authorization: `Bearer ${USER_TOKEN}`, 'x-openmam-app-id': 'com.contoso.notes', 'x-openmam-registration-id': 'reg-1', 'x-openmam-device-id': device } });
    assert.deepEqual(decisions.requests[0]!.body, { userToken: USER_TOKEN, resource: 'contoso-files', appId: 'com.contoso.notes', registrationId: 'reg-1', azureAdDeviceId: device, ipAddress: '127.0.0.1' });
  });

  it('a request OpenMAM cannot read (a malformed header): the gateway\'s 400, not a user\'s 403; the upstream is never reached', async () => {
    decisions.answer = () => ({ status: 400, body: { error: { code: 'badRequest', message: 'registrationId: must be a GUID' } } });
    const url = await startGateway();
    const response = await fetch(`${url}/x`, { headers: { ...APP_HEADERS, 'x-openmam-registration-id': 'not-a-guid' } });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /registrationId: must be a GUID/);
    assert.equal(upstream.received.length, 0);
  });

  it('OpenMAM refusing the user or the app (another 4xx): 403 with its reason', async () => {
    decisions.answer = () => ({ status: 404, body: { error: { code: 'notFound', message: 'no such registration' } } });
    const url = await startGateway();
    const response = await fetch(`${url}/x`, { headers: APP_HEADERS });
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; reasons: string[]; message: string } };
    assert.equal(body.error.code, 'access_denied');
    assert.deepEqual(body.error.reasons, ['notFound']);
    assert.equal(body.error.message, 'no such registration');
    assert.equal(upstream.received.length, 0);
  });

  it('every request pays one decision over one kept-alive connection', async () => {
    const url = await startGateway();
    const before = decisions.connections;
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${url}/x/${i}`, { headers: APP_HEADERS })).status, 200);
    assert.equal(decisions.requests.length, 5);
    assert.equal(decisions.connections - before, 1);
  });
});

describe('gateway fails closed', () => {
  it('decision server down: 503 decision_unavailable, the upstream is never reached', async () => {
    const down = new DecisionStub();
    await down.start();
    const openmamUrl = down.url;
    await down.close();
    const url = await startGateway({ openmamUrl });
    const response = await fetch(`${url}/api/documents`, { method: 'POST', headers: { ...APP_HEADERS, 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'decision_unavailable');
    assert.equal(upstream.received.length, 0);
  });

  it('an unusable answer (5xx, no decision, not JSON): 502', async () => {
    const url = await startGateway();
    for (const answer of [{ status: 500, body: { error: { code: 'internal', message: 'x' } } }, { status: 200, body: { decision: 'maybe' } }, { status: 200, raw: '<html>' }]) {
      decisions.answer = () => answer;
      const response = await fetch(`${url}/x`, { headers: APP_HEADERS });
      assert.equal(response.status, 502, JSON.stringify(answer));
    }
    assert.equal(upstream.received.length, 0);
  });

  it("OpenMAM refusing the gateway's own credential: 503; a renewed token file is picked up", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'openmam-gateway-'));
    try {
      const file = path.join(dir, 'token');
      await writeFile(file, 'expired-token\n');
      decisions.answer = (_body, authorization) =>
        authorization === 'Bearer renewed-token' ? { status: 200, body: { decision: 'allow', reasons: [] } } : { status: 401, body: { error: { code: 'authentication_failed', message: 'expired' } } };
      const url = await startGateway({ token: fileToken(file, { checkEveryMs: 60_000 }) });
      assert.equal((await fetch(`${url}/x`, { headers: APP_HEADERS })).status, 503);
      assert.equal(upstream.received.length, 0);

      await writeFile(file, 'renewed-token\n');
      // The 401 makes the gateway look at the file again at once (its periodic look is a minute away here).
      assert.equal((await fetch(`${url}/x`, { headers: APP_HEADERS })).status, 200);
      assert.equal(decisions.requests.at(-1)!.authorization, 'Bearer renewed-token');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a decision source that throws anything: 503', async () => {
    const url = await startGateway({
      source: {
        evaluate: () => Promise.reject(new Error('boom')),
        close: async () => undefined,
      },
    });
    assert.equal((await fetch(`${url}/x`, { headers: APP_HEADERS })).status, 503);
  });
});

describe('gateway credential and TLS to OpenMAM', () => {
  it('fileToken re-reads the file when it changes, and not before', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'openmam-gateway-'));
    try {
      const file = path.join(dir, 'token');
      await writeFile(file, 'one\n');
      let now = 0;
      const source = fileToken(file, { checkEveryMs: 1000, now: () => now });
      assert.equal(await source.get(), 'one');
      await writeFile(file, 'two-and-longer\n');
      assert.equal(await source.get(), 'one', 'within a second of the last look, the cached token');
      now = 1500;
      assert.equal(await source.get(), 'two-and-longer');
      await writeFile(file, '');
      await assert.rejects(source.refresh(), /empty/);
      await rm(file);
      await assert.rejects(source.refresh(), /gateway token file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--ca: OpenMAM's self-signed certificate is trusted when given, refused otherwise", async () => {
    const tls = await selfSignedCertificate('127.0.0.1');
    const secure = new DecisionStub();
    await secure.start(tls);
    try {
      const trusted = await startGateway({ openmamUrl: secure.url, ca: tls.cert });
      assert.equal((await fetch(`${trusted}/x`, { headers: APP_HEADERS })).status, 200);
      const untrusted = await startGateway({ openmamUrl: secure.url });
      assert.equal((await fetch(`${untrusted}/x`, { headers: APP_HEADERS })).status, 503);
      assert.equal(secure.requests.length, 1);
    } finally {
      await secure.close();
    }
  });
});
