import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isGuid, type Config } from '../config.ts';
import { OpenMamError } from '../errors.ts';
import { DevIdentityProvider } from '../identity/dev-idp.ts';
import { TenantDirectory } from '../identity/tenants.ts';
import { HttpsTransport, startSimulation, type Simulation, type SimulationEvent, type SimulationStats, type TokenSource } from '../simulator/index.ts';
import { openStore } from '../store/open-store.ts';


/**
 * `openmam simulate`: a simulated fleet (src/simulator/) against a RUNNING server, for a demo or a first look at the
 * console without Windows. It onboards nothing: it needs a server whose built-in identity provider signs with the key
 * of this machine's data folder (it mints its users', apps' and services' tokens with it, as `openmam token` does)
 * and a tenant of that provider, and says which of these is missing. Human output on stderr.
 */
type Values = Record<string, string | boolean | undefined>;

const SUMMARY_EVERY_MS = 10_000;
const SHOWN_ERRORS = 20;

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function count(values: Values, name: string, fallback: number, max: number): number {
  const raw = text(values, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max) throw new OpenMamError('invalid_configuration', `--${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  return value;
}

function durationMs(raw: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(raw);
  const unit = match ? { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'] : 0;
  const seconds = match ? Number(match[1]) * unit : 0;
  if (seconds < 1) throw new OpenMamError('invalid_configuration', `--duration: expected seconds or a number with s/m/h/d (at least 1 second), got "${raw}"`);
  return seconds * 1000;
}

export interface SimulateRequest {
  serverUrl: string;
  ca: string | undefined;
  tenantId: string;
  devices: number;
  apps: number;
  speed: number;
  seed: number;
  setup: boolean;
  durationMs: number | undefined;
}

/** Reads and checks the flags; nothing is contacted yet. */
export async function simulateRequest(config: Config, values: Values): Promise<Omit<SimulateRequest, 'tenantId'> & { tenant: string | undefined }> {
  if (!config.builtinIdp) throw new OpenMamError('invalid_configuration', 'the built-in identity provider is turned off (OPENMAM_BUILTIN_IDP=false): the simulator mints its tokens with it');
  const serverRaw = text(values, 'server') ?? config.publicUrl;
  let serverUrl: string;
  try {
    const url = new URL(serverRaw);
    if (url.protocol !== 'https:') throw new Error('not https');
    serverUrl = serverRaw.replace(/\/+$/, '');
  } catch {
    throw new OpenMamError('invalid_configuration', `--server must be the server's https URL, got "${serverRaw}"`);
  }
  const tenant = text(values, 'tenant');
  if (tenant !== undefined && !isGuid(tenant)) throw new OpenMamError('invalid_configuration', `--tenant must be a tenant id (GUID), got "${tenant}"`);
  const speedRaw = text(values, 'speed') ?? '60';
  const speed = Number(speedRaw);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000) throw new OpenMamError('invalid_configuration', `--speed must be a number greater than 0 (at most 100000), got "${speedRaw}"`);
  const caFile = text(values, 'ca-file');
  let ca: string | undefined;
  if (caFile !== undefined || existsSync(config.tlsCertFile)) {
    const file = path.resolve(caFile ?? config.tlsCertFile);
    try {
      ca = await readFile(file, 'utf8');
    } catch (error) {
      throw new OpenMamError('invalid_configuration', `--ca-file ${file}: ${(error as Error).message}`);
    }
  }
  const duration = text(values, 'duration');
  return {
    serverUrl,
    ca,
    tenant,
    devices: count(values, 'devices', 10, 10_000),
    apps: count(values, 'apps', 20, 100_000),
    speed,
    seed: count(values, 'seed', 1, 2 ** 31),
    setup: values['no-setup'] !== true,
    durationMs: duration === undefined ? undefined : durationMs(duration),
  };
}

/** The tenant to simulate: the one named (it must be onboarded, with the built-in identity provider), else the default one. */
async function builtinTenant(config: Config, requested: string | undefined): Promise<string> {
  if (!existsSync(config.dataDir)) {
    throw new OpenMamError('invalid_configuration', `no data folder at ${path.resolve(config.dataDir)}: run the simulator where the server runs, or name the server's with --data-dir`);
  }
  const store = await openStore(config.databaseUrl);
  try {
    const tenants = new TenantDirectory(store, Date.now);
    let tenant;
    if (requested !== undefined) {
      tenant = await tenants.get(requested);
      if (!tenant) throw new OpenMamError('not_found', `tenant ${requested} is not onboarded (see: openmam tenant list)`);
    } else {
      if ((await tenants.list()).length === 0) throw new OpenMamError('not_found', `no tenant is onboarded in ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}: is the server running on this data folder (--data-dir)? It creates the default tenant when it starts`);
      tenant = await tenants.ensureDefaultTenant(randomUUID, store);
    }
    if (tenant.identityProvider !== 'builtin') throw new OpenMamError('invalid_configuration', `tenant ${tenant.id} uses Entra ID; the simulator mints tokens with the built-in identity provider, for builtin tenants only`);
    return tenant.id;
  } finally {
    await store.close();
  }
}

/**
 * Asks the running server what the simulator depends on: that it answers, that its built-in identity provider is on
 * and signs with this data folder's key (its issuer tells the public URL the tokens must name), and that it knows the
 * tenant. Returns the token source.
 */
