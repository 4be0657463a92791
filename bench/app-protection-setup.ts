/**
 * What the app protection benchmarks (checkin.bench.ts, access.bench.ts) share: the two servers in child processes,
 * a small HTTPS JSON client, server CPU from /proc, and the tenant a benchmark runs against, set up the way an admin
 * and real apps would, over HTTPS on the OpenMAM server:
 *   - a group with USERS members (Graph `groups/{id}/members/$ref`);
 *   - a Level 2 app protection policy (the data protection framework template, minimum OS build below the apps'),
 *     targeting one app (`com.microsoft.edge`) and assigned to the group;
 *   - an app configuration policy for the same app and group (three custom settings, one with a value token, so
 *     each user's configuration version is their own);
 *   - a threat defense connector (turned on for Windows MAM): Level 2 asks for a threat level of at most `low`;
 *   - optionally a conditional access policy: resource `exchange` needs a compliant application, for the group;
 *   - each user's app registered (its own deviceTag and Entra device), a `secured` threat report for each device,
 *     then one check-in that confirms the policy and configuration versions it got (the registration is then
 *     compliant, its policy applied): from there on each check-in is a steady one.
 * Every user has a distinct token (minted by the built-in identity provider in the same data folder).
 */
import { MICROSOFT_EDGE_CLIENT_ID } from '../src/core/app-protection/app-catalogue.ts';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { loadConfig, type Config } from '../src/config.ts';
import { DevIdentityProvider, fetchWithDevIdp, stableObjectId } from '../src/identity/dev-idp.ts';
import { TokenValidator } from '../src/identity/token-validator.ts';
import type { Runtime } from '../src/main.ts';
import { benchDatabaseEnv } from './bench-store.ts';
import { startChildServer, stopChild } from './child-server.ts';

export const APP_ID = 'com.microsoft.edge';
export const APP_VERSION = '120.0.2210.91';
export const SDK_VERSION = '1.0.0';
export const OS_VERSION = '10.0.22631.3155';
/** Level 2's minimum OS build: below the apps' own, so the health check runs and passes. */
const MINIMUM_OS_VERSION = '10.0.22621.0';
export const RESOURCE = 'exchange';
export const PROTECTIONS = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const CONFIGURATIONS = '/graph/beta/deviceAppManagement/targetedManagedAppConfigurations';
/** Parallel requests while preparing. */
const PREPARE_CONCURRENCY = 16;

export interface Child {
  process: ChildProcess;
  info: { port: number; pid: number; tenantId?: string };
}

/** Server processes not stopped yet: a failed run stops them too, rather than leaving them behind. */
const running = new Set<ChildProcess>();

export async function startServer(kind: 'openmam', dataDir: string): Promise<Child>;
export async function startServer(kind: 'baseline', dataDir: string, route: string, reply: string): Promise<Child>;
export async function startServer(kind: 'openmam' | 'baseline', dataDir: string, route?: string, reply?: string): Promise<Child> {
  const args = kind === 'openmam' ? [kind, dataDir] : [kind, dataDir, route!, Buffer.from(reply!, 'utf8').toString('base64')];
  const child = await startChildServer<Child['info']>(new URL('./app-protection-servers.ts', import.meta.url), args);
  running.add(child.process);
  child.process.once('exit', () => running.delete(child.process));
  return child;
}

export const stopServer = (server: Child): Promise<void> => stopChild(server.process);
export const stopAll = (): Promise<unknown> => Promise.all([...running].map(stopChild));

/** CPU seconds (user + system) a process has used so far; /proc/<pid>/stat counts in clock ticks (USER_HZ, 100/s). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `run`'s result, and the cores (CPU seconds per second of its `elapsedSeconds`) process `pid` used meanwhile. */
export async function withServerCores<T extends { elapsedSeconds: number }>(pid: number, run: () => Promise<T>): Promise<{ run: T; serverCores: number }> {
  const cpuBefore = await cpuSecondsOf(pid);
  const result = await run();
  return { run: result, serverCores: ((await cpuSecondsOf(pid)) - cpuBefore) / result.elapsedSeconds };
}

/** The configuration of a benchmark's data folder (the one the child server uses; its store: bench/bench-store.ts). */
export function benchConfig(dataDir: string): Config {
  return loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443', ...benchDatabaseEnv() });
}

