import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PolicyService } from '../../core/policies.ts';
import { WipTools } from '../../core/wip/tools.ts';

/**
 * WIP admin tools (read access; nothing is written), registered inside the /graph/{version} scopes so that the Graph
 * error handler shapes refusals:
 * - GET  deviceAppManagement/windowsInformationProtectionPolicies/{id}/mdmHandoffCheck
 * - POST deviceAppManagement/windowsInformationProtectionPolicies/{id}/evaluateEasCompliance  `{ "easPolicy": {...} }`
 * - GET  deviceAppManagement/windowsInformationProtectionPolicyTemplates/baseline[?enterpriseDomain=contoso.com]
 */
export interface WipToolsRoutesOptions {
  policies: Pick<PolicyService, 'get' | 'list'>;
}

const POLICIES = '/deviceAppManagement/windowsInformationProtectionPolicies';
const TEMPLATES = '/deviceAppManagement/windowsInformationProtectionPolicyTemplates';

/** An EAS policy is a handful of numbers and flags. */
const EAS_BODY_LIMIT = 16 * 1024;

function policyId(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

export async function wipToolsRoutes(app: FastifyInstance, options: WipToolsRoutesOptions): Promise<void> {
    const tools = new WipTools(options.policies);

  app.get(`${POLICIES}/:id/mdmHandoffCheck`, async (request) => {
    const { caller } = request;
    return tools.mdmHandoffCheck(caller.tenantId, policyId(request));
  });

  app.post(`${POLICIES}/:id/evaluateEasCompliance`, { bodyLimit: EAS_BODY_LIMIT, config: { access: 'read' } }, async (request) => {
    const { caller } = request;
    return tools.evaluateEasCompliance(caller.tenantId, policyId(request), request.body);
  });

  app.get(`${TEMPLATES}/baseline`, async (request) => {
    return tools.baselineTemplate((request.query as { enterpriseDomain?: unknown }).enterpriseDomain);
  });
}
