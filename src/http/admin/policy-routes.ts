import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { MAX_ASSIGNMENTS } from '../../core/app-protection/app-policies.ts';
import type { PolicyService } from '../../core/policies.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import { WipTools } from '../../core/wip/tools.ts';
import type { PolicyAssignment, PolicyKind, PolicyRecord } from '../../store/records.ts';
import { POLICIES } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { AssignBody, Assignment, AssignmentParams, CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NullableString, OpenObject } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { etagAnnotation, expectedVersion, setEntityTag } from './etag.ts';
import { collection, GraphError } from '../graph/graph-api.ts';
import { OpenMamError } from '../../errors.ts';

/**
 * Graph-shaped policy resources: WIP policies (MAM and MDM) under deviceAppManagement; custom configurations,
 * trusted root certificates, PFX certificates and SCEP profiles under deviceManagement/deviceConfigurations (one collection,
 * several kinds told apart by `@odata.type`). Create, list, get, PATCH, delete, `assign`, `assignments`, and the
 * per-device status of a policy.
 */
interface ResourceKind {
  kind: PolicyKind;
  odataType: string;
}

interface Resource {
  /** The first is the one a POST without `@odata.type` creates. */
  kinds: readonly ResourceKind[];
  /** Path under the Graph version root. */
  path: string;
  /** The collection's Graph entity type: the base of its kinds' types. */
  entityType: string;
  assignmentType: string;
  /**
   * What `assign` answers: deviceConfiguration's action returns the assignments (200, Collection of
   * deviceConfigurationAssignment); managedAppPolicy's returns nothing (204). See the actions' Graph references.
   */
  assignReturnsAssignments: boolean;
}

const RESOURCES: readonly Resource[] = [
  {
    kinds: [{ kind: 'windowsInformationProtectionPolicy', odataType: '#microsoft.graph.windowsInformationProtectionPolicy' }],
    path: 'deviceAppManagement/windowsInformationProtectionPolicies',
    entityType: 'windowsInformationProtectionPolicy',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    assignReturnsAssignments: false,
  },
  {
    kinds: [{ kind: 'mdmWindowsInformationProtectionPolicy', odataType: '#microsoft.graph.mdmWindowsInformationProtectionPolicy' }],
    path: 'deviceAppManagement/mdmWindowsInformationProtectionPolicies',
    entityType: 'mdmWindowsInformationProtectionPolicy',
    assignmentType: '#microsoft.graph.targetedManagedAppPolicyAssignment',
    assignReturnsAssignments: false,
  },
  {
    kinds: [
      { kind: 'windows10CustomConfiguration', odataType: '#microsoft.graph.windows10CustomConfiguration' },
      { kind: 'windows81TrustedRootCertificate', odataType: '#microsoft.graph.windows81TrustedRootCertificate' },
      // OpenMAM's own shape (inline PFX and password) under Graph's type name: see policy/certificates.ts.
      { kind: 'windowsPfxCertificate', odataType: '#microsoft.graph.windows10ImportedPFXCertificateProfile' },
      // Graph's SCEP profile with OpenMAM's additions (static challenge, CA thumbprint): see policy/certificates.ts.
      { kind: 'windowsScepCertificate', odataType: '#microsoft.graph.windows81SCEPCertificateProfile' },
    ],
    path: 'deviceManagement/deviceConfigurations',
    entityType: 'deviceConfiguration',
    assignmentType: '#microsoft.graph.deviceConfigurationAssignment',
    assignReturnsAssignments: true,
  },
];

/** The kind a POST creates: the one its `@odata.type` names (with or without `#`), the resource's first when absent. */
function kindOfBody(resource: Resource, body: { '@odata.type'?: unknown }): PolicyKind {
  const type = body['@odata.type'];
  if (type === undefined || resource.kinds.length === 1) return resource.kinds[0]!.kind;
  const normalized = typeof type === 'string' && !type.startsWith('#') ? `#${type}` : type;
  const found = resource.kinds.find((k) => k.odataType === normalized);
  if (found === undefined) {
    throw new OpenMamError('malformed_request', `@odata.type: must be one of ${resource.kinds.map((k) => k.odataType).join(', ')}, not ${JSON.stringify(type)}`);
  }
  return found.kind;
}

