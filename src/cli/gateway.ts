import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { OpenMamError } from '../errors.ts';
import { DecisionClient } from '../gateway/decision-client.ts';
import { buildGateway } from '../gateway/gateway.ts';
import { fileToken, fixedToken, type TokenSource } from '../gateway/token-source.ts';
import { loadOrCreateTls } from './tls.ts';

/**
 * `openmam gateway --upstream <url> --resource <app id or audience>`: the enforcement point (src/gateway/) as a command. Its
 * listener uses the TLS settings `serve` uses (OPENMAM_TLS_CERT / OPENMAM_TLS_KEY, a self-signed certificate
 * generated when both are absent) on its own port; OpenMAM is reached at --openmam (default: the public URL).
 */
export const GATEWAY_OPTIONS = {
  upstream: { type: 'string' },
  resource: { type: 'string' },
  openmam: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
  'upstream-ca': { type: 'string' },
  'gateway-port': { type: 'string' },
} as const;

export const GATEWAY_USAGE = `  gateway --upstream <url> --resource <app id or audience> [options]
                             Reverse proxy that lets a request through only when OpenMAM allows it; --resource is
                             the protected resource's application id or an identifier URI of its service principal
                             (servicePrincipals), and users' tokens must be issued for it
      --openmam <url>        OpenMAM's URL for access decisions (default: the public URL)
      --token-file <file>    The gateway's app token (app role OpenMAM.Gateway), re-read when it changes;
                             or OPENMAM_GATEWAY_TOKEN
      --ca <pem>             Also trust this CA for OpenMAM (e.g. <data-dir>/tls/cert.pem, self-signed)
      --upstream-ca <pem>    Also trust this CA for an https upstream
      --gateway-port <port>  Port of the gateway's HTTPS listener (default: 8444; --host binds it)`;

type Values = Record<string, string | boolean | undefined>;

export interface GatewayRuntime {
  server: FastifyInstance;
  url: string;
  upstream: string;
  resource: string;
  openmam: string;
  tlsGenerated: boolean;
}

function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function httpUrl(flag: string, raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // below
  }
  throw new OpenMamError('invalid_configuration', `--${flag} must be an absolute http(s) URL, got "${raw}"`);
}

async function pem(flag: string, file: string): Promise<string> {
  try {
    return await readFile(path.resolve(file), 'utf8');
  } catch (error) {
    throw new OpenMamError('invalid_configuration', `--${flag} ${file}: ${(error as Error).message}`);
  }
}

async function gatewayToken(values: Values, env: Record<string, string | undefined>): Promise<TokenSource> {
  const file = text(values, 'token-file');
  const source = file !== undefined ? fileToken(path.resolve(file)) : env['OPENMAM_GATEWAY_TOKEN'] ? fixedToken(env['OPENMAM_GATEWAY_TOKEN']) : undefined;
  if (source === undefined) {
    throw new OpenMamError('invalid_configuration', 'the gateway needs its own credential: --token-file <file> or OPENMAM_GATEWAY_TOKEN (an app token with the app role OpenMAM.Gateway)');
  }
  try {
    await source.get();
  } catch (error) {
    throw new OpenMamError('invalid_configuration', (error as Error).message);
  }
  return source;
}

/** Starts the gateway and arranges a graceful stop on SIGTERM/SIGINT. */
export async function runGateway(config: Config, values: Values, env: Record<string, string | undefined> = process.env): Promise<GatewayRuntime> {
  const upstreamRaw = text(values, 'upstream');
  const resource = text(values, 'resource');
  if (upstreamRaw === undefined || resource === undefined) throw new OpenMamError('invalid_configuration', 'usage: openmam gateway --upstream <url> --resource <app id or audience> [--openmam <url>] [--token-file <file>] [--ca <pem>]');
  const upstream = httpUrl('upstream', upstreamRaw);
  const openmam = httpUrl('openmam', text(values, 'openmam') ?? config.publicUrl);
  const portText = text(values, 'gateway-port') ?? '8444';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new OpenMamError('invalid_configuration', `--gateway-port must be a port number, got "${portText}"`);
  const token = await gatewayToken(values, env);
  const caFile = text(values, 'ca');
  const upstreamCaFile = text(values, 'upstream-ca');
  const ca = caFile === undefined ? undefined : await pem('ca', caFile);
  const upstreamCa = upstreamCaFile === undefined ? undefined : await pem('upstream-ca', upstreamCaFile);

  const tls = await loadOrCreateTls(config.tlsCertFile, config.tlsKeyFile, config.publicUrl);
  const decisions = new DecisionClient({ openmamUrl: openmam, token, ...(ca === undefined ? {} : { ca }) });
  const server = await buildGateway({
    upstream,
    resource,
    decisions,
    https: { key: tls.key, cert: tls.cert },
    logger: { level: config.logLevel },
    ...(upstreamCa === undefined ? {} : { upstreamCa }),
  });
  let stopping = false;
  server.addHook('onSend', async (_request, reply) => {
    if (stopping) reply.header('connection', 'close');
  });
  await server.listen({ port, host: config.host });
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'gateway shutting down: finishing in-flight requests');
    server.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        server.log.error({ err: error }, 'gateway shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = server.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  return { server, url: `https://localhost:${boundPort}`, upstream, resource, openmam, tlsGenerated: tls.generated };
}

export function gatewayBanner(runtime: GatewayRuntime, config: Config): string {
  const lines = [
    '',
    `OpenMAM gateway is running on ${runtime.url}`,
    `  protects resource:  ${runtime.resource}`,
    `  forwards to:        ${runtime.upstream}`,
    `  decisions from:     ${runtime.openmam}/access/v1/evaluate`,
  ];
  if (runtime.tlsGenerated) lines.push('', `Generated a self-signed TLS certificate: ${config.tlsCertFile}`);
  lines.push('');
  return lines.join('\n');
}
