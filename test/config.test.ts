import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configurationMarkdown, loadConfig } from '../src/config.ts';
import { OpenMamError } from '../src/errors.ts';

/** Asserts `work` throws OpenMamError 'invalid_configuration' naming `variable`. */
function assertInvalid(work: () => unknown, variable: string): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof OpenMamError, `expected an OpenMamError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_configuration');
    assert.match(error.message, new RegExp(variable));
    return true;
  });
}

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const config = loadConfig({}, {});
    const dataDir = path.resolve('.openmam');
    assert.equal(config.port, 8443);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, dataDir);
    assert.ok(path.isAbsolute(config.dataDir));
    assert.equal(config.databaseUrl, `sqlite:${path.join(dataDir, 'openmam.sqlite')}`);
    assert.equal(config.publicUrl, 'https://localhost:8443');
    assert.equal(config.tlsCertFile, path.join(dataDir, 'tls', 'cert.pem'));
    assert.equal(config.tlsKeyFile, path.join(dataDir, 'tls', 'key.pem'));
    assert.equal(config.appIdUri, 'api://openmam');
    assert.equal(config.clientId, undefined);
    assert.equal(config.builtinIdp, true);
    assert.equal(config.entraAuthority, 'https://login.microsoftonline.com');
    assert.equal(config.providerId, 'OpenMAM');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.tokenClockSkewSeconds, 120);
  });

  it('derives defaults from other settings', () => {
    const config = loadConfig({}, { OPENMAM_PORT: '9443', OPENMAM_DATA_DIR: '/srv/openmam' });
    assert.equal(config.publicUrl, 'https://localhost:9443');
    assert.equal(config.databaseUrl, `sqlite:${path.join(path.resolve('/srv/openmam'), 'openmam.sqlite')}`);
    assert.equal(config.tlsCertFile, path.join(path.resolve('/srv/openmam'), 'tls', 'cert.pem'));
  });

  it('passes a postgres:// URL through unchanged', () => {
    const url = 'postgres://openmam:secret@db.internal:5432/openmam';
    assert.equal(loadConfig({}, { OPENMAM_DATABASE_URL: url }).databaseUrl, url);
  });

  it('reads the environment', () => {
    const config = loadConfig(
      {},
      {
        OPENMAM_PORT: '10443',
        OPENMAM_HOST: '127.0.0.1',
        OPENMAM_PUBLIC_URL: 'https://mam.contoso.example/',
        OPENMAM_CLIENT_ID: 'A1B2C3D4-0000-4000-8000-00000000000A',
        OPENMAM_BUILTIN_IDP: 'false',
        OPENMAM_LOG_LEVEL: 'debug',
        OPENMAM_TOKEN_CLOCK_SKEW: '30',
      },
    );
    assert.equal(config.port, 10443);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'https://mam.contoso.example', 'a trailing slash is dropped');
    assert.equal(config.clientId, 'a1b2c3d4-0000-4000-8000-00000000000a', 'the client id is lower-cased');
    assert.equal(config.builtinIdp, false);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.tokenClockSkewSeconds, 30);
  });

  it('lets flags win over the environment', () => {
    const config = loadConfig(
      { port: '9000', 'log-level': 'warn', 'public-url': 'https://flag.example', 'builtin-idp': 'true' },
      { OPENMAM_PORT: '9001', OPENMAM_LOG_LEVEL: 'debug', OPENMAM_PUBLIC_URL: 'https://env.example', OPENMAM_BUILTIN_IDP: 'false' },
    );
    assert.equal(config.port, 9000);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.publicUrl, 'https://flag.example');
    assert.equal(config.builtinIdp, true);
  });

  it('does not validate an environment value a flag overrides', () => {
    assert.equal(loadConfig({ port: '9000' }, { OPENMAM_PORT: 'abc' }).port, 9000);
  });

  it('rejects a port that is not an integer from 0 to 65535', () => {
    for (const port of ['abc', '', '1.5', '-1', '65536']) assertInvalid(() => loadConfig({}, { OPENMAM_PORT: port }), 'OPENMAM_PORT');
    assertInvalid(() => loadConfig({ port: 'abc' }, {}), 'OPENMAM_PORT');
  });

  it('rejects a client id that is not a GUID', () => {
    assertInvalid(() => loadConfig({}, { OPENMAM_CLIENT_ID: 'openmam-app' }), 'OPENMAM_CLIENT_ID');
  });

  it('rejects a public URL that is not an absolute http(s) URL', () => {
    for (const url of ['not a url', 'mam.contoso.example', 'ftp://mam.contoso.example']) {
      assertInvalid(() => loadConfig({}, { OPENMAM_PUBLIC_URL: url }), 'OPENMAM_PUBLIC_URL');
    }
  });

  it('rejects an unknown log level', () => {
    assertInvalid(() => loadConfig({}, { OPENMAM_LOG_LEVEL: 'verbose' }), 'OPENMAM_LOG_LEVEL');
  });

  it('rejects other malformed settings', () => {
    assertInvalid(() => loadConfig({}, { OPENMAM_BUILTIN_IDP: 'maybe' }), 'OPENMAM_BUILTIN_IDP');
    assertInvalid(() => loadConfig({}, { OPENMAM_TOKEN_CLOCK_SKEW: '601' }), 'OPENMAM_TOKEN_CLOCK_SKEW');
    assertInvalid(() => loadConfig({}, { OPENMAM_PROVIDER_ID: 'a/b' }), 'OPENMAM_PROVIDER_ID');
    assertInvalid(() => loadConfig({}, { OPENMAM_ENTRA_AUTHORITY: 'login' }), 'OPENMAM_ENTRA_AUTHORITY');
  });
});

describe('docs/configuration.md', () => {
  it('is the generated configuration reference', async () => {
    const file = new URL('../docs/configuration.md', import.meta.url);
    const actual = await readFile(file, 'utf8').catch(() => '(missing)');
    assert.ok(actual === configurationMarkdown(), 'docs/configuration.md is out of date with src/config.ts: run `npm run docs:config`');
  });
});
