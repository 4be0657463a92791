import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigurationService } from '../../src/core/management/configuration.ts';
import { DevIdentityProvider } from '../../src/identity/dev-idp.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { SecretStore, Store } from '../../src/store/roles.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { postgresSkipReason, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import { freePort } from '../support/free-port.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { NO_LOOP_SHEDDING } from '../support/test-node-env.ts';

/**
 * Many stateless nodes on one PostgreSQL database: two `openmam serve` processes behind a round-robin TCP proxy, and
 * a device whose every request opens a new connection, so consecutive messages of one session land on different
 * nodes. The session must continue correctly across them (its state lives in the store).
 */
const BIN = fileURLToPath(new URL('../../bin/openmam.js', import.meta.url));
const WAIT_MS = 30_000;
const skip = await postgresSkipReason('the two-node PostgreSQL test');


/** Each new client connection goes to the next backend in turn (TLS passes through untouched). */
function roundRobinProxy(ports: readonly number[]): Server & { connections: number[] } {
  let next = 0;
  const connections = ports.map(() => 0);
  const proxy = createServer((client) => {
    const index = next++ % ports.length;
    connections[index]! += 1;
    const upstream = connect(ports[index]!, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  return Object.assign(proxy, { connections });
}

function startNode(env: Record<string, string>): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, OPENMAM_RUN_SOURCES: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${output}`)), WAIT_MS);
    const check = () => {
      if (output.includes('OpenMAM is running on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${output}`)));
  });
  return { child, output: () => output, ready };
}

skippableSuite('two OpenMAM nodes on one PostgreSQL database', { skip: skip ?? false }, () => {
  let schema: PostgresTestSchema;
  let dataDir: string;
  let proxy: ReturnType<typeof roundRobinProxy>;
  let store: Store & SecretStore;
  const nodes: ReturnType<typeof startNode>[] = [];
  let publicUrl: string;

  before(async () => {
    schema = await withPostgresSchema();
    dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-two-nodes-'));
    const ports = [await freePort(), await freePort()];
    proxy = roundRobinProxy(ports);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    publicUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const env = (port: number) => ({ OPENMAM_DATA_DIR: dataDir, OPENMAM_DATABASE_URL: schema.url, OPENMAM_PORT: String(port), OPENMAM_HOST: '127.0.0.1', OPENMAM_PUBLIC_URL: publicUrl, ...NO_LOOP_SHEDDING });
    // The first node creates the TLS certificate, the signing key and the default tenant; the second shares them.
    nodes.push(startNode(env(ports[0]!)));
    await nodes[0]!.ready;
    nodes.push(startNode(env(ports[1]!)));
    await nodes[1]!.ready;
    store = await openStore(schema.baseUrl, { postgresSchema: schema.schema });
  });

  after(async () => {
    for (const node of nodes) node.child.kill('SIGTERM');
    await Promise.all(nodes.map((node) => new Promise((resolve) => (node.child.exitCode !== null ? resolve(undefined) : node.child.once('exit', resolve)))));
    proxy?.close();
    await store?.close();
    await schema?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves alternate messages of one session from different nodes', async () => {
    const [tenant] = await store.listTenants();
    const idp = await DevIdentityProvider.open(dataDir, publicUrl);
    const token = await idp.mint({ tenantId: tenant!.id, upn: 'roaming@contoso.example', deviceId: randomUUID(), audience: 'api://openmam', expiresInSeconds: 3600, now: Date.now() });
    const ca = await readFile(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
    // No keep-alive: every request is a new connection, so the proxy alternates nodes message by message.
    const device = new DeviceSimulator({ baseUrl: publicUrl, ca, token, maxMsgSize: 6000, agent: new Agent({ keepAlive: false, ca }) });
    await device.enroll();
    await device.sync();

    const settings = Array.from({ length: 30 }, (_, i) => ({ locUri: `./Vendor/MSFT/VPNv2/Profile${i}/ProfileXML`, format: 'chr', value: `<VPNProfile>${'v'.repeat(400)}${i}</VPNProfile>` }));
    await new ConfigurationService(store, Date.now).putSet({ tenantId: tenant!.id, name: 'vpn', target: { kind: 'device', devId: device.devId }, settings });
    const before = proxy.connections.map((n) => n);
    const transcript = await device.sync();
    const used = proxy.connections.map((n, i) => n - before[i]!);

    assert.ok(transcript.messages.length >= 4, `a multi-message session (${transcript.messages.length} messages)`);
    assert.ok(used.every((n) => n >= 2), `both nodes served messages of the session: ${used.join(', ')}`);
    assert.equal(transcript.commands.filter((c) => c.verb === 'Add' && c.statusSent === '200').length, 30);
    const enrollment = await store.getActiveEnrollmentByDevId(device.devId);
    const states = await store.getNodeStates(enrollment!.id);
    assert.equal(states.filter((s) => s.status === 'applied').length, 30, 'every answer recorded once, whichever node got it');
    assert.equal((await device.sync()).commands.length, 0, 'settled');
    for (const node of nodes) assert.match(node.output(), /ManagementServer\/MDM\.svc/);
  });
});
