import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { build, type OpenMamApp } from './app.ts';
import { loadOrCreateTls } from './cli/tls.ts';
import type { Config } from './config.ts';
import { OpenMamError } from './errors.ts';
import { metricsListener } from './http/metrics/metrics-routes.ts';
import { DevIdentityProvider } from './identity/dev-idp.ts';
import type { Clock } from './identity/identity.ts';
import type { TenantRecord } from './store/records.ts';
import { explainOpenFailure, openStore } from './store/open-store.ts';

/**
 * The composition root: the only place that picks concrete parts (the store backend, the identity provider, TLS)
 * and wires them into the application.
 */
export interface Runtime {
  app: OpenMamApp;
  defaultTenant: TenantRecord;
  devIdp: DevIdentityProvider | undefined;
  tlsGenerated: boolean;
  /** The PEM certificate the HTTPS listener serves. */
  tlsCertificate: string;
}

export async function createRuntime(config: Config, options: { logger?: FastifyServerOptions['logger']; clock?: Clock; consoleDir?: string } = {}): Promise<Runtime> {
  await createDataDir(config.dataDir);
  const store = await openStore(config.databaseUrl, {
    waitMs: config.databaseWaitSeconds * 1000,
    onWait: (error, attempt) => process.stderr.write(`database unreachable (attempt ${attempt}: ${error instanceof Error ? error.message : String(error)}); trying again\n`),
  }).catch((error: unknown) => {
    throw explainOpenFailure(error, config.databaseUrl);
  });
  try {
    const devIdp = config.builtinIdp ? await DevIdentityProvider.open(config.dataDir, config.publicUrl) : undefined;
    const tls = await loadOrCreateTls(config.tlsCertFile, config.tlsKeyFile, config.publicUrl);
    const app = await build(config, {
      store,
      devIdp,
      https: { key: tls.key, cert: tls.cert },
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.consoleDir === undefined ? {} : { consoleDir: options.consoleDir }),
    });
    const defaultTenant = await app.tenants.ensureDefaultTenant(randomUUID, store);
    return { app, defaultTenant, devIdp, tlsGenerated: tls.generated, tlsCertificate: tls.cert };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Creates the data folder (owner only) when missing; a failure names the folder and the setting that chose it. */
export async function createDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OpenMamError('invalid_configuration', `cannot create the data folder ${dataDir} (${code}): make it a writable folder, or set OPENMAM_DATA_DIR`, { cause: error });
  }
}

/** Starts listening and arranges a graceful stop on SIGTERM/SIGINT: in-flight requests finish, the database closes. */
export async function serve(config: Config): Promise<Runtime> {
  const runtime = await createRuntime(config);
  const { server } = runtime.app;
  let stopping = false;
  // Once stopping, responses close their connection: a keep-alive client would otherwise hold the process open
  // (up to the keep-alive timeout) after its in-flight request is answered.
  server.addHook('onSend', async (_request, reply) => {
    if (stopping) reply.header('connection', 'close');
  });
  const metricsServer = await listenForScrapers(config, runtime.app);
  try {
    await server.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Its socket would otherwise keep the process alive after the failed start.
    await metricsServer?.close();
    throw error;
  }
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down: finishing in-flight requests');
    Promise.all([server.close(), metricsServer?.close()]).then(
      () => {
        server.log.info('stopped; database closed');
        process.exitCode = 0;
      },
      (error: unknown) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  // `on`, not `once`: a second signal while stopping must not fall back to the default action (killing the process).
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return runtime;
}

/**
 * The separate metrics listener, when `OPENMAM_METRICS_PORT` is set: plain HTTP on `OPENMAM_METRICS_HOST`, `/metrics`
 * only. Listening when this returns; the caller closes it. Undefined when no port is configured.
 */
export async function listenForScrapers(config: Config, app: OpenMamApp): Promise<FastifyInstance | undefined> {
  if (config.metricsPort === undefined) return undefined;
  const log = app.server.log.child({ listener: 'metrics' });
  const listener = await metricsListener(app.metrics, config.metricsToken, log);
  await listener.listen({ port: config.metricsPort, host: config.metricsHost });
  if (config.metricsToken === undefined && !isLoopback(config.metricsHost)) {
    log.warn({ host: config.metricsHost, port: config.metricsPort }, 'the metrics listener answers anyone who reaches it: set OPENMAM_METRICS_TOKEN');
  }
  return listener;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function banner(config: Config, runtime: Runtime): string {
  const url = config.publicUrl;
  const lines = [
    '',
    `OpenMAM is running on ${url}`,
    `  health:                 ${url}/livez (liveness), ${url}/readyz (readiness; also /healthz)`,
    `  metrics:                ${url}/metrics (an admin token or OPENMAM_METRICS_TOKEN)`,
    `  MAM enrollment URL:     ${url}/EnrollmentServer/Enrollment.svc`,
    `  MAM terms of use URL:   ${url}/EnrollmentServer/TermsOfUse`,
    `  OMA-DM management URL:  ${url}/ManagementServer/MDM.svc`,
    `  admin console:          ${url}/console/`,
    `  default tenant id:      ${runtime.defaultTenant.id} (${runtime.defaultTenant.name}, ${runtime.defaultTenant.identityProvider} identity provider)`,
    `  database:               ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
  ];
  if (runtime.devIdp) {
    lines.push(
      `  built-in identity provider: ${runtime.devIdp.issuer(runtime.defaultTenant.id)}`,
      '',
      'Mint a token for a test user (same data folder as this server):',
      '  node bin/openmam.js token --upn alex@contoso.example     (or: npm run -s openmam -- token ...)',
    );
  }
  if (runtime.tlsGenerated) lines.push('', `Generated a self-signed TLS certificate: ${config.tlsCertFile}`);
  lines.push('');
  return lines.join('\n');
}
