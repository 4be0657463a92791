import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/main.ts';

/**
 * /console: the built single-page app (a stand-in build in a temporary folder), its deep links, cache headers and
 * security headers; the 503 of a console that is not built (and its recovery once built, without a restart); and the
 * built-in identity provider turned off: no authorize or token endpoint, and config.json names Entra.
 */
const INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/console/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';
const BASE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

async function startRuntime(dataDir: string, consoleDir: string, env: Record<string, string> = {}): Promise<Runtime> {
  const config = loadConfig({}, { OPENMAM_DATA_DIR: dataDir, OPENMAM_PUBLIC_URL: 'https://openmam.example', OPENMAM_LOG_LEVEL: 'silent', ...env });
  return createRuntime(config, { logger: false, consoleDir });
}

function assertSecurityHeaders(response: LightMyRequestResponse, policy = BASE_POLICY): void {
  assert.equal(response.headers['content-security-policy'], policy);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.equal(response.headers['referrer-policy'], 'no-referrer');
}

describe('console serving', () => {
  let dataDir: string;
  let consoleDir: string;
  let runtime: Runtime;
  const get = (url: string) => runtime.app.server.inject({ method: 'GET', url });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-console-'));
    consoleDir = path.join(dataDir, 'dist');
    await mkdir(path.join(consoleDir, 'assets'), { recursive: true });
    await writeFile(path.join(consoleDir, 'index.html'), INDEX);
    await writeFile(path.join(consoleDir, 'assets', 'index-Ab12Cd34.js'), 'console.log("console");');
    await writeFile(path.join(consoleDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    runtime = await startRuntime(path.join(dataDir, 'data'), consoleDir);
  });

  after(async () => {
    await runtime.app.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('redirects /console to /console/', async () => {
    const response = await get('/console');
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/console/');
  });

  it('serves index.html at /console/, never cached without revalidation, with the security headers', async () => {
    const response = await get('/console/');
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, INDEX);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(response);
  });

  it('answers a deep link without a file extension with index.html (client-side routes)', async () => {
    for (const url of ['/console/policies', '/console/devices/0b7c2c6e-4f4b-4a62-9d4c-1f0e1c8a2b11/inventory', '/console/Users?tab=apps']) {
      const response = await get(url);
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX, url);
      assert.equal(response.headers['cache-control'], 'no-cache', url);
      assertSecurityHeaders(response);
    }
  });

  it('serves hashed assets with a year of immutable cache, other files revalidated; a missing file is 404', async () => {
    const asset = await get('/console/assets/index-Ab12Cd34.js');
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assertSecurityHeaders(asset);
    const icon = await get('/console/favicon.svg');
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'no-cache');
    for (const url of ['/console/assets/missing-0000.js', '/console/missing.css', '/console/%2e%2e/config.json', '/console/..%2f..%2fpackage.json']) {
      const missing = await get(url);
      assert.ok(missing.statusCode === 404 || missing.statusCode === 403, `${url}: ${missing.statusCode}`);
      assert.doesNotMatch(missing.body, /"name"/);
    }
  });

  it("adds the Entra origin to connect-src when the console opens on an Entra tenant", async () => {
    const entra = randomUUID();
    await runtime.app.tenants.onboard({ id: entra, name: 'Entra tenant', identityProvider: 'entra' });
    const response = await get(`/console/?tenant=${entra}`);
    assert.equal(response.statusCode, 200);
    assertSecurityHeaders(response, BASE_POLICY.replace("connect-src 'self'", "connect-src 'self' https://login.microsoftonline.com"));
  });
});

describe('console not built', () => {
  let dataDir: string;
  let runtime: Runtime;
  const get = (url: string) => runtime.app.server.inject({ method: 'GET', url });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-console-missing-'));
    runtime = await startRuntime(path.join(dataDir, 'data'), path.join(dataDir, 'dist'));
  });

  after(async () => {
    await runtime.app.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts, answers 503 with what to run, still serves config.json, and serves the build once it appears', async () => {
    for (const url of ['/console/', '/console/policies', '/console/assets/index-Ab12Cd34.js']) {
      const response = await get(url);
      assert.equal(response.statusCode, 503, url);
      assert.match(response.body, /npm run build:console/);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assertSecurityHeaders(response);
    }
    const config = await get('/console/config.json');
    assert.equal(config.statusCode, 200);
    assert.equal(config.json<{ tenantId: string }>().tenantId, runtime.defaultTenant.id);

    await mkdir(path.join(dataDir, 'dist'), { recursive: true });
    await writeFile(path.join(dataDir, 'dist', 'index.html'), INDEX);
    const built = await get('/console/');
    assert.equal(built.statusCode, 200);
    assert.equal(built.body, INDEX);
  });
});

describe('console with the built-in identity provider off', () => {
  let dataDir: string;
  let runtime: Runtime;
  let tenantId: string;
  const request = (method: 'GET' | 'POST', url: string) => runtime.app.server.inject({ method, url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...(method === 'POST' ? { payload: 'grant_type=authorization_code' } : {}) });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'openmam-console-entra-'));
    runtime = await startRuntime(path.join(dataDir, 'data'), path.join(dataDir, 'dist'), { OPENMAM_BUILTIN_IDP: 'false' });
    tenantId = runtime.defaultTenant.id;
  });

  after(async () => {
    await runtime.app.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('has no authorize, token or discovery endpoint', async () => {
    assert.equal((await request('GET', `/idp/${tenantId}/oauth2/v2.0/authorize?client_id=x`)).statusCode, 404);
    assert.equal((await request('POST', `/idp/${tenantId}/oauth2/v2.0/authorize`)).statusCode, 404);
    assert.equal((await request('POST', `/idp/${tenantId}/oauth2/v2.0/token`)).statusCode, 404);
    assert.equal((await request('GET', `/idp/${tenantId}/v2.0/.well-known/openid-configuration`)).statusCode, 404);
  });

  it("config.json names Entra's authority for the tenant", async () => {
    const response = await request('GET', '/console/config.json');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      tenantId,
      authority: `https://login.microsoftonline.com/${tenantId}/v2.0`,
      clientId: '00000000-0000-4000-8000-00000000c0de',
      scopes: ['api://openmam/.default', 'openid', 'profile'],
      redirectUri: 'https://openmam.example/console/',
      builtinIdp: false,
    });
  });
});
