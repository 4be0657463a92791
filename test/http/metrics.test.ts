import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.ts';
import { LeanCounter, LeanHistogram } from '../../src/http/metrics/cells.ts';
import { OpenMamMetrics, surfaceOf } from '../../src/http/metrics/metrics.ts';
import { queryKindOf, QueryTiming } from '../../src/store/query-timing.ts';
import type { QueryKind } from '../../src/store/roles.ts';
import { metricsEndToEnd, parseExposition, valueOf } from './metrics-suite.ts';

/** The metrics' parts without a server, then /metrics end to end on SQLite (metrics-suite.ts; PostgreSQL: metrics.postgres.test.ts). */

describe('the exposition reader of this test', () => {
  it('reads a well-formed exposition and refuses malformed ones', () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 5\nh_count 2\n';
    const parsed = parseExposition(good);
    assert.equal(valueOf(parsed, 'a_total', { x: 'q"\\\n' }), 3);
    assert.throws(() => parseExposition('a_total 1\n'), /\(or without\) its TYPE/);
    assert.throws(() => parseExposition('# TYPE a counter\na{x=1} 1\n'), /unquoted/);
    assert.throws(() => parseExposition('# TYPE a counter\na 1\na 2\n'), /series twice/);
    assert.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'), /cumulative/);
    assert.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\n'), /equals _count/);
    assert.throws(() => parseExposition('# TYPE a counter\na one\n'), /not a sample value/);
  });
});

