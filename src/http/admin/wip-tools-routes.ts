import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { PolicyService } from '../../core/policies.ts';
import { WIP_POLICIES } from '../../core/policy-kinds/index.ts';
import { WipTools } from '../../core/wip/tools.ts';
import { policyEntitySchema } from './policy-routes.ts';
import { ERROR_RESPONSES, GuidParams, OpenObject, SafeString } from '../graph/schemas.ts';

/**
 * WIP admin tools (read access; nothing is written), registered inside the /graph/{version} scopes so that the Graph
 * error handler shapes refusals:
 * - GET  deviceAppManagement/windowsInformationProtectionPolicies/{id}/mdmHandoffCheck
 * - POST deviceAppManagement/windowsInformationProtectionPolicies/{id}/evaluateEasCompliance  `{ "easPolicy": {...} }`
 * - GET  deviceAppManagement/windowsInformationProtectionPolicyTemplates/baseline[?enterpriseDomain=contoso.com]
 */
export interface WipToolsRoutesOptions {
  policies: Pick<PolicyService, 'devicePolicy' | 'list'>;
}

const POLICIES = '/deviceAppManagement/windowsInformationProtectionPolicies';
const TEMPLATES = '/deviceAppManagement/windowsInformationProtectionPolicyTemplates';

/** An EAS policy is a handful of numbers and flags. */
const EAS_BODY_LIMIT = 16 * 1024;

/** The action's one parameter; the EAS policy inside is validated (field by field) by core/wip/eas-compliance.ts. */
const EvaluateEasComplianceBody = Type.Object({ easPolicy: OpenObject }, { additionalProperties: false });

/** A DNS name is at most 253 characters (RFC 1035 §2.3.4); the template checks the rest. */
const BaselineQuery = Type.Object({ enterpriseDomain: Type.Optional(SafeString({ maxLength: 253 })) });

const NullableInteger = () => Type.Union([Type.Integer(), Type.Null()]);

/** core/wip/handoff.ts MdmHandoffCheck. */
const MdmHandoffCheck = Type.Object({
  wouldSelectivelyWipe: Type.Boolean(),
  reasons: Type.Array(Type.String()),
  matchingMdmPolicyId: Type.Optional(Type.String()),
  enterpriseId: Type.Union([Type.String(), Type.Null()]),
  conditions: Type.Object({ mamWipOn: Type.Boolean(), mdmWipOn: Type.Boolean(), sameEnterpriseId: Type.Boolean(), revokeOnMdmHandoffDisabled: Type.Boolean(), mdmEnrollmentUrlSet: Type.Boolean() }),
});

/** core/wip/eas-compliance.ts EasComplianceResult. */
const EasComplianceResult = Type.Object({
  compliant: Type.Boolean(),
  gaps: Type.Array(
    Type.Object({
      setting: Type.String(),
      eas: Type.Union([Type.Number(), Type.Boolean()]),
      mam: Type.Union([Type.Number(), Type.Boolean(), Type.Null()]),
      mamProperties: Type.Array(Type.String()),
    }),
  ),
  resultant: Type.Object({
    devicePasswordEnabled: Type.Boolean(),
    minDevicePasswordLength: NullableInteger(),
    alphanumericDevicePasswordRequired: Type.Boolean(),
    minDevicePasswordComplexCharacters: NullableInteger(),
    maxInactivityTimeDeviceLock: NullableInteger(),
    maxDevicePasswordFailedAttempts: NullableInteger(),
    devicePasswordExpiration: NullableInteger(),
    devicePasswordHistory: NullableInteger(),
    requireDeviceEncryption: Type.Boolean(),
  }),
  notes: Type.Array(Type.String()),
});

export async function wipToolsRoutes(base: FastifyInstance, options: WipToolsRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tools = new WipTools(options.policies);

  app.get(`${POLICIES}/:id/mdmHandoffCheck`, { schema: { params: GuidParams, response: { 200: MdmHandoffCheck, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    return tools.mdmHandoffCheck(caller.tenantId, request.params.id);
  });

  app.post(`${POLICIES}/:id/evaluateEasCompliance`, { bodyLimit: EAS_BODY_LIMIT, config: { access: 'read' }, schema: { params: GuidParams, body: EvaluateEasComplianceBody, response: { 200: EasComplianceResult, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    return tools.evaluateEasCompliance(caller.tenantId, request.params.id, request.body);
  });

  app.get(`${TEMPLATES}/baseline`, { schema: { querystring: BaselineQuery, response: { 200: policyEntitySchema(WIP_POLICIES), ...ERROR_RESPONSES } } }, async (request) => {
    return tools.baselineTemplate(request.query.enterpriseDomain);
  });
}
