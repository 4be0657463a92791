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
 * Graph's error body (https://learn.microsoft.com/graph/errors) as an exception. OpenMAM's validation messages start
 * with the JSON path of the refused value (`displayName: must not be empty`, `apps[0].mobileAppIdentifier: ...`):
 * `path` keeps it and `field` its first property, so a form shows the message at the field it is about.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'GraphError';
  }

  get path(): string | undefined {
    return /^((?:[A-Za-z_@][\w@.#]*?)(?:\[\d+\]|\.[A-Za-z_@][\w@]*)*): /.exec(this.message)?.[1];
  }

  get field(): string | undefined {
    return this.path?.split(/[.[]/, 1)[0];
  }

  /** The message without its path, for display next to the field. */
  get detail(): string {
    const path = this.path;
    return path === undefined ? this.message : this.message.slice(path.length + 2);
  }
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
