import assert from 'node:assert/strict';

/** A Graph call as the suites make it: method, path, body; the answer with its status, headers and parsed body. */
export type GraphCall<R extends { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> = (method: string, path: string, body?: unknown) => Promise<R>;

/**
 * A directory or identity object's PATCH (a conditional access policy, a service principal): 204 with the new entity
 * tag and no body, as Graph answers it; then the object as a GET reads it.
 */
export async function patchedThenRead<R extends { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>(call: GraphCall<R>, url: string, body: unknown): Promise<R> {
  const answer = await call('PATCH', url, body);
  assert.equal(answer.status, 204, JSON.stringify(answer.body));
  const read = await call('GET', url);
  assert.equal(answer.headers['etag'], read.body['@odata.etag'], 'the 204 carries the tag of what was written');
  return read;
}