/** The same validator the server builds (src/app.ts), to turn tokens into identities in-process as a request would. */
export function serverTokenValidator(runtime: Runtime, config: Config): TokenValidator {
  return new TokenValidator({
    tenants: runtime.app.tenants,
    audiences: [config.appIdUri],
    entraAuthority: config.entraAuthority,
    devIdp: runtime.devIdp,
    fetch: fetchWithDevIdp(runtime.devIdp, (url, init) => fetch(url, init)),
    clock: Date.now,
    clockSkewSeconds: config.tokenClockSkewSeconds,
  });
}

export interface JsonResponse {
  status: number;
  text: string;
  /** The parsed body; undefined when empty or not JSON. */
  json: Record<string, unknown> | undefined;
}

/** A plain HTTPS JSON client (keep-alive), for preparing and for replaying sample requests outside the load. */
export class JsonClient {
  readonly #agent: Agent;

  constructor(
    private readonly port: number,
    private readonly ca: string,
    concurrency = PREPARE_CONCURRENCY,
  ) {
    this.#agent = new Agent({ keepAlive: true, ca, maxSockets: concurrency });
  }

  call(method: string, path: string, body: unknown, token: string): Promise<JsonResponse> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (text !== undefined) headers['content-type'] = 'application/json';
    return this.raw(method, path, text, headers);
  }

  async raw(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<JsonResponse> {
    try {
      return await this.#send(method, path, body, headers);
    } catch (error) {
      // A kept-alive socket the server closed meanwhile: send once more on a new one (Node's documented pattern).
      if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') return this.#send(method, path, body, headers);
      throw error;
    }
  }

  #send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.#agent, ca: this.ca }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            // JSON when the server says so; other bodies (Prometheus text at /metrics) are read from `text`.
            const json = text !== '' && /json/i.test(String(response.headers['content-type'])) ? (JSON.parse(text) as Record<string, unknown>) : undefined;
            resolve({ status: response.statusCode ?? 0, text, json });
          } catch (error) {
            reject(new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`, { cause: error }));
          }
        });
        response.on('error', reject);
      });
      request.on('error', (error) => reject(Object.assign(error, { reusedSocket: request.reusedSocket })));
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

export interface BenchUser {
  upn: string;
  objectId: string;
  /** The user's Edge token for OpenMAM (registration, check-ins). */
  token: string;
  /** The same user's Edge token for the protected resource (what a gateway passes on for a decision). */
  resourceToken: string;
  deviceTag: string;
  azureAdDeviceId: string;
  registrationId: string;
  /** The configuration version this user's app holds (value tokens make it the user's own). */
  configurationVersion: string;
}

export interface PreparedTenant {
  tenantId: string;
  users: BenchUser[];
  groupId: string;
  policyId: string;
  /** `{id}:{version}`: what the apps hold. */
  policyVersion: string;
  adminToken: string;
  connectorToken: string;
  gatewayToken: string;
  /** The OpenMAM reply to a steady check-in (exact bytes), for the baseline's fixed reply. */
  steadyReply: string;
  seconds: number;
}

export interface PrepareOptions {
  dataDir: string;
  config: Config;
  client: JsonClient;
  tenantId: string;
  users: number;
  /** Also create the conditional access policy (resource `exchange`, compliantApplication, the group). */
  accessPolicy: boolean;
  log: (line: string) => void;
}

/** The body of a check-in of an app that holds `policyVersion` and `configurationVersion`. */
export function checkInBody(policyVersion: string | null, configurationVersion: string | null): string {
  return JSON.stringify({ appVersion: APP_VERSION, sdkVersion: SDK_VERSION, osVersion: OS_VERSION, policyVersion, configurationVersion, healthCheckFailures: [] });
}

export const checkInPath = (user: Pick<BenchUser, 'registrationId'>): string => `/mam/v1/registrations/${user.registrationId}/checkin`;

/** Why a reply is not a steady check-in's (200, no policy, no configuration, no action, compliant); undefined when it is. */
export function steadyProblem(status: number, text: string): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  const body = parseObject(text);
  if (body === undefined) return 'the reply is not a JSON object';
  if ('policy' in body) return 'the reply carries the policy';
  if ('configuration' in body) return 'the reply carries the configuration';
  if (!Array.isArray(body['actions']) || body['actions'].length > 0) return `actions ${JSON.stringify(body['actions'])}`;
  if (body['complianceState'] !== 'compliant') return `complianceState ${String(body['complianceState'])}`;
  if (body['nextCheckInSeconds'] !== 1800) return `nextCheckInSeconds ${String(body['nextCheckInSeconds'])}`;
  return undefined;
}

/** The JSON object in `text`; undefined when it is not one. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function expect(response: JsonResponse, status: number, what: string): Record<string, unknown> {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} (expected ${status}): ${response.text.slice(0, 500)}`);
  return response.json ?? {};
}

