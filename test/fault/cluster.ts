import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MICROSOFT_EDGE_CLIENT_ID } from '../../src/core/app-protection/app-catalogue.ts';
import pg from 'pg';
import { DevIdentityProvider, stableObjectId, type MintRequest } from '../../src/identity/dev-idp.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/roles.ts';
import { MamClient, MemoryStorage, type MamAction } from '../../packages/client/src/index.ts';
import { DeviceSimulator, type HttpResult, type SessionTranscript, type SimulatorOptions } from '../support/device-simulator.ts';
import { postgresTestUrl, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import { freePort } from '../support/free-port.ts';
import { NO_LOOP_SHEDDING } from '../support/test-node-env.ts';

/**
 * The fault suite's harness (issue 11): `openmam serve` nodes in child processes sharing one public URL (a TCP proxy
 * in front of them, which is also the built-in identity provider's issuer), one data folder and one store; SIGKILL and
 * restart of a node; a proxy that skips a dead node; PostgreSQL connections of this cluster only (application_name)
 * terminated, or the whole PostgreSQL server stopped and started where the machine allows it; clients that fail over
 * or retry; classification of answers (a "try later" per protocol, or a forbidden 5xx); one figures line per fault.
 * Everything listens on and talks to loopback only, and every wait is bounded.
 */

const BIN = fileURLToPath(new URL('../../bin/openmam.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;
export const WIP = '/graph/beta/deviceAppManagement/windowsInformationProtectionPolicies';
export const CONFIGURATIONS = '/graph/beta/deviceManagement/deviceConfigurations';
export const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
export const ALL_USERS = { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' };
export const DEVICE_LOCK = './Vendor/MSFT/Policy/Config/DeviceLock';
export const SCEP_ROOT = './User/Vendor/MSFT/ClientCertificateInstall/SCEP/';
export const MAM_APP = 'com.microsoft.edge';
/** Microsoft Edge's client id: a built-in entry of every tenant's managed app catalogue. */
export { MICROSOFT_EDGE_CLIENT_ID };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------- HTTP

export interface Reply {
  status: number;
  headers: HttpResult['headers'];
  body: string;
  /** The parsed body when it is JSON, else undefined. */
  json: Record<string, unknown> | undefined;
}

/** One HTTPS request on a new connection (so a proxy picks a node per request), bounded in time. */
export function httpsCall(url: string, ca: string, options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Reply> {
  const timeout = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const headers: Record<string, string | number> = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = body === '' ? undefined : JSON.parse(body);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`no answer from ${url} within ${timeout} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A connection-level failure (refused, reset, hang-up, timeout): the request may or may not have been processed. */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || /socket hang up|socket disconnected|no answer from|ECONNRESET|ECONNREFUSED/.test(error.message);
}

/** Runs `attempt` again after a network error, up to `tries` times; counts the retries in `counter`. */
export async function withRetries<T>(attempt: () => Promise<T>, counter: { retries: number }, tries = 4): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries || !isNetworkError(error)) throw error;
      counter.retries += 1;
      await sleep(100 * i);
    }
  }
}

// ------------------------------------------------------------------------------------------------ failover proxy

/**
 * A TCP proxy (TLS passes through): each new connection goes to the next node in turn, skipping a node whose port
 * refuses the connection (a dead node), as a load balancer's health check would.
 */
export class FailoverProxy {
  readonly server: Server;
  /** Connections handed to each backend. */
  readonly connections: number[];
  /** Connections that found no live backend. */
  unrouted = 0;
  #next = 0;
  readonly #sockets = new Set<Socket>();

  constructor(private readonly ports: readonly number[]) {
    this.connections = ports.map(() => 0);
    this.server = createServer((client) => this.#route(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  #route(client: Socket): void {
    this.#sockets.add(client);
    client.once('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    const start = this.#next++;
    const tryBackend = (attempt: number): void => {
      if (attempt >= this.ports.length || client.destroyed) {
        this.unrouted += 1;
        client.destroy();
        return;
      }
      const index = (start + attempt) % this.ports.length;
      const upstream = connect(this.ports[index]!, '127.0.0.1');
      this.#sockets.add(upstream);
      upstream.once('close', () => this.#sockets.delete(upstream));
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        this.connections[index]! += 1;
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => {
        if (!connected) {
          upstream.destroy();
          tryBackend(attempt + 1);
        } else {
          client.destroy();
          upstream.destroy();
        }
      });
      upstream.once('close', () => {
        if (connected) client.destroy();
      });
      client.once('close', () => upstream.destroy());
    };
    tryBackend(0);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// ------------------------------------------------------------------------------------------------------- nodes

/** One `openmam serve` child process on a fixed loopback port (kept across restarts). */
export class ClusterNode {
  #child: ChildProcess | undefined;
  #output = '';
  /** Exits nobody asked for (the node died by itself), with the tail of its output. */
  readonly unexpectedExits: string[] = [];
  #expectingExit = false;

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }
  output(): string {
    return this.#output;
  }

  /** Spawns the node and resolves once it listens; returns the milliseconds it took. */
  async start(): Promise<number> {
    assert.ok(!this.alive, `node ${this.index} is already running`);
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, OPENMAM_RUN_SOURCES: 'true', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#expectingExit = false;
    let output = '';
    const append = (chunk: Buffer): void => {
      output += chunk.toString();
      // Keep the tail only: nodes log every request.
      this.#output = (this.#output + chunk.toString()).slice(-200_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    child.once('exit', (code, signal) => {
      if (!this.#expectingExit) this.unexpectedExits.push(`node ${this.index} exited (code ${String(code)}, signal ${String(signal)}): ${this.#output.slice(-1200)}`);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.index} did not start within ${START_TIMEOUT_MS} ms: ${output.slice(-3000)}`)), START_TIMEOUT_MS);
      const check = (): void => {
        if (output.includes('OpenMAM is running on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${this.index} exited with ${String(code)} while starting: ${output.slice(-3000)}`));
      });
    });
    return Date.now() - started;
  }

  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive) return;
    this.#expectingExit = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, START_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (this.alive) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}


// ----------------------------------------------------------------------------------------------------- cluster

export interface ClusterOptions {
  backend: 'postgres' | 'sqlite';
  /** How many nodes (1 for SQLite). */
  nodes: number;
  /** Extra environment of every node. */
  env?: Record<string, string>;
}

export interface GraphOptions {
  /** A node index to call directly; default: through the proxy. */
  node?: number;
  headers?: Record<string, string>;
  token?: string;
}

/**
 * Nodes behind a failover proxy. The first node starts alone (it creates the TLS certificate, the identity provider's
 * key and the default tenant); the others then share them (simultaneous first start is a fault of its own).
 */
export class Cluster {
  readonly applicationName = `openmam_fault_${randomBytes(4).toString('hex')}`;
  readonly nodes: ClusterNode[] = [];
  publicUrl = '';
  ca = '';
  tenantId = '';
  adminToken = '';
  /** An in-process store on the cluster's database (PostgreSQL only), for checks the API does not show. */
  store: Store | undefined;
  #idp: DevIdentityProvider | undefined;

  private constructor(
    readonly options: ClusterOptions,
    readonly dataDir: string,
    readonly schema: PostgresTestSchema | undefined,
    readonly proxy: FailoverProxy,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-fault-'));
    const schema = options.backend === 'postgres' ? await withPostgresSchema() : undefined;
    const ports: number[] = [];
    for (let i = 0; i < options.nodes; i += 1) ports.push(await freePort());
    const proxy = new FailoverProxy(ports);
    const cluster = new Cluster(options, dataDir, schema, proxy);
    cluster.publicUrl = `https://127.0.0.1:${await proxy.listen()}`;
    const env: Record<string, string> = {
      OPENMAM_DATA_DIR: dataDir,
      OPENMAM_HOST: '127.0.0.1',
      OPENMAM_PUBLIC_URL: cluster.publicUrl,
      OPENMAM_LOG_LEVEL: 'warn',
      ...NO_LOOP_SHEDDING,
      ...options.env,
    };
    if (schema) {
      const url = new URL(schema.url);
      url.searchParams.set('application_name', cluster.applicationName);
      env['OPENMAM_DATABASE_URL'] = url.toString();
    }
    for (let i = 0; i < options.nodes; i += 1) cluster.nodes.push(new ClusterNode(i, ports[i]!, { ...env, OPENMAM_PORT: String(ports[i]) }));
    try {
      await cluster.nodes[0]!.start();
      await Promise.all(cluster.nodes.slice(1).map((node) => node.start()));
      cluster.ca = await readFile(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
      const store = schema ? await openStore(schema.baseUrl, { postgresSchema: schema.schema }) : await openStore(`sqlite:${path.join(dataDir, 'openmam.sqlite')}`);
      const [tenant] = await store.listTenants();
      assert.ok(tenant, 'the first node created the default tenant');
      cluster.tenantId = tenant.id;
      if (schema) cluster.store = store;
      else await store.close();
      cluster.#idp = await DevIdentityProvider.open(dataDir, cluster.publicUrl);
      cluster.adminToken = await cluster.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  mint(request: Partial<MintRequest>): Promise<string> {
    return this.#idp!.mint({ tenantId: this.tenantId, audience: 'api://openmam', expiresInSeconds: 3600, now: Date.now(), ...request });
  }

  userId(upn: string): string {
    return stableObjectId(this.tenantId, upn);
  }

  /** The base URL of node `index`, or of the proxy. */
  urlOf(node?: number): string {
    return node === undefined ? this.publicUrl : this.nodes[node]!.url;
  }

  /** A JSON call (Graph as the admin unless `token` says otherwise), on a new connection. */
  call(method: string, pathname: string, body?: unknown, options: GraphOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? this.adminToken}`, ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return httpsCall(`${this.urlOf(options.node)}${pathname}`, this.ca, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  /** A Graph call that must succeed; its parsed body. */
  async graph(method: string, pathname: string, body?: unknown, options: GraphOptions = {}): Promise<Record<string, unknown>> {
    const reply = await this.call(method, pathname, body, options);
    assert.ok(reply.status >= 200 && reply.status < 300, `${method} ${pathname}: ${reply.status} ${reply.body.slice(0, 500)}`);
    return reply.json ?? {};
  }

  async restartNode(index: number): Promise<number> {
    return this.nodes[index]!.start();
  }

  /** Every exit of a node that the test did not cause. */
  unexpectedExits(): string[] {
    return this.nodes.flatMap((node) => node.unexpectedExits);
  }

  /** Ends every PostgreSQL connection of this cluster's nodes (pg_terminate_backend: no restart privileges needed). */
  async terminateBackends(): Promise<number> {
    assert.ok(this.schema, 'PostgreSQL only');
    return adminClient(async (client) => {
      const result = await client.query<{ n: string }>('select count(pg_terminate_backend(pid))::text as n from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [this.applicationName]);
      return Number(result.rows[0]?.n ?? 0);
    });
  }

  /** How many connections this cluster's nodes hold right now. */
  async backendCount(): Promise<number> {
    return adminClient(async (client) => {
      const result = await client.query<{ n: string }>('select count(*)::text as n from pg_stat_activity where application_name = $1', [this.applicationName]);
      return Number(result.rows[0]?.n ?? 0);
    });
  }

  async close(): Promise<void> {
    // SIGKILL: a graceful stop would wait for the proxy's idle connections, and the data is thrown away anyway.
    await Promise.all(this.nodes.map((node) => node.kill('SIGKILL')));
    await this.proxy.close();
    await this.store?.close().catch(() => undefined);
    await this.schema?.drop().catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }

  // ---- the tenant's content, as an admin and users make it

  /** Creates a policy at `collection` and assigns it to every licensed user; its id. */
  async assignedPolicy(collection: string, body: Record<string, unknown>): Promise<string> {
    const created = await this.call('POST', collection, body);
    assert.equal(created.status, 201, created.body.slice(0, 500));
    const id = String(created.json?.['id']);
    const assigned = await this.call('POST', `${collection}/${id}/assign`, { assignments: [{ target: ALL_USERS }] });
    // 200 with the assignments for a deviceConfiguration, 204 for an app policy (Graph's two assign actions).
    assert.equal(assigned.status, collection.includes('/deviceConfigurations') ? 200 : 204, assigned.body.slice(0, 500));
    return id;
  }

  /** A new enrolled device (its own user); `options` go to the simulator. The device talks to the proxy. */
  async device(options: Partial<SimulatorOptions> & { upn?: string } = {}): Promise<DeviceSimulator> {
    const upn = options.upn ?? `user-${randomUUID().slice(0, 8)}@contoso.example`;
    const token = await this.mint({ upn, deviceId: randomUUID() });
    const device = new DeviceSimulator({ baseUrl: this.publicUrl, ca: this.ca, token, agent: new Agent({ keepAlive: false, ca: this.ca }), ...options });
    await device.enroll();
    return device;
  }

  /** A managed app on @openmam/client for `upn` on device `deviceTag`, over `fetch` (e.g. failoverFetch). */
  app(options: { upn: string; deviceTag: string; fetch: typeof fetch; onWipe?: () => void; actions?: MamAction[] }): MamClient {
    const token = this.mint({ upn: options.upn, clientId: MICROSOFT_EDGE_CLIENT_ID });
    const client = new MamClient({
      serverUrl: this.publicUrl,
      getToken: () => token,
      app: { appId: MAM_APP, appVersion: '120.0.2210.91', sdkVersion: '1.0.0' },
      device: { osVersion: '10.0.22631.3155', deviceName: 'LAPTOP', deviceTag: options.deviceTag },
      storage: new MemoryStorage(),
      fetch: options.fetch,
      onAction: (action) => void options.actions?.push(action),
    });
    if (options.onWipe) client.onWipe(options.onWipe);
    return client;
  }

  /** A Level 2 app protection policy for MAM_APP, assigned to every licensed user. */
  async appProtectionPolicy(): Promise<string> {
    const template = await this.graph('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=10.0.22621.0`);
    const body = Object.fromEntries(Object.entries(template).filter(([name]) => !name.startsWith('@odata')));
    const created = await this.graph('POST', PROTECTIONS, { ...body, displayName: 'Level 2' });
    const id = String(created['id']);
    await this.graph('POST', `${PROTECTIONS}/${id}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: MAM_APP } }] });
    await this.graph('POST', `${PROTECTIONS}/${id}/assign`, { assignments: [{ target: ALL_USERS }] });
    return id;
  }
}

/** A `fetch` for @openmam/client through `cluster`'s proxy: trusts its certificate, retries network errors. */
export function failoverFetch(cluster: Cluster, counter: { retries: number }): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const reply = await withRetries(() => httpsCall(url, cluster.ca, { method: init?.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) }), counter);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(reply.headers)) if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
    const empty = reply.status === 204 || reply.status === 304;
    return new Response(empty ? null : reply.body, { status: reply.status, headers: responseHeaders });
  };
}

// --------------------------------------------------------------------------------------------------- PostgreSQL

async function adminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresTestUrl(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the test PostgreSQL accepts a connection and answers `select 1` right now. */
export async function postgresAccepts(): Promise<boolean> {
  try {
    await adminClient((client) => client.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

/** Polls until PostgreSQL accepts connections; the epoch ms it first did. Throws after `timeoutMs`. */
export async function waitForPostgres(timeoutMs = 60_000, everyMs = 50): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await postgresAccepts()) return Date.now();
    await sleep(everyMs);
  }
  throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms`);
}

/**
 * Why the PostgreSQL server cannot be stopped and started from here (undefined when it can): it takes root and
 * pg_ctlcluster (Debian's wrapper), one cluster named main, and a test server on this machine.
 */
export function postgresRestartSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root: the PostgreSQL restart case is skipped';
  if (!existsSync('/usr/bin/pg_ctlcluster')) return 'pg_ctlcluster not found: the PostgreSQL restart case is skipped';
  const host = new URL(postgresTestUrl()).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return `the test PostgreSQL is on ${host}, not this machine: the restart case is skipped`;
  if (postgresVersion() === undefined) return 'no cluster under /etc/postgresql: the PostgreSQL restart case is skipped';
  return undefined;
}

function postgresVersion(): string | undefined {
  try {
    return readdirSync('/etc/postgresql').sort()[0];
  } catch {
    return undefined;
  }
}

/** `pg_ctlcluster <version> main stop|start` (bounded). Only after postgresRestartSkipReason() said it may. */
export async function pgCtlcluster(action: 'stop' | 'start' | 'restart'): Promise<void> {
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion()!, 'main', action], { timeout: 60_000 });
}

// --------------------------------------------------------------------------------------------- answer checking

export type Surface = 'omadm' | 'enrollment' | 'graph' | 'mam' | 'access';

/**
 * What is wrong with an answer given while the database is away, or undefined when it is the surface's "try later"
 * (503 with Retry-After and the protocol's shape) or a success. `network` answers are the caller's business.
 */
export function tryLaterProblem(surface: Surface, reply: { status: number; headers: HttpResult['headers']; body: string }): string | undefined {
  if (reply.status >= 200 && reply.status < 300 && !(surface === 'enrollment' && /<s:Fault>|:Fault>/.test(reply.body))) return undefined;
  const what = `${surface} answered ${reply.status}`;
  if (reply.status !== 503) return `${what} (not 503): ${reply.body.slice(0, 300)}`;
  const retryAfter = reply.headers['retry-after'];
  if (typeof retryAfter !== 'string' || !/^\s*\d+\s*$/.test(retryAfter)) return `${what} without a Retry-After in seconds (${String(retryAfter)})`;
  if (surface === 'graph') {
    let code: unknown;
    try {
      code = (JSON.parse(reply.body) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    if (code !== 'serviceNotAvailable') return `${what} with error code ${String(code)}, not serviceNotAvailable`;
  }
  if (surface === 'enrollment') {
    if (!/<s:Value>s:EnrollmentServer<\/s:Value>/.test(reply.body.replace(/<(\/?)\w+:Value>/g, '<$1s:Value>'))) return `${what} without the s:EnrollmentServer subcode: ${reply.body.slice(0, 300)}`;
    if (!/<(\w+:)?errortype>\s*InMaintenance\s*<\/(\w+:)?errortype>/i.test(reply.body)) return `${what} without errortype InMaintenance: ${reply.body.slice(0, 300)}`;
  }
  return undefined;
}

/** A 5xx that no fault may produce (503 is the only one allowed, and only while the database is away). */
export const forbidden5xx = (status: number): boolean => status >= 500 && status !== 503;

// ------------------------------------------------------------------------------------------------ convergence

/** The value each desired node must hold on a device (normalised LocURI -> value). */
export type Desired = ReadonlyMap<string, string>;

/** Desired nodes the device lacks or holds with another value, as `LocURI: have -> want`. */
export function missingOn(device: DeviceSimulator, desired: Desired): string[] {
  const problems: string[] = [];
  for (const [locUri, value] of desired) {
    const have = device.nodes.get(locUri);
    if (have?.value !== value) problems.push(`${locUri}: ${have === undefined ? '(absent)' : JSON.stringify(have.value.slice(0, 40))} -> ${JSON.stringify(value.slice(0, 40))}`);
  }
  return problems;
}

/** A session with nothing to do: one message, no commands, header 200. */
export function settled(transcript: SessionTranscript): boolean {
  return transcript.headerStatus === '200' && transcript.messages.length === 1 && transcript.commands.length === 0;
}

/**
 * Syncs until a session has nothing to do, at most `maxSessions` sessions; a session answered with a "try later"
 * (HTTP 503) counts. Returns the number of sessions it took (the settled one included), or undefined if it never
 * settled.
 */
export async function syncUntilSettled(device: DeviceSimulator, maxSessions: number, onSession?: (transcript: SessionTranscript) => void): Promise<number | undefined> {
  for (let i = 1; i <= maxSessions; i += 1) {
    const transcript = await device.sync();
    onSession?.(transcript);
    if (settled(transcript)) return i;
    if (transcript.messages.at(-1)?.status === 503) await sleep(200);
  }
  return undefined;
}

/** Exec commands the device executed (2xx), per LocURI (a SCEP UniqueID names one version of its group). */
export class ExecCounter {
  readonly executed = new Map<string, number>();
  /** For SimulatorOptions.statusFor: counts every Exec the device carries out. */
  readonly statusFor = (command: { verb: string; locUri: string }): string => {
    if (command.verb === 'Exec') this.executed.set(command.locUri, (this.executed.get(command.locUri) ?? 0) + 1);
    return '200';
  };
  total(): number {
    return [...this.executed.values()].reduce((a, b) => a + b, 0);
  }
}

/** The header Status the server gave a device message (SyncHdr, CmdRef 0), or undefined. */
export function headerStatusOf(body: string): string | undefined {
  return /<Status>\s*<CmdID>[^<]*<\/CmdID>\s*<MsgRef>[^<]*<\/MsgRef>\s*<CmdRef>0<\/CmdRef>\s*<Cmd>SyncHdr<\/Cmd>\s*<Data>(\d+)<\/Data>/.exec(body)?.[1];
}

/** Whether a server message carries commands (anything but Status, Results and Final). */
export function carriesCommands(body: string): boolean {
  return /<(Add|Replace|Delete|Exec|Get|Atomic|Sequence|Alert)>/.test(body.replace(/<Status>[\s\S]*?<\/Status>/g, ''));
}

/** How many 2xx Statuses for Exec commands a device message carries (its report of having run them). */
export function execStatusesIn(body: string): number {
  return (body.match(/<Cmd>Exec<\/Cmd>(?:\s*<TargetRef>[^<]*<\/TargetRef>)?\s*<Data>2\d\d<\/Data>/g) ?? []).length;
}


// ----------------------------------------------------------------------------------------------------- figures

export interface Figures {
  devices: number;
  commands: number;
  lost: number;
  duplicated: number;
  /** From the database's (or node's) return to the first 2xx, per node. */
  recoveryMs?: readonly number[];
  [extra: string]: number | string | readonly number[] | undefined;
}

/** One line per fault, greppable: `FAULT <name>: devices=… commands=… lost=… duplicated=… recovery_ms=…`. */
export function printFigures(fault: string, figures: Figures): string {
  const parts = Object.entries(figures)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}=${Array.isArray(value) ? `[${value.join(',')}]` : String(value)}`);
  const line = `FAULT ${fault}: ${parts.join(' ')}`;
  console.log(line);
  return line;
}
