/**
 * The two servers the OMA-DM sync benchmark (sync.bench.ts) compares, each run in a child process of its own so the
 * load generator and the server do not share a core:
 *   openmam <data-dir>                   — the real composition root (SQLite in the data folder, or BENCH_STORE=postgres
 *                                          (bench/bench-store.ts), HTTPS, JSON logs at
 *                                          info to /dev/null), as bench/servers.ts starts it;
 *   baseline <data-dir> <response-bytes> — a bare Fastify HTTPS handler on the management path that reads the SyncML
 *                                          body as a string and answers a fixed SyncML response of that many bytes.
 * The child prints one JSON line {"port": N, "pid": N, ...} on stdout when it is listening, and stops on SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createRuntime } from '../src/main.ts';
import { benchDatabaseEnv } from './bench-store.ts';
import { benchLimitsEnv, exitWithParent } from './child-server.ts';
import { answerQueryCountRequests, installQueryCounter } from './query-counter.ts';
import { traceServer } from './server-trace.ts';

const MDM_PATH = '/ManagementServer/MDM.svc';
const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';

const [kind, dataDir, responseBytesArg] = process.argv.slice(2);
const responseBytes = Number(responseBytesArg ?? 0);
if ((kind !== 'openmam' && kind !== 'baseline') || !dataDir || (kind === 'baseline' && !(responseBytes > 0))) {
  process.stderr.write('usage: sync-servers.ts openmam <data-dir> | baseline <data-dir> <response-bytes>\n');
  process.exit(2);
}

const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PORT: '0', OPENMAM_HOST: '127.0.0.1', OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443', ...benchDatabaseEnv(), ...benchLimitsEnv() });
// Every statement the store sends is counted (bench/query-counter.ts), for the benchmark's queries per request.
installQueryCounter();
answerQueryCountRequests();
exitWithParent();
// The same kind of destination as the server's stdout in production (pino's synchronous sonic-boom), into /dev/null.
const logSink = pino.destination('/dev/null');

async function startOpenMam(): Promise<{ port: number; tenantId: string; close: () => Promise<void> }> {
  const runtime = await createRuntime(config, { logger: { level: process.env['BENCH_LOG_LEVEL'] ?? 'info', stream: logSink } });
  await runtime.app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = runtime.app.server.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, tenantId: runtime.defaultTenant.id, close: () => runtime.app.server.close() };
}

/** A fixed SyncML message of exactly `bytes` bytes (UTF-8), padded inside a comment. */
function fixedSyncML(bytes: number): string {
  const open = '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody><Final/></SyncBody><!--';
  const close = '--></SyncML>';
  return `${open}${'x'.repeat(Math.max(0, bytes - open.length - close.length))}${close}`;
}

async function startBaseline(): Promise<{ port: number; close: () => Promise<void> }> {
  const response = fixedSyncML(responseBytes);
  const app = Fastify({
    https: { key: await readFile(config.tlsKeyFile), cert: await readFile(config.tlsCertFile) },
    logger: { level: 'info', stream: logSink },
  });
  app.addContentTypeParser(SYNCML_CONTENT_TYPE, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post(MDM_PATH, async (_request, reply) => reply.code(200).header('content-type', SYNCML_CONTENT_TYPE).send(response));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => app.close() };
}

const server = kind === 'openmam' ? await startOpenMam() : await startBaseline();
process.stdout.write(`${JSON.stringify({ ...server, pid: process.pid, close: undefined })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
if (process.env['BENCH_TRACE']) traceServer(kind);
