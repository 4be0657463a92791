import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { selfSignedCertificate } from '../../src/cli/tls.ts';
import { loadConfig } from '../../src/config.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { createRuntime } from '../../src/main.ts';
import { explainOpenFailure, openStore } from '../../src/store/open-store.ts';
import { freePort } from '../support/free-port.ts';

/**
 * A start that fails says why, in one line that names the cause and what to do (docs/operations.md): the data
 * folder, the SQLite file, PostgreSQL's refusals (SQLSTATEs from a fake server that answers every connection with an
 * ErrorResponse, as PostgreSQL does for a wrong password, an unknown role or a missing database), and the TLS files.
 */
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'openmam-start-failures-'));
  await writeFile(path.join(dir, 'a-file'), 'not a folder');
});
after(() => rm(dir, { recursive: true, force: true }));

function configFor(env: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig({}, { OPENMAM_DATA_DIR: path.join(dir, 'data'), OPENMAM_PORT: '0', OPENMAM_HOST: '127.0.0.1', OPENMAM_DATABASE_WAIT: '0', ...env });
}

/** createRuntime fails with one line (no newline) matching `expected`, as an exposed error the CLI prints. */
async function assertStartFails(env: Record<string, string>, expected: RegExp): Promise<void> {
  await assert.rejects(createRuntime(configFor(env), { logger: false }), (error: unknown) => {
    assert.ok(isOpenMamError(error), `an OpenMamError, not ${String(error)}`);
    assert.ok(error.expose, 'the message is meant for the operator');
    assert.match(error.message, expected);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return true;
  });
}

