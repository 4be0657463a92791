import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { selfSignedCertificate } from '../../src/cli/tls.ts';
import { DecisionStub, EchoUpstream } from './doubles.ts';

/** `openmam gateway` as an operator runs it: a child process, its own HTTPS listener, OpenMAM over TLS with --ca. */

const BIN = fileURLToPath(new URL('../../bin/openmam.js', import.meta.url));
const WAIT_MS = 20_000;

const upstream = new EchoUpstream();
const decisions = new DecisionStub();
let dir: string;
let openmamCert: string;
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'openmam-gateway-cli-'));
  const tls = await selfSignedCertificate('127.0.0.1');
  openmamCert = path.join(dir, 'openmam-cert.pem');
  await writeFile(openmamCert, tls.cert);
  await writeFile(path.join(dir, 'gateway-token'), 'gateway-app-token\n');
  await upstream.start();
  await decisions.start(tls);
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await upstream.close();
  await decisions.close();
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(args: string[], env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string; exited: Promise<number | string> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', OPENMAM_RUN_SOURCES: 'true', OPENMAM_DATA_DIR: path.join(dir, 'data'), OPENMAM_HOST: '127.0.0.1', OPENMAM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stderr: () => stderr, exited };
}

async function waitFor(output: () => string, pattern: RegExp, exited: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let done = false;
  void exited.then(() => (done = true));
  while (!pattern.test(output())) {
    if (done) throw new Error(`exited before ${pattern}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function get(port: number, ca: string, pathname: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('openmam gateway (command)', () => {
  it('listens over HTTPS, asks OpenMAM (trusted with --ca) with its token file, forwards allowed requests, stops on SIGTERM', async () => {
    const port = await freePort();
    const gateway = run([
      'gateway',
      '--upstream', upstream.url,
      '--resource', 'contoso-files',
      '--openmam', decisions.url,
      '--token-file', path.join(dir, 'gateway-token'),
      '--ca', openmamCert,
      '--gateway-port', String(port),
    ]);
    await waitFor(gateway.stderr, /OpenMAM gateway is running on https:\/\/localhost:\d+/, gateway.exited);
    assert.match(gateway.stderr(), /protects resource:\s+contoso-files/);
    const listenerCa = await readFile(path.join(dir, 'data', 'tls', 'cert.pem'), 'utf8');

    const allowed = await get(port, listenerCa, '/docs/1?x=1', { authorization: 'Bearer user-token', 'x-openmam-app-id': 'com.contoso.notes', 'x-openmam-registration-id': 'reg-9' });
    assert.equal(allowed.status, 200);
    assert.equal(JSON.parse(allowed.body).url, '/docs/1?x=1');
    assert.deepEqual(decisions.requests.at(-1), {
      authorization: 'Bearer gateway-app-token',
      body: { userToken: 'user-token', resource: 'contoso-files', appId: 'com.contoso.notes', registrationId: 'reg-9', ipAddress: '127.0.0.1' },
    });

    decisions.answer = () => ({ status: 200, body: { decision: 'deny', reasons: ['approvedApplication:notApproved'] } });
    const denied = await get(port, listenerCa, '/docs/2', { authorization: 'Bearer user-token', 'x-openmam-app-id': 'com.fabrikam.viewer' });
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body).error.code, 'access_denied');
    assert.deepEqual(upstream.received.map((r) => r.url), ['/docs/1?x=1']);

    gateway.child.kill('SIGTERM');
    assert.equal(await gateway.exited, 0);
  });

  it('refuses to start without its own credential', async () => {
    const gateway = run(['gateway', '--upstream', upstream.url, '--resource', 'contoso-files', '--openmam', decisions.url, '--gateway-port', '0']);
    assert.equal(await gateway.exited, 1);
    assert.match(gateway.stderr(), /--token-file <file> or OPENMAM_GATEWAY_TOKEN/);
  });

  it('refuses to start without --upstream and --resource', async () => {
    const gateway = run(['gateway', '--resource', 'contoso-files'], { OPENMAM_GATEWAY_TOKEN: 't' });
    assert.equal(await gateway.exited, 1);
    assert.match(gateway.stderr(), /usage: openmam gateway --upstream <url> --resource <app id or audience>/);
  });
});
