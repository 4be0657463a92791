import type { FastifyInstance } from 'fastify';
import { readActionResult, readCheckInInput, readRegistrationInput, type ManagedAppService } from '../../core/app-protection/managed-apps.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import { JSON_BODY_LIMIT, jsonErrorHandler, userCaller } from './json-api.ts';

/** The check-in API of managed apps (docs/app-protection.md "Managed apps"): the user's Entra token is the credential. */
export interface MamRoutesOptions {
  verifier: TokenVerifier;
  apps: ManagedAppService;
}

export async function mamRoutes(app: FastifyInstance, options: MamRoutesOptions): Promise<void> {
  app.setErrorHandler(jsonErrorHandler);
  const { verifier, apps } = options;

  app.post('/mam/v1/registrations', { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const caller = await userCaller(verifier, request);
    const { created, ...answer } = await apps.register(caller, readRegistrationInput(request.body));
    return reply.code(created ? 201 : 200).send(answer);
  });

  app.post<{ Params: { id: string } }>('/mam/v1/registrations/:id/checkin', { bodyLimit: JSON_BODY_LIMIT }, async (request) => {
    const caller = await userCaller(verifier, request);
    return apps.checkIn(caller, request.params.id, readCheckInInput(request.body));
  });

  app.post<{ Params: { id: string; actionId: string } }>('/mam/v1/registrations/:id/actions/:actionId/result', { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const caller = await userCaller(verifier, request);
    await apps.reportResult(caller, request.params.id, request.params.actionId, readActionResult(request.body));
    return reply.code(204).send();
  });
}
