/**
 * The two servers the enrollment benchmark compares, each run in a child process of its own so the load generator
 * and the server do not share a core:
 *   openmam  — the real composition root (SQLite in a temp data folder, HTTPS, JSON logs at info to /dev/null);
 *   baseline — a bare Fastify HTTPS handler that reads the same body and answers a fixed response of the same size.
 * The child prints one JSON line {"port": N, ...} on stdout when it is listening, and stops on SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { benchLimitsEnv } from './child-server.ts';
import { createRuntime } from '../src/main.ts';

const [kind, dataDir] = process.argv.slice(2);
if ((kind !== 'openmam' && kind !== 'baseline') || !dataDir) {
  process.stderr.write('usage: servers.ts openmam|baseline <data-dir>\n');
  process.exit(2);
}

const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PORT: '0', OPENMAM_HOST: '127.0.0.1', OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443', ...benchLimitsEnv() });
// The same kind of destination as the server's stdout in production (pino's synchronous sonic-boom), into /dev/null.
const logSink = pino.destination('/dev/null');
/** About the size of OpenMAM's real enrollment response (RSTRC with the base64 provisioning document). */
const FIXED_RESPONSE_BYTES = 2900;

async function startOpenMam(): Promise<{ port: number; tenantId: string; close: () => Promise<void> }> {
  const runtime = await createRuntime(config, { logger: { level: 'info', stream: logSink } });
  await runtime.app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = runtime.app.server.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, tenantId: runtime.defaultTenant.id, close: () => runtime.app.server.close() };
}

async function startBaseline(): Promise<{ port: number; close: () => Promise<void> }> {
  const response = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${'x'.repeat(FIXED_RESPONSE_BYTES)}</s:Envelope>`;
  const app = Fastify({
    https: { key: await readFile(config.tlsKeyFile), cert: await readFile(config.tlsCertFile) },
    logger: { level: 'info', stream: logSink },
  });
  app.addContentTypeParser('application/soap+xml', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post('/EnrollmentServer/Enrollment.svc', async (_request, reply) => reply.header('content-type', 'application/soap+xml; charset=utf-8').send(response));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => app.close() };
}

const server = kind === 'openmam' ? await startOpenMam() : await startBaseline();
process.stdout.write(`${JSON.stringify({ ...server, close: undefined })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
