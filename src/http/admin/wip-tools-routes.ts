import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { PolicyService } from '../../core/policies.ts';
import { WipTools } from '../../core/wip/tools.ts';
import { GuidParams, OpenObject, SafeString } from '../graph/schemas.ts';

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

export async function wipToolsRoutes(base: FastifyInstance, options: WipToolsRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tools = new WipTools(options.policies);

  app.get(`${POLICIES}/:id/mdmHandoffCheck`, { schema: { params: GuidParams } }, async (request) => {
    const { caller } = request;
    return tools.mdmHandoffCheck(caller.tenantId, request.params.id);
  });

  app.post(`${POLICIES}/:id/evaluateEasCompliance`, { bodyLimit: EAS_BODY_LIMIT, config: { access: 'read' }, schema: { params: GuidParams, body: EvaluateEasComplianceBody } }, async (request) => {
    const { caller } = request;
    return tools.evaluateEasCompliance(caller.tenantId, request.params.id, request.body);
  });

  app.get(`${TEMPLATES}/baseline`, { schema: { querystring: BaselineQuery } }, async (request) => {
    return tools.baselineTemplate(request.query.enterpriseDomain);
  });
}
