import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DEV_CLIENT_ID } from '../src/identity/dev-idp.ts';
import { openStore } from '../src/store/open-store.ts';
import { DeviceSimulator } from './support/device-simulator.ts';
import { httpsRequest, type HttpsResponse } from './support/https-client.ts';
import { NO_LOOP_SHEDDING } from './support/test-node-env.ts';

/** `bin/openmam.js` run as a user runs it: a child process with settings in OPENMAM_* variables. */
const BIN = fileURLToPath(new URL('../bin/openmam.js', import.meta.url));
const WAIT_MS = 20_000;
const DISCOVERY_NS = 'http://schemas.microsoft.com/windows/management/2012/01/enrollment';
const DISCOVER_BODY = (await readFile(new URL('./fixtures/mde2/discover.xml', import.meta.url), 'utf8')).replaceAll('{{DISCOVERY_NS}}', DISCOVERY_NS);
const JWT_LINE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/;

const children = new Set<ChildProcess>();
const dataDirs: string[] = [];

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.notEqual(port, 8443);
  return port;
}

async function newEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-cli-'));
  dataDirs.push(dataDir);
  return {
    OPENMAM_DATA_DIR: dataDir,
    OPENMAM_PORT: String(await freePort()),
    OPENMAM_HOST: '127.0.0.1',
    OPENMAM_LOG_LEVEL: 'debug', // debug logs "incoming request", which the shutdown test waits for
    ...overrides,
  };
}

/** A running `openmam` process with its output so far. */
interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (a signal name if killed by one); rejects after WAIT_MS. */
  exited: () => Promise<number | string>;
  /** Resolves once the stream's output matches; rejects after WAIT_MS or if the process exits first. */
  waitFor: (stream: 'stdout' | 'stderr', pattern: RegExp) => Promise<void>;
}

/** `what` is called when time is up, so it can describe the output seen by then. */
function withTimeout<T>(promise: Promise<T>, what: string | (() => string), ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function start(args: string[], env: Record<string, string>): Child {
  // Only what the CLI needs from the parent: no stray OPENMAM_* setting of the developer's shell leaks in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OPENMAM_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...inherited, OPENMAM_RUN_SOURCES: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const describeOutput = (): string => `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => withTimeout(exit, () => `openmam ${args.join(' ')} to exit${describeOutput()}`),
    waitFor: (stream, pattern) =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (pattern.test(stream === 'stdout' ? stdout : stderr)) resolve();
          };
          child[stream]!.on('data', check);
          void exit.then((code) => reject(new Error(`openmam ${args.join(' ')} exited (${code}) before ${stream} matched ${pattern}${describeOutput()}`)));
          check();
        }),
        () => `${stream} to match ${pattern}${describeOutput()}`,
      ),
  };
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = start(args, env);
  const code = await child.exited();
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

async function mint(args: string[], env: Record<string, string>): Promise<string> {
  const result = await run(['token', ...args], env);
  assert.equal(result.code, 0, `openmam token failed: ${result.stderr}`);
  assert.match(result.stdout, JWT_LINE, 'stdout must be exactly one line holding a JWT');
  return result.stdout.trim();
}

