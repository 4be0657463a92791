import { hostname, userInfo } from 'node:os';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isGuid, loadConfig, SETTINGS, type Config } from '../config.ts';
import { isOpenMamError, OpenMamError } from '../errors.ts';
import { ConfigurationService } from '../core/management/configuration.ts';
import { MessageLog } from '../core/management/message-log.ts';
import { TenantSettingsService } from '../core/tenant-settings.ts';
import { DevIdentityProvider } from '../identity/dev-idp.ts';
import { TenantDirectory } from '../identity/tenants.ts';
import { banner, createDataDir, serve } from '../main.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { GATEWAY_OPTIONS, GATEWAY_USAGE, gatewayBanner, runGateway } from './gateway.ts';
import { SIMULATE_OPTIONS, SIMULATE_USAGE } from './simulate-options.ts';
import type { IdentityProviderKind } from '../store/records.ts';
import { explainOpenFailure, openStore } from '../store/open-store.ts';
import { backupSqliteDatabase } from '../store/sqlite.ts';
import type { SecretStore, Store } from '../store/roles.ts';
import { AuditTrail, operatorContext } from '../core/audit/audit-trail.ts';

/**
 * `openmam serve | token | tenant ...`. Settings come from flags or OPENMAM_* variables (src/config.ts,
 * docs/configuration.md). Human output goes to stderr; stdout carries only what scripts consume (the token).
 */
const USAGE = `Usage: openmam <command> [options]   (openmam --version: the release)

Commands:
  serve                      Start the server (what \`npm start\` runs)
  token [options]            Mint a token from the built-in identity provider; prints the JWT alone on stdout
      --upn <upn>            User principal name (default: user@openmam.local)
      --tenant <guid>        Tenant id (default: the default tenant)
      --device-id <guid>     Entra device id (\`deviceid\` claim)
      --groups <a,b>         Group object ids (\`groups\` claim)
      --roles <a,b>          App roles (\`roles\` claim), e.g. OpenMAM.Admin
      --audience <aud>       Audience (default: the configured app id URI); a protected resource's app id or
                             identifier URI for a token the gateway judges
      --client-app <guid>    Client application id (\`azp\` claim): the managed app the token speaks for, e.g.
                             Microsoft Edge's ecd6b820-32c2-49b6-98a6-444530e5a77a (default: a development client)
      --expires-in <time>    Lifetime: seconds, or with s/m/h/d (default: 1h)
  backup --to <file>         SQLite: an online backup of the database into a new file, while the server runs
                             (PostgreSQL: pg_dump; see docs/operations.md "Backup and restore")
  device show <devId>        A device's enrollment, management state, node states and inventory (JSON)
  device log <devId> --for <time>|off
                             Keep (or stop keeping) the device's raw OMA-DM messages, compressed
  device messages <devId> [--limit N]
                             Print the kept messages, oldest first
  tenant list                List onboarded tenants
  tenant add --id <guid> --name <name> [--idp entra|builtin]
                             Onboard a tenant (default identity provider: entra)
  tenant set <guid> [--enrollment allowed|blocked] [--require-terms true|false] [--name <name>]
                  [--poll-interval <minutes>]  long-term check-in interval (>= 1440), sent to enrolled devices too
                  [--stale-retire-days <30-270|off>]  retire devices silent that many days (hourly)
                  [--secure-by-default <true|false|unset>]  devices with no compliance policy: noncompliant, compliant, unknown
                  [--compliance-validity-days <1-120>]  devices silent that many days are noncompliant (30)
                  [--audit-retention-days <30-3650>]  audit events older are purged hourly (365)
                  [--health-attestation on|off] [--dha-url https://host[:port]|microsoft]
                             devices attest their boot health daily, with Microsoft's or an on-premises DHA service
${GATEWAY_USAGE}
${SIMULATE_USAGE}

Settings (flags or environment; see docs/configuration.md):
${SETTINGS.map((s) => `  --${s.flag.padEnd(20)} ${s.env}`).join('\n')}
`;

