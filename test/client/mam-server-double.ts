import type { ErrorBody } from '../../packages/contract/src/index.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, ConfigurationDocument, MamAction, PolicyDocument } from '../../packages/client/src/index.ts';

/**
 * A test double of OpenMAM's `/mam/v1` (docs/app-protection.md) over real HTTP: registrations keyed by user, app and
 * device tag, policy and configuration sent only when their version differs from the one the app holds, actions
 * as set by the test, results recorded (404 for an unknown action, 409 for one completed). Refusals on demand:
 * 403 not onboarded (Retry-After), 409 wrongAccount. Tokens are unsigned JWT-shaped strings naming the user.
 */
export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export class MamServerDouble {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly results: { registrationId: string; actionId: string; status: unknown; detail: unknown }[] = [];
  policy: PolicyDocument | null = null;
  configuration: ConfigurationDocument | null = null;
  /** Block and warn actions sent at every answer; wipes stay until their result arrives. */
  actions: MamAction[] = [];
  nextCheckInSeconds = 1800;
  notOnboarded = false;
  /** The user who holds the device: registrations of anyone else are refused with 409 wrongAccount. */
  deviceOwner: string | undefined;
  /** Answer every request with this status (e.g. 500), when set. */
  failWith: number | undefined;
  /** The Retry-After header of the `failWith` answers, when set. */
  failRetryAfter: string | undefined;
  private readonly registrations = new Map<string, { user: string; key: string }>();
  private readonly completed = new Set<string>();
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests to one kind of endpoint. */
  calls(kind: 'registrations' | 'checkin' | 'result'): RecordedRequest[] {
    return this.requests.filter((r) => (kind === 'registrations' ? r.path === '/mam/v1/registrations' : kind === 'checkin' ? r.path.endsWith('/checkin') : r.path.endsWith('/result')));
  }

  /** The registration id held by `user`, if any. */
  registrationOf(user: string): string | undefined {
    return [...this.registrations].find(([, r]) => r.user === user)?.[0];
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const path = request.url ?? '';
    this.requests.push({ path, authorization: request.headers.authorization, body });
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, payload === undefined ? headers : { 'content-type': 'application/json', ...headers });
      response.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (this.failWith !== undefined) {
      return send(this.failWith, { error: { code: 'internal', message: 'failing on purpose' } }, this.failRetryAfter === undefined ? {} : { 'retry-after': this.failRetryAfter });
    }
    const user = userOf(request.headers.authorization);
    if (user === undefined) return send(401, { error: { code: 'authentication_failed', message: 'no token' } });
    if (this.notOnboarded) {
      return send(403, refusal({ code: 'tenantNotOnboarded', message: 'this organization does not use OpenMAM', nextCheckInSeconds: 86400 }), { 'retry-after': '86400' });
    }

    if (request.method === 'POST' && path === '/mam/v1/registrations') {
      if (this.deviceOwner !== undefined && this.deviceOwner !== user) {
        return send(409, refusal({
          code: 'wrongAccount',
          message: 'another work account is managed on this device',
          userMessage: { title: "Accessing your organization's data", text: `Sign in with ${this.deviceOwner}, the account your organization manages on this device.`, remediation: 'Sign in with that account.' },
        }));
      }
      const key = `${user}|${String(body['appId'])}|${String(body['deviceTag'])}`;
      const existing = [...this.registrations].find(([, r]) => r.key === key)?.[0];
      const id = existing ?? `reg-${this.registrations.size + 1}`;
      this.registrations.set(id, { user, key });
      return send(existing ? 200 : 201, { registrationId: id, ...this.answer({ policyVersion: null, configurationVersion: null }, true) });
    }
    const checkin = /^\/mam\/v1\/registrations\/([^/]+)\/checkin$/.exec(path);
    if (request.method === 'POST' && checkin) {
      const registration = this.registrations.get(decodeURIComponent(checkin[1]!));
      if (!registration || registration.user !== user) return send(404, { error: { code: 'not_found', message: 'no such registration' } });
      return send(200, this.answer(body, false));
    }
    const result = /^\/mam\/v1\/registrations\/([^/]+)\/actions\/([^/]+)\/result$/.exec(path);
    if (request.method === 'POST' && result) {
      const registrationId = decodeURIComponent(result[1]!);
      const actionId = decodeURIComponent(result[2]!);
      if (!this.actions.some((a) => a.id === actionId && a.type === 'wipe') && !this.completed.has(actionId)) {
        return send(404, { error: { code: 'not_found', message: 'no such action' } });
      }
      if (this.completed.has(actionId)) return send(409, { error: { code: 'conflict', message: 'already completed' } });
      this.completed.add(actionId);
      this.actions = this.actions.filter((a) => a.id !== actionId);
      this.results.push({ registrationId, actionId, status: body['status'], detail: body['detail'] });
      return send(204);
    }
    send(404, { error: { code: 'not_found', message: `no route ${path}` } });
  }

  private answer(held: Record<string, unknown>, registering: boolean): Record<string, unknown> {
    const answer: Record<string, unknown> = {
      actions: this.actions,
      complianceState: this.policy ? (this.actions.some((a) => a.type !== 'warn') ? 'notCompliant' : 'compliant') : 'unknown',
      nextCheckInSeconds: this.nextCheckInSeconds,
    };
    if (registering || held['policyVersion'] !== (this.policy?.version ?? null)) answer['policy'] = this.policy;
    if (registering || held['configurationVersion'] !== (this.configuration?.version ?? null)) answer['configuration'] = this.configuration;
    return answer;
  }
}

/** An unsigned JWT-shaped token for a user (the double reads `oid`; the client binds itself to it). */
export function tokenFor(user: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ oid: user, upn: `${user}@contoso.example` })}.sig`;
}

function userOf(authorization: string | undefined): string | undefined {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (payload === undefined) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { oid?: string };
  return claims.oid;
}

/** Frozen time with timers that run only when the test says so. */
export class FakeClock implements Clock {
  time = Date.UTC(2026, 0, 5, 9, 0, 0);
  private timers: { id: number; at: number; callback: () => void }[] = [];
  private ids = 0;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ id, at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time to the earliest timer and runs it; returns how far time moved (undefined when none is set). */
  runNext(): number | undefined {
    this.timers.sort((a, b) => a.at - b.at);
    const next = this.timers.shift();
    if (next === undefined) return undefined;
    const moved = next.at - this.time;
    this.time = next.at;
    next.callback();
    return moved;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function policyDocument(version: string, settings: PolicyDocument['settings'] = {}): PolicyDocument {
  return {
    id: 'pol-1',
    version,
    displayName: 'Contoso baseline',
    settings: { periodOfflineBeforeAccessCheck: 'PT720M', periodOfflineBeforeWipeIsEnforced: 'P90D', appActionIfUnableToAuthenticateUser: null, ...settings },
  };
}

export function action(id: string, type: MamAction['type'], reason: string, title = 'App can no longer be used'): MamAction {
  return { id, type, reason, message: { title, text: `${reason} applies`, remediation: 'Contact your IT administrator.' } };
}

/** An error body in the server's shape: the contract's type, so the double cannot drift from the server. */
function refusal(error: Omit<ErrorBody['error'], 'requestId'>): ErrorBody {
  return { error: { ...error, requestId: 'req-double' } };
}
