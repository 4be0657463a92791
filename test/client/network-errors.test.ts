import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../src/cli/tls.ts';
import { MamClient, MamNetworkError } from '../../packages/client/src/index.ts';
import { freePort } from '../support/free-port.ts';
import { FakeClock, tokenFor } from './mam-server-double.ts';

/**
 * `@openmam/client` says why OpenMAM could not be reached: fetch's own message is "fetch failed", and what a person
 * can act on (an untrusted certificate, a refused connection, an unknown host) is in its `cause`.
 */
function clientFor(serverUrl: string): MamClient {
  return new MamClient({
    serverUrl,
    getToken: async () => tokenFor('net-user'),
    app: { appId: 'com.contoso.notes', appVersion: '4.2.0', sdkVersion: '1.0.0' },
    device: { osVersion: '10.0.22631.3155', deviceTag: 'tag-net' },
    clock: new FakeClock(),
  });
}

async function refusal(serverUrl: string): Promise<MamNetworkError> {
  const error: unknown = await clientFor(serverUrl).register().then(
    () => assert.fail('register() should fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof MamNetworkError, `a MamNetworkError, got ${String(error)}`);
  return error;
}

describe('SDK network errors carry their cause', () => {
  let https: Server;
  let httpsUrl: string;
  before(async () => {
    // A real TLS server whose certificate no trust store holds.
    const { cert, key } = await selfSignedCertificate('localhost');
    https = createHttpsServer({ cert, key }, (_request, response) => response.end('{}'));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => https.close(() => resolve())));

  it('an untrusted certificate: the TLS error code and message', async () => {
    const error = await refusal(httpsUrl);
    assert.match(error.message, /fetch failed \(cause: (?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE): [^)]*certificate/i, error.message);
    assert.ok(error.cause instanceof Error, 'the original error stays the cause');
  });

  it('a closed port: ECONNREFUSED and the address', async () => {
    const port = await freePort();
    const error = await refusal(`http://127.0.0.1:${port}`);
    assert.match(error.message, new RegExp(`cause: ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`), error.message);
  });

  it('a name that does not resolve: the resolver code and the host', async () => {
    // RFC 6761 section 6.4: `.invalid` never resolves.
    const error = await refusal('https://openmam.invalid');
    assert.match(error.message, /cause: (?:ENOTFOUND|EAI_AGAIN): getaddrinfo (?:ENOTFOUND|EAI_AGAIN) openmam\.invalid/, error.message);
  });
});
