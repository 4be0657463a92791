/**
 * An open-loop (constant arrival rate) HTTP/1.1 load generator over TLS keep-alive connections, for latency at a
 * fixed request rate.
 *
 * Why not autocannon: its `overallRate` (and `connectionRate`) is a per-connection budget per second, reset by a
 * one-second timer; each connection sends back to back (the next request when the previous reply arrives) until its
 * budget is spent, then waits for the next second. At 5,000/s over 32 connections that is a burst at full speed
 * at the start of every second, then silence: not a constant rate, and latencies are those of a closed loop (its
 * coordinated-omission correction assumes an interval of ceil(1/rate) = 1 ms whatever the rate).
 *
 * Here request i is due at start + i/rate. A timer (Node's 1 ms resolution) sends everything due at each tick, so
 * arrivals come in bursts of about rate/1000 requests (5 at 5,000/s) — a little harsher than a perfectly even
 * spacing. A due request goes out on an idle connection at once, or waits in a queue for the next connection that
 * finishes: the wait counts in its latency (latency is measured from when it was due to be sent at that tick, not
 * from when a connection took it: no coordinated omission). `sendLag` says how late the ticks were against the
 * ideal schedule (the generator's own precision), and `fromSchedule` gives latencies from the ideal times.
 *
 * Requests are prebuilt bytes (request line, headers, body); replies are parsed just enough for status and body
 * (Content-Length framing, which is what Fastify sends for JSON). One request in flight per connection (no
 * pipelining).
 */
import { connect, type TLSSocket } from 'node:tls';

export interface OpenLoopOptions {
  port: number;
  host?: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  connections: number;
  /** The bytes of request number `index` (see `httpRequest`). */
  request: (index: number) => Buffer;
  /** Called with every reply (keep it cheap: it runs on the load generator's event loop). */
  onReply?: (status: number, body: Buffer, index: number) => void;
  /** How long to wait for outstanding replies after the last request was due (ms, default 10 s). */
  drainMs?: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface OpenLoopResult {
  /** Requests due during the run (rate x seconds). */
  scheduled: number;
  completed: number;
  /** Connection errors, and requests still unanswered after the drain time. */
  errors: number;
  statuses: Record<string, number>;
  /** Completed replies per second, from the first due time to the last reply. */
  achievedRate: number;
  /** Latency in ms from the tick that sent (or queued) the request to its complete reply. */
  latency: Percentiles;
  /** `latency` of the replies of each status (e.g. the 200s apart from the 503s of a server that sheds load). */
  latencyByStatus: Record<string, Percentiles>;
  /** Latency in ms from the request's ideal due time (includes the generator's tick lateness). */
  fromSchedule: Percentiles;
  /** How late the ticks sent requests against their ideal due times, ms. */
  sendLag: Percentiles;
  /** Requests that found no idle connection and waited in the queue; the longest queue. */
  queued: number;
  maxQueue: number;
  /** Requests sent again after their kept-alive connection closed before any of their reply (ConnectionPool). */
  resent: number;
  elapsedSeconds: number;
  /** CPU the generator's process used, in cores (user + system over the run). */
  clientCores: number;
}

/** The bytes of one HTTP/1.1 request with a keep-alive connection and a body. */
export function httpRequest(method: string, path: string, headers: Readonly<Record<string, string>>, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const lines = [`${method} ${path} HTTP/1.1`, 'host: 127.0.0.1', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), `content-length: ${payload.length}`];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** p-th percentile (0..100) of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Percentiles of `values` (a typed array, so that `sort` is numeric). */
export function percentilesOf(values: Float64Array): Percentiles {
  const sorted = values.slice().sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length > 0 ? sum / sorted.length : NaN,
  };
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

interface Connection {
  socket: TLSSocket;
  /** The request in flight, -1 when idle. */
  current: number;
  buffer: Buffer | undefined;
  /** Replies received on this connection so far. */
  served: number;
}

export interface ConnectionPoolOptions {
  port: number;
  host?: string;
  connections: number;
  /** The bytes of request number `index` (see `httpRequest`), asked for when a connection sends it. */
  request: (index: number) => Buffer;
  /** A complete reply to request `index`: its status, its head (status line and headers) and its body. */
  onReply: (index: number, status: number, head: string, body: Buffer) => void;
  /** Request `index` was in flight on a connection that closed (or failed) before its reply. */
  onLost: (index: number) => void;
}

/**
 * TLS keep-alive connections, one request in flight on each: `send(index)` goes out on an idle connection at once, or
 * waits in a queue (first in, first out) for the next connection that finishes. A connection the server closes (or
 * that fails) is replaced.
 */
export class ConnectionPool {
  /** Requests that found no idle connection and waited in the queue; the longest queue. */
  queued = 0;
  maxQueue = 0;
  /** Replacement connections that could not be opened. */
  failedOpens = 0;
  /** Requests sent again because a kept-alive connection closed before any byte of their reply (see #onClose). */
  resent = 0;
  readonly #options: ConnectionPoolOptions;
  readonly #connections = new Set<Connection>();
  readonly #idle: Connection[] = [];
  readonly #queue: number[] = [];
  #queueHead = 0;
  #opened = false;
  #closing = false;