describe('metrics series (no server)', () => {
  it('a histogram cell puts a value equal to a bound in that bucket (le is inclusive) and writes cumulative buckets', async () => {
    const registry = new Registry();
    const histogram = new LeanHistogram({ name: 't_seconds', help: 'T.', labelNames: ['kind'], buckets: [0.1, 1], registry });
    const cell = histogram.cell({ kind: 'a' });
    for (const value of [0.05, 0.1, 0.5, 1, 7]) cell.observe(value);
    assert.equal(histogram.cell({ kind: 'a' }), cell, 'one cell per label set');
    const parsed = parseExposition(await registry.metrics());
    assert.equal(valueOf(parsed, 't_seconds_bucket', { kind: 'a', le: '0.1' }), 2);
    assert.equal(valueOf(parsed, 't_seconds_bucket', { kind: 'a', le: '1' }), 4);
    assert.equal(valueOf(parsed, 't_seconds_bucket', { kind: 'a', le: '+Inf' }), 5);
    assert.equal(valueOf(parsed, 't_seconds_sum', { kind: 'a' }), 8.65);
    const counter = new LeanCounter({ name: 't_total', help: 'T.', labelNames: ['route'], registry });
    counter.cell({ route: 'a "quoted"\\path\n' }).inc(2);
    assert.equal(valueOf(parseExposition(await registry.metrics()), 't_total', { route: 'a "quoted"\\path\n' }), 2, 'label values are escaped');
  });

  it('keeps one registry per app: two apps count apart, and both scrape (no name clash in a global registry)', async () => {
    const first = new OpenMamMetrics('1');
    const second = new OpenMamMetrics('1');
    first.enrollment('created');
    let pending = 3;
    first.buffer('sign_ins', () => pending);
    first.route('/healthz', 'GET', '/healthz').observe(200, 0.002);
    const [a, b] = [parseExposition(await first.scrape()), parseExposition(await second.scrape())];
    assert.equal(valueOf(a, 'openmam_enrollments_total', { result: 'created' }), 1);
    assert.equal(valueOf(b, 'openmam_enrollments_total', { result: 'created' }), 0);
    assert.equal(valueOf(a, 'openmam_http_requests_total', { surface: 'health', route: '/healthz', method: 'GET', code: '200' }), 1);
    assert.ok(a.types.has('nodejs_eventloop_lag_seconds') && b.types.has('process_resident_memory_bytes'), 'both carry the process series');
    assert.equal(valueOf(a, 'openmam_buffered_writes_pending', { buffer: 'sign_ins' }), 3, 'a buffer is read at the scrape');
    pending = 0;
    assert.equal(valueOf(parseExposition(await first.scrape()), 'openmam_buffered_writes_pending', { buffer: 'sign_ins' }), 0, 'and again at the next');
  });

  it('labels a request by its route pattern, and a request no route matched by a fixed word, never its path', async () => {
    const metrics = new OpenMamMetrics('1');
    const series = metrics.route('/mam/v1/registrations/:id/checkin', 'POST', '/mam/v1/registrations/abc/checkin');
    assert.equal(metrics.route('/mam/v1/registrations/:id/checkin', 'POST', '/mam/v1/registrations/def/checkin'), series, 'bound once per route and method');
    for (let i = 0; i < 50; i++) metrics.route(undefined, 'GET', `/graph/beta/nothing-${i}`).observe(404, 0.001);
    const text = await metrics.scrape();
    assert.doesNotMatch(text, /nothing-/, 'no path in a label');
    assert.equal(valueOf(parseExposition(text), 'openmam_http_requests_total', { surface: 'admin', route: '(unmatched)', method: 'GET', code: '404' }), 50);
  });

  it('names the surface of every path prefix', () => {
    const cases: [string, string][] = [
      ['/EnrollmentServer/Enrollment.svc', 'enrollment'],
      ['/ManagementServer/MDM.svc', 'management'],
      ['/graph/beta/deviceManagement/deviceConfigurations', 'admin'],
      ['/mam/v1/registrations', 'mam'],
      ['/mtd/v1/health', 'mtd'],
      ['/access/v1/evaluate', 'access'],
      ['/idp/:tenantId/v2.0/.well-known/openid-configuration', 'idp'],
      ['/console/*', 'console'],
      ['/healthz', 'health'],
      ['/metrics', 'metrics'],
      ['/openapi.json', 'other'],
    ];
    for (const [path, surface] of cases) assert.equal(surfaceOf(path), surface, path);
  });

  it('classifies store queries by their statement, never by their text', () => {
    const db = new Kysely<{ t: { a: number } }>({ dialect: new SqliteDialect({ database: async () => { throw new Error('not connected'); } }) });
    assert.equal(queryKindOf(db.selectFrom('t').selectAll().compile()), 'select');
    assert.equal(queryKindOf(db.insertInto('t').values({ a: 1 }).compile()), 'insert');
    assert.equal(queryKindOf(db.updateTable('t').set({ a: 2 }).compile()), 'update');
    assert.equal(queryKindOf(db.deleteFrom('t').compile()), 'delete');
    assert.equal(queryKindOf(CompiledQuery.raw('begin immediate')), 'transaction');
    assert.equal(queryKindOf(CompiledQuery.raw('  SELECT 1')), 'select');
    assert.equal(queryKindOf(CompiledQuery.raw('pragma foreign_keys = on')), 'other');
  });

  it('the Grafana dashboard and the alert rules of docs/prometheus name only series the server writes', async () => {
    const families = parseExposition(await new OpenMamMetrics('1').scrape()).types;
    const dashboard = JSON.parse(await readFile(new URL('../../docs/grafana/openmam-dashboard.json', import.meta.url), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const expressions = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    assert.ok(expressions.length >= 15, 'the dashboard has its panels');
    const rules = await readFile(new URL('../../docs/prometheus/openmam-alerts.yml', import.meta.url), 'utf8');
    assert.match(rules, /^groups:/m, 'the alert rules are there');
    for (const text of [...expressions, rules]) {
      for (const [name] of text.matchAll(/\b(?:openmam|nodejs|process)_[a-z0-9_]+/g)) {
        const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(families.has(family), `${name} (in ${text.slice(0, 80)}...) is not a series of /metrics`);
      }
    }
  });

  it('times queries for the observer only: Kysely log events, failed ones, and reads that bypass Kysely', () => {
    const timing = new QueryTiming();
    const heard: [QueryKind, number, boolean][] = [];
    const select = CompiledQuery.raw('select 1');
    timing.log({ level: 'query', query: select, queryDurationMillis: 3 });
    timing.record(select, performance.now(), false);
    assert.equal(timing.observed, false);
    assert.equal(heard.length, 0, 'nothing observed before observe()');
    timing.observe((kind, seconds, failed) => heard.push([kind, seconds, failed]));
    assert.equal(timing.observed, true);
    timing.log({ level: 'query', query: CompiledQuery.raw('commit'), queryDurationMillis: 2 });
    timing.log({ level: 'error', error: new Error('constraint'), query: select, queryDurationMillis: 1 });
    timing.record(select, performance.now() - 5, true);
    assert.deepEqual(heard.slice(0, 2), [['transaction', 0.002, false], ['select', 0.001, true]]);
    const [kind, seconds, failed] = heard[2]!;
    assert.deepEqual([kind, failed], ['select', true], 'a read that bypassed Kysely, failed');
    assert.ok(seconds >= 0.005 && seconds < 1, `its duration from the start given, in seconds: ${seconds}`);
    const metrics = new OpenMamMetrics('1');
    metrics.storeQuery('update', 0.002, true);
    return metrics.scrape().then((text) => {
      const parsed = parseExposition(text);
      assert.equal(valueOf(parsed, 'openmam_store_query_errors_total', { kind: 'update' }), 1);
      assert.equal(valueOf(parsed, 'openmam_store_query_duration_seconds_count', { kind: 'update' }), 1);
    });
  });

  it('refuses a scrape token that is short or not a bearer token, and an invalid metrics port', () => {
    assert.throws(() => loadConfig({}, { OPENMAM_METRICS_TOKEN: 'short' }), /OPENMAM_METRICS_TOKEN must be 16 to 1024 characters/);
    assert.throws(() => loadConfig({}, { OPENMAM_METRICS_TOKEN: 'has a space in it, 1234567890' }), /OPENMAM_METRICS_TOKEN/);
    assert.throws(() => loadConfig({}, { OPENMAM_METRICS_PORT: '70000' }), /OPENMAM_METRICS_PORT must be an integer from 0 to 65535/);
    const config = loadConfig({}, { OPENMAM_METRICS_TOKEN: 'abcdefghijklmnop0123', OPENMAM_METRICS_PORT: '9464' });
    assert.equal(config.metricsToken, 'abcdefghijklmnop0123');
    assert.equal(config.metricsPort, 9464);
    assert.equal(config.metricsHost, '127.0.0.1', 'the separate listener stays on this host by default');
    assert.equal(loadConfig({}, {}).metricsPort, undefined, 'no separate listener by default');
  });
});

metricsEndToEnd('sqlite');
