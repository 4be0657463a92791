import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { freePort } from '../support/free-port.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { appTraffic, parseExposition } from './metrics-suite.ts';

/**
 * /metrics, the example alert rules and the Grafana dashboard checked by Prometheus' own tools rather than by our
 * reader of the format (metrics-suite.ts): `promtool check metrics` on a real scrape, `promtool check rules` on
 * docs/prometheus/openmam-alerts.yml, and a real Prometheus server that scrapes a running node over HTTPS with the
 * scrape token, loads the rules, and evaluates every expression of docs/grafana/openmam-dashboard.json and of the
 * rules. Debian's `prometheus` package provides both commands (.ci/run installs it).
 */

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES_FILE = path.join(ROOT, 'docs', 'prometheus', 'openmam-alerts.yml');
const DASHBOARD_FILE = path.join(ROOT, 'docs', 'grafana', 'openmam-dashboard.json');
/** The job name of docs/operations.md's scrape configuration, which the rules may select on (`{job="openmam"}`). */
const JOB = 'openmam';

/** Undefined when both commands are installed, else why the suite is skipped; under CI it throws: CI must never skip. */
function prometheusSkipReason(what: string): string | undefined {
  const missing = [PROMTOOL, PROMETHEUS].filter((file) => !existsSync(file));
  if (missing.length === 0) return undefined;
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`${missing.join(' and ')} missing; CI is set, so ${what} fail instead of skipping (.ci/run installs Debian's prometheus)`);
  }
  return `${missing.join(' and ')} missing: skipping ${what} (apt-get install prometheus)`;
}

/**
 * promtool's lint findings on our exposition that are kept on purpose, exactly as it prints them. prom-client's default
 * Node.js series (src/http/metrics/metrics.ts keeps their standard names, which published Node.js dashboards query)
 * include three gauges named `_total`: the sums over their per-type gauges (`nodejs_active_handles{type}`, ...).
 * The naming practice reserves `_total` for counters (prometheus.io/docs/practices/naming), but renaming them would
 * break those dashboards, and they are prom-client's names, not OpenMAM's. Nothing else may be found.
 */
const ALLOWED_LINT = [
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];
/** promtool's exit status when the input parsed but the linter found problems (cmd/promtool: lintErrorExitCode). */
const LINT_EXIT = 3;

/** Values for the Grafana variables the dashboard uses; the range is a few scrapes of the 1 s interval below. */
function grafanaVariables(instance: string): Record<string, string> {
  return { __rate_interval: '15s', __interval: '15s', __range: '15s', instance, job: JOB };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; query?: string | { query?: string } }[] };
}

/** Every target's expression, rows' nested panels included, with its panel's title. */
function dashboardExpressions(panels: Panel[]): { title: string; expr: string }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ title: panel.title ?? '(untitled)', expr: target.expr }])),
    ...dashboardExpressions(panel.panels ?? []),
  ]);
}

/** `$name`, `${name}` and `[[name]]` replaced as Grafana does; a variable the test has no value for fails. */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, braced?: string, bare?: string, bracketed?: string) => {
    const name = (braced ?? bare ?? bracketed)!;
    const value = values[name];
    assert.ok(value !== undefined, `the dashboard uses the variable ${whole}, which this test has no value for: ${expr}`);
    return value;
  });
}

/**
 * The metric names an expression selects: identifiers that open a label matcher (`name{`) and the names of our
 * prefixes wherever they appear (a bare `nodejs_eventloop_lag_p99_seconds > 0.1`). Prometheus stores a histogram's
 * `_bucket`, `_sum` and `_count` as names of their own, so they are kept as written.
 */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const [, name] of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) names.add(name!);
  for (const [name] of expr.matchAll(/\b(?:openmam|nodejs|process)_[a-zA-Z0-9_]+/g)) names.add(name);
  return [...names];
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

