import { Agent, request } from 'node:https';

/**
 * HTTPS for the simulator's clients, trusting the server's certificate (the self-signed one of a development server,
 * as a device that was given that CA would): one keep-alive agent per simulation, node:https only.
 */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class HttpsTransport {
  readonly agent: Agent;

  constructor(
    readonly ca: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = new Agent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) });
  }

  send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body, 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(options.body);
    });
  }

  /** A JSON call with a bearer token; the answer parsed ({} when empty, `{ raw }` when not JSON). */
  async json(method: string, url: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const answer = await this.send(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    let parsed: Record<string, unknown> = {};
    if (answer.body.trim() !== '') {
      try {
        parsed = JSON.parse(answer.body) as Record<string, unknown>;
      } catch {
        parsed = { raw: answer.body.slice(0, 500) };
      }
    }
    return { status: answer.status, body: parsed };
  }

  /** A `fetch` over this transport, for the SDK (`MamClient`'s `fetch` option): method, headers, string bodies. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('the simulator sends string bodies only');
    const answer = await this.send(url, { method: init?.method ?? 'GET', headers: Object.fromEntries(new Headers(init?.headers).entries()), ...(typeof body === 'string' ? { body } : {}) });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    const empty = answer.status === 204 || answer.status === 304;
    return new Response(empty ? null : answer.body, { status: answer.status, headers });
  };

  close(): void {
    this.agent.destroy();
  }
}

/** The message of an `{"error": {"code", "message"}}` answer (Graph and the app protection service), else the status. */
export function errorText(answer: { status: number; body: Record<string, unknown> }): string {
  const error = answer.body['error'] as { code?: unknown; message?: unknown } | undefined;
  return error && typeof error === 'object' ? `${answer.status} ${String(error.code)}: ${String(error.message)}` : `HTTP ${answer.status}`;
}
