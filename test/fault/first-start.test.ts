import assert from 'node:assert/strict';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadOrCreateTls, selfSignedCertificate } from '../../src/cli/tls.ts';
import { loadConfig } from '../../src/config.ts';
import { TenantDirectory } from '../../src/identity/tenants.ts';
import { createRuntime, type Runtime } from '../../src/main.ts';
import { openStore } from '../../src/store/open-store.ts';
import { postgresSkipReason, withPostgresSchema, type PostgresTestSchema } from '../support/postgres.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Simultaneous first start, in one process: several runtimes created at once on one empty database and one empty
 * data folder must end up as one installation (one default tenant, one TLS certificate, one signing key), however
 * their steps interleave. The multi-process version is first-start.postgres.test.ts.
 */
const RUNTIMES = 4;
const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';
const skipPostgres = await postgresSkipReason('the in-process first-start test on PostgreSQL');

async function raceFirstStart(label: string, dataDir: string, databaseUrl: string | undefined): Promise<void> {
  const config = loadConfig(
    {},
    {
      OPENMAM_DATA_DIR: dataDir,
      OPENMAM_PORT: '0',
      OPENMAM_HOST: '127.0.0.1',
      OPENMAM_PUBLIC_URL: 'https://127.0.0.1:8443',
      ...(databaseUrl === undefined ? {} : { OPENMAM_DATABASE_URL: databaseUrl }),
    },
  );
  const started = await Promise.allSettled(Array.from({ length: RUNTIMES }, () => createRuntime(config, { logger: false })));
  const runtimes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    assert.deepEqual(failed, [], 'every runtime starts');
    const tenants = await runtimes[0]!.app.store.listTenants();
    const tenantIds = new Set(runtimes.map((r) => r.defaultTenant.id));
    const certs = new Set(runtimes.map((r) => r.tlsCertificate));
    const jwks = new Set(runtimes.map((r) => JSON.stringify(r.devIdp!.jwks())));
    console.log(`${label}: ${RUNTIMES} runtimes, ${tenants.length} tenant(s) created, ${tenantIds.size} default tenant id(s), ${certs.size} distinct certificate(s), ${jwks.size} distinct JWKS`);
    assert.equal(tenants.length, 1, 'exactly one tenant in the store');
    assert.deepEqual([...tenantIds], [tenants[0]!.id], 'every runtime reports that tenant');
    assert.equal(certs.size, 1, 'one certificate');
    assert.equal([...certs][0], await readFile(config.tlsCertFile, 'utf8'), 'the one on disk');
    assert.ok(new X509Certificate([...certs][0]!).checkPrivateKey(createPrivateKey(await readFile(config.tlsKeyFile, 'utf8'))), 'matching the key on disk');
    assert.equal(jwks.size, 1, 'one signing key');

    const token = await runtimes[0]!.devIdp!.mint({
      tenantId: tenants[0]!.id,
      upn: 'admin@contoso.example',
      roles: ['OpenMAM.Admin'],
      audience: config.appIdUri,
      expiresInSeconds: 600,
      now: Date.now(),
    });
    for (const runtime of [runtimes[RUNTIMES - 1]!, runtimes[1]!]) {
      const response = await runtime.app.server.inject({ method: 'GET', url: SETTINGS, headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 200, `a token minted by runtime 0 is accepted: ${response.body}`);
    }
  } finally {
    await Promise.all(runtimes.map((r: Runtime) => r.app.server.close()));
  }
}

describe('simultaneous first start, in one process', () => {
  const folders: string[] = [];
  const newDataDir = async (): Promise<string> => {
    const folder = await mkdtemp(path.join(tmpdir(), 'openmam-first-start-'));
    folders.push(folder);
    return folder;
  };
  after(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it(`${RUNTIMES} runtimes on one empty SQLite file and data folder become one installation`, async () => {
    await raceFirstStart('sqlite', await newDataDir(), undefined);
  });

  skippableSuite('on PostgreSQL', { skip: skipPostgres ?? false }, () => {
    let schema: PostgresTestSchema;
    before(async () => {
      schema = await withPostgresSchema();
    });
    after(async () => {
      await schema?.drop();
    });
    it(`${RUNTIMES} runtimes on one fresh schema and data folder become one installation`, async () => {
      await raceFirstStart('postgres', await newDataDir(), schema.url);
    });
    it("a schema named by the URL's search_path migrates even when another schema holds OpenMAM's tables", async () => {
      const other = await withPostgresSchema();
      try {
        await (await openStore(other.url)).close();
        const fresh = await withPostgresSchema();
        try {
          const store = await openStore(fresh.url);
          await store.close();
        } finally {
          await fresh.drop();
        }
      } finally {
        await other.drop();
      }
    });
  });

  it('an installation that has tenants keeps its oldest as the default and creates none', async () => {
    const dataDir = await newDataDir();
    const store = await openStore(`sqlite:${path.join(dataDir, 'openmam.sqlite')}`);
    try {
      let now = 1_000;
      const tenants = new TenantDirectory(store, () => now);
      const oldest = await tenants.onboard({ id: randomUUID(), name: 'First', identityProvider: 'entra' });
      now = 2_000;
      await tenants.onboard({ id: randomUUID(), name: 'Second', identityProvider: 'builtin' });
      const chosen = await tenants.ensureDefaultTenant(randomUUID, store);
      assert.equal(chosen.id, oldest.id);
      assert.equal((await store.listTenants()).length, 2);
    } finally {
      await store.close();
    }
  });

  it('TLS files raced by many callers: one certificate and one key, a matching pair', async () => {
    const dataDir = await newDataDir();
    const [certFile, keyFile] = [path.join(dataDir, 'tls', 'cert.pem'), path.join(dataDir, 'tls', 'key.pem')];
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateTls(certFile, keyFile, 'https://127.0.0.1')));
    assert.equal(new Set(all.map((t) => t.cert)).size, 1);
    assert.equal(new Set(all.map((t) => t.key)).size, 1);
    assert.equal(all.filter((t) => t.generated).length, 1, 'one caller created the certificate');
    assert.ok(new X509Certificate(all[0]!.cert).checkPrivateKey(createPrivateKey(all[0]!.key)));
  });

  it('a key without its certificate: waits for the node writing it, else refuses as before', async () => {
    const dataDir = await newDataDir();
    const [certFile, keyFile] = [path.join(dataDir, 'cert.pem'), path.join(dataDir, 'key.pem')];
    const pair = await selfSignedCertificate('127.0.0.1');
    await writeFile(keyFile, pair.key, { mode: 0o600 });
    const waiting = loadOrCreateTls(certFile, keyFile, 'https://127.0.0.1');
    setTimeout(() => void writeFile(certFile, pair.cert), 200);
    assert.equal((await waiting).cert, pair.cert);

    const alone = path.join(dataDir, 'alone.pem');
    await writeFile(alone, pair.key, { mode: 0o600 });
    const started = Date.now();
    await assert.rejects(loadOrCreateTls(path.join(dataDir, 'missing.pem'), alone, 'https://127.0.0.1'), /found only one of/);
    assert.ok(Date.now() - started < 10_000, 'the wait is bounded');
  });

  it('a certificate made for an existing key matches it (what a node that lost the key race serves)', async () => {
    const pair = await selfSignedCertificate('127.0.0.1');
    const derived = await selfSignedCertificate('127.0.0.1', pair.key);
    assert.equal(derived.key, pair.key);
    assert.ok(new X509Certificate(derived.cert).checkPrivateKey(createPrivateKey(pair.key)));
  });
});