async function waitFor<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>, last: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await attempt().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms. ${last()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

skippableSuite('Prometheus checks /metrics, the alert rules and the Grafana dashboard', { skip: prometheusSkipReason('the Prometheus checks') }, () => {
  const SCRAPE_TOKEN = `scrape-${randomUUID()}`;
  let server: TestServer;
  let work: string;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let prometheusUrl: string;
  let instance: string;
  let scraped: string;
  const devices: DeviceSimulator[] = [];

  const scrape = async (): Promise<string> => {
    const response = await server.request('/metrics', { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } });
    assert.equal(response.status, 200, response.body);
    return response.body;
  };

  /** The metric names Prometheus has stored from the node, and those of a scrape of the node now. */
  const seriesNames = async (): Promise<{ stored: Set<string>; written: Set<string> }> => {
    const stored = await api<string[]>('/api/v1/label/__name__/values');
    return { stored: new Set(stored.data), written: new Set(parseExposition(await scrape()).samples.map((sample) => sample.name)) };
  };

  const api = async <T>(pathname: string, query: Record<string, string> = {}): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${prometheusUrl}${pathname}?${new URLSearchParams(query).toString()}`);
    return (await response.json()) as ApiAnswer<T>;
  };

  before(async () => {
    server = await startTestServer('sqlite', { OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN });
    instance = new URL(server.url).host;
    work = await mkdtemp(path.join(tmpdir(), 'openmam-prometheus-'));
    // Traffic across the surfaces, so that the series the dashboard and the rules name have samples: health, an admin
    // read and a refused one, an unknown path, an enrollment and an OMA-DM session, an app check-in, an access decision.
    const admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    assert.equal((await server.request('/healthz')).status, 200);
    assert.equal((await server.json('GET', '/graph/beta/deviceManagement/deviceConfigurations', admin)).status, 200);
    assert.equal((await server.json('GET', '/graph/beta/deviceManagement/deviceConfigurations', undefined)).status, 401);
    assert.equal((await server.request(`/no/such/path/${randomUUID()}`)).status, 404);
    const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: 'prometheus@contoso.example', deviceId: randomUUID() }) });
    devices.push(device);
    await device.enroll();
    assert.equal((await device.sync()).headerStatus, '200');
    await appTraffic(server, 'prometheus-app@contoso.example');
    // A garbage collection, so that the GC histogram has a series: prom-client writes a kind once one of it was
    // observed. `gc` without starting Node with --expose-gc: the flag set at run time (nodejs.org/api/v8.html,
    // v8.setFlagsFromString), the function then found in a new context.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 50));
    scraped = await scrape();

    // A real Prometheus scraping the node as docs/operations.md says (https, the scrape token from a file), trusting
    // the node's self-signed certificate as its CA, every second; it loads the alert rules and evaluates them every second.
    // The configuration is written as JSON, which YAML reads as is (YAML 1.2 is a superset of JSON).
    const tokenFile = path.join(work, 'scrape-token');
    await writeFile(tokenFile, SCRAPE_TOKEN, { mode: 0o600 });
    const configFile = path.join(work, 'prometheus.yml');
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [RULES_FILE],
      scrape_configs: [
        {
          job_name: JOB,
          scheme: 'https',
          authorization: { type: 'Bearer', credentials_file: tokenFile },
          tls_config: { ca_file: server.config.tlsCertFile },
          static_configs: [{ targets: [instance] }],
        },
      ],
    };
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(PROMETHEUS, [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString('utf8')));
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString('utf8')));
    const exited = (): string => (prometheus?.exitCode === null ? '' : `prometheus exited with ${prometheus?.exitCode}: ${prometheusLog}`);
    await waitFor('prometheus ready', 15_000, async () => {
      assert.equal(exited(), '');
      return (await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined;
    }, () => prometheusLog);
    let lastTarget = '';
    await waitFor('the node scraped and up', 15_000, async () => {
      const targets = await api<{ activeTargets: { health: string; lastError: string; labels: Record<string, string> }[] }>('/api/v1/targets');
      lastTarget = JSON.stringify(targets.data.activeTargets);
      return targets.data.activeTargets.some((t) => t.labels['instance'] === instance && t.health === 'up') ? true : undefined;
    }, () => lastTarget);
    // Three scrapes at least, so that every rate() over the windows above has two samples.
    await waitFor('three scrapes of the node', 15_000, async () => {
      const answer = await api<{ result: unknown[] }>('/api/v1/query', { query: `count_over_time(up{job="${JOB}"}[15s]) >= 3` });
      return answer.data.result.length === 1 ? true : undefined;
    });
  });

  after(async () => {
    for (const device of devices) device.close();
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const child = prometheus;
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    await server?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('promtool check metrics takes a real scrape: no parse error, and no lint finding but the allowed ones', async () => {
    assert.ok(parseExposition(scraped).types.has('openmam_http_requests_total'), 'a scrape of the node');
    const { code, stdout, stderr } = await run(PROMTOOL, ['check', 'metrics'], scraped);
    const findings = `${stdout}${stderr}`.split('\n').filter((line) => line.trim() !== '').sort();
    assert.deepEqual(findings, ALLOWED_LINT, 'promtool finds only the allowed lint problems');
    assert.equal(code, findings.length === 0 ? 0 : LINT_EXIT, 'a lint exit, not a parse failure');
  });

  it('promtool check rules takes docs/prometheus/openmam-alerts.yml, with every lint', async () => {
    const { code, stdout, stderr } = await run(PROMTOOL, ['check', 'rules', '--lint=all', '--lint-fatal', RULES_FILE]);
    assert.equal(code, 0, `${stdout}${stderr}`);
    assert.match(stdout, /SUCCESS: \d+ rules found/);
  });

  it('Prometheus loads every alert rule and evaluates each without an error', async () => {
    const checked = await run(PROMTOOL, ['check', 'rules', RULES_FILE]);
    const count = Number(/SUCCESS: (\d+) rules found/.exec(checked.stdout)?.[1]);
    type Rule = { name: string; query: string; type: string; health: string; lastError?: string; lastEvaluation: string };
    let rules: Rule[] = [];
    // Evaluated once at least: a rule not yet evaluated has health "unknown".
    await waitFor('every rule evaluated', 10_000, async () => {
      const answer = await api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules');
      rules = answer.data.groups.flatMap((group) => group.rules);
      return rules.length === count && rules.every((rule) => rule.health !== 'unknown') ? true : undefined;
    }, () => JSON.stringify(rules));
    assert.ok(count >= 5, `the rules file has its rules (${count})`);
    for (const rule of rules) {
      assert.equal(rule.type, 'alerting', rule.name);
      assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
      const answer = await api<unknown>('/api/v1/query', { query: rule.query });
      assert.equal(answer.status, 'success', `${rule.name}: ${answer.error ?? ''} in ${rule.query}`);
    }
    const { stored, written } = await seriesNames();
    for (const rule of rules) {
      for (const name of metricNames(rule.query)) {
        assert.ok(written.has(name), `${rule.name} names ${name}, a series the node does not write`);
        assert.ok(stored.has(name), `${rule.name} names ${name}, which Prometheus did not store from the node`);
      }
    }
  });

  it('Prometheus answers every expression of the Grafana dashboard, each naming only series the node writes', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as Dashboard;
    const values = grafanaVariables(instance);
    const expressions = dashboardExpressions(dashboard.panels);
    assert.ok(expressions.length >= 15, 'the dashboard has its panels');
    const { stored, written } = await seriesNames();
    const empty: string[] = [];
    for (const { title, expr } of expressions) {
      const query = substitute(expr, values);
      const answer = await api<{ result: unknown[] }>('/api/v1/query', { query });
      assert.equal(answer.status, 'success', `${title}: ${answer.errorType ?? ''} ${answer.error ?? ''} in ${query}`);
      if (answer.data.result.length === 0) empty.push(title);
      for (const name of metricNames(query)) {
        assert.ok(written.has(name), `the panel "${title}" names ${name}, a series the node does not write`);
        assert.ok(stored.has(name), `the panel "${title}" names ${name}, which Prometheus did not store from the node`);
      }
    }
    // With the traffic above every panel has data, but the 5xx ratio: no request failed.
    assert.deepEqual(empty, ['5xx ratio by surface'], 'the panels without data');
    // The variable's own query (Grafana's label_values(metric, label), which it asks of the label values API).
    for (const variable of dashboard.templating?.list ?? []) {
      const text = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      const labelValues = text === undefined ? null : /^label_values\((.+),\s*(\w+)\)$/.exec(text);
      if (labelValues === null) continue;
      const answer = await api<string[]>(`/api/v1/label/${labelValues[2]!}/values`, { 'match[]': labelValues[1]! });
      assert.equal(answer.status, 'success', `${variable.name}: ${answer.error ?? ''}`);
      assert.ok(answer.data.includes(instance), `the variable ${variable.name} offers the node (${JSON.stringify(answer.data)})`);
    }
  });
});
