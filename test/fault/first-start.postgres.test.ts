import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { httpsRequest } from '../support/https-client.ts';
import { postgresSkipReason, withPostgresSchema } from '../support/postgres.ts';
import { freePort } from '../support/free-port.ts';
import { skippableSuite } from '../support/skippable-suite.ts';
import { NO_LOOP_SHEDDING } from '../support/test-node-env.ts';

/**
 * Fault: simultaneous first start. Three `openmam serve` processes and one `openmam token` start at the same moment
 * on one fresh PostgreSQL schema and one empty data folder. They must become one installation: one default tenant,
 * one certificate served on every port, one signing key (the token minted by the CLI is accepted by every node).
 * Repeated for a few rounds so that a latent race gets its chances.
 */
const BIN = fileURLToPath(new URL('../../bin/openmam.js', import.meta.url));
const NODES = 3;
const ROUNDS = 3;
const WAIT_MS = 60_000;
const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';
const skip = await postgresSkipReason('the simultaneous first-start fault test');


interface Child {
  child: ChildProcess;
  stdout: () => string;
  output: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, OPENMAM_RUN_SOURCES: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, output: () => output, exited };
}

function ready(node: Child): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start within ${WAIT_MS} ms: ${node.output()}`)), WAIT_MS);
    const check = (): void => {
      if (node.output().includes('OpenMAM is running on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    node.child.stdout!.on('data', check);
    node.child.stderr!.on('data', check);
    void node.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}: ${node.output()}`));
    });
    check();
  });
}

/** The SHA-256 fingerprint of the certificate served on `port`. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

async function stop(children: readonly Child[]): Promise<void> {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
}

async function round(index: number): Promise<void> {
  const schema = await withPostgresSchema();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-first-start-'));
  const ports = await Promise.all(Array.from({ length: NODES }, () => freePort()));
  // One public URL for every node: it is the built-in identity provider's issuer, so tokens must name the same one.
  const shared = { OPENMAM_DATA_DIR: dataDir, OPENMAM_DATABASE_URL: schema.url, OPENMAM_PUBLIC_URL: `https://127.0.0.1:${ports[0]}`, OPENMAM_HOST: '127.0.0.1', ...NO_LOOP_SHEDDING };
  const children: Child[] = [];
  try {
    // All at once: the three nodes and the CLI race for the tenant, the signing key and the certificate.
    const nodes = ports.map((port) => run(['serve'], { ...shared, OPENMAM_PORT: String(port) }));
    children.push(...nodes);
    const minting = run(['token', '--upn', 'admin@contoso.example', '--roles', 'OpenMAM.Admin'], shared);
    children.push(minting);
    await Promise.all(nodes.map(ready));
    const minted = await minting.exited;
    const token = minting.stdout().trim();

    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    const tenants = await client.query<{ id: string }>('select id from tenants').finally(() => client.end());
    const fingerprints = await Promise.all(ports.map(servedFingerprint));
    const certificate = await readFile(path.join(dataDir, 'tls', 'cert.pem'), 'utf8');
    const accepted =
      minted === 0
        ? await Promise.all(
            ports.map(async (port) => (await httpsRequest(`https://127.0.0.1:${port}${SETTINGS}`, { ca: certificate, headers: { authorization: `Bearer ${token}` } })).status),
          )
        : [];
    const banners = nodes.map((n) => /default tenant id:\s+(\S+)/.exec(n.output())?.[1]);
    console.log(
      `round ${index + 1}: ${NODES} nodes + 1 token command, ${tenants.rowCount} tenant(s) created, ` +
        `${new Set(fingerprints).size} distinct certificate(s) served, token ${minted === 0 ? 'minted' : 'NOT minted'} and accepted by ${accepted.filter((s) => s === 200).length}/${NODES} nodes`,
    );

    assert.equal(minted, 0, `openmam token: ${minting.output()}`);
    assert.equal(tenants.rowCount, 1, 'one default tenant');
    assert.deepEqual(new Set(banners), new Set([tenants.rows[0]!.id]), 'every node announces that tenant');
    assert.deepEqual(new Set(fingerprints), new Set([new X509Certificate(certificate).fingerprint256]), 'every node serves the certificate on disk');
    assert.deepEqual(accepted, ports.map(() => 200), "the CLI's token is accepted by every node");
  } finally {
    await stop(children);
    await schema.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

skippableSuite('fault: simultaneous first start of several nodes (PostgreSQL)', { skip: skip ?? false }, () => {
  for (let index = 0; index < ROUNDS; index++) {
    it(`round ${index + 1}: ${NODES} nodes and the CLI on one empty schema and data folder become one installation`, { timeout: 3 * WAIT_MS }, async () => {
      await round(index);
    });
  }
});
