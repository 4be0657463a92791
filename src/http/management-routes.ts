import type { FastifyInstance, FastifyReply } from 'fastify';
import type { MessageLog } from '../core/management/message-log.ts';
import type { ManagementService } from '../core/management/session.ts';
import { parseSyncML, SyncMLFormatError } from '../protocol/syncml/reader.ts';
import { STATUS, SYNCML_CONTENT_TYPE } from '../protocol/syncml/types.ts';
import { writeSyncML } from '../protocol/syncml/writer.ts';
import { MANAGEMENT_PATH } from './enrollment-routes.ts';
import type { ClientLimit, TryLaterAnswer } from './load-shedding.ts';
import type { OpenMamMetrics } from './metrics/metrics.ts';
import { isTemporarilyUnavailable, retryLater } from './retry-later.ts';
import { bearerToken } from './bearer-token.ts';

/**
 * OMA-DM endpoint (`POST /ManagementServer/MDM.svc`). A message that cannot be read as SyncML has no header to answer
 * in, so it gets a plain HTTP error; everything else is answered in SyncML by the management service, including
 * refusals (SyncHdr status 401/407/400).
 */
export interface ManagementRoutesOptions {
  management: ManagementService;
  messageLog: MessageLog;
  /** Counts each answer: continued, ended (with the session's length) or refused (with the SyncHdr status). */
  metrics: Pick<OpenMamMetrics, 'omaDmContinued' | 'omaDmEnded' | 'omaDmRefused'>;
  /** Messages per device, when a rate is configured (load-shedding.ts). */
  rateLimit?: ClientLimit | undefined;
}

/** Windows' largest MaxMsgSize is 512 KiB; a message bigger than 1 MiB is not one of theirs. */
const MANAGEMENT_BODY_LIMIT = 1024 * 1024;

/**
 * The device a message counts against: its DevId (SyncHdr/Source) with the tail of its bearer token. The DevId alone is
 * what the message claims, before anything is verified: keyed by it alone, anyone who knows a device's DevId could
 * spend its allowance. The token's last characters are its signature, which only the device holds.
 */
function deviceKey(devId: string, token: string | undefined): string {
  // Cut: a DevId may be as long as the message, and the limiter keeps up to its bound of keys.
  return `${devId.slice(0, 256)}\n${token === undefined ? '' : token.slice(-16)}`;
}

const PLAIN_TEXT = 'text/plain; charset=utf-8';

function plainError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type(PLAIN_TEXT).send(`${message}\n`);
}

/**
 * A management message shed for load is answered before its body is read: HTTP 503 with Retry-After, a line of text.
 * Windows' OMA-DM client retries at the HTTP level on a 503, whatever the body ("OMA DM Client Connection Retry",
 * https://learn.microsoft.com/en-us/previous-versions/bb737395(v=msdn.10)), and reading and parsing the message only
 * to answer its header in SyncML cost a busy node more than half as much again as the refusal itself
 * (docs/benchmarks.md, "Issue 16, fifth session").
 */
const shedManagementMessage: TryLaterAnswer = () => ({ statusCode: 503, contentType: PLAIN_TEXT, body: 'The management service is busy; try again later.\n' });

export async function managementRoutes(app: FastifyInstance, options: ManagementRoutesOptions): Promise<void> {
  app.addContentTypeParser(SYNCML_CONTENT_TYPE, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // WBXML is only used when DEFAULTENCODING asks for it, and ours says XML: refuse it clearly.
  app.addContentTypeParser('application/vnd.syncml.dm+wbxml', (_request, _payload, done) => {
    done(Object.assign(new Error('WBXML is not supported: OpenMAM provisions DEFAULTENCODING application/vnd.syncml.dm+xml'), { statusCode: 415 }));
  });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return plainError(reply, 413, `The SyncML message is larger than ${MANAGEMENT_BODY_LIMIT} bytes.`);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return plainError(reply, 415, `Send ${SYNCML_CONTENT_TYPE}.`);
    if (error.statusCode === 415) return plainError(reply, 415, error.message);
    if (isTemporarilyUnavailable(error)) {
      request.log.error({ err: error }, 'management message failed: the database or the identity provider is unavailable');
      return plainError(retryLater(reply), 503, 'The management service is temporarily unavailable; try again later.');
    }
    request.log.error({ err: error }, 'management message failed');
    return plainError(reply, 500, `The server could not process the message (trace id ${request.id}).`);
  });

  app.post(MANAGEMENT_PATH, { bodyLimit: MANAGEMENT_BODY_LIMIT, config: { tryLater: shedManagementMessage } }, async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : '';
    let message;
    try {
      message = parseSyncML(body);
    } catch (error) {
      if (!(error instanceof SyncMLFormatError)) throw error;
      request.log.warn({ traceId: request.id, reason: error.message }, 'SyncML refused');
      return plainError(reply, 400, `Not a SyncML DM 1.2 message: ${error.message}`);
    }
    const token = bearerToken(request.headers.authorization);
    // A device over its rate is known once its DevId is read: its "try later" answers its own header in SyncML.
    const refusal = options.rateLimit?.(deviceKey(message.header.source, token));
    if (refusal !== undefined) {
      // Nothing of the message was applied: the device sends it again after Retry-After (or at its next poll).
      options.metrics.omaDmRefused(STATUS.serviceUnavailable);
      return retryLater(reply, refusal.retryAfterSeconds).header('content-type', SYNCML_CONTENT_TYPE).send(writeSyncML(options.management.unavailable(message)));
    }
    let result;
    try {
      result = await options.management.handle(message, token);
    } catch (error) {
      if (!isTemporarilyUnavailable(error)) throw error;
      // Nothing of the message was applied (its writes are one transaction): the device sends it again later.
      request.log.error({ err: error, devId: message.header.source }, 'management message not processed: the database or the identity provider is unavailable');
      options.metrics.omaDmRefused(STATUS.serviceUnavailable);
      return retryLater(reply).header('content-type', SYNCML_CONTENT_TYPE).send(writeSyncML(options.management.unavailable(message)));
    }
    const response = writeSyncML(result.response);
    if (result.logMessages && result.enrollmentId) {
      // Troubleshooting only: the device's message is applied and its answer must reach it even if the log write fails.
      await options.messageLog.record(result.enrollmentId, body, response).catch((error: unknown) => request.log.error({ err: error }, 'could not keep the message log'));
    }
    const headerStatus = result.response.body[0]?.kind === 'Status' ? result.response.body[0].data : undefined;
    if (headerStatus !== STATUS.ok) {
      request.log.warn({ traceId: request.id, devId: message.header.source, enrollmentId: result.enrollmentId, headerStatus }, 'management message refused');
      options.metrics.omaDmRefused(headerStatus ?? 'none');
    } else if (result.sessionEnded) {
      // The device numbers its messages from 1 in each session (OMA-DM RepPro 1.2 MsgID): the last one is the count.
      options.metrics.omaDmEnded(Number(message.header.msgId));
    } else {
      options.metrics.omaDmContinued();
    }
    return reply.code(200).header('content-type', SYNCML_CONTENT_TYPE).send(response);
  });
}
