import type { FastifyInstance } from 'fastify';
import * as Contract from '../../../packages/contract/src/schemas.ts';
import { readActionResult, readCheckInInput, readRegistrationInput, type ManagedAppService } from '../../core/app-protection/managed-apps.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import { sendTryLater, type ClientLimit } from '../load-shedding.ts';
import type { OpenMamMetrics } from '../metrics/metrics.ts';
import { callerOf, JSON_BODY_LIMIT, jsonSurface, jsonTryLater, responses, surfaceRoute, USER_CALLER } from './json-api.ts';

/** The check-in API of managed apps (docs/app-protection.md "Managed apps"): the user's Entra token is the credential. */
export interface MamRoutesOptions {
  verifier: TokenVerifier;
  apps: ManagedAppService;
  /** Counts each check-in answered, by the compliance state answered. */
  metrics: Pick<OpenMamMetrics, 'appCheckin'>;
  /** Each user's requests per registration (and to register), when a rate is configured (load-shedding.ts). */
  rateLimit?: ClientLimit | undefined;
}

const user = surfaceRoute(USER_CALLER);

/** Longest part of a rate-limit key taken from the request: a key's size, and so the limiter's memory, stays bounded. */
const KEY_PART_LENGTH = 128;

/**
 * The registration a request is about: its id in the path, or, to register, the app and device it names (Intune's
 * registration is one per user, app and device; the app's client is in the key too): an app that registers in a loop
 * is limited, a user's other apps and devices are not. Read before validation, so defensively.
 */
function registrationKey(params: unknown, body: unknown): string {
  const id = (params as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') return id.slice(0, KEY_PART_LENGTH).toLowerCase();
  const { appId, deviceTag } = (typeof body === 'object' && body !== null ? body : {}) as { appId?: unknown; deviceTag?: unknown };
  return `new/${keyPart(appId).toLowerCase()}/${keyPart(deviceTag)}`;
}

/** A string as it is (cut); anything else as nothing: String() of a 10,000-level nested array overflows the stack. */
function keyPart(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, KEY_PART_LENGTH) : '';
}

export async function mamRoutes(scope: FastifyInstance, options: MamRoutesOptions): Promise<void> {
  const app = jsonSurface(scope, options.verifier);
  const { apps, rateLimit } = options;
  if (rateLimit) {
    // After the token check (a route hook) and before validation (a looping app's invalid requests count too): the key
    // is what the token proves, so nobody can spend another user's allowance, and an app stuck in a loop on one
    // registration does not stop the user's other apps.
    app.addHook('preValidation', (request, reply, done) => {
      const caller = callerOf(request);
      const refusal = rateLimit(`${caller.tenantId}/${caller.objectId}/${caller.clientId ?? ''}/${registrationKey(request.params, request.body)}`);
      if (refusal === undefined) done();
      else void sendTryLater(reply, jsonTryLater, refusal);
    });
  }

  app.post(
    '/mam/v1/registrations',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: user,
      schema: { tags: ['mam'], body: Contract.RegistrationRequest, response: responses({ 200: Contract.RegistrationAnswer, 201: Contract.RegistrationAnswer }) },
    },
    async (request, reply) => {
      // The core reader normalises (lower-case ids) and applies the rules a schema cannot say; the schema bounded it.
      const { created, ...answer } = await apps.register(callerOf(request), readRegistrationInput(request.body));
      return reply.code(created ? 201 : 200).send(answer);
    },
  );

  app.post(
    '/mam/v1/registrations/:id/checkin',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: user,
      schema: { tags: ['mam'], params: Contract.RegistrationParams, body: Contract.CheckInRequest, response: responses({ 200: Contract.CheckInAnswer }) },
    },
    async (request) => {
      const answer = await apps.checkIn(callerOf(request), request.params.id, readCheckInInput(request.body));
      options.metrics.appCheckin(answer.complianceState);
      return answer;
    },
  );

  app.post(
    '/mam/v1/registrations/:id/actions/:actionId/result',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: user,
      schema: { tags: ['mam'], params: Contract.ActionResultParams, body: Contract.ActionResultRequest, response: responses({ 204: Contract.NoContent }) },
    },
    async (request, reply) => {
      await apps.reportResult(callerOf(request), request.params.id, request.params.actionId, readActionResult(request.body));
      return reply.code(204).send(null);
    },
  );
}