const COMMAND_OPTIONS = {
  upn: { type: 'string' },
  tenant: { type: 'string' },
  'device-id': { type: 'string' },
  groups: { type: 'string' },
  roles: { type: 'string' },
  audience: { type: 'string' },
  'client-app': { type: 'string' },
  'expires-in': { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  idp: { type: 'string' },
  enrollment: { type: 'string' },
  'require-terms': { type: 'string' },
  for: { type: 'string' },
  'poll-interval': { type: 'string' },
  'stale-retire-days': { type: 'string' },
  'secure-by-default': { type: 'string' },
  'compliance-validity-days': { type: 'string' },
  'audit-retention-days': { type: 'string' },
  'health-attestation': { type: 'string' },
  'dha-url': { type: 'string' },
  limit: { type: 'string' },
  to: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  ...GATEWAY_OPTIONS,
  ...SIMULATE_OPTIONS,
} as const;

type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { values: Values; positionals: string[] } {
  const options: ParseArgsConfig['options'] = { ...COMMAND_OPTIONS };
  for (const s of SETTINGS) options[s.flag] = { type: 'string' };
  // No option is declared `multiple`, so no value is an array.
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { values: values as Values, positionals };
}

function settingFlags(values: Values): Record<string, string | undefined> {
  const flags: Record<string, string | undefined> = {};
  for (const s of SETTINGS) {
    const value = values[s.flag];
    if (typeof value === 'string') flags[s.flag] = value;
  }
  return flags;
}

export function parseDuration(raw: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  if (!match) throw new OpenMamError('invalid_configuration', `--expires-in: expected seconds or a number with s/m/h/d, got "${raw}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 1 || seconds > 90 * 86_400) throw new OpenMamError('invalid_configuration', '--expires-in must be from 1 second to 90 days');
  return seconds;
}

function list(raw: string | boolean | undefined): string[] {
  return typeof raw === 'string' ? raw.split(',').map((v) => v.trim()).filter((v) => v !== '') : [];
}

/** Runs `work` on the configured store; `existing`: creates no database (a missing SQLite file is refused) nor the data folder. */
async function withStore<T>(config: Config, work: (store: Store & SecretStore) => Promise<T>, options: { existing?: boolean } = {}): Promise<T> {
  if (!options.existing) await createDataDir(config.dataDir);
  const store = await openStore(config.databaseUrl, { create: !options.existing }).catch((error: unknown) => {
    throw explainOpenFailure(error, config.databaseUrl);
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** `openmam device show|log|messages <devId>`: what an admin troubleshooting one device needs. */
async function deviceCommand(config: Config, positionals: string[], values: Values): Promise<void> {
  const [action, devId] = positionals;
  if (!devId || !['show', 'log', 'messages'].includes(action ?? '')) {
    throw new OpenMamError('invalid_configuration', 'usage: openmam device show <devId> | log <devId> --for <time>|off | messages <devId> [--limit N]');
  }
  await withStore(config, async (store) => {
    const managed = await store.getManagedDevice(devId);
    if (!managed) throw new OpenMamError('not_found', `no active enrollment for device ${devId}`);
    const enrollmentId = managed.enrollment.id;
    if (action === 'show') {
      const [nodes, inventory] = await Promise.all([store.getNodeStates(enrollmentId), store.listInventory(enrollmentId)]);
      process.stdout.write(`${JSON.stringify({ ...managed, nodes, inventory }, null, 2)}\n`);
    } else if (action === 'log') {
      const duration = values['for'];
      if (typeof duration !== 'string') throw new OpenMamError('invalid_configuration', '--for <time> or --for off');
      const log = new MessageLog(store, Date.now);
      await log.enable(enrollmentId, duration === 'off' ? 0 : parseDuration(duration) * 1000);
      process.stderr.write(duration === 'off' ? `Stopped keeping messages of ${devId}\n` : `Keeping raw messages of ${devId} for ${duration}\n`);
    } else {
      const limit = typeof values['limit'] === 'string' ? Number(values['limit']) : 20;
      for (const record of (await store.listMessageLog(enrollmentId, Number.isInteger(limit) && limit > 0 ? limit : 20)).reverse()) {
        process.stdout.write(`--- ${new Date(record.at).toISOString()} ${record.direction === 'in' ? 'device -> server' : 'server -> device'}\n${gunzipSync(record.body).toString('utf8')}\n`);
      }
    }
  }, { existing: true });
}

async function mintToken(config: Config, values: Values): Promise<void> {
  if (!config.builtinIdp) throw new OpenMamError('invalid_configuration', 'the built-in identity provider is turned off (OPENMAM_BUILTIN_IDP=false)');
  // Check the arguments before anything is created in the data folder.
  const expiresInSeconds = parseDuration(typeof values['expires-in'] === 'string' ? values['expires-in'] : '1h');
  const tenantId = await withStore(config, async (store) => {
    const tenants = new TenantDirectory(store, Date.now);
    const requested = values['tenant'];
    const tenant = typeof requested === 'string' ? await tenants.get(requested) : await tenants.ensureDefaultTenant(randomUUID, store);
    if (!tenant) throw new OpenMamError('not_found', `tenant ${String(requested)} is not onboarded (see: openmam tenant list)`);
    if (tenant.identityProvider !== 'builtin') {
      throw new OpenMamError('invalid_configuration', `tenant ${tenant.id} uses Entra ID; the built-in identity provider mints only for builtin tenants`);
    }
    return tenant.id;
  }, { existing: true });
  const idp = await DevIdentityProvider.open(config.dataDir, config.publicUrl);
  const deviceId = values['device-id'];
  const clientApp = values['client-app'];
  if (clientApp !== undefined && (typeof clientApp !== 'string' || !isGuid(clientApp))) throw new OpenMamError('invalid_configuration', '--client-app must be an application id (GUID)');
  const token = await idp.mint({
    tenantId,
    upn: typeof values['upn'] === 'string' ? values['upn'] : 'user@openmam.local',
    ...(typeof deviceId === 'string' ? { deviceId } : {}),
    ...(typeof clientApp === 'string' ? { clientId: clientApp.toLowerCase() } : {}),
    groups: list(values['groups']),
    roles: list(values['roles']),
    audience: typeof values['audience'] === 'string' ? values['audience'] : config.appIdUri,
    expiresInSeconds,
    now: Date.now(),
  });
  process.stdout.write(`${token}\n`);
}

async function tenantCommand(config: Config, positionals: string[], values: Values): Promise<void> {
  const [action, id] = positionals;
  // Onboarding may come before the server's first start and creates the database; the others act on an existing one.
  await withStore(config, async (store) => {
    const tenants = new TenantDirectory(store, Date.now);
    if (action === 'list') {
      for (const t of await tenants.list()) {
        process.stdout.write(`${t.id}\t${t.identityProvider}\t${t.enrollmentAllowed ? 'enrollment allowed' : 'enrollment blocked'}\t${t.name}\n`);
      }
    } else if (action === 'add') {
      const idp = (values['idp'] ?? 'entra') as IdentityProviderKind;
      if (idp !== 'entra' && idp !== 'builtin') throw new OpenMamError('invalid_configuration', '--idp must be entra or builtin');
      const tenant = await tenants.onboard({ id: String(values['id'] ?? ''), name: String(values['name'] ?? ''), identityProvider: idp });
      process.stderr.write(`Onboarded tenant ${tenant.id} (${tenant.name}, ${tenant.identityProvider})\n`);
    } else if (action === 'set' && id) {
      // The same PATCH an admin sends to deviceManagement/openMamTenantSettings: validated whole, a compare-and-set.
      const patch: Record<string, unknown> = {};
      if (typeof values['name'] === 'string') patch['displayName'] = values['name'];
      const enrollment = oneOf(values, 'enrollment', { allowed: true, blocked: false });
      if (enrollment !== undefined) patch['enrollmentAllowed'] = enrollment;
      const requireTerms = oneOf(values, 'require-terms', { true: true, false: false });
      if (requireTerms !== undefined) patch['requireTermsOfUse'] = requireTerms;
      const pollInterval = values['poll-interval'];
      if (typeof pollInterval === 'string') {
        const minutes = Number(pollInterval);
        if (!Number.isInteger(minutes)) throw new OpenMamError('invalid_configuration', '--poll-interval: minutes, a whole number');
        patch['pollSchedule'] = { intervalForRemainingScheduledRetries: minutes };
      }
      const staleDays = values['stale-retire-days'];
      if (typeof staleDays === 'string') {
        const days = staleDays === 'off' ? null : Number(staleDays);
        if (days !== null && !Number.isInteger(days)) throw new OpenMamError('invalid_configuration', '--stale-retire-days: days, a whole number from 30 to 270, or off');
        patch['staleDeviceRetireAfterDays'] = days;
      }
      const secure = oneOf(values, 'secure-by-default', { true: true, false: false, unset: null });
      if (secure !== undefined) patch['secureByDefault'] = secure;
      const validity = values['compliance-validity-days'];
      if (typeof validity === 'string') {
        const days = Number(validity);
        if (!Number.isInteger(days)) throw new OpenMamError('invalid_configuration', '--compliance-validity-days: days, a whole number from 1 to 120');
        patch['deviceComplianceCheckinThresholdDays'] = days;
      }
      const retention = values['audit-retention-days'];
      if (typeof retention === 'string') {
        const days = Number(retention);
        if (!Number.isInteger(days)) throw new OpenMamError('invalid_configuration', '--audit-retention-days: days, a whole number from 30 to 3650');
        patch['auditEventRetentionDays'] = days;
      }
      const attestation: Record<string, unknown> = {};
      const attest = oneOf(values, 'health-attestation', { on: true, off: false });
      if (attest !== undefined) attestation['enabled'] = attest;
      const dhaUrl = values['dha-url'];
      if (typeof dhaUrl === 'string') attestation['serviceUrl'] = dhaUrl === 'microsoft' ? null : dhaUrl;
      if (Object.keys(attestation).length > 0) patch['healthAttestation'] = attestation;
      // Recorded in the audit trail as the host's operator (no token proves anyone here).
      const operator = `${userInfo().username}@${hostname()}`;
      const tenant = await new TenantSettingsService(tenants, new ConfigurationService(store, Date.now), config.providerId, new AuditTrail(store.audit)).update(operatorContext(id, operator), patch);
      const attesting = tenant.settings.healthAttestation;
      const attestationText = attesting?.enabled ? `on (${attesting.serviceUrl ?? "Microsoft's DHA service"})` : 'off';
      process.stderr.write(
        `Updated tenant ${tenant.id}: enrollment ${tenant.enrollmentAllowed ? 'allowed' : 'blocked'}, terms of use ${tenant.settings.requireTermsOfUse ? 'required' : 'optional'}, health attestation ${attestationText}\n`,
      );
    } else {
      throw new OpenMamError('invalid_configuration', 'usage: openmam tenant list | add --id <guid> --name <name> [--idp entra|builtin] | set <guid> ...');
    }
  }, { existing: action !== 'add' });
}

/**
 * The value of a flag that takes one of a few words, by its word; undefined when the flag is absent. Any other word is
 * refused with the words it takes: a value the CLI does not know never means one of them (`--enrollment allow` once
 * blocked enrollment for the whole tenant and exited 0).
 */
function oneOf<T>(values: Values, flag: string, words: Readonly<Record<string, T>>): T | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Object.hasOwn(words, value)) {
    const allowed = Object.keys(words);
    throw new OpenMamError('invalid_configuration', `--${flag}: ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}, not "${String(value)}"`);
  }
  return words[value];
}

/** `openmam backup --to <file>`: the configured SQLite database, copied online into a new file. */
async function backupCommand(config: Config, values: Values): Promise<void> {
  const destination = values['to'];
  if (typeof destination !== 'string' || destination === '') throw new OpenMamError('invalid_configuration', 'usage: openmam backup --to <file>');
  if (!config.databaseUrl.startsWith('sqlite:')) {
    throw new OpenMamError('invalid_configuration', 'openmam backup copies an SQLite database; for PostgreSQL use pg_dump (docs/operations.md, "Backup and restore")');
  }
  const file = config.databaseUrl.slice('sqlite:'.length);
  if (!existsSync(file)) throw new OpenMamError('not_found', `no database at ${path.resolve(file)} to back up`);
  const { pages } = await backupSqliteDatabase(file, destination);
  process.stderr.write(`Backed up ${path.resolve(file)} to ${path.resolve(destination)} (${pages} pages)\n`);
}

/** Runs one command; returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    const [command, ...rest] = positionals;
    if (values['version']) {
      // The release is the package's own manifest's version (read only here: no other command needs it).
      const manifest = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`openmam ${manifest.version}\n`);
      return 0;
    }
    if (values['help'] || command === undefined || command === 'help') {
      process.stderr.write(USAGE);
      return command === undefined && !values['help'] ? 2 : 0;
    }
    const config = loadConfig(settingFlags(values));
    switch (command) {
      case 'serve': {
        const runtime = await serve(config);
        process.stderr.write(banner(config, runtime));
        return 0;
      }
      case 'token':
        await mintToken(config, values);
        return 0;
      case 'device':
        await deviceCommand(config, rest, values);
        return 0;
      case 'backup':
        await backupCommand(config, values);
        return 0;
      case 'tenant':
        await tenantCommand(config, rest, values);
        return 0;
      case 'simulate':
        // Loaded on demand: the simulator (and the SDK) is of no use to any other command.
        await (await import('./simulate.ts')).runSimulate(config, values);
        return 0;
      case 'gateway':
        process.stderr.write(gatewayBanner(await runGateway(config, values), config));
        return 0;
      default:
        process.stderr.write(`openmam: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const message = isOpenMamError(error) && error.expose ? error.message : error instanceof Error ? error.message : String(error);
    process.stderr.write(`openmam: ${message}\n`);
    return 1;
  }
}
