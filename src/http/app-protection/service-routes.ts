import type { FastifyInstance } from 'fastify';
import * as Contract from '../../../packages/contract/src/schemas.ts';
import { readAccessRequest, type AccessService } from '../../core/app-protection/access.ts';
import { readThreatReport, type ThreatReportService } from '../../core/app-protection/threat-reports.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import type { OpenMamMetrics } from '../metrics/metrics.ts';
import { callerOf, COMPLIANCE_REPORTER_ROLE, GATEWAY_ROLE, JSON_BODY_LIMIT, jsonSurface, responses, roleCaller, THREAT_CONNECTOR_ROLE } from './json-api.ts';

/**
 * Endpoints for services, each with its own app role: the threat defense connector (`/mtd/v1`), gateways asking for
 * access decisions and MDMs reporting device compliance (`/access/v1`). The caller's token names the tenant. Each
 * surface is its own scope with its own hook and error handler.
 */
export interface ServiceRoutesOptions {
  verifier: TokenVerifier;
  threats: ThreatReportService;
  access: AccessService;
  /** Counts each access decision answered. */
  metrics: Pick<OpenMamMetrics, 'accessDecision'>;
}

export async function serviceRoutes(app: FastifyInstance, options: ServiceRoutesOptions): Promise<void> {
  await app.register(threatRoutes, options);
  await app.register(accessRoutes, options);
}

async function threatRoutes(scope: FastifyInstance, options: ServiceRoutesOptions): Promise<void> {
  const app = jsonSurface(scope, options.verifier);
  const { threats } = options;
  const connector = { appProtectionAuth: roleCaller(THREAT_CONNECTOR_ROLE) };

  app.post(
    '/mtd/v1/health',
    { bodyLimit: JSON_BODY_LIMIT, config: connector, schema: { tags: ['mtd'], body: Contract.ThreatReportRequest, response: responses({ 204: Contract.NoContent }) } },
    async (request, reply) => {
      await threats.report(callerOf(request).tenantId, readThreatReport(request.body));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/mtd/v1/heartbeat',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: connector,
      schema: { tags: ['mtd'], body: Contract.HeartbeatRequest, response: responses({ 204: Contract.NoContent }) },
      // A heartbeat without a body is one without a connector id (docs/app-protection.md); `null` is a body, and refused.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
    },
    async (request, reply) => {
      await threats.heartbeat(callerOf(request).tenantId, request.body.connectorId ?? null);
      return reply.code(204).send(null);
    },
  );
}

async function accessRoutes(scope: FastifyInstance, options: ServiceRoutesOptions): Promise<void> {
  const app = jsonSurface(scope, options.verifier);
  const { access } = options;

  app.post(
    '/access/v1/evaluate',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: { appProtectionAuth: roleCaller(GATEWAY_ROLE) },
      schema: { tags: ['access'], body: Contract.AccessRequest, response: responses({ 200: Contract.AccessDecision }) },
    },
    async (request) => {
      // The contract is decision, reasons and remediation; the applied policies go to the sign-in log only.
      const { decision, reasons, remediation } = await access.evaluate(callerOf(request).tenantId, readAccessRequest(request.body), request.id);
      options.metrics.accessDecision(decision);
      return remediation === undefined ? { decision, reasons } : { decision, reasons, remediation };
    },
  );

  app.post(
    '/access/v1/deviceCompliance',
    {
      bodyLimit: JSON_BODY_LIMIT,
      config: { appProtectionAuth: roleCaller(COMPLIANCE_REPORTER_ROLE) },
      schema: { tags: ['access'], body: Contract.DeviceComplianceRequest, response: responses({ 204: Contract.NoContent }) },
    },
    async (request, reply) => {
      await access.reportDeviceCompliance(callerOf(request).tenantId, request.body.azureAdDeviceId, request.body.compliant);
      return reply.code(204).send(null);
    },
  );
}
