/**
 * OData's URL conventions (OData v4.01 Part 2 §4.3, §4.5, §11.5.3) mapped onto the admin API's plain routes before
 * routing: a key in parentheses (`policies('id')`, `policies(id)`, `%27` for the quote) is the key as a path segment
 * (`policies/id`), a key or a function's one parameter given by name (`getAuditActivityTypes(category='Device')`,
 * §4.3.1 and §11.5.3.1) is its value as a segment too, and a function called with empty parentheses
 * (`isManagedAppUserBlocked()`) is the bare segment.
 * Only paths under `/graph/` are rewritten; the query string is left as sent.
 */
const GRAPH_PREFIX = /^\/graph\//i;
/**
 * A segment's name, then `('key')` (quotes doubled inside) or `(key)` or `()`, or one of them named (`(name='key')`),
 * up to the end of the segment.
 */
const KEYED_SEGMENT = /([^/()]+)\((?:[A-Za-z_][A-Za-z0-9_]*=)?(?:'((?:[^']|'')*)'|([^'()/=]*))\)(?=\/|$)/g;

export function rewriteGraphUrl(url: string): string {
  if (!GRAPH_PREFIX.test(url)) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt);
  const unquoted = path.replace(/%27/gi, "'").replace(/%28/gi, '(').replace(/%29/gi, ')');
  if (!unquoted.includes('(')) return url;
  const rewritten = unquoted.replace(KEYED_SEGMENT, (_match, name: string, quoted: string | undefined, bare: string | undefined) => {
    const key = quoted !== undefined ? quoted.replace(/''/g, "'") : (bare ?? '');
    return key === '' ? name : `${name}/${encodeURIComponent(decoded(key))}`;
  });
  return rewritten + query;
}

/** The key as written, percent-decoded (it is encoded again as one segment); left as is when not decodable. */
function decoded(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}