/** Secrets: the PFX password, the SCEP challenge. */
const WRITE_ONLY: ReadonlySet<string> = new Set(['password', 'challenge']);

/** Policies with hundreds of apps and ranges stay far below this. */
const POLICY_BODY_LIMIT = 1024 * 1024;

export interface PolicyRoutesOptions {
  policies: PolicyService;
  statuses: PolicyStatusService;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
  skipTokens: SkipTokens;
}

function presentPolicy(odataType: string, policy: PolicyRecord, refused: { locUri: string; reason: string }[], warnings: string[]): Record<string, unknown> {
  // Secrets are write-only, as in Graph: the PFX password and SCEP challenge are stored for delivery, never read back.
  const properties = Object.fromEntries(Object.entries(policy.body).filter(([name]) => name !== '@odata.type' && !WRITE_ONLY.has(name)));
  return {
    '@odata.type': odataType,
    ...etagAnnotation(policy.version),
    id: policy.id,
    ...properties,
    createdDateTime: new Date(policy.createdAt).toISOString(),
    lastModifiedDateTime: new Date(policy.updatedAt).toISOString(),
    // Graph: deviceConfiguration.version is Int32, managedAppPolicy.version (WIP) a String.
    version: odataType.includes('InformationProtection') ? String(policy.version) : policy.version,
    isAssigned: policy.assignments.length > 0,
    // Settings a MAM device never receives (outside the MAM allow-list): shown, never sent.
    ...(refused.length > 0 ? { '@openmam.notApplicableSettings': refused } : {}),
    // E.g. a MAM WIP policy whose MDM upgrade would selectively wipe the user's data (see {id}/mdmHandoffCheck).
    ...(warnings.length > 0 ? { '@openmam.warnings': warnings } : {}),
  };
}

/**
 * OpenMAM's per-device policy states as Graph's `complianceStatus` enum (learn.microsoft.com/graph/api/resources/
 * intune-deviceconfig-deviceconfigurationdevicestatus): pending is unknown until the device answers.
 */
const GRAPH_DEVICE_STATUS = { pending: 'unknown', applied: 'compliant', failed: 'error', conflict: 'conflict', notApplicable: 'notApplicable' } as const;

/** A device's state of a policy: Graph `deviceConfigurationDeviceStatus`, with OpenMAM's word as an annotation. */
const DeviceStatus = EntityBody({
  id: Type.String(),
  deviceDisplayName: NullableString(),
  deviceId: Type.String(),
  userPrincipalName: NullableString(),
  status: Type.String(),
  '@openmam.status': Type.String(),
  statusCode: NullableString(),
  lastReportedDateTime: NullableString(),
});

function presentAssignment(resource: Resource, assignment: PolicyAssignment): Static<typeof Assignment> {
  return { '@odata.type': resource.assignmentType, id: assignment.id, target: assignment.target };
}

/**
 * The policy entities carry every property of their Graph type (src/policy/graph-schema/), so their bodies are read,
 * and their answers written, by the models: the route schemas bound the ids and the action bodies only. `assign`
 * takes as many assignments as an app policy's (one bound for every assign action).
 */
const assignBody = AssignBody(MAX_ASSIGNMENTS);

