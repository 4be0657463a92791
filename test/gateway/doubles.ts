import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * What the gateway tests run against: a stub of OpenMAM's `POST /access/v1/evaluate` (a test double: the decision
 * is whatever the test sets) and a real upstream that echoes what reached it.
 */

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  raw: Buffer;
}

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readBody(request: IncomingMessage): Promise<string> {
  return (await readRaw(request)).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export type Answer = { status: number; body?: unknown; raw?: string };

export class DecisionStub {
  url = '';
  readonly requests: { authorization: string | undefined; body: Record<string, unknown> }[] = [];
  /** TCP connections opened to the stub (keep-alive reuses one). */
  connections = 0;
  answer: (body: Record<string, unknown>, authorization: string | undefined) => Answer = () => ({ status: 200, body: { decision: 'allow', reasons: [] } });
  private server: Server | undefined;

  async start(tls?: { key: string; cert: string }): Promise<void> {
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      void readBody(request).then((text) => {
        const body = JSON.parse(text) as Record<string, unknown>;
        this.requests.push({ authorization: request.headers.authorization, body });
        if (request.method !== 'POST' || request.url !== '/access/v1/evaluate') {
          response.writeHead(404).end();
          return;
        }
        const answer = this.answer(body, request.headers.authorization);
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(answer.raw ?? (answer.body === undefined ? undefined : JSON.stringify(answer.body)));
      });
    };
    this.server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    this.server.on('connection', () => {
      this.connections += 1;
    });
    const port = await listen(this.server);
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}

export class EchoUpstream {
  url = '';
  readonly received: Received[] = [];
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createHttpServer((request, response) => {
      void readRaw(request).then((raw) => {
        const body = raw.toString('utf8');
        const received = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body, raw };
        this.received.push(received);
        const status = request.method === 'POST' ? 201 : request.url?.startsWith('/missing') ? 404 : 200;
        response.writeHead(status, { 'content-type': 'application/json', 'x-upstream': 'echo' });
        response.end(JSON.stringify({ method: received.method, url: received.url, body }));
      });
    });
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}
