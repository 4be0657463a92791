import type { FastifyInstance } from 'fastify';
import * as Contract from '../../../packages/contract/src/schemas.ts';
import { readActionResult, readCheckInInput, readRegistrationInput, type ManagedAppService } from '../../core/app-protection/managed-apps.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import type { OpenMamMetrics } from '../metrics/metrics.ts';
import { callerOf, JSON_BODY_LIMIT, jsonSurface, responses, USER_CALLER } from './json-api.ts';

/** The check-in API of managed apps (docs/app-protection.md "Managed apps"): the user's Entra token is the credential. */
export interface MamRoutesOptions {
  verifier: TokenVerifier;
  apps: ManagedAppService;
  /** Counts each check-in answered, by the compliance state answered. */
  metrics: Pick<OpenMamMetrics, 'appCheckin'>;
}

const user = { appProtectionAuth: USER_CALLER };

export async function mamRoutes(scope: FastifyInstance, options: MamRoutesOptions): Promise<void> {
  const app = jsonSurface(scope, options.verifier);
  const { apps } = options;

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
