import { rootCertificates } from 'node:tls';
import { Client } from '@microsoft/microsoft-graph-client';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';

/**
 * Microsoft's own Graph client (@microsoft/microsoft-graph-client, as admins' scripts use it) pointed at a test
 * server: `baseUrl` is the server's Graph root and its host a `customHost`, so the client sends the token there and
 * follows `@odata.nextLink` (PageIterator) as it does against graph.microsoft.com. The client calls the global
 * `fetch`; `trustTestCa` makes that trust the test server's self-signed certificate, as a machine given the CA would.
 */
export function graphClient(serverUrl: string, token: string, version: 'beta' | 'v1.0' = 'beta'): Client {
  return Client.init({
    authProvider: (done) => done(null, token),
    baseUrl: `${serverUrl}/graph/`,
    defaultVersion: version,
    customHosts: new Set([new URL(serverUrl).hostname]),
  });
}

/** Trusts `ca` (and the public roots) for the global fetch until the returned function is called. */
export function trustTestCa(ca: string): () => void {
  const previous: Dispatcher = getGlobalDispatcher();
  setGlobalDispatcher(new Agent({ connect: { ca: [...rootCertificates, ca] } }));
  return () => setGlobalDispatcher(previous);
}
