import type { FastifyInstance } from 'fastify';
import { readAccessRequest, type AccessService } from '../../core/app-protection/access.ts';
import { readThreatReport, type ThreatReportService } from '../../core/app-protection/threat-reports.ts';
import { isGuid } from '../../config.ts';
import { OpenMamError } from '../../errors.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import { COMPLIANCE_REPORTER_ROLE, GATEWAY_ROLE, JSON_BODY_LIMIT, jsonErrorHandler, serviceCaller, THREAT_CONNECTOR_ROLE } from './json-api.ts';

/**
 * Endpoints for services, each with its own app role: the threat defense connector (`/mtd/v1`), gateways asking for
 * access decisions and MDMs reporting device compliance (`/access/v1`). The caller's token names the tenant.
 */
export interface ServiceRoutesOptions {
  verifier: TokenVerifier;
  threats: ThreatReportService;
  access: AccessService;
}

export async function serviceRoutes(app: FastifyInstance, options: ServiceRoutesOptions): Promise<void> {
  app.setErrorHandler(jsonErrorHandler);
  const { verifier, threats, access } = options;

  app.post('/mtd/v1/health', { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const connector = await serviceCaller(verifier, request, THREAT_CONNECTOR_ROLE);
    await threats.report(connector.tenantId, readThreatReport(request.body));
    return reply.code(204).send();
  });

  app.post('/mtd/v1/heartbeat', { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const connector = await serviceCaller(verifier, request, THREAT_CONNECTOR_ROLE);
    const body = (request.body ?? {}) as { connectorId?: unknown };
    if (body.connectorId !== undefined && typeof body.connectorId !== 'string') throw new OpenMamError('malformed_request', 'connectorId: must be text');
    await threats.heartbeat(connector.tenantId, body.connectorId ?? null);
    return reply.code(204).send();
  });

  app.post('/access/v1/evaluate', { bodyLimit: JSON_BODY_LIMIT }, async (request) => {
    const gateway = await serviceCaller(verifier, request, GATEWAY_ROLE);
    // The contract is decision, reasons and remediation; the applied policies go to the sign-in log only.
    const { decision, reasons, remediation } = await access.evaluate(gateway.tenantId, readAccessRequest(request.body), request.id);
    return remediation === undefined ? { decision, reasons } : { decision, reasons, remediation };
  });

  app.post('/access/v1/deviceCompliance', { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const reporter = await serviceCaller(verifier, request, COMPLIANCE_REPORTER_ROLE);
    const body = request.body as { azureAdDeviceId?: unknown; compliant?: unknown } | null;
    if (typeof body?.azureAdDeviceId !== 'string' || !isGuid(body.azureAdDeviceId)) throw new OpenMamError('malformed_request', 'azureAdDeviceId: must be a GUID');
    if (typeof body.compliant !== 'boolean') throw new OpenMamError('malformed_request', 'compliant: must be true or false');
    await access.reportDeviceCompliance(reporter.tenantId, body.azureAdDeviceId, body.compliant);
    return reply.code(204).send();
  });
}