export async function policyRoutes(base: FastifyInstance, options: PolicyRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { policies } = options;
  const tools = new WipTools(policies);
  for (const resource of RESOURCES) {
    const url = `/${resource.path}`;
    const kinds = resource.kinds.map((k) => k.kind);
    const presentAll = async (listed: readonly PolicyRecord[]) => {
      const warnings = await tools.handoffWarnings(listed);
      return listed.map((policy) => {
        const { refused } = policies.compile(policy);
        const odataType = resource.kinds.find((k) => k.kind === policy.kind)?.odataType ?? `#microsoft.graph.${policy.kind}`;
        return presentPolicy(odataType, policy, policy.kind === 'mdmWindowsInformationProtectionPolicy' ? [] : refused, warnings.get(policy.id) ?? []);
      });
    };
    const present = async (policy: PolicyRecord) => (await presentAll([policy]))[0]!;

    collectionRoute<PolicyRecord>(
      app,
      {
        path: resource.path,
        entityType: resource.entityType,
        fields: POLICIES.fields,
        navigations: ['assignments'],
        defaultOrder: [{ field: 'createdDateTime', descending: false }],
        pageSize: 100,
        maxPageSize: 1000,
        list: (tenantId, query) => policies.query(tenantId, kinds, query),
        present: (page) => presentAll(page),
        expand: { assignments: (page) => page.map((policy) => policy.assignments.map((a) => presentAssignment(resource, a))) },
      },
      { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
    );
    app.post(url, { bodyLimit: POLICY_BODY_LIMIT, schema: { body: OpenObject } }, async (request, reply) => {
      const { caller } = request;
      const policy = await policies.create(caller.tenantId, kindOfBody(resource, request.body), request.body);
      return reply.code(201).header('location', `${options.baseUrl}${url}/${policy.id}`).send(await present(policy));
    });
    app.get(`${url}/:id`, { schema: { params: GuidParams } }, async (request) => {
      const { caller } = request;
      return present(await policies.get(caller.tenantId, kinds, request.params.id));
    });
    app.patch(`${url}/:id`, { bodyLimit: POLICY_BODY_LIMIT, schema: { params: GuidParams, body: OpenObject } }, async (request) => {
      const { caller } = request;
      return present(await policies.update(caller.tenantId, kinds, request.params.id, request.body, expectedVersion(request)));
    });
    app.delete(`${url}/:id`, { schema: { params: GuidParams } }, async (request, reply) => {
      const { caller } = request;
      await policies.delete(caller.tenantId, kinds, request.params.id, expectedVersion(request));
      return reply.code(204).send();
    });
    app.post(`${url}/:id/assign`, { schema: { params: GuidParams, body: assignBody } }, async (request, reply) => {
      const { caller } = request;
      const policy = await policies.assign(caller.tenantId, kinds, request.params.id, request.body, expectedVersion(request));
      setEntityTag(reply, policy.version);
      if (!resource.assignReturnsAssignments) return reply.code(204).send();
      return collection(`${options.baseUrl}/$metadata#Collection(microsoft.graph.deviceConfigurationAssignment)`, policy.assignments.map((a) => presentAssignment(resource, a)));
    });
    app.get(`${url}/:id/assignments`, { schema: { params: GuidParams, response: { 200: CollectionBody(Assignment), ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await policies.get(caller.tenantId, kinds, request.params.id);
      return collection(
        `${options.baseUrl}/$metadata#${resource.path}('${policy.id}')/assignments`,
        policy.assignments.map((a) => presentAssignment(resource, a)),
      );
    });
    app.get(`${url}/:id/assignments/:assignmentId`, { schema: { params: AssignmentParams, response: { 200: Assignment, ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await policies.get(caller.tenantId, kinds, request.params.id);
      const { assignmentId } = request.params;
      const assignment = policy.assignments.find((a) => a.id.toLowerCase() === assignmentId.toLowerCase());
      if (assignment === undefined) throw new GraphError(404, 'ResourceNotFound', `No assignment ${assignmentId} on ${resource.path}('${policy.id}').`);
      return { '@odata.context': `${options.baseUrl}/$metadata#${resource.path}('${policy.id}')/assignments/$entity`, ...presentAssignment(resource, assignment) };
    });
    app.get(`${url}/:id/deviceStatuses`, { config: { odata: ['$top', '$select'] }, schema: { params: GuidParams, response: { 200: CollectionBody(DeviceStatus), ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await policies.get(caller.tenantId, kinds, request.params.id);
      const top = Number((request.query as { $top?: string }).$top ?? 1000);
      const statuses = await options.statuses.deviceStatuses(policy, Number.isInteger(top) && top > 0 ? Math.min(top, 10_000) : 1000);
      return collection(
        `${options.baseUrl}/$metadata#${resource.path}('${policy.id}')/deviceStatuses`,
        statuses.map((s) => ({
          id: s.enrollmentId,
          deviceDisplayName: s.deviceName,
          deviceId: s.devId,
          userPrincipalName: s.userPrincipalName,
          // Graph's complianceStatus (deviceConfigurationDeviceStatus.status); OpenMAM's finer word as an annotation.
          status: GRAPH_DEVICE_STATUS[s.status],
          '@openmam.status': s.status,
          statusCode: s.statusCode,
          lastReportedDateTime: s.lastReportedAt === null ? null : new Date(s.lastReportedAt).toISOString(),
        })),
      );
    });
  }
}
