import { httpsRequest } from './https-client.ts';

/**
 * A `fetch` for clients under test that trusts the test server's self-signed certificate (as a device that was
 * given the CA would), built on node:https. Only what the clients use: method, headers, a string body.
 */
export function fetchTrusting(ca: string): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('fetchTrusting sends string bodies only');
    const response = await httpsRequest(url, { method: init?.method ?? 'GET', headers, ca, ...(typeof body === 'string' ? { body } : {}) });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const empty = response.status === 204 || response.status === 304;
    return new Response(empty ? null : response.body, { status: response.status, headers: responseHeaders });
  };
}
