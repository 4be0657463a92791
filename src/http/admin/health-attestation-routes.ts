import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { deviceHealthAttestationState, healthAttestationFacts } from '../../core/management/health-attestation.ts';
import type { HealthAttestationStore } from '../../store/health-attestation-records.ts';
import type { EnrollmentStore } from '../../store/roles.ts';
import { GraphError } from '../graph/graph-api.ts';
import { EntityBody, ERROR_RESPONSES, GuidParams, NullableString } from '../graph/schemas.ts';

/**
 * `GET deviceManagement/managedDevices/{id}/openMamHealthAttestation`: OpenMAM's own navigation (Graph folds the
 * report into managedDevice `deviceHealthAttestationState`) with where the device's HealthAttestation flow stands and
 * its last verdict: `state` valid | invalid | unknown with the reason, the facts compliance judges, and Graph's
 * `deviceHealthAttestationState` (core/management/health-attestation.ts). Another tenant's device is 404.
 */
export interface HealthAttestationRoutesOptions {
  enrollments: Pick<EnrollmentStore, 'getEnrollment'>;
  attestations: Pick<HealthAttestationStore, 'getHealthAttestation'>;
  baseUrl: string;
}

const NullableBoolean = () => Type.Union([Type.Boolean(), Type.Null()]);

const HealthAttestation = EntityBody({
  id: Type.String(),
  state: Type.String(),
  reason: NullableString(),
  phase: Type.String(),
  deviceStatus: NullableString(),
  correlationId: NullableString(),
  nonceIssuedDateTime: NullableString(),
  validatedDateTime: NullableString(),
  bitLockerEnabled: NullableBoolean(),
  secureBootEnabled: NullableBoolean(),
  codeIntegrityEnabled: NullableBoolean(),
  earlyLaunchAntiMalwareDriverEnabled: NullableBoolean(),
  bootDebuggingEnabled: NullableBoolean(),
  osKernelDebuggingEnabled: NullableBoolean(),
  testSigningEnabled: NullableBoolean(),
  deviceHealthAttestationState: Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()])), Type.Null()]),
});

const iso = (at: number | null | undefined): string | null => (at === null || at === undefined ? null : new Date(at).toISOString());

export async function healthAttestationRoutes(base: FastifyInstance, options: HealthAttestationRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/deviceManagement/managedDevices/:id/openMamHealthAttestation', { schema: { params: GuidParams, response: { 200: HealthAttestation, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const { id } = request.params;
    const enrollment = await options.enrollments.getEnrollment(id);
    if (!enrollment || enrollment.tenantId !== caller.tenantId) throw new GraphError(404, 'ResourceNotFound', `No managed device with id ${id}.`);
    const record = await options.attestations.getHealthAttestation(id);
    const facts = healthAttestationFacts(record);
    return {
      '@odata.context': `${options.baseUrl}/$metadata#deviceManagement/managedDevices('${id}')/openMamHealthAttestation/$entity`,
      id,
      state: facts.state,
      reason: facts.reason ?? null,
      phase: record?.phase ?? 'idle',
      deviceStatus: record?.deviceStatus ?? null,
      correlationId: record?.correlationId ?? null,
      nonceIssuedDateTime: iso(record?.nonceIssuedAt),
      validatedDateTime: iso(facts.validatedAt),
      bitLockerEnabled: facts.bitLockerEnabled ?? null,
      secureBootEnabled: facts.secureBootEnabled ?? null,
      codeIntegrityEnabled: facts.codeIntegrityEnabled ?? null,
      earlyLaunchAntiMalwareDriverEnabled: facts.earlyLaunchAntiMalwareDriverEnabled ?? null,
      bootDebuggingEnabled: facts.bootDebuggingEnabled ?? null,
      osKernelDebuggingEnabled: facts.osKernelDebuggingEnabled ?? null,
      testSigningEnabled: facts.testSigningEnabled ?? null,
      deviceHealthAttestationState: deviceHealthAttestationState(record),
    };
  });
}