  private constructor(options: ConnectionPoolOptions) {
    this.#options = options;
  }

  /** Opens `options.connections` connections; rejects if one cannot be opened. */
  static async open(options: ConnectionPoolOptions): Promise<ConnectionPool> {
    const pool = new ConnectionPool(options);
    for (const connection of await Promise.all(Array.from({ length: options.connections }, () => pool.#open()))) {
      pool.#connections.add(connection);
      pool.#idle.push(connection);
    }
    pool.#opened = true;
    return pool;
  }

  send(index: number): void {
    const connection = this.#idle.pop();
    if (connection) this.#send(connection, index);
    else {
      this.#queue.push(index);
      this.queued++;
      this.maxQueue = Math.max(this.maxQueue, this.#queue.length - this.#queueHead);
    }
  }

  close(): void {
    this.#closing = true;
    for (const connection of this.#connections) connection.socket.destroy();
  }

  #send(connection: Connection, index: number): void {
    connection.current = index;
    connection.socket.write(this.#options.request(index));
  }

  #release(connection: Connection): void {
    connection.current = -1;
    if (this.#queueHead < this.#queue.length) {
      this.#send(connection, this.#queue[this.#queueHead++]!);
      if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
    } else this.#idle.push(connection);
  }

  #open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.#options.host ?? '127.0.0.1', port: this.#options.port, rejectUnauthorized: false });
      const connection: Connection = { socket, current: -1, buffer: undefined, served: 0 };
      socket.setNoDelay(true);
      socket.once('secureConnect', () => resolve(connection));
      socket.on('error', (error) => {
        if (!this.#opened) reject(error);
      });
      socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
      socket.on('close', () => this.#onClose(connection));
    });
  }

  #onData(connection: Connection, chunk: Buffer): void {
    let buffer = connection.buffer ? Buffer.concat([connection.buffer, chunk]) : chunk;
    for (;;) {
      const headerEnd = buffer.indexOf(HEADER_END);
      if (headerEnd < 0) break;
      const head = buffer.toString('latin1', 0, headerEnd);
      const status = Number(head.slice(9, 12));
      const length = status === 204 || status === 304 ? 0 : Number(CONTENT_LENGTH.exec(head)?.[1] ?? NaN);
      if (Number.isNaN(length)) {
        // Not Content-Length framed: not something these servers send; count it and start over on a new connection.
        connection.buffer = undefined;
        connection.socket.destroy();
        return;
      }
      const end = headerEnd + HEADER_END.length + length;
      if (buffer.length < end) break;
      const index = connection.current;
      if (index < 0) {
        // A reply nobody asked for: not something these servers send; drop the connection (it is replaced).
        connection.buffer = undefined;
        connection.socket.destroy();
        return;
      }
      connection.served++;
      this.#options.onReply(index, status, head, buffer.subarray(headerEnd + HEADER_END.length, end));
      buffer = buffer.subarray(end);
      this.#release(connection);
      if (buffer.length === 0) break;
    }
    connection.buffer = buffer.length > 0 ? buffer : undefined;
  }

  #onClose(connection: Connection): void {
    this.#connections.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    const lost = connection.current;
    connection.current = -1;
    if (lost >= 0 && connection.served > 0 && connection.buffer === undefined && !this.#closing) {
      // A connection that had served before closed before any byte of this reply: the server closed it as idle (its
      // keep-alive timeout) as the request went out. A client may send such a request again on a new connection when
      // it knows it to be idempotent (RFC 9112 §9.3.1), as a check-in is in effect; counted, not hidden.
      this.resent++;
      this.send(lost);
    } else if (lost >= 0) this.#options.onLost(lost);
    if (this.#closing) return;
    // The server closed a connection (or it failed): replace it.
    this.#open().then(
      (replacement) => {
        // Closed while it was being opened: a connection left open would keep the server from closing.
        if (this.#closing) {
          replacement.socket.destroy();
          return;
        }
        this.#connections.add(replacement);
        this.#release(replacement);
      },
      () => {
        this.failedOpens++;
      },
    );
  }
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const issuedAt = new Float64Array(total);
  const latency = new Float64Array(total);
  const fromSchedule = new Float64Array(total);
  const statusOf = new Uint16Array(total);
  const statuses: Record<string, number> = {};
  let completed = 0;
  let lost = 0;
  let lastReplyAt = 0;
  let start = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let settled = 0;
  const settle = (): void => {
    settled++;
    if (settled === total) finish();
  };

