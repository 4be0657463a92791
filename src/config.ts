import path from 'node:path';
import { OpenMamError } from './errors.ts';

/**
 * Every setting of OpenMAM, in one place. Each comes from a command-line flag, else an environment variable, else
 * its default. docs/configuration.md is generated from this table (`npm run docs:config`) and a test keeps it true.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  databaseWaitSeconds: number;
  publicUrl: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  appIdUri: string;
  clientId: string | undefined;
  consoleClientId: string;
  builtinIdp: boolean;
  entraAuthority: string;
  providerId: string;
  logLevel: string;
  tokenClockSkewSeconds: number;
  signInRetentionDays: number;
  healthAttestationCaFile: string | undefined;
  metricsToken: string | undefined;
  metricsPort: number | undefined;
  metricsHost: string;
}

type Raw = Record<string, string | undefined>;

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  describe: string;
  /** The default as documented (may refer to other settings). */
  defaultText: string;
  resolve: (raw: string | undefined, partial: Partial<Config>) => Config[K];
}

function setting<K extends keyof Config>(s: Setting<K>): Setting<K> {
  return s;
}

function integer(name: string, min: number, max: number, raw: string): number {
  // Number('') is 0: an empty OPENMAM_PORT would otherwise silently listen on a random port.
  const value = /^\s*$/.test(raw) ? Number.NaN : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OpenMamError('invalid_configuration', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(name: string, raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new OpenMamError('invalid_configuration', `${name} must be true or false, got "${raw}"`);
}

function absoluteUrl(name: string, raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new OpenMamError('invalid_configuration', `${name} must be an absolute http(s) URL, got "${raw}"`);
  }
}

/** The admin console's client id when none is configured: a development client, registered in no Entra tenant. */
export const DEV_CONSOLE_CLIENT_ID = '00000000-0000-4000-8000-00000000c0de';

/** Ordered: later settings may use earlier ones in their defaults. */
export const SETTINGS = [
  setting({
    key: 'port', env: 'OPENMAM_PORT', flag: 'port', defaultText: '8443',
    describe: 'TCP port of the HTTPS listener.',
    resolve: (raw) => (raw === undefined ? 8443 : integer('OPENMAM_PORT', 0, 65535, raw)),
  }),
  setting({
    key: 'host', env: 'OPENMAM_HOST', flag: 'host', defaultText: '0.0.0.0',
    describe: 'Address the listener binds to.',
    resolve: (raw) => raw ?? '0.0.0.0',
  }),
  setting({
    key: 'dataDir', env: 'OPENMAM_DATA_DIR', flag: 'data-dir', defaultText: './.openmam',
    describe: 'Folder for the SQLite database, the generated TLS certificate and the built-in identity provider key.',
    resolve: (raw) => path.resolve(raw ?? '.openmam'),
  }),
  setting({
    key: 'databaseUrl', env: 'OPENMAM_DATABASE_URL', flag: 'database-url', defaultText: 'sqlite:<data-dir>/openmam.sqlite',
    describe: 'Where state is kept: `sqlite:<file>` (embedded) or a `postgres://` URL (many nodes share one database).',
    resolve: (raw, c) => raw ?? `sqlite:${path.join(c.dataDir!, 'openmam.sqlite')}`,
  }),
  setting({
    key: 'databaseWaitSeconds', env: 'OPENMAM_DATABASE_WAIT', flag: 'database-wait', defaultText: '60',
    describe: 'Seconds a starting node keeps trying to reach its database (started before it, or during a restart) before it gives up.',
    resolve: (raw) => (raw === undefined ? 60 : integer('OPENMAM_DATABASE_WAIT', 0, 3600, raw)),
  }),
  setting({
    key: 'publicUrl', env: 'OPENMAM_PUBLIC_URL', flag: 'public-url', defaultText: 'https://localhost:<port>',
    describe: 'The URL devices reach this server at; used in the provisioning document and token issuer URLs.',
    resolve: (raw, c) => absoluteUrl('OPENMAM_PUBLIC_URL', raw ?? `https://localhost:${c.port}`),
  }),
  setting({
    key: 'tlsCertFile', env: 'OPENMAM_TLS_CERT', flag: 'tls-cert', defaultText: '<data-dir>/tls/cert.pem',
    describe: 'PEM certificate (chain) of the HTTPS listener. A self-signed one is generated when both files are absent.',
    resolve: (raw, c) => path.resolve(raw ?? path.join(c.dataDir!, 'tls', 'cert.pem')),
  }),
  setting({
    key: 'tlsKeyFile', env: 'OPENMAM_TLS_KEY', flag: 'tls-key', defaultText: '<data-dir>/tls/key.pem',
    describe: 'PEM private key of the HTTPS listener.',
    resolve: (raw, c) => path.resolve(raw ?? path.join(c.dataDir!, 'tls', 'key.pem')),
  }),
  setting({
    key: 'appIdUri', env: 'OPENMAM_APP_ID_URI', flag: 'app-id-uri', defaultText: 'api://openmam',
    describe: 'Application ID URI of the management app in Entra ID: the `aud` of v1 tokens, and the AADResourceID devices ask tokens for.',
    resolve: (raw) => raw ?? 'api://openmam',
  }),
  setting({
    key: 'clientId', env: 'OPENMAM_CLIENT_ID', flag: 'client-id', defaultText: '(none)',
    describe: 'Application (client) id GUID of the management app: the `aud` of v2 tokens.',
    resolve: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (!isGuid(raw)) throw new OpenMamError('invalid_configuration', `OPENMAM_CLIENT_ID must be a GUID, got "${raw}"`);
      return raw.toLowerCase();
    },
  }),
  setting({
    key: 'consoleClientId', env: 'OPENMAM_CONSOLE_CLIENT_ID', flag: 'console-client-id', defaultText: DEV_CONSOLE_CLIENT_ID,
    // A single-page application registration in Entra (learn.microsoft.com/entra/identity-platform/scenario-spa-app-registration).
    describe: 'Application (client) id GUID of the admin console (`/console`): its single-page app registration in Entra ID. The default is the development client the built-in identity provider knows.',
    resolve: (raw) => {
      if (raw === undefined || raw === '') return DEV_CONSOLE_CLIENT_ID;
      if (!isGuid(raw)) throw new OpenMamError('invalid_configuration', `OPENMAM_CONSOLE_CLIENT_ID must be a GUID, got "${raw}"`);
      return raw.toLowerCase();
    },
  }),
  setting({
    key: 'builtinIdp', env: 'OPENMAM_BUILTIN_IDP', flag: 'builtin-idp', defaultText: 'true',
    describe: 'Serve the built-in development identity provider and accept its tokens for tenants onboarded with it. Turn off in production.',
    resolve: (raw) => (raw === undefined ? true : boolean('OPENMAM_BUILTIN_IDP', raw)),
  }),
  setting({
    key: 'entraAuthority', env: 'OPENMAM_ENTRA_AUTHORITY', flag: 'entra-authority', defaultText: 'https://login.microsoftonline.com',
    describe: 'Entra ID authority; OIDC discovery is read from `<authority>/<tenant>/v2.0/.well-known/openid-configuration`.',
    resolve: (raw) => absoluteUrl('OPENMAM_ENTRA_AUTHORITY', raw ?? 'https://login.microsoftonline.com'),
  }),
  setting({
    key: 'providerId', env: 'OPENMAM_PROVIDER_ID', flag: 'provider-id', defaultText: 'OpenMAM',
    describe: 'PROVIDER-ID of the management account on devices (`DMClient/Provider/<id>`).',
    resolve: (raw) => {
      const value = raw ?? 'OpenMAM';
      if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(value)) {
        throw new OpenMamError('invalid_configuration', 'OPENMAM_PROVIDER_ID may hold 1-64 letters, digits, spaces, dots, dashes and underscores');
      }
      return value;
    },
  }),
  setting({
    key: 'logLevel', env: 'OPENMAM_LOG_LEVEL', flag: 'log-level', defaultText: 'info',
    describe: 'Log level: fatal, error, warn, info, debug, trace or silent.',
    resolve: (raw) => {
      const value = raw ?? 'info';
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value)) {
        throw new OpenMamError('invalid_configuration', `OPENMAM_LOG_LEVEL: unknown level "${value}"`);
      }
      return value;
    },
  }),
  setting({
    key: 'tokenClockSkewSeconds', env: 'OPENMAM_TOKEN_CLOCK_SKEW', flag: 'token-clock-skew', defaultText: '120',
    describe: 'Seconds of clock skew tolerated on token `exp` and `nbf`.',
    resolve: (raw) => (raw === undefined ? 120 : integer('OPENMAM_TOKEN_CLOCK_SKEW', 0, 600, raw)),
  }),
  setting({
    key: 'signInRetentionDays', env: 'OPENMAM_SIGN_IN_RETENTION_DAYS', flag: 'sign-in-retention-days', defaultText: '30',
    // Entra keeps sign-in logs 30 days: learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention
    describe: 'Days the sign-in log (`auditLogs/signIns`: every access decision) keeps its records; older ones are purged hourly.',
    resolve: (raw) => (raw === undefined ? 30 : integer('OPENMAM_SIGN_IN_RETENTION_DAYS', 1, 3650, raw)),
  }),
  setting({
    key: 'healthAttestationCaFile', env: 'OPENMAM_HEALTH_ATTESTATION_CA_FILE', flag: 'health-attestation-ca-file', defaultText: '(none: the system CAs)',
    describe: 'PEM file of extra CA certificates trusted for an on-premises Device Health Attestation service (tenant setting `healthAttestation.serviceUrl`), beside the system CAs.',
    resolve: (raw) => (raw === undefined || raw.trim() === '' ? undefined : path.resolve(raw)),
  }),
  setting({
    key: 'metricsToken', env: 'OPENMAM_METRICS_TOKEN', flag: 'metrics-token', defaultText: '(none)',
    // RFC 6750 §2.1: a bearer token is a b64token; 16 characters at least, so that a guessable word is refused.
    describe: 'Bearer token a Prometheus scraper sends to `GET /metrics` (`Authorization: Bearer <token>`), 16 to 1024 characters of A-Z a-z 0-9 - . _ ~ + / (then =). Without it only an admin token (app role OpenMAM.Admin) scrapes the public port.',
    resolve: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      if (!/^[A-Za-z0-9\-._~+/]{16,1024}=*$/.test(raw)) {
        throw new OpenMamError('invalid_configuration', 'OPENMAM_METRICS_TOKEN must be 16 to 1024 characters of A-Z a-z 0-9 - . _ ~ + / (then =), a bearer token (RFC 6750)');
      }
      return raw;
    },
  }),
  setting({
    key: 'metricsPort', env: 'OPENMAM_METRICS_PORT', flag: 'metrics-port', defaultText: '(none: no separate listener)',
    describe: 'TCP port of a separate plain-HTTP listener that serves only `GET /metrics`, for a scraper inside the network; the scrape token applies there too when set, otherwise it is open to whoever reaches it.',
    resolve: (raw) => (raw === undefined || raw === '' ? undefined : integer('OPENMAM_METRICS_PORT', 0, 65535, raw)),
  }),
  setting({
    key: 'metricsHost', env: 'OPENMAM_METRICS_HOST', flag: 'metrics-host', defaultText: '127.0.0.1',
    describe: 'Address the separate metrics listener binds to (only with `OPENMAM_METRICS_PORT`).',
    resolve: (raw) => raw ?? '127.0.0.1',
  }),
] as const;

export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Flags (by flag name, without `--`) win over the environment. */
export function loadConfig(flags: Raw = {}, env: Raw = process.env): Config {
  const partial: Partial<Config> = {};
  for (const s of SETTINGS) {
    const raw = flags[s.flag] ?? env[s.env];
    (partial as Record<string, unknown>)[s.key] = s.resolve(raw, partial);
  }
  return partial as Config;
}

export function configurationMarkdown(): string {
  // Defaults in code spans: `<data-dir>` and `<port>` would otherwise render as (stripped) HTML tags.
  const defaultCell = (text: string): string => (text.startsWith('(') ? text : `\`${text}\``);
  const rows = SETTINGS.map((s) => `| \`--${s.flag}\` | \`${s.env}\` | ${defaultCell(s.defaultText)} | ${s.describe} |`);
  return [
    '# Configuration',
    '',
    'Generated from `src/config.ts` by `npm run docs:config`; do not edit by hand.',
    'A flag wins over the environment variable, which wins over the default.',
    '',
    '| flag | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
