import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANY_VERSION, type ExpectedVersion } from '../../core/versioned-write.ts';
import { GraphError } from './graph-api.ts';

/**
 * Entity tags of the admin API, derived in this one place from an object's version:
 * - every entity body carries the OData annotation `@odata.etag` (OData JSON Format v4.01 §4.5.10 "Annotation
 *   odata.etag"), in collections too; the `ETag` response header (RFC 9110 §8.8.3) is set from it by one hook for
 *   single-entity responses, and by `setEntityTag` for the actions answered with 204 (assign, targetApps);
 * - `If-Match` (RFC 9110 §13.1.1) on PATCH, actions and DELETE: `*` matches any existing object, otherwise a list of
 *   entity tags. The tags are weak (`W/"<version>"`: the body is not byte-for-byte fixed) and compared weakly, as
 *   OData services and Graph do with their weak ETags (OData Protocol v4.01 §8.2.4, §11.4.1.1); RFC 9110's strong
 *   comparison could never match a weak tag. A malformed header is 400; a stale tag is 412 (core).
 */

/** The entity tag of an object at `version`. */
export function entityTag(version: number): string {
  return `W/"${version}"`;
}

/** The annotation to spread into an entity body, first among its properties (OData JSON Format §4.5). */
export function etagAnnotation(version: number): { '@odata.etag': string } {
  return { '@odata.etag': entityTag(version) };
}

/** For responses without a body (204 of assign, targetApps): the tag of the object as written. */
export function setEntityTag(reply: FastifyReply, version: number): FastifyReply {
  return reply.header('etag', entityTag(version));
}

/**
 * Sets `ETag` on every single-entity response from its `@odata.etag` (collections carry theirs per entity, in
 * `value`). Registered once for the whole admin API.
 */
export function entityTagHeaders(app: FastifyInstance): void {
  app.addHook('preSerialization', async (_request, reply, payload: unknown) => {
    if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
      const tag = (payload as Record<string, unknown>)['@odata.etag'];
      if (typeof tag === 'string' && !reply.hasHeader('etag')) reply.header('etag', tag);
    }
    return payload;
  });
}

// RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag; weak = %s"W/"; opaque-tag = DQUOTE *etagc DQUOTE;
// etagc = %x21 / %x23-7E / obs-text (a comma may be inside a tag). A #list (§5.6.1) separates its elements by
// OWS "," OWS and allows empty ones. One element and its separator, read from where the previous one ended:
const LIST_ELEMENT = /[ \t]*(?:(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*)?(,|$)/y;

/**
 * What a write is conditioned on, from `If-Match`: absent or `*`, any existing object (PATCH and DELETE never create,
 * so `*` adds nothing to the 404 of a missing one); otherwise the versions the listed tags name (tags that are not
 * ours name none, and so never match). 400 with a Graph error body when the header is malformed.
 */
export function expectedVersion(request: FastifyRequest): ExpectedVersion {
  const header = request.headers['if-match'];
  if (header === undefined) return ANY_VERSION;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return ANY_VERSION;
  const versions: number[] = [];
  let tags = 0;
  for (let position = 0; ; ) {
    LIST_ELEMENT.lastIndex = position;
    const element = LIST_ELEMENT.exec(value);
    if (element === null) throw malformed(value);
    const opaque = element[1];
    if (opaque !== undefined) {
      tags++;
      // Ours are decimal versions; any other tag is well-formed but names no version of ours.
      if (/^[1-9][0-9]{0,14}$/.test(opaque)) versions.push(Number(opaque));
    }
    if (element[2] === '') break;
    position = LIST_ELEMENT.lastIndex;
  }
  if (tags === 0) throw malformed(value);
  return { kind: 'versions', versions };
}

function malformed(value: string): GraphError {
  const shown = value.length > 100 ? `${value.slice(0, 100)}...` : value;
  return new GraphError(400, 'BadRequest', `If-Match: must be * or a comma-separated list of entity tags such as W/"3", not ${JSON.stringify(shown)}`);
}
