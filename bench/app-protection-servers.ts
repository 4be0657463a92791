/**
 * The two servers the app protection benchmarks (checkin.bench.ts, access.bench.ts) compare, each run in a child
 * process of its own so the load generator and the server do not share a core:
 *   openmam <data-dir>                              — the real composition root (SQLite in the data folder or
 *                                                     BENCH_STORE=postgres: bench/bench-store.ts; HTTPS,
 *                                                     JSON logs at info through pino's own destination into
 *                                                     /dev/null, as in production), as bench/sync-servers.ts starts it;
 *                                                     every access decision is recorded in the sign-in log, as in
 *                                                     production; with BENCH_SIGN_IN_LOG set, SIGUSR2 turns that
 *                                                     recording off and on (off at start): access.bench.ts's sign-in
 *                                                     log mode, the same process with and without the log;
 *   baseline <data-dir> <route> <reply-base64>      — a bare Fastify HTTPS handler on `route` (a Fastify path, e.g.
 *                                                     /mam/v1/registrations/:id/checkin) that parses the JSON body as
 *                                                     Fastify does for any route and answers a fixed JSON reply (the
 *                                                     exact bytes of a real OpenMAM reply, so the same size).
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

const [kind, dataDir, route, replyBase64] = process.argv.slice(2);
if ((kind !== 'openmam' && kind !== 'baseline') || !dataDir || (kind === 'baseline' && (!route || !replyBase64))) {
  process.stderr.write('usage: app-protection-servers.ts openmam <data-dir> | baseline <data-dir> <route> <reply-base64>\n');
  process.exit(2);
}

const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PORT: '0', OPENMAM_HOST: '127.0.0.1', OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443', ...benchDatabaseEnv(), ...benchLimitsEnv() });
// Every statement the store sends is counted (bench/query-counter.ts), for the benchmark's queries per request.
installQueryCounter();
answerQueryCountRequests();
exitWithParent();
// The same kind of destination as the server's stdout in production (pino's synchronous sonic-boom), into /dev/null.
const logSink = pino.destination('/dev/null');
/** The JSON endpoints' body limit (src/http/app-protection/json-api.ts). */
const JSON_BODY_LIMIT = 32 * 1024;

async function startOpenMam(): Promise<{ port: number; tenantId: string; close: () => Promise<void> }> {
  const runtime = await createRuntime(config, { logger: { level: process.env['BENCH_LOG_LEVEL'] ?? 'info', stream: logSink } });
  if (process.env['BENCH_SIGN_IN_LOG']) toggleSignIns(runtime);
  await runtime.app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = runtime.app.server.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, tenantId: runtime.defaultTenant.id, close: () => runtime.app.server.close() };
}

/** The same server with and without the sign-in log (access.bench.ts's BENCH_SIGN_IN_LOG mode): SIGUSR2 toggles it. */
function toggleSignIns(runtime: Awaited<ReturnType<typeof createRuntime>>): void {
  const log = runtime.app.appProtection.signIns;
  const record = log.record.bind(log);
  let on = false;
  process.on('SIGUSR2', () => {
    on = !on;
  });
  log.record = (entry) => {
    if (on) record(entry);
  };
}

async function startBaseline(path: string, reply: string): Promise<{ port: number; close: () => Promise<void> }> {
  const app = Fastify({
    https: { key: await readFile(config.tlsKeyFile), cert: await readFile(config.tlsCertFile) },
    logger: { level: 'info', stream: logSink },
  });
  app.post(path, { bodyLimit: JSON_BODY_LIMIT }, async (_request, response) => response.code(200).header('content-type', 'application/json; charset=utf-8').send(reply));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => app.close() };
}

const server = kind === 'openmam' ? await startOpenMam() : await startBaseline(route!, Buffer.from(replyBase64!, 'base64').toString('utf8'));
process.stdout.write(`${JSON.stringify({ ...server, pid: process.pid, close: undefined })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
if (process.env['BENCH_TRACE']) traceServer(kind);