async function reachable(serverUrl: string, ca: string | undefined): Promise<void> {
  const transport = new HttpsTransport(ca, 10_000);
  try {
    await transport.send(`${serverUrl}/healthz`);
  } catch (error) {
    const cause = (error as { code?: string }).code ?? (error as Error).message;
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause) ? " (its certificate is not trusted: --ca-file <the server's tls/cert.pem>)" : '';
    throw new OpenMamError('invalid_configuration', `cannot reach the server at ${serverUrl}: ${cause}${tls}; start it (npm start, or openmam serve) or name it with --server`);
  } finally {
    transport.close();
  }
}

async function connect(config: Config, request: { serverUrl: string; ca: string | undefined; tenantId: string }): Promise<TokenSource> {
  const transport = new HttpsTransport(request.ca, 10_000);
  try {
    const discovery = await transport.json('GET', `${request.serverUrl}/idp/${request.tenantId}/v2.0/.well-known/openid-configuration`, undefined);
    const issuer = discovery.body['issuer'];
    if (discovery.status !== 200 || typeof issuer !== 'string') {
      throw new OpenMamError('invalid_configuration', `the server at ${request.serverUrl} does not run the built-in identity provider (OPENMAM_BUILTIN_IDP=false there?): the simulator needs it for its tokens`);
    }
    const suffix = `/idp/${request.tenantId}/v2.0`;
    const publicUrl = issuer.endsWith(suffix) ? issuer.slice(0, -suffix.length) : config.publicUrl;
    const idp = await DevIdentityProvider.open(config.dataDir, publicUrl);
    const keys = await transport.json('GET', `${request.serverUrl}/idp/discovery/v2.0/keys`, undefined);
    const served = new Set(((keys.body['keys'] as { kid?: string }[] | undefined) ?? []).map((key) => key.kid));
    if (!idp.jwks().keys.some((key) => served.has(key.kid))) {
      throw new OpenMamError('invalid_configuration', `the server at ${request.serverUrl} signs with another identity provider key than ${path.resolve(config.dataDir)}: run the simulator with the server's --data-dir`);
    }
    const tokens: TokenSource = (token) =>
      idp.mint({
        tenantId: token.tenantId,
        ...(token.upn === undefined ? {} : { upn: token.upn }),
        ...(token.deviceId === undefined ? {} : { deviceId: token.deviceId }),
        ...(token.clientId === undefined ? {} : { clientId: token.clientId }),
        roles: token.roles ?? [],
        groups: token.groups ?? [],
        audience: token.audience ?? config.appIdUri,
        expiresInSeconds: 3600,
        now: Date.now(),
      });
    const reader = await tokens({ tenantId: request.tenantId, upn: 'simulator@openmam.local', roles: ['OpenMAM.Reader'] });
    const settings = await transport.json('GET', `${request.serverUrl}/graph/beta/deviceManagement/openMamTenantSettings`, reader);
    if (settings.status !== 200) {
      const error = settings.body['error'] as { message?: string } | undefined;
      throw new OpenMamError('invalid_configuration', `the server at ${request.serverUrl} refuses the simulator's tokens for tenant ${request.tenantId} (${settings.status}: ${error?.message ?? 'no message'}): is it the server of this data folder and database?`);
    }
    return tokens;
  } finally {
    transport.close();
  }
}

function summary(stats: SimulationStats, simulation: Simulation, startedAt: number): string {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const notCompliant = simulation.apps.filter((app) => app.lastResult?.complianceState === 'notCompliant').length;
  const clock = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return (
    `[${clock}] devices ${stats.devicesEnrolled}/${simulation.devices.length} enrolled, ${stats.syncs} syncs, ${stats.settingsRefused} settings refused` +
    ` | apps ${stats.appsRegistered}/${simulation.apps.length} registered, ${stats.checkIns} check-ins, ${notCompliant} not compliant now, ${stats.wipes} wipes` +
    ` | ${stats.threatReports} threat reports | access ${stats.accessAllowed} allowed, ${stats.accessDenied} denied | ${stats.errors} errors\n`
  );
}

/** Runs the simulation until Ctrl-C (or --duration); resolves once it stopped cleanly. */
export async function runSimulate(config: Config, values: Values, output: NodeJS.WritableStream = process.stderr): Promise<void> {
  const request = await simulateRequest(config, values);
  await reachable(request.serverUrl, request.ca);
  const tenantId = await builtinTenant(config, request.tenant);
  const tokens = await connect(config, { serverUrl: request.serverUrl, ca: request.ca, tenantId });
  let shownErrors = 0;
  const show = (event: SimulationEvent): void => {
    if (event.kind === 'error' && ++shownErrors > SHOWN_ERRORS) return;
    if (['setup', 'threat', 'wipe', 'error'].includes(event.kind)) output.write(`  ${event.kind}: ${event.subject}: ${event.detail}\n`);
  };
  output.write(`Simulating ${request.devices} devices and ${request.apps} apps against ${request.serverUrl} (tenant ${tenantId}, speed ${request.speed}x). Ctrl-C stops.\n`);
  const startedAt = Date.now();
  const simulation = await startSimulation({
    serverUrl: request.serverUrl,
    ...(request.ca === undefined ? {} : { ca: request.ca }),
    tenantId,
    tokens,
    devices: request.devices,
    apps: request.apps,
    speed: request.speed,
    seed: request.seed,
    setup: request.setup,
    onEvent: show,
  });
  const ticker = setInterval(() => output.write(summary(simulation.stats, simulation, startedAt)), SUMMARY_EVERY_MS);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      clearTimeout(timer);
      resolve();
    };
    const timer = request.durationMs === undefined ? undefined : setTimeout(done, request.durationMs);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  clearInterval(ticker);
  output.write('Stopping: waiting for the sessions under way...\n');
  await simulation.stop();
  output.write(summary(simulation.stats, simulation, startedAt));
}
