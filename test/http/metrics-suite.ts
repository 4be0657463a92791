import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { skippableSuite } from '../support/skippable-suite.ts';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { metricsListener } from '../../src/http/metrics/metrics-routes.ts';
import { listenForScrapers } from '../../src/main.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';

/**
 * /metrics end to end, run once per store backend: who may scrape (anonymous 401, a Reader 403, an Admin or the
 * scrape token 200), the separate listener, and the series moving after an enrollment, OMA-DM sessions, an app
 * check-in, an access decision and admin requests; the text is read by a strict parser of the exposition format
 * written here (prom-client has none): prometheus.io/docs/instrumenting/exposition_formats (text format 0.0.4).
 */

// ---- a strict reader of the text exposition format 0.0.4

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(text: string, line: string): number {
  if (/^\+?inf$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY;
  // Values are what Go's strconv.ParseFloat reads, which ignores case for NaN and Inf (prom-client writes `Nan`).
  if (/^nan$/i.test(text)) return Number.NaN;
  assert.match(text, /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `not a sample value: ${line}`);
  return Number(text);
}

/** Label values: `\\`, `\"` and `\n` are the only escapes. Returns the labels and where the block ends. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    assert.ok(eq > i, `label without '=' in: ${line}`);
    const name = line.slice(i, eq);
    assert.match(name, LABEL_NAME, `bad label name ${name} in: ${line}`);
    assert.equal(line[eq + 1], '"', `unquoted label value in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; line[j] !== '"'; j++) {
      assert.ok(j < line.length, `unterminated label value in: ${line}`);
      if (line[j] === '\\') {
        const escaped = line[++j];
        assert.ok(escaped === '\\' || escaped === '"' || escaped === 'n', `bad escape \\${escaped} in: ${line}`);
        value += escaped === 'n' ? '\n' : escaped;
      } else value += line[j];
    }
    assert.ok(!(name in labels), `label ${name} twice in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else assert.equal(line[i], '}', `expected ',' or '}' in: ${line}`);
  }
  return { labels, end: i + 1 };
}

export function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line feed');
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // Any other comment is allowed.
      const [, keyword, name, rest] = match as unknown as [string, string, string, string];
      assert.match(name, METRIC_NAME, `bad metric name in: ${line}`);
      if (keyword === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), `unknown type in: ${line}`);
        assert.ok(!types.has(name), `TYPE of ${name} twice`);
        assert.ok(!samples.some((s) => familyOf(s.name, types) === name), `TYPE of ${name} after its samples`);
        types.set(name, rest);
      } else {
        assert.ok(!helped.has(name), `HELP of ${name} twice`);
        helped.add(name);
      }
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    assert.ok(nameEnd > 0, `not a sample: ${line}`);
    const name = line.slice(0, nameEnd);
    assert.match(name, METRIC_NAME, `bad metric name in: ${line}`);
    let rest = nameEnd;
    let labels: Record<string, string> = {};
    if (line[nameEnd] === '{') ({ labels, end: rest } = parseLabels(line, nameEnd));
    assert.equal(line[rest], ' ', `expected a space before the value in: ${line}`);
    const fields = line.slice(rest + 1).split(' ');
    assert.ok(fields.length === 1 || (fields.length === 2 && /^-?\d+$/.test(fields[1]!)), `value and optional timestamp expected in: ${line}`);
    const value = parseValue(fields[0]!, line);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.ok(!seen.has(key), `series twice: ${line}`);
    seen.add(key);
    assert.ok(familyOf(name, types) !== undefined, `sample before (or without) its TYPE: ${line}`);
    samples.push({ name, labels, value });
  }
  checkHistograms({ types, samples });
  return { types, samples };
}

/** The family a sample belongs to: its name, or a histogram's name for its _bucket/_sum/_count. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return types.get(base) === 'histogram' || types.get(base) === 'summary' ? base : undefined;
}

/** Every histogram series: buckets cumulative in `le` order, ending with +Inf, which equals _count. */
function checkHistograms({ types, samples }: Exposition): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number }>();
    const keyOf = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
    for (const sample of samples) {
      const entry = series.get(keyOf(sample.labels)) ?? { buckets: [] };
      if (sample.name === `${family}_bucket`) entry.buckets.push([parseValue(sample.labels['le']!, 'le'), sample.value]);
      else if (sample.name === `${family}_count`) entry.count = sample.value;
      else continue;
      series.set(keyOf(sample.labels), entry);
    }
    for (const [labels, { buckets, count }] of series) {
      assert.ok(buckets.length > 0 && count !== undefined, `${family}${labels}: buckets and _count`);
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(buckets[i]![0] > buckets[i - 1]![0], `${family}${labels}: le ascending`);
        assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${family}${labels}: buckets cumulative`);
      }
      assert.equal(buckets.at(-1)![0], Number.POSITIVE_INFINITY, `${family}${labels}: the last bucket is +Inf`);
      assert.equal(buckets.at(-1)![1], count, `${family}${labels}: +Inf equals _count`);
    }
  }
}

/** The value of one series (0 when absent: a counter not yet incremented is not written). */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}

/**
 * A managed app's traffic, each answer asserted: `upn` registers an app, checks in once, and a gateway asks for an
 * access decision with the user's token (the mam and access surfaces' series). Answers the check-in's and the
 * decision's bodies.
 */
export async function appTraffic(server: TestServer, upn: string): Promise<{ checkIn: Record<string, unknown>; decision: Record<string, unknown> }> {
  const user = await server.mint({ upn, clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a' });
  const registered = await server.json('POST', '/mam/v1/registrations', user, { appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', deviceTag: randomUUID() });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const checkIn = await server.json('POST', `/mam/v1/registrations/${String(registered.body['registrationId'])}/checkin`, user, { appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', policyVersion: null, configurationVersion: null });
  assert.equal(checkIn.status, 200, JSON.stringify(checkIn.body));
  const gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
  const decided = await server.json('POST', '/access/v1/evaluate', gateway, { userToken: user, resource: 'https://outlook.office365.com' });
  assert.equal(decided.status, 200, JSON.stringify(decided.body));
  return { checkIn: checkIn.body, decision: decided.body };
}

export function metricsEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`GET /metrics end to end (${backend})`, { skip }, () => {
    const SCRAPE_TOKEN = `scrape-${randomUUID()}`;
    let server: TestServer;
    let admin: string;
    let reader: string;
    let listener: FastifyInstance | undefined;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend, { OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN, OPENMAM_METRICS_PORT: '0' });
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
    });
    after(async () => {
      for (const device of devices) device.close();
      await listener?.close();
      await server?.close();
    });

    const scrape = async (token: string = SCRAPE_TOKEN): Promise<Exposition> => {
      const response = await server.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, response.body);
      assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return parseExposition(response.body);
    };

    it('refuses an anonymous caller (401 with a Bearer challenge), a wrong token (401) and a Reader (403)', async () => {
      const anonymous = await server.request('/metrics');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
      assert.equal((JSON.parse(anonymous.body) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
      assert.equal((await server.request('/metrics', { headers: { authorization: `Bearer ${SCRAPE_TOKEN}x` } })).status, 401, 'almost the scrape token');
      assert.equal((await server.request('/metrics', { headers: { authorization: `Basic ${Buffer.from(`x:${SCRAPE_TOKEN}`).toString('base64')}` } })).status, 401, 'not a bearer');
      const readerScrape = await server.request('/metrics', { headers: { authorization: `Bearer ${reader}` } });
      assert.equal(readerScrape.status, 403, 'a Reader may not scrape: the series cover every tenant of the node');
      const user = await server.mint({ upn: 'alex@contoso.example' });
      assert.equal((await server.request('/metrics', { headers: { authorization: `Bearer ${user}` } })).status, 403, 'a user token without the role');
    });

    it('serves an Admin and the scrape token, with the default Node.js series', async () => {
      const byAdmin = await scrape(admin);
      const byToken = await scrape();
      for (const exposition of [byAdmin, byToken]) {
        for (const family of ['openmam_http_requests_total', 'openmam_http_request_duration_seconds', 'openmam_store_query_duration_seconds', 'openmam_buffered_writes_pending', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'process_resident_memory_bytes']) {
          assert.ok(exposition.types.has(family), `${family} is exposed`);
        }
      }
      assert.equal(valueOf(byToken, 'openmam_build_info', { version: '0.1.0' }), 1);
      for (const buffer of ['device_checkins', 'app_checkins', 'sign_ins', 'activity']) {
        assert.ok(byToken.samples.some((s) => s.name === 'openmam_buffered_writes_pending' && s.labels['buffer'] === buffer), `buffer ${buffer} reported`);
      }
    });

    it('moves the enrollment, OMA-DM, request, cache and store series with an enrollment, two syncs and a refused message', async () => {
      const before = await scrape();
      const token = await server.mint({ upn: `user-${randomUUID().slice(0, 8)}@contoso.example`, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token });
      devices.push(device);
      await device.enroll();
      const first = await device.sync();
      assert.equal(first.headerStatus, '200');
      const steady = await device.sync();
      assert.equal(steady.messages.length, 1, 'a steady check-in is one message');
      const stranger = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token });
      devices.push(stranger);
      const refused = await stranger.sync();
      assert.equal(refused.headerStatus, '401', 'a device with no enrollment is refused');
      const after = await scrape();
      const moved = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels);

      assert.equal(moved('openmam_enrollments_total', { result: 'created' }), 1);
      const sessions = first.messages.length + steady.messages.length;
      assert.equal(moved('openmam_omadm_messages_total', { outcome: 'ended', code: '200' }), 2, 'two sessions ended');
      assert.equal(moved('openmam_omadm_messages_total', { outcome: 'continued', code: '200' }), sessions - 2, 'the other messages continued a session');
      assert.equal(moved('openmam_omadm_messages_total', { outcome: 'refused', code: '401' }), 1);
      assert.equal(moved('openmam_omadm_session_messages_count'), 2);
      assert.equal(moved('openmam_omadm_session_messages_bucket', { le: '1' }), 1, 'the steady session took one message');
      assert.equal(moved('openmam_http_requests_total', { surface: 'management', route: '/ManagementServer/MDM.svc', method: 'POST', code: '200' }), sessions + 1);
      assert.equal(moved('openmam_http_requests_total', { surface: 'enrollment', route: '/EnrollmentServer/Enrollment.svc', method: 'POST', code: '200' }), 1);
      assert.equal(moved('openmam_http_request_duration_seconds_count', { surface: 'management', route: '/ManagementServer/MDM.svc', method: 'POST', status_class: '2xx' }), sessions + 1);
      assert.ok(moved('openmam_cache_lookups_total', { cache: 'token', result: 'miss' }) >= 1, 'the first use of the token was verified');
      assert.ok(moved('openmam_cache_lookups_total', { cache: 'token', result: 'hit' }) >= sessions, 'later uses came from the cache');
      assert.ok(moved('openmam_cache_lookups_total', { cache: 'tenant', result: 'hit' }) >= 1, 'the tenant came from the cache');
      assert.ok(moved('openmam_store_query_duration_seconds_count', { kind: 'select' }) >= sessions, 'store reads were timed');
      assert.ok(moved('openmam_store_query_duration_seconds_count', { kind: 'insert' }) >= 1, 'the enrollment was written');
    });

    it('counts admin requests by route pattern, an app check-in and an access decision', async () => {
      const before = await scrape();
      const list = await server.json('GET', '/graph/beta/deviceManagement/deviceConfigurations', admin);
      assert.equal(list.status, 200);
      const refusedList = await server.json('GET', '/graph/beta/deviceManagement/deviceConfigurations', reader.slice(0, -4) + 'AAAA');
      assert.equal(refusedList.status, 401);
      const app = await appTraffic(server, 'metrics-app@contoso.example');
      await server.request(`/no/such/path/${randomUUID()}`);
      const after = await scrape();
      const moved = (name: string, labels: Record<string, string>): number => valueOf(after, name, labels) - valueOf(before, name, labels);

      const route = '/graph/beta/deviceManagement/deviceConfigurations';
      assert.equal(moved('openmam_http_requests_total', { surface: 'admin', route, method: 'GET', code: '200' }), 1);
      assert.equal(moved('openmam_http_requests_total', { surface: 'admin', route, method: 'GET', code: '401' }), 1);
      assert.equal(moved('openmam_http_request_duration_seconds_count', { surface: 'admin', route, method: 'GET', status_class: '4xx' }), 1);
      assert.equal(moved('openmam_app_checkins_total', { compliance_state: String(app.checkIn['complianceState']) }), 1);
      assert.equal(moved('openmam_access_decisions_total', { decision: String(app.decision['decision']) }), 1);
      assert.ok(moved('openmam_cache_lookups_total', { cache: 'tenant_snapshot', result: 'miss' }) + moved('openmam_cache_lookups_total', { cache: 'tenant_snapshot', result: 'hit' }) >= 1, 'the tenant snapshot was looked up');
      assert.equal(moved('openmam_http_requests_total', { surface: 'other', route: '(unmatched)', method: 'GET', code: '404' }), 1);
      assert.ok(!after.samples.some((s) => s.labels['route']?.includes('/no/such/path')), 'an unmatched path never becomes a label');
      assert.ok(after.samples.some((s) => s.name === 'openmam_http_requests_total' && s.labels['surface'] === 'metrics'), 'the scrapes themselves are counted');
    });

    it('serves the separate listener in plain HTTP: the scrape token, nothing else, and only /metrics', async () => {
      listener = await listenForScrapers(server.config, server.runtime.app);
      assert.ok(listener, 'OPENMAM_METRICS_PORT set: a listener');
      const { port, address } = listener.server.address() as AddressInfo;
      assert.equal(address, '127.0.0.1', 'bound to OPENMAM_METRICS_HOST, this host by default');
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/metrics`)).status, 401, 'the scrape token applies there too');
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).status, 401, 'an admin token is not taken there');
      const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
      assert.equal(scraped.status, 200);
      assert.ok(parseExposition(await scraped.text()).types.has('openmam_http_requests_total'));
      assert.equal((await fetch(`${base}/healthz`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).status, 404, 'nothing but /metrics');
    });

    it('serves a separate listener without a scrape token to anyone who reaches it', async () => {
      const open = await metricsListener(server.runtime.app.metrics, undefined, pino({ level: 'silent' }));
      try {
        const response = await open.inject({ method: 'GET', url: '/metrics' });
        assert.equal(response.statusCode, 200);
        assert.ok(parseExposition(response.body).types.has('openmam_enrollments_total'));
      } finally {
        await open.close();
      }
    });
  });
}