describe('openmam token', () => {
  let env: Record<string, string>;
  const deviceId = randomUUID();

  before(async () => {
    env = await newEnv();
    // An installation to mint for: its database exists (as after the server's first start, or `openmam tenant add`).
    await (await openStore(`sqlite:${path.join(env['OPENMAM_DATA_DIR']!, 'openmam.sqlite')}`)).close();
  });

  it('refuses where there is no installation, and creates nothing there (no database file, no signing key); so do the read-only commands', async () => {
    const empty = await newEnv();
    for (const args of [['token'], ['token', '--tenant', randomUUID()], ['tenant', 'list'], ['device', 'show', 'AB'.repeat(16)]]) {
      const result = await run(args, empty);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, `openmam: no database at ${path.join(empty['OPENMAM_DATA_DIR']!, 'openmam.sqlite')}: start the server once (openmam serve), or give this command the server's settings (OPENMAM_DATA_DIR, OPENMAM_DATABASE_URL)\n`);
      assert.deepEqual(await readdir(empty['OPENMAM_DATA_DIR']!), [], `${args.join(' ')}: the data folder stays empty`);
    }
  });

  it('prints one JWT with the requested claims and nothing else', async () => {
    const token = await mint(['--upn', 'a@contoso.example', '--device-id', deviceId, '--groups', 'g1,g2', '--roles', 'OpenMAM.Admin', '--expires-in', '10m'], env);
    const claims = decodeJwt(token);
    assert.equal(claims['upn'], 'a@contoso.example');
    assert.equal(claims['deviceid'], deviceId);
    assert.deepEqual(claims['groups'], ['g1', 'g2']);
    assert.deepEqual(claims['roles'], ['OpenMAM.Admin']);
    assert.equal(claims.aud, 'api://openmam');
    assert.equal(claims.exp! - claims.iat!, 600);
    const tenantId = claims['tid'];
    assert.equal(typeof tenantId, 'string');
    assert.match(String(tenantId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(claims.iss, `https://localhost:${env['OPENMAM_PORT']}/idp/${String(tenantId)}/v2.0`);

    const list = await run(['tenant', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${String(tenantId)}\\tbuiltin\\tenrollment allowed\\tDefault tenant$`, 'm'), 'tid is the default tenant');
  });

  it('reuses the default tenant and the signing key, and honours --audience', async () => {
    const first = await mint(['--upn', 'a@contoso.example'], env);
    const second = await mint(['--upn', 'b@contoso.example', '--audience', 'api://other'], env);
    assert.equal(decodeJwt(second)['tid'], decodeJwt(first)['tid']);
    assert.equal(decodeProtectedHeader(second).kid, decodeProtectedHeader(first).kid);
    assert.equal(decodeJwt(first).aud, 'api://openmam');
    assert.equal(decodeJwt(second).aud, 'api://other');
    assert.equal(decodeJwt(first).exp! - decodeJwt(first).iat!, 3600, 'one hour by default');
  });

  it('names the client application with --client-app (azp), a development client otherwise', async () => {
    const edge = await mint(['--upn', 'a@contoso.example', '--client-app', 'ECD6B820-32C2-49B6-98A6-444530E5A77A'], env);
    assert.equal(decodeJwt(edge)['azp'], 'ecd6b820-32c2-49b6-98a6-444530e5a77a');
    const plain = await mint(['--upn', 'a@contoso.example'], env);
    assert.equal(decodeJwt(plain)['azp'], DEV_CLIENT_ID);
    const bad = await run(['token', '--client-app', 'edge'], env);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /--client-app must be an application id \(GUID\)/);
  });

  it('fails for a tenant that is not onboarded', async () => {
    const tenant = randomUUID();
    const result = await run(['token', '--tenant', tenant], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^openmam: tenant ${tenant} is not onboarded`));
  });

  it('fails for a lifetime it cannot read', async () => {
    const result = await run(['token', '--expires-in', 'nonsense'], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^openmam: --expires-in: .*"nonsense"/);
  });
});

describe('openmam tenant', () => {
  let env: Record<string, string>;

  before(async () => {
    env = await newEnv();
  });

  it('onboards a tenant that tenant list then shows', async () => {
    const id = randomUUID();
    const added = await run(['tenant', 'add', '--id', id, '--name', 'Contoso', '--idp', 'entra'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, '');
    assert.match(added.stderr, new RegExp(`Onboarded tenant ${id} \\(Contoso, entra\\)`));

    const list = await run(['tenant', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id}\\tentra\\tenrollment allowed\\tContoso$`, 'm'));
  });

  it('turns health attestation on with an on-premises service, refusing a URL that is not https://host[:port]', async () => {
    const id = randomUUID();
    assert.equal((await run(['tenant', 'add', '--id', id, '--name', 'Contoso', '--idp', 'entra'], env)).code, 0);
    const set = await run(['tenant', 'set', id, '--health-attestation', 'on', '--dha-url', 'https://dha.contoso.example:8443'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /health attestation on \(https:\/\/dha\.contoso\.example:8443\)/);
    const refused = await run(['tenant', 'set', id, '--dha-url', 'http://dha.contoso.example'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /healthAttestation\.serviceUrl: must use https/);
    const microsoft = await run(['tenant', 'set', id, '--dha-url', 'microsoft'], env);
    assert.match(microsoft.stderr, /health attestation on \(Microsoft's DHA service\)/);
  });

  it('refuses a value a flag does not take, and changes nothing (`--enrollment allow` once blocked the tenant and exited 0)', async () => {
    const id = randomUUID();
    assert.equal((await run(['tenant', 'add', '--id', id, '--name', 'Contoso', '--idp', 'entra'], env)).code, 0);
    for (const [flag, word, allowed] of [
      ['--enrollment', 'allow', /--enrollment: allowed or blocked, not "allow"/],
      ['--require-terms', 'yes', /--require-terms: true or false, not "yes"/],
      ['--secure-by-default', 'maybe', /--secure-by-default: true, false or unset, not "maybe"/],
      ['--health-attestation', 'enabled', /--health-attestation: on or off, not "enabled"/],
    ] as const) {
      const refused = await run(['tenant', 'set', id, flag, word], env);
      assert.equal(refused.code, 1, `${flag} ${word}: ${refused.stderr}`);
      assert.match(refused.stderr, allowed);
    }
    const list = await run(['tenant', 'list'], env);
    assert.match(list.stdout, new RegExp(`^${id}\\tentra\\tenrollment allowed\\tContoso$`, 'm'), 'nothing was written');
    const blocked = await run(['tenant', 'set', id, '--enrollment', 'blocked', '--require-terms', 'true'], env);
    assert.equal(blocked.code, 0, blocked.stderr);
    assert.match(blocked.stderr, /enrollment blocked, terms of use required/);
  });

  it('sets how long audit events are kept (30 to 3650 days), refusing other values', async () => {
    const id = randomUUID();
    assert.equal((await run(['tenant', 'add', '--id', id, '--name', 'Contoso', '--idp', 'entra'], env)).code, 0);
    const refused = await run(['tenant', 'set', id, '--audit-retention-days', '10'], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /auditEventRetentionDays: /);
    const words = await run(['tenant', 'set', id, '--audit-retention-days', 'year'], env);
    assert.equal(words.code, 1, words.stderr);
    assert.match(words.stderr, /--audit-retention-days: days, a whole number from 30 to 3650/);
    const set = await run(['tenant', 'set', id, '--audit-retention-days', '90'], env);
    assert.equal(set.code, 0, set.stderr);
  });

  it('--version prints the release on stdout', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await run(['--version'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `openmam ${manifest.version}\n`);
  });

  it('refuses a tenant id that is not a GUID', async () => {
    const result = await run(['tenant', 'add', '--id', 'contoso', '--name', 'Contoso', '--idp', 'entra'], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^openmam: tenant id must be a GUID/);
  });

  it('sets the stale-device retire limit, refusing one out of range by the field', async () => {
    const id = randomUUID();
    assert.equal((await run(['tenant', 'add', '--id', id, '--name', 'Fabrikam', '--idp', 'entra'], env)).code, 0);
    const refused = await run(['tenant', 'set', id, '--stale-retire-days', '10'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /staleDeviceRetireAfterDays: must be between 30 and 270/);
    const set = await run(['tenant', 'set', id, '--stale-retire-days', '90'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await run(['tenant', 'set', id, '--stale-retire-days', 'off'], env)).code, 0);
  });
});

describe('openmam serve', () => {
  const SCRAPE_TOKEN = `scrape-${randomUUID()}`;
  let env: Record<string, string>;
  let server: Child;
  let ca: string;
  let base: string;

  before(async () => {
    // With the separate metrics listener: the shutdown test below then also proves serve() closes it.
    env = await newEnv({ OPENMAM_METRICS_PORT: String(await freePort()), OPENMAM_METRICS_TOKEN: SCRAPE_TOKEN, ...NO_LOOP_SHEDDING });
    server = start(['serve'], env);
    await server.waitFor('stderr', /OpenMAM is running on [\s\S]*default tenant id: /);
    ca = await readFile(path.join(env['OPENMAM_DATA_DIR']!, 'tls', 'cert.pem'), 'utf8');
    base = `https://127.0.0.1:${env['OPENMAM_PORT']}`;
  });

  after(() => {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  });

  const get = (pathname: string): Promise<HttpsResponse> => withTimeout(httpsRequest(`${base}${pathname}`, { ca }), `GET ${pathname}`);

  it('answers /healthz over HTTPS with the generated certificate', async () => {
    assert.match(server.stderr(), new RegExp(`OpenMAM is running on https://localhost:${env['OPENMAM_PORT']}\\n`));
    const response = await get('/healthz');
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(JSON.parse(response.body), { status: 'ok', version: '0.1.0', database: 'ok' });
  });

  it('serves /metrics on the separate plain-HTTP listener to the scrape token (OPENMAM_METRICS_PORT)', async () => {
    const url = `http://127.0.0.1:${env['OPENMAM_METRICS_PORT']}/metrics`;
    assert.equal((await withTimeout(fetch(url), 'GET /metrics anonymously')).status, 401);
    const scraped = await withTimeout(fetch(url, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } }), 'GET /metrics');
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^openmam_build_info\{version="0\.1\.0"\} 1$/m);
    assert.equal((await get('/metrics')).status, 401, 'the public port refuses an anonymous scrape');
  });

  it('publishes the issuer of the tokens `openmam token` mints from the same data folder', async () => {
    const claims = decodeJwt(await mint(['--upn', 'alex@contoso.example'], env));
    const tenantId = String(claims['tid']);
    assert.match(server.stderr(), new RegExp(`default tenant id: +${tenantId} `), 'the token is for the tenant the banner names');
    const response = await get(`/idp/${tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(response.status, 200, response.body);
    const discovery = JSON.parse(response.body) as { issuer: string; jwks_uri: string };
    assert.equal(discovery.issuer, claims.iss);
  });

  it('shows a device, and keeps and prints its raw messages on request (openmam device)', async () => {
    const token = await mint(['--upn', 'device-owner@contoso.example', '--device-id', randomUUID()], env);
    const device = new DeviceSimulator({ baseUrl: base, ca, token });
    try {
      await withTimeout(device.enroll(), 'enroll');
      const log = await run(['device', 'log', device.devId, '--for', '1h'], env);
      assert.equal(log.code, 0, log.stderr);
      await withTimeout(device.sync(), 'sync');
      const show = await run(['device', 'show', device.devId], env);
      assert.equal(show.code, 0, show.stderr);
      const shown = JSON.parse(show.stdout) as { enrollment: { devId: string; upn: string }; inventory: { locUri: string }[] };
      assert.equal(shown.enrollment.devId, device.devId);
      assert.equal(shown.enrollment.upn, 'device-owner@contoso.example');
      assert.ok(shown.inventory.some((v) => v.locUri === './Vendor/MSFT/DeviceStatus/OS/Edition'));
      const messages = await run(['device', 'messages', device.devId, '--limit', '4'], env);
      assert.equal(messages.code, 0, messages.stderr);
      assert.match(messages.stdout, /device -> server\n<SyncML/);
      assert.match(messages.stdout, /server -> device\n<SyncML/);
      const unknown = await run(['device', 'show', 'NO-SUCH-DEVICE'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no active enrollment/);
    } finally {
      device.close();
    }
  });

  it('finishes an in-flight request on SIGTERM, then exits 0 with the database closed', async () => {
    const body = Buffer.from(DISCOVER_BODY, 'utf8');
    const half = Math.floor(body.length / 2);
    let sent: () => void = () => {};
    const headersSent = new Promise<void>((resolve) => (sent = resolve));
    const req = request(`${base}/EnrollmentServer/Discovery.svc`, {
      method: 'POST',
      ca,
      headers: { 'content-type': 'application/soap+xml; charset=utf-8', 'content-length': String(body.length) },
    });
    const response = new Promise<HttpsResponse>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    req.write(body.subarray(0, half), () => sent());
    await withTimeout(headersSent, 'the first half of the body to be written');
    // The server has read the headers and started the request (fastify logs it) before it is told to stop.
    await server.waitFor('stdout', /"msg":"incoming request"[^\n]*"url":"\/EnrollmentServer\/Discovery\.svc"|"url":"\/EnrollmentServer\/Discovery\.svc"[^\n]*"msg":"incoming request"/);

    server.process.kill('SIGTERM');
    await delay(100);
    // A second signal while stopping must change nothing (no default action killing the process).
    server.process.kill('SIGTERM');
    await delay(100);
    assert.equal(server.process.exitCode, null, 'the server must wait for the in-flight request');
    assert.equal(server.process.signalCode, null, 'the server must not die of the second SIGTERM');
    req.end(body.subarray(half));

    const result = await withTimeout(response, 'the in-flight Discover response');
    assert.equal(result.status, 200, result.body);
    assert.match(String(result.headers['content-type']), /^application\/soap\+xml/);
    assert.match(result.body, /^<s:Envelope [\s\S]*<DiscoverResponse [\s\S]*<\/s:Envelope>$/);
    assert.match(result.body, /<EnrollmentServiceUrl>https:\/\/localhost:\d+\/EnrollmentServer\/Enrollment\.svc<\/EnrollmentServiceUrl>/);
    // Else this keep-alive client would hold the stopping server open until its idle socket times out.
    assert.equal(result.headers['connection'], 'close', 'a response sent while stopping closes its connection');

    assert.equal(await server.exited(), 0, `exit code${server.stderr()}`);
    const log = server
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { msg?: string; level?: number });
    const messages = log.map((entry) => entry.msg);
    assert.ok(messages.includes('shutting down: finishing in-flight requests'), `log: ${server.stdout()}`);
    assert.ok(messages.includes('stopped; database closed'), `log: ${server.stdout()}`);
    assert.equal(log.filter((entry) => (entry.level ?? 0) >= 50).length, 0, `no error in the log: ${server.stdout()}`);
    assert.doesNotMatch(server.stderr(), /Error|uncaught|unhandled/i);
  });
});

describe('openmam serve that cannot start', () => {
  it('says why in one line: PostgreSQL refusing the connection', async () => {
    const port = await freePort();
    const result = await run(['serve'], await newEnv({ OPENMAM_DATABASE_URL: `postgres://openmam:secret@127.0.0.1:${port}/openmam`, OPENMAM_DATABASE_WAIT: '0' }));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `openmam: PostgreSQL at 127.0.0.1:${port} refused the connection (ECONNREFUSED): start it, or check OPENMAM_DATABASE_URL (host and port); OPENMAM_DATABASE_WAIT sets how long a start waits for it\n`,
    );
  });
});

describe('openmam serve with an invalid setting', () => {
  it('exits 1 naming the setting', async () => {
    const result = await run(['serve'], await newEnv({ OPENMAM_PORT: 'abc' }));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /OPENMAM_PORT/);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
