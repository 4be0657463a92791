import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { CredentialUnavailableError, type TokenSource } from './token-source.ts';

/**
 * The gateway's client of OpenMAM's access decisions (`POST /access/v1/evaluate`, docs/app-protection.md). Every
 * proxied request pays one decision, so connections to OpenMAM are kept alive and reused (an undici Agent), and a
 * slow OpenMAM fails the request quickly instead of holding it.
 */

/**
 * OpenMAM's `POST /access/v1/evaluate` body (docs/app-protection.md, "Access decisions"): the user's token for the
 * resource and the resource; the rest are claims the token must agree with, and the client's address for the log.
 */
export interface DecisionRequest {
  userToken: string;
  resource: string;
  registrationId?: string;
  appId?: string;
  azureAdDeviceId?: string;
  ipAddress?: string;
}

export interface Remediation {
  title: string;
  message: string;
}

export interface Decision {
  decision: 'allow' | 'deny';
  reasons: string[];
  remediation?: Remediation;
  /** Set when OpenMAM refused the request itself (a 4xx about the user's token or headers): its error message. */
  message?: string;
}

export interface DecisionSource {
  evaluate(request: DecisionRequest): Promise<Decision>;
  close(): Promise<void>;
}

/**
 * No decision could be had: OpenMAM unreachable or too slow (`unreachable`, answered 503), refusing the gateway's
 * own credential or having none (`credential`, 503), or answering something unusable (`bad_answer`, 502). The
 * gateway fails closed on all of them.
 */
export class DecisionUnavailableError extends Error {
  override readonly name = 'DecisionUnavailableError';
  readonly kind: 'unreachable' | 'credential' | 'bad_answer';

  constructor(kind: DecisionUnavailableError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/**
 * OpenMAM could not read the request the gateway built from the app's request (a registration or device header that
 * is not a GUID, say): the app's mistake, answered with the gateway's 400, not a user's 403.
 */
export class MalformedAccessRequestError extends Error {
  override readonly name = 'MalformedAccessRequestError';
}

export interface DecisionClientOptions {
  /** OpenMAM's base URL, e.g. `https://mam.contoso.com`. */
  openmamUrl: string;
  token: TokenSource;
  /** Extra trusted CA certificates (PEM) for OpenMAM, e.g. its self-signed certificate; the public roots stay trusted. */
  ca?: string;
  /** Connect, headers and body timeout per decision; default 5 s. */
  timeoutMs?: number;
}

export class DecisionClient implements DecisionSource {
  private readonly url: string;
  private readonly agent: Agent;

  constructor(private readonly options: DecisionClientOptions) {
    this.url = `${options.openmamUrl.replace(/\/+$/, '')}/access/v1/evaluate`;
    const timeout = options.timeoutMs ?? 5000;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: { timeout, ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }) },
    });
  }

  async evaluate(input: DecisionRequest): Promise<Decision> {
    const first = await this.ask(input, await this.credential(false));
    if (first.status !== 401) return this.read(first);
    // OpenMAM refused the gateway's token: it may have been renewed on disk since the last look.
    const second = await this.ask(input, await this.credential(true));
    return this.read(second);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async credential(fresh: boolean): Promise<string> {
    try {
      return await (fresh ? this.options.token.refresh() : this.options.token.get());
    } catch (error) {
      if (error instanceof CredentialUnavailableError) throw new DecisionUnavailableError('credential', error.message, { cause: error });
      throw error;
    }
  }

  private async ask(input: DecisionRequest, token: string): Promise<{ status: number; body: unknown }> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(input),
      });
      const text = await response.body.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.statusCode, body };
    } catch (error) {
      throw new DecisionUnavailableError('unreachable', `OpenMAM at ${this.options.openmamUrl} did not answer: ${(error as Error).message}`, { cause: error });
    }
  }

  private read({ status, body }: { status: number; body: unknown }): Decision {
    if (status === 200) return readDecision(body);
    const error = isObject(body) && isObject(body['error']) ? body['error'] : {};
    const code = typeof error['code'] === 'string' ? error['code'] : `http_${status}`;
    const message = typeof error['message'] === 'string' ? error['message'] : undefined;
    if (status === 401 || status === 403) {
      throw new DecisionUnavailableError('credential', `OpenMAM refused the gateway's credential (${status} ${code}${message ? `: ${message}` : ''}); it needs an app token with the app role OpenMAM.Gateway`);
    }
    if (status === 429 || status >= 500) throw new DecisionUnavailableError(status === 503 || status === 429 ? 'unreachable' : 'bad_answer', `OpenMAM answered ${status} ${code}`);
    if (status === 400) throw new MalformedAccessRequestError(message ?? `OpenMAM could not read the request (${code})`);
    if (status >= 400) {
      // About the user or the app (not found, conflict): a refusal, with OpenMAM's reason.
      return { decision: 'deny', reasons: [code], ...(message === undefined ? {} : { message }) };
    }
    throw new DecisionUnavailableError('bad_answer', `OpenMAM answered ${status}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fails closed: anything but a well-formed `allow` or `deny` is unusable. */
export function readDecision(body: unknown): Decision {
  if (!isObject(body) || (body['decision'] !== 'allow' && body['decision'] !== 'deny')) {
    throw new DecisionUnavailableError('bad_answer', 'OpenMAM answered without a decision');
  }
  const reasons = Array.isArray(body['reasons']) ? body['reasons'].filter((r): r is string => typeof r === 'string') : [];
  const remediation = body['remediation'];
  const decision: Decision = { decision: body['decision'], reasons };
  if (isObject(remediation) && typeof remediation['title'] === 'string' && typeof remediation['message'] === 'string') {
    decision.remediation = { title: remediation['title'], message: remediation['message'] };
  }
  return decision;
}
