import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PolicyService } from '../../core/policies.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import { WipTools } from '../../core/wip/tools.ts';
import type { TokenVerifier } from '../../identity/identity.ts';
import type { PolicyKind, PolicyRecord } from '../../store/records.ts';
import { adminCaller, collection } from './graph.ts';

/**
 * Graph-shaped policy resources: WIP policies (MAM and MDM) under deviceAppManagement, custom configurations under
 * deviceManagement/deviceConfigurations. Create, list, get, PATCH, delete, `assign`, `assignments`, and the
 * per-device status of a policy.
 */
interface Resource {
  kind: PolicyKind;
  /** Path under the Graph version root. */
  path: string;
  odataType: string;
  assignmentType: string;
}

const RESOURCES: readonly Resource[] = [
  {
    kind: 'windowsInformationProtectionPolicy',
    path: 'deviceAppManagement/windowsInformationProtectionPolicies',
    odataType: '#microsoft.graph.windowsInformationProtectionPolicy',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
  },
  {
    kind: 'mdmWindowsInformationProtectionPolicy',
    path: 'deviceAppManagement/mdmWindowsInformationProtectionPolicies',
    odataType: '#microsoft.graph.mdmWindowsInformationProtectionPolicy',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
  },
  {
    kind: 'windows10CustomConfiguration',
    path: 'deviceManagement/deviceConfigurations',
    odataType: '#microsoft.graph.windows10CustomConfiguration',
    assignmentType: '#microsoft.graph.deviceConfigurationAssignment',
  },
];

/** Policies with hundreds of apps and ranges stay far below this. */
const POLICY_BODY_LIMIT = 1024 * 1024;

export interface PolicyRoutesOptions {
  verifier: TokenVerifier;
  policies: PolicyService;
  statuses: PolicyStatusService;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
}

function presentPolicy(resource: Resource, policy: PolicyRecord, refused: { locUri: string; reason: string }[], warnings: string[]): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(policy.body).filter(([name]) => name !== '@odata.type'));
  return {
    '@odata.type': resource.odataType,
    id: policy.id,
    ...properties,
    createdDateTime: new Date(policy.createdAt).toISOString(),
    lastModifiedDateTime: new Date(policy.updatedAt).toISOString(),
    version: String(policy.version),
    isAssigned: policy.assignments.length > 0,
    // Settings a MAM device never receives (outside the MAM allow-list): shown, never sent.
    ...(refused.length > 0 ? { '@openmam.notApplicableSettings': refused } : {}),
    // E.g. a MAM WIP policy whose MDM upgrade would selectively wipe the user's data (see {id}/mdmHandoffCheck).
    ...(warnings.length > 0 ? { '@openmam.warnings': warnings } : {}),
  };
}

function params(request: FastifyRequest): { id: string } {
  return request.params as { id: string };
}

export async function policyRoutes(app: FastifyInstance, options: PolicyRoutesOptions): Promise<void> {
  const { verifier, policies } = options;
  const tools = new WipTools(policies);
  for (const resource of RESOURCES) {
    const url = `/${resource.path}`;
    const present = async (policy: PolicyRecord) => {
      const { refused } = policies.compile(policy);
      const warnings = resource.kind === 'windowsInformationProtectionPolicy' ? await tools.handoffWarnings(policy) : [];
      return presentPolicy(resource, policy, resource.kind === 'mdmWindowsInformationProtectionPolicy' ? [] : refused, warnings);
    };

    app.get(url, async (request) => {
      const caller = await adminCaller(verifier, request, 'read');
      return collection(`${options.baseUrl}/$metadata#${resource.path}`, await Promise.all((await policies.list(caller.tenantId, resource.kind)).map(present)));
    });
    app.post(url, { bodyLimit: POLICY_BODY_LIMIT }, async (request, reply) => {
      const caller = await adminCaller(verifier, request, 'write');
      const policy = await policies.create(caller.tenantId, resource.kind, request.body);
      return reply.code(201).header('location', `${options.baseUrl}${url}/${policy.id}`).send(await present(policy));
    });
    app.get(`${url}/:id`, async (request) => {
      const caller = await adminCaller(verifier, request, 'read');
      return present(await policies.get(caller.tenantId, resource.kind, params(request).id));
    });
    app.patch(`${url}/:id`, { bodyLimit: POLICY_BODY_LIMIT }, async (request) => {
      const caller = await adminCaller(verifier, request, 'write');
      return present(await policies.update(caller.tenantId, resource.kind, params(request).id, request.body));
    });
    app.delete(`${url}/:id`, async (request, reply) => {
      const caller = await adminCaller(verifier, request, 'write');
      await policies.delete(caller.tenantId, resource.kind, params(request).id);
      return reply.code(204).send();
    });
    app.post(`${url}/:id/assign`, async (request, reply) => {
      const caller = await adminCaller(verifier, request, 'write');
      await policies.assign(caller.tenantId, resource.kind, params(request).id, request.body);
      return reply.code(204).send();
    });
    app.get(`${url}/:id/assignments`, async (request) => {
      const caller = await adminCaller(verifier, request, 'read');
      const policy = await policies.get(caller.tenantId, resource.kind, params(request).id);
      return collection(
        `${options.baseUrl}/$metadata#${resource.path}('${policy.id}')/assignments`,
        policy.assignments.map((a) => ({ '@odata.type': resource.assignmentType, id: a.id, target: a.target })),
      );
    });
    app.get(`${url}/:id/deviceStatuses`, async (request) => {
      const caller = await adminCaller(verifier, request, 'read');
      const policy = await policies.get(caller.tenantId, resource.kind, params(request).id);
      const top = Number((request.query as { $top?: string }).$top ?? 1000);
      const statuses = await options.statuses.deviceStatuses(policy, Number.isInteger(top) && top > 0 ? Math.min(top, 10_000) : 1000);
      return collection(
        `${options.baseUrl}/$metadata#${resource.path}('${policy.id}')/deviceStatuses`,
        statuses.map((s) => ({
          id: s.enrollmentId,
          deviceDisplayName: s.deviceName,
          deviceId: s.devId,
          userPrincipalName: s.userPrincipalName,
          status: s.status,
          statusCode: s.statusCode,
          lastReportedDateTime: s.lastReportedAt === null ? null : new Date(s.lastReportedAt).toISOString(),
        })),
      );
    });
  }
}