/** A TCP server that answers a PostgreSQL startup message with FATAL `code`, as the server does when it refuses. */
async function refusingPostgres(code: string, message: string): Promise<{ url: (user: string, database: string) => string; close: () => Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.once('data', () => {
      const fields = Buffer.concat([...[['S', 'FATAL'], ['V', 'FATAL'], ['C', code], ['M', message]].map(([type, value]) => Buffer.from(`${type}${value}\0`)), Buffer.from([0])]);
      const length = Buffer.alloc(4);
      length.writeInt32BE(fields.length + 4);
      socket.end(Buffer.concat([Buffer.from('E'), length, fields]));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (user, database) => `postgres://${user}:wrong@127.0.0.1:${port}/${database}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('a start that fails says why', () => {
  it('a data folder that cannot be created', async () => {
    await assertStartFails({ OPENMAM_DATA_DIR: path.join(dir, 'a-file', 'data') }, /^cannot create the data folder .*a-file\/data \(ENOTDIR\): .*OPENMAM_DATA_DIR$/);
  });

  it("an SQLite database whose folder cannot be created", async () => {
    await assertStartFails({ OPENMAM_DATABASE_URL: `sqlite:${path.join(dir, 'a-file', 'db', 'openmam.sqlite')}` }, /^cannot create the SQLite database's folder .*a-file\/db \(ENOTDIR\): .*OPENMAM_DATABASE_URL/);
  });

  it('an SQLite database that is a folder', async () => {
    const folder = path.join(dir, 'folder.sqlite');
    await mkdir(folder, { recursive: true });
    await assertStartFails({ OPENMAM_DATABASE_URL: `sqlite:${folder}` }, /^cannot open the SQLite database .*folder\.sqlite \(SQLITE_CANTOPEN/);
  });

  it('a file that is not an SQLite database', async () => {
    const file = path.join(dir, 'text.sqlite');
    await writeFile(file, 'This is a text file, not a database. '.repeat(40));
    await assertStartFails({ OPENMAM_DATABASE_URL: `sqlite:${file}` }, /text\.sqlite is not an SQLite database \(SQLITE_NOTADB\): restore it from a backup/);
  });

  it('a database migrated by a newer release (a migration this one does not have)', async () => {
    const file = path.join(dir, 'newer.sqlite');
    await (await openStore(`sqlite:${file}`)).close();
    const database = new SqliteDatabase(file);
    database.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('999_from_the_future', new Date().toISOString());
    database.close();
    await assertStartFails({ OPENMAM_DATABASE_URL: `sqlite:${file}` }, /^the database was migrated by a newer OpenMAM release \(migration 999_from_the_future is not one of this release's\): run that release/);
  });

  it('an unrecognised failure still names its underlying reason on the same line', () => {
    const failure = new Error('database migration 001_initial failed', { cause: new Error('disk I/O error of some new kind') });
    const explained = explainOpenFailure(failure, 'sqlite:/srv/openmam.sqlite');
    assert.ok(isOpenMamError(explained) && explained.expose);
    assert.equal(explained.message, 'database migration 001_initial failed: disk I/O error of some new kind (sqlite:/srv/openmam.sqlite)');
  });

  it('PostgreSQL refusing the connection (nothing listens there)', async () => {
    const port = await freePort();
    await assertStartFails({ OPENMAM_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/openmam` }, new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED\\): start it, or check OPENMAM_DATABASE_URL`));
  });

  it('PostgreSQL refusing the password (28P01), never echoing it', async () => {
    const postgres = await refusingPostgres('28P01', 'password authentication failed for user "openmam"');
    try {
      await assertStartFails({ OPENMAM_DATABASE_URL: postgres.url('openmam', 'openmam') }, /^PostgreSQL refused the password of user "openmam" \(28P01\): correct it in OPENMAM_DATABASE_URL/);
      await assert.rejects(createRuntime(configFor({ OPENMAM_DATABASE_URL: postgres.url('openmam', 'openmam') }), { logger: false }), (error: Error) => !error.message.includes('wrong'));
    } finally {
      await postgres.close();
    }
  });

  it('PostgreSQL refusing the user (28000)', async () => {
    const postgres = await refusingPostgres('28000', 'role "nobody" does not exist');
    try {
      await assertStartFails({ OPENMAM_DATABASE_URL: postgres.url('nobody', 'openmam') }, /^PostgreSQL refused user "nobody" on database "openmam" \(28000: role "nobody" does not exist\): create the role, or add a pg_hba\.conf entry/);
    } finally {
      await postgres.close();
    }
  });

  it('a PostgreSQL database that does not exist (3D000)', async () => {
    const postgres = await refusingPostgres('3D000', 'database "nosuch" does not exist');
    try {
      await assertStartFails({ OPENMAM_DATABASE_URL: postgres.url('openmam', 'nosuch') }, /^the PostgreSQL database "nosuch" does not exist at 127\.0\.0\.1:\d+ \(3D000\): create it \(createdb /);
    } finally {
      await postgres.close();
    }
  });

  it("a damaged signing key file of the built-in identity provider", async () => {
    const dataDir = path.join(dir, 'damaged-key');
    await mkdir(path.join(dataDir, 'idp'), { recursive: true });
    await writeFile(path.join(dataDir, 'idp', 'signing-keys.json'), '[{"kid":');
    await assertStartFails({ OPENMAM_DATA_DIR: dataDir }, /^the built-in identity provider's signing key file .*damaged-key\/idp\/signing-keys\.json cannot be used \(.*\): restore it from a backup/);
  });

  describe('TLS files', () => {
    let pair: { cert: string; key: string };
    let other: { cert: string; key: string };
    before(async () => {
      [pair, other] = await Promise.all([selfSignedCertificate('localhost'), selfSignedCertificate('localhost')]);
    });
    const tls = async (name: string, cert: string, key: string): Promise<Record<string, string>> => {
      const certFile = path.join(dir, `${name}-cert.pem`);
      const keyFile = path.join(dir, `${name}-key.pem`);
      await writeFile(certFile, cert);
      await writeFile(keyFile, key);
      return { OPENMAM_TLS_CERT: certFile, OPENMAM_TLS_KEY: keyFile };
    };

    it('a certificate file that is not a certificate', async () => {
      await assertStartFails(await tls('junk', 'junk\n', pair.key), /^TLS: .*junk-cert\.pem is not a PEM certificate \(.*\): put the server's certificate there/);
    });

    it('a key file that is not a key', async () => {
      await assertStartFails(await tls('junk-key', pair.cert, 'junk\n'), /^TLS: .*junk-key-key\.pem is not an unencrypted PEM private key/);
    });

    it("a key that is not the certificate's", async () => {
      await assertStartFails(await tls('mismatch', pair.cert, other.key), /^TLS: the private key .*mismatch-key\.pem does not belong to the certificate .*mismatch-cert\.pem/);
    });

    it('a certificate path that cannot be read', async () => {
      const folder = path.join(dir, 'cert-folder');
      await mkdir(folder, { recursive: true });
      const { OPENMAM_TLS_KEY } = await tls('unreadable', pair.cert, pair.key);
      await assertStartFails({ OPENMAM_TLS_CERT: folder, OPENMAM_TLS_KEY: OPENMAM_TLS_KEY! }, /^TLS: cannot read the certificate .*cert-folder \(EISDIR\): give the server read access/);
    });

    it('a good pair starts', async () => {
      const runtime = await createRuntime(configFor(await tls('good', pair.cert, pair.key)), { logger: false });
      try {
        assert.equal(runtime.tlsCertificate, pair.cert);
      } finally {
        await runtime.app.server.close();
      }
    });
  });
});