  const pool = await ConnectionPool.open({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    connections: options.connections,
    request: options.request,
    onReply: (index, status, _head, body) => {
      const now = performance.now();
      latency[completed] = now - issuedAt[index]!;
      fromSchedule[completed] = now - (start + index * interval);
      statusOf[completed] = status;
      completed++;
      lastReplyAt = now;
      statuses[status] = (statuses[status] ?? 0) + 1;
      options.onReply?.(status, body, index);
      settle();
    },
    onLost: () => {
      lost++;
      settle();
    },
  });

  let next = 0;
  const cpuBefore = process.cpuUsage();
  start = performance.now();
  const tick = (): void => {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / interval) + 1);
    while (next < due) {
      const index = next++;
      issuedAt[index] = now;
      pool.send(index);
    }
    if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
  };
  tick();
  const drain = new Promise<void>((resolve) => setTimeout(resolve, options.seconds * 1000 + (options.drainMs ?? 10_000)).unref());
  await Promise.race([done, drain]);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = Math.max(lastReplyAt, start + total * interval) - start;
  const errors = lost + pool.failedOpens + (total - settled);
  pool.close();

  const sendLag = new Float64Array(next);
  for (let i = 0; i < next; i++) sendLag[i] = issuedAt[i]! - (start + i * interval);
  return {
    scheduled: total,
    completed,
    errors,
    statuses,
    achievedRate: completed / (elapsedMs / 1000),
    latency: percentilesOf(latency.subarray(0, completed)),
    latencyByStatus: Object.fromEntries(
      Object.keys(statuses).map((status) => [status, percentilesOf(latency.subarray(0, completed).filter((_, i) => statusOf[i] === Number(status)))]),
    ),
    fromSchedule: percentilesOf(fromSchedule.subarray(0, completed)),
    sendLag: percentilesOf(sendLag),
    queued: pool.queued,
    maxQueue: pool.maxQueue,
    resent: pool.resent,
    elapsedSeconds: elapsedMs / 1000,
    clientCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

export interface NewConnectionsResult {
  /** Requests answered, each on a connection of its own. */
  answered: number;
  statuses: Record<string, number>;
  /** Connections that failed or closed before a complete status line. */
  errors: number;
  elapsedSeconds: number;
}

/**
 * Each request on a new TLS connection of its own (a full handshake: no session is offered for resumption), closed
 * after its answer (`connection: close`), `parallel` at a time for `seconds`: what a client that connects for each
 * session costs the node, as Windows' OMA-DM client and an app waking for its check-in do, against the kept-alive
 * connections of the rest of these benchmarks.
 */
export async function newConnections(options: { port: number; request: (index: number) => Buffer; parallel: number; seconds: number }): Promise<NewConnectionsResult> {
  const statuses: Record<string, number> = {};
  let [answered, errors, next] = [0, 0, 0];
  const one = (bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: options.port, rejectUnauthorized: false });
      let head = '';
      socket.once('secureConnect', () => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => {
        if (head.length < 12) head += chunk.toString('latin1', 0, Math.min(chunk.length, 12));
      });
      socket.once('error', () => undefined);
      socket.once('close', () => {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
        if (status === undefined) errors++;
        else {
          answered++;
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
        resolve();
      });
    });
  const started = performance.now();
  const until = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.parallel }, async () => {
      while (performance.now() < until) await one(options.request(next++));
    }),
  );
  return { answered, statuses, errors, elapsedSeconds: (performance.now() - started) / 1000 };
}
