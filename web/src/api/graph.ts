import { getAccessToken } from '../auth/session.tsx';

/**
 * The console's one way to the server: the public admin API, shaped like Microsoft Graph (docs/graph.md). Nothing
 * here is private to the console: every call is one an admin's script could make with the same token.
 */
export const GRAPH_BASE = '/graph/beta';

export interface GraphCollection<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
}

/**
 * Graph's error body (https://learn.microsoft.com/graph/errors) as an exception. A refusal of a value names it: the
 * models' messages start with its JSON path (`pollSchedule.intervalForRemainingScheduledRetries: must be ...`), a
 * route schema's with `body/` and the path in slashes (`body/displayName must NOT have more than 256 characters`,
 * docs/graph.md "Errors"). `path` reads either (`apps[0].id`), `detail` is the message without it, so a form shows
 * it at the field it is about.
 */
export class GraphError extends Error {
  readonly path: string | undefined;
  readonly detail: string;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'GraphError';
    const refused = status === 400 || status === 409 ? refusedPath(message) : undefined;
    this.path = refused?.path;
    this.detail = refused?.detail ?? message;
  }
}

function refusedPath(message: string): { path: string; detail: string } | undefined {
  const model = /^((?:[A-Za-z_@][\w@.#]*?)(?:\[\d+\]|\.[A-Za-z_@][\w@]*)*): ([\s\S]*)$/.exec(message);
  if (model) return { path: model[1]!, detail: model[2]! };
  const schema = /^body\/(\S+) ([\s\S]*)$/.exec(message);
  if (!schema) return undefined;
  const path = schema[1]!.split('/').map((segment, i) => (/^\d+$/.test(segment) ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join('');
  return { path, detail: schema[2]! };
}

/** `path` is `prefix` or a value inside it (`apps[0].id` is under `apps`). */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** A path under /graph/beta (`/deviceAppManagement/...`), an absolute /graph/... path, or a nextLink from the server. */
export function graphUrl(path: string): string {
  if (/^https?:\/\//i.test(path)) {
    const url = new URL(path);
    // A nextLink names this server; never follow one to another origin with the admin's token.
    if (url.origin !== location.origin) throw new GraphError(0, 'foreignLink', `refused to follow a link to ${url.origin}`, undefined);
    return `${url.pathname}${url.search}`;
  }
  if (path.startsWith('/graph/')) return path;
  return `${GRAPH_BASE}${path.startsWith('/') ? '' : '/'}${path}`;
}

async function call(method: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  const token = getAccessToken();
  const all: Record<string, string> = { accept: 'application/json', ...headers };
  if (token) all['authorization'] = `Bearer ${token}`;
  if (body !== undefined) all['content-type'] = 'application/json';
  const response = await fetch(graphUrl(path), { method, headers: all, body: body === undefined ? null : JSON.stringify(body), signal: signal ?? null, credentials: 'omit' });
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response: Response): Promise<GraphError> {
  const requestId = response.headers.get('request-id') ?? undefined;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    return new GraphError(response.status, body.error?.code ?? 'unknownError', body.error?.message ?? response.statusText, requestId);
  } catch {
    return new GraphError(response.status, 'unknownError', `${response.status} ${response.statusText}`, requestId);
  }
}

export async function graphGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await call('GET', path, undefined, {}, signal);
  return (await response.json()) as T;
}

/** POST, PATCH or DELETE; `undefined` for Graph's 204 No Content. `ifMatch` sends the entity's ETag (412 if stale). */
export async function graphSend<T = unknown>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, options: { ifMatch?: string } = {}): Promise<T | undefined> {
  const headers: Record<string, string> = {};
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  const response = await call(method, path, body, headers);
  if (response.status === 204 || response.headers.get('content-length') === '0') return undefined;
  return (await response.json()) as T;
}

/** An OData string literal: single quotes doubled (OData ABNF, SQUOTE-in-string). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Query options as a string, with OData's `$` names kept readable. */
export function query(options: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(options)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