export async function prepareTenant(options: PrepareOptions): Promise<PreparedTenant> {
  const { config, client, tenantId, log } = options;
  const started = Date.now();
  const idp = await DevIdentityProvider.open(options.dataDir, config.publicUrl);
  const now = Date.now();
  const mint = (upn: string, extra: { roles?: string[]; deviceId?: string; clientId?: string; audience?: string } = {}): Promise<string> =>
    idp.mint({ tenantId, upn, audience: config.appIdUri, expiresInSeconds: 4 * 3600, now, ...extra });
  const adminToken = await mint('admin@contoso.example', { roles: ['OpenMAM.Admin'] });
  const connectorToken = await mint('wsc-connector@contoso.example', { roles: ['OpenMAM.ThreatConnector'] });
  const gatewayToken = await mint('gateway@contoso.example', { roles: ['OpenMAM.Gateway'] });
  const admin = (method: string, path: string, body?: unknown): Promise<JsonResponse> => client.call(method, path, body, adminToken);

  log(`preparing ${options.users} users: tokens, group, Level 2 policy, app configuration, threat connector${options.accessPolicy ? ', access policy' : ''}...`);
  const people = await Promise.all(
    Array.from({ length: options.users }, async (_, i) => {
      const upn = `user${i}@contoso.example`;
      const azureAdDeviceId = randomUUID();
      // Microsoft Edge's tokens (a built-in catalogue entry), on an Entra-registered device (deviceid).
      const edge = { deviceId: azureAdDeviceId, clientId: MICROSOFT_EDGE_CLIENT_ID };
      const [token, resourceToken] = await Promise.all([mint(upn, edge), mint(upn, { ...edge, audience: RESOURCE })]);
      return { upn, objectId: stableObjectId(tenantId, upn), azureAdDeviceId, deviceTag: randomUUID(), token, resourceToken };
    }),
  );

  const groupId = String(expect(await admin('POST', '/graph/v1.0/groups', { displayName: 'Windows MAM users' }), 201, 'create the group')['id']);
  await pool(people, PREPARE_CONCURRENCY, async (person) => {
    const reference = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${person.objectId}` };
    expect(await admin('POST', `/graph/v1.0/groups/${groupId}/members/$ref`, reference), 204, `add ${person.upn} to the group`);
  });

  const template = expect(await admin('GET', `${PROTECTIONS}/templates/level2?minimumOsVersion=${MINIMUM_OS_VERSION}`), 200, 'the Level 2 template');
  const policyBody = Object.fromEntries(Object.entries(template).filter(([name]) => !name.startsWith('@odata')));
  const policyId = String(expect(await admin('POST', PROTECTIONS, { ...policyBody, displayName: 'Level 2 - enhanced data protection' }), 201, 'create the policy')['id']);
  const apps = { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: APP_ID } }] };
  const toGroup = { assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId } }] };
  expect(await admin('POST', `${PROTECTIONS}/${policyId}/targetApps`, apps), 204, 'target the app');
  expect(await admin('POST', `${PROTECTIONS}/${policyId}/assign`, toGroup), 204, 'assign the policy');

  const configuration = {
    displayName: 'Edge: intranet settings',
    customSettings: [
      { name: 'com.microsoft.intune.mam.managedbrowser.homepage', value: 'https://intranet.contoso.example' },
      { name: 'com.microsoft.intune.mam.managedbrowser.bookmarks', value: 'Contoso|https://contoso.example' },
      { name: 'com.contoso.account', value: '{{userprincipalname}}' },
    ],
  };
  const configurationId = String(expect(await admin('POST', CONFIGURATIONS, configuration), 201, 'create the app configuration')['id']);
  expect(await admin('POST', `${CONFIGURATIONS}/${configurationId}/targetApps`, apps), 204, 'target the app (configuration)');
  expect(await admin('POST', `${CONFIGURATIONS}/${configurationId}/assign`, toGroup), 204, 'assign the configuration');

  const connector = { partnerState: 'enabled', windowsMobileApplicationManagementEnabled: true, partnerUnresponsivenessThresholdInDays: 7 };
  expect(await admin('POST', '/graph/beta/deviceManagement/mobileThreatDefenseConnectors', connector), 201, 'create the threat defense connector');

  if (options.accessPolicy) {
    // Policies name the resource by its service principal's appId; gateways (and the bench) by its audience, RESOURCE.
    const resource = { displayName: 'Exchange', servicePrincipalNames: [RESOURCE] };
    const resourceAppId = String(expect(await admin('POST', '/graph/v1.0/servicePrincipals', resource), 201, 'create the service principal')['appId']);
    const accessPolicy = {
      displayName: 'Exchange needs protected apps',
      state: 'enabled',
      conditions: { applications: { includeApplications: [resourceAppId] }, users: { includeGroups: [groupId] } },
      grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
    };
    expect(await admin('POST', '/graph/v1.0/identity/conditionalAccess/policies', accessPolicy), 201, 'create the access policy');
  }

  log(`  registering ${options.users} apps, a secured threat report for each device, one confirming check-in each...`);
  let policyVersion = '';
  const registered = await pool(people, PREPARE_CONCURRENCY, async (person, i) => {
    const registration = {
      appId: APP_ID,
      appVersion: APP_VERSION,
      sdkVersion: SDK_VERSION,
      osVersion: OS_VERSION,
      deviceName: `LAPTOP-${i}`,
      deviceModel: 'Surface Laptop 5',
      deviceManufacturer: 'Microsoft',
      deviceTag: person.deviceTag,
      azureAdDeviceId: person.azureAdDeviceId,
    };
    const answer = expect(await client.call('POST', '/mam/v1/registrations', registration, person.token), 201, `register ${person.upn}'s app`);
    const policy = answer['policy'] as { version?: string } | null;
    const held = answer['configuration'] as { version?: string } | null;
    if (!policy?.version || !held?.version) throw new Error(`${person.upn}: the registration did not deliver the policy and the configuration: ${JSON.stringify(answer).slice(0, 300)}`);
    policyVersion = policy.version;
    return { ...person, registrationId: String(answer['registrationId']), configurationVersion: held.version };
  });
  await pool(registered, PREPARE_CONCURRENCY, async (user) => {
    const report = { userId: user.objectId, appId: APP_ID, azureAdDeviceId: user.azureAdDeviceId, healthState: 'secured', lastUpdatedDateTime: new Date().toISOString() };
    expect(await client.call('POST', '/mtd/v1/health', report, connectorToken), 204, `threat report for ${user.upn}`);
  });
  const confirmations = await pool(registered, PREPARE_CONCURRENCY, async (user) => {
    const response = await client.call('POST', checkInPath(user), checkInBody(policyVersion, user.configurationVersion), user.token);
    return steadyProblem(response.status, response.text);
  });
  const unsettled = confirmations.filter((problem) => problem !== undefined);
  if (unsettled.length > 0) throw new Error(`${unsettled.length} confirming check-ins were not steady: ${[...new Set(unsettled)].join('; ')}`);

  // The reply of a steady check-in, as the server writes it (the baseline answers exactly these bytes).
  const steady = await client.call('POST', checkInPath(registered[0]!), checkInBody(policyVersion, registered[0]!.configurationVersion), registered[0]!.token);
  const problem = steadyProblem(steady.status, steady.text);
  if (problem !== undefined) throw new Error(`not steady after preparing: ${problem}`);
  const seconds = (Date.now() - started) / 1000;
  log(`  prepared in ${seconds.toFixed(1)} s; policy ${policyVersion}; steady reply ${Buffer.byteLength(steady.text)} bytes: ${steady.text}`);
  return { tenantId, users: registered, groupId, policyId, policyVersion, adminToken, connectorToken, gatewayToken, steadyReply: steady.text, seconds };
}

export const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
