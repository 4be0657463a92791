import { Agent, request } from 'undici';
import type { DhaTransport } from '../core/management/health-attestation.ts';
import { DhaFormatError } from '../protocol/health-attestation/dha.ts';

/**
 * The outbound HTTP of health attestation (core/management/health-attestation.ts takes any DhaTransport): POSTs to a
 * Device Health Attestation service. An adapter like the inbound routes, so core keeps no HTTP.
 */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * The default transport: undici over one kept-alive Agent, trusting the system's CAs plus `ca` (an on-premises DHA
 * service's enterprise CA, OPENMAM_HEALTH_ATTESTATION_CA_FILE). Bounded in time and in size.
 */
export class UndiciDhaTransport implements DhaTransport {
  readonly #agent: Agent;

  constructor(ca?: string) {
    this.#agent = new Agent({ keepAliveTimeout: 10_000, ...(ca === undefined ? {} : { connect: { ca } }) });
  }

  async post(url: string, body: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    const response = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml, text/xml' },
      dispatcher: this.#agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        // The service answered, with something no report is: judged invalid, not unreachable.
        throw new DhaFormatError(`the answer exceeds ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(buffer);
    }
    return { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

