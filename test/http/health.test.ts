import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/main.ts';

/**
 * Liveness and readiness (src/http/health-routes.ts): when the database stops answering, /readyz and /healthz say 503
 * (take the node out of rotation) while /livez stays 200 (do not restart it: that would not bring the database back).
 * The database's failure is simulated by the store's ping; database-outage.postgres.test.ts cuts a real connection.
 */
describe('health probes', () => {
  let dir: string;
  let runtime: Runtime;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'openmam-health-'));
    runtime = await createRuntime(loadConfig({}, { OPENMAM_DATA_DIR: dir, OPENMAM_PORT: '0', OPENMAM_HOST: '127.0.0.1' }), { logger: false });
  });
  after(async () => {
    await runtime?.app.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const status = async (url: string): Promise<number> => (await runtime.app.server.inject({ method: 'GET', url })).statusCode;

  it('all answer 200 while the database answers', async () => {
    assert.deepEqual([await status('/livez'), await status('/readyz'), await status('/healthz')], [200, 200, 200]);
  });

  it('a database that does not answer: not ready (503), still alive (200), and ready again when it answers', async () => {
    const store = runtime.app.store;
    const ping = store.ping.bind(store);
    store.ping = () => Promise.reject(new Error('database unreachable (simulated)'));
    try {
      assert.deepEqual([await status('/livez'), await status('/readyz'), await status('/healthz')], [200, 503, 503]);
      const body = (await runtime.app.server.inject({ method: 'GET', url: '/readyz' })).json<Record<string, unknown>>();
      assert.deepEqual(body, { status: 'unavailable', version: '0.1.0', database: 'unreachable' });
    } finally {
      store.ping = ping;
    }
    assert.equal(await status('/readyz'), 200);
  });
});
