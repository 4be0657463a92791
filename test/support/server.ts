import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';
import type { MintRequest } from '../../src/identity/dev-idp.ts';
import { createRuntime, type Runtime } from '../../src/main.ts';
import { httpsRequest, type HttpsResponse } from './https-client.ts';
import { withPostgresSchema } from './postgres.ts';
import { NO_LOOP_SHEDDING } from './test-node-env.ts';

export type Backend = 'sqlite' | 'postgres';

export interface JsonResponse {
  status: number;
  headers: HttpsResponse['headers'];
  body: Record<string, unknown>;
}

/**
 * A whole OpenMAM server for end-to-end tests: the real composition root, a real store, real HTTPS on a free
 * loopback port with the generated self-signed certificate, the built-in identity provider, JSON logs captured.
 */
export interface TestServer {
  url: string;
  config: Config;
  runtime: Runtime;
  ca: string;
  logs: Record<string, unknown>[];
  tenantId: string;
  mint(request: Partial<MintRequest>): Promise<string>;
  request(pathname: string, options?: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpsResponse>;
  /**
   * A JSON call as an admin, app or service makes it: bearer `token` (none when undefined), `body` sent as JSON (a
   * string goes as is, to send malformed JSON), extra `headers` (If-Match, ...), the reply parsed ({} when empty).
   */
  json(method: string, pathname: string, token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<JsonResponse>;
  close(): Promise<void>;
}

export async function startTestServer(backend: Backend, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-e2e-'));
  // A caller that names its own database (e.g. PostgreSQL behind a proxy) keeps it; otherwise a fresh schema.
  const schema = backend === 'postgres' && env['OPENMAM_DATABASE_URL'] === undefined ? await withPostgresSchema() : undefined;
  const config = loadConfig(
    {},
    {
      OPENMAM_DATA_DIR: dataDir,
      OPENMAM_PORT: '0',
      OPENMAM_HOST: '127.0.0.1',
      OPENMAM_PUBLIC_URL: 'https://127.0.0.1',
      ...NO_LOOP_SHEDDING,
      ...(schema ? { OPENMAM_DATABASE_URL: schema.url } : {}),
      ...env,
    },
  );
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const runtime = await createRuntime(config, { logger: { level: 'info', stream } });
  // A caller that names the port (and the public URL with it, for absolute links such as @odata.nextLink) gets it.
  await runtime.app.server.listen({ port: env['OPENMAM_PORT'] === undefined ? 0 : config.port, host: '127.0.0.1' });
  const port = (runtime.app.server.server.address() as AddressInfo).port;
  const ca = await readFile(config.tlsCertFile, 'utf8');
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    config,
    runtime,
    ca,
    logs,
    tenantId: runtime.defaultTenant.id,
    mint: (request) =>
      runtime.devIdp!.mint({ tenantId: runtime.defaultTenant.id, audience: config.appIdUri, expiresInSeconds: 3600, now: Date.now(), ...request }),
    request: (pathname, options = {}) => httpsRequest(`${url}${pathname}`, { ...options, ca }),
    json: async (method, pathname, token, body, headers = {}) => {
      const response = await httpsRequest(`${url}${pathname}`, {
        method,
        ca,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: response.status, headers: response.headers, body: response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {} };
    },
    close: async () => {
      await runtime.app.server.close();
      await schema?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
