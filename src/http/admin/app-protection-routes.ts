import { ACCESS_POLICIES, APP_POLICIES, CONNECTORS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { AssignBody, Assignment, AssignmentParams, CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, OpenObject, SafeString } from '../graph/schemas.ts';
import type { AccessPolicyService } from '../../core/app-protection/access-policies.ts';
import { MAX_ASSIGNMENTS, MAX_TARGET_APPS, type AppPolicyService } from '../../core/app-protection/app-policies.ts';
import { effectivePartnerState, type ThreatConnectorService } from '../../core/app-protection/threat-connectors.ts';
import type { AccessPolicyRecord, AppPolicyKind, AppPolicyRecord, ManagedAppRef, MtdConnectorRecord } from '../../store/app-protection-records.ts';
import { etagAnnotation, expectedVersion, setEntityTag } from './etag.ts';
import { collection, GraphError } from '../graph/graph-api.ts';

/**
 * The app protection service's Graph-shaped admin resources (docs/app-protection.md "Admin API"):
 * - beta `deviceAppManagement/windowsManagedAppProtections` and `deviceAppManagement/targetedManagedAppConfigurations`:
 *   list, create, get, PATCH, delete; `{id}/targetApps` and `{id}/assign` (204), `{id}/assignments`, `{id}/apps`;
 *   a protection's `{id}/deploymentSummary`;
 * - beta `deviceAppManagement/windowsManagedAppProtections/templates/{level1|level2|level3}`: the data protection
 *   framework levels as a policy body to POST (Graph has no such resource; it lives under the collection it feeds,
 *   `minimumOsVersion` and `maximumOsVersion` as query parameters);
 * - beta `deviceManagement/mobileThreatDefenseConnectors`: list, create, get, PATCH, delete;
 * - `identity/conditionalAccess/policies`, in beta and v1.0 (as in Graph): list, create, get, PATCH, delete.
 * Readers (OpenMAM.Reader) read; writes need OpenMAM.Admin; another tenant's ids are 404.
 */
export interface AppProtectionRoutesOptions {
  appPolicies: AppPolicyService;
  connectors: ThreatConnectorService;
  accessPolicies: AccessPolicyService;
  clock: () => number;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
  version: string;
  skipTokens: SkipTokens;
}

/** Policies with hundreds of apps and settings stay far below this. */
const BODY_LIMIT = 1024 * 1024;

interface PolicyResource {
  kind: AppPolicyKind;
  path: string;
  odataType: string;
  /** Graph serves windowsManagedAppProtection in beta only, targetedManagedAppConfiguration in v1.0 too. */
  inV1: boolean;
}

const POLICY_RESOURCES: readonly PolicyResource[] = [
  { kind: 'windowsManagedAppProtection', path: 'deviceAppManagement/windowsManagedAppProtections', odataType: '#microsoft.graph.windowsManagedAppProtection', inV1: false },
  { kind: 'targetedManagedAppConfiguration', path: 'deviceAppManagement/targetedManagedAppConfigurations', odataType: '#microsoft.graph.targetedManagedAppConfiguration', inV1: true },
];
const PROTECTIONS = POLICY_RESOURCES[0]!;
const GRAPH_TYPE_PREFIX = '#microsoft.graph.';
const CONNECTORS_PATH = 'deviceManagement/mobileThreatDefenseConnectors';
const ACCESS_POLICIES_PATH = 'identity/conditionalAccess/policies';
const LEVELS: Readonly<Record<string, 1 | 2 | 3>> = { level1: 1, level2: 2, level3: 3 };

const iso = (time: number): string => new Date(time).toISOString();

/**
 * Policy, connector and access policy entities are read and written by their models (src/policy/app-protection.ts,
 * field-named refusals, Graph's property tables): here only objects, and the action bodies' shapes.
 */
const assignBody = AssignBody(MAX_ASSIGNMENTS);
/** `targetApps` (learn.microsoft.com/graph/api/intune-mam-targetedmanagedappconfiguration-targetapps): apps, and appGroupType for configurations. */
const TargetAppsBody = Type.Object(
  { apps: Type.Array(OpenObject, { maxItems: MAX_TARGET_APPS }), appGroupType: Type.Optional(SafeString({ maxLength: 64 })) },
  { additionalProperties: false },
);

/** Graph `managedMobileApp` as presentApp answers it. */
const ManagedMobileApp = EntityBody({
  id: Type.String(),
  mobileAppIdentifier: Type.Object({ '@odata.type': Type.String(), windowsAppId: Type.String() }),
  version: Type.Union([Type.String(), Type.Null()]),
});

/** Graph `managedAppPolicyDeploymentSummary` (beta), with OpenMAM's truncation annotation. */
const DeploymentSummary = EntityBody({
  id: Type.String(),
  displayName: Type.String(),
  configurationDeployedUserCount: Type.Integer(),
  lastRefreshTime: Type.String(),
  configurationDeploymentSummaryPerApp: Type.Array(
    Type.Object({
      '@odata.type': Type.String(),
      mobileAppIdentifier: Type.Object({ '@odata.type': Type.String(), windowsAppId: Type.String() }),
      configurationAppliedUserCount: Type.Integer(),
    }),
  ),
  '@openmam.truncated': Type.Boolean(),
});

/** A template's level names the path; the OS bounds are version strings the template checks (e.g. 10.0.19045). */
const TemplateParams = Type.Object({ level: SafeString({ maxLength: 16 }) });
const TemplateQuery = Type.Object({ minimumOsVersion: Type.Optional(SafeString({ maxLength: 64 })), maximumOsVersion: Type.Optional(SafeString({ maxLength: 64 })) });

function presentApp(app: ManagedAppRef): Static<typeof ManagedMobileApp> {
  return {
    '@odata.type': '#microsoft.graph.managedMobileApp',
    id: app.id,
    mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: app.appId },
    version: app.version,
  };
}

function presentPolicy(resource: PolicyResource, policy: AppPolicyRecord): Record<string, unknown> {
  return {
    '@odata.type': resource.odataType,
    ...etagAnnotation(policy.version),
    id: policy.id,
    ...policy.body,
    createdDateTime: iso(policy.createdAt),
    lastModifiedDateTime: iso(policy.updatedAt),
    roleScopeTagIds: [],
    version: String(policy.version),
    isAssigned: policy.assignments.length > 0,
    // Graph: the apps the policy is deployed to; OpenMAM counts its target apps.
    deployedAppCount: policy.apps.length,
  };
}

function presentConnector(connector: MtdConnectorRecord, now: number): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.mobileThreatDefenseConnector',
    ...etagAnnotation(connector.version),
    id: connector.id,
    lastHeartbeatDateTime: connector.lastHeartbeatAt === null ? null : iso(connector.lastHeartbeatAt),
    partnerState: effectivePartnerState(connector, now),
    windowsMobileApplicationManagementEnabled: connector.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: connector.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: connector.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: connector.partnerUnresponsivenessThresholdInDays,
  };
}

function presentAppPolicyAssignment(assignment: AppPolicyRecord['assignments'][number]): Static<typeof Assignment> {
  return { '@odata.type': '#microsoft.graph.targetedManagedAppPolicyAssignment', id: assignment.id, source: 'direct', sourceId: null, target: assignment.target };
}

export async function appProtectionRoutes(base: FastifyInstance, options: AppProtectionRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { appPolicies, connectors, accessPolicies, baseUrl } = options;

  const presentAccessPolicy = (policy: AccessPolicyRecord): Record<string, unknown> => ({
    '@odata.type': '#microsoft.graph.conditionalAccessPolicy',
    ...etagAnnotation(policy.version),
    id: policy.id,
    ...accessPolicies.asGraph(policy),
    createdDateTime: iso(policy.createdAt),
    modifiedDateTime: iso(policy.updatedAt),
  });

  // Conditional access policies are in v1.0 and beta; the rest is beta only, as in Graph.
  const caUrl = `/${ACCESS_POLICIES_PATH}`;
  const page = { pageSize: 100, maxPageSize: 1000, defaultOrder: [{ field: 'createdDateTime', descending: false }] } as const;
  const context = { baseUrl, skipTokens: options.skipTokens };
  collectionRoute<AccessPolicyRecord>(
    app,
    { ...page, path: ACCESS_POLICIES_PATH, entityType: 'conditionalAccessPolicy', fields: ACCESS_POLICIES.fields, navigations: [], list: (tenantId, query) => accessPolicies.query(tenantId, query), present: (list) => list.map(presentAccessPolicy) },
    context,
  );
  app.post(caUrl, { schema: { body: OpenObject } }, async (request, reply) => {
    const { caller } = request;
    const policy = await accessPolicies.create(caller.tenantId, request.body);
    return reply.code(201).header('location', `${baseUrl}${caUrl}/${policy.id}`).send(presentAccessPolicy(policy));
  });
  app.get(`${caUrl}/:id`, { schema: { params: GuidParams } }, async (request) => {
    const { caller } = request;
    return presentAccessPolicy(await accessPolicies.get(caller.tenantId, request.params.id));
  });
  app.patch(`${caUrl}/:id`, { schema: { params: GuidParams, body: OpenObject } }, async (request) => {
    const { caller } = request;
    return presentAccessPolicy(await accessPolicies.update(caller.tenantId, request.params.id, request.body, expectedVersion(request)));
  });
  app.delete(`${caUrl}/:id`, { schema: { params: GuidParams } }, async (request, reply) => {
    const { caller } = request;
    await accessPolicies.delete(caller.tenantId, request.params.id, expectedVersion(request));
    return reply.code(204).send();
  });
  const beta = options.version === 'beta';

  for (const resource of POLICY_RESOURCES.filter((r) => beta || r.inV1)) {
    const url = `/${resource.path}`;
    const entity = (id: string) => `${baseUrl}/$metadata#${resource.path}('${id}')`;
    collectionRoute<AppPolicyRecord>(
      app,
      {
        ...page,
        path: resource.path,
        entityType: resource.odataType.slice(GRAPH_TYPE_PREFIX.length),
        fields: APP_POLICIES.fields,
        navigations: ['apps', 'assignments'],
        list: (tenantId, query) => appPolicies.query(tenantId, resource.kind, query),
        present: (list) => list.map((p) => presentPolicy(resource, p)),
        expand: { apps: (list) => list.map((p) => p.apps.map(presentApp)), assignments: (list) => list.map((p) => p.assignments.map(presentAppPolicyAssignment)) },
      },
      context,
    );
    app.post(url, { bodyLimit: BODY_LIMIT, schema: { body: OpenObject } }, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.create(caller.tenantId, resource.kind, request.body);
      return reply.code(201).header('location', `${baseUrl}${url}/${policy.id}`).send(presentPolicy(resource, policy));
    });
    app.get(`${url}/:id`, { schema: { params: GuidParams } }, async (request) => {
      const { caller } = request;
      return presentPolicy(resource, await appPolicies.get(caller.tenantId, resource.kind, request.params.id));
    });
    app.patch(`${url}/:id`, { bodyLimit: BODY_LIMIT, schema: { params: GuidParams, body: OpenObject } }, async (request) => {
      const { caller } = request;
      return presentPolicy(resource, await appPolicies.update(caller.tenantId, resource.kind, request.params.id, request.body, expectedVersion(request)));
    });
    app.delete(`${url}/:id`, { schema: { params: GuidParams } }, async (request, reply) => {
      const { caller } = request;
      await appPolicies.delete(caller.tenantId, resource.kind, request.params.id, expectedVersion(request));
      return reply.code(204).send();
    });
    app.post(`${url}/:id/targetApps`, { bodyLimit: BODY_LIMIT, schema: { params: GuidParams, body: TargetAppsBody } }, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.targetApps(caller.tenantId, resource.kind, request.params.id, request.body, expectedVersion(request));
      return setEntityTag(reply, policy.version).code(204).send();
    });
    app.post(`${url}/:id/assign`, { schema: { params: GuidParams, body: assignBody } }, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.assign(caller.tenantId, resource.kind, request.params.id, request.body, expectedVersion(request));
      return setEntityTag(reply, policy.version).code(204).send();
    });
    app.get(`${url}/:id/assignments`, { schema: { params: GuidParams, response: { 200: CollectionBody(Assignment), ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, request.params.id);
      return collection(
        `${entity(policy.id)}/assignments`,
        policy.assignments.map(presentAppPolicyAssignment),
      );
    });
    app.get(`${url}/:id/assignments/:assignmentId`, { schema: { params: AssignmentParams, response: { 200: Assignment, ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, request.params.id);
      const { assignmentId } = request.params;
      const assignment = policy.assignments.find((a) => a.id.toLowerCase() === assignmentId.toLowerCase());
      if (assignment === undefined) throw new GraphError(404, 'ResourceNotFound', `No assignment ${assignmentId} on ${resource.path}('${policy.id}').`);
      return { '@odata.context': `${entity(policy.id)}/assignments/$entity`, ...presentAppPolicyAssignment(assignment) };
    });
    app.get(`${url}/:id/apps`, { schema: { params: GuidParams, response: { 200: CollectionBody(ManagedMobileApp), ...ERROR_RESPONSES } } }, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, request.params.id);
      return collection(`${entity(policy.id)}/apps`, policy.apps.map(presentApp));
    });
  }

  const connectorsUrl = `/${CONNECTORS_PATH}`;
  collectionRoute<MtdConnectorRecord>(
    app,
    {
      ...page,
      // Graph's connector has no creation time: pages follow the id.
      defaultOrder: [],
      path: CONNECTORS_PATH,
      entityType: 'mobileThreatDefenseConnector',
      fields: CONNECTORS.fields,
      navigations: [],
      list: (tenantId, query) => connectors.query(tenantId, query),
      present: (list) => list.map((c) => presentConnector(c, options.clock())),
    },
    context,
  );
  app.post(connectorsUrl, { schema: { body: OpenObject } }, async (request, reply) => {
    const { caller } = request;
    const connector = await connectors.create(caller.tenantId, request.body);
    return reply.code(201).header('location', `${baseUrl}${connectorsUrl}/${connector.id}`).send(presentConnector(connector, options.clock()));
  });
  app.get(`${connectorsUrl}/:id`, { schema: { params: GuidParams } }, async (request) => {
    const { caller } = request;
    return presentConnector(await connectors.get(caller.tenantId, request.params.id), options.clock());
  });
  app.patch(`${connectorsUrl}/:id`, { schema: { params: GuidParams, body: OpenObject } }, async (request) => {
    const { caller } = request;
    return presentConnector(await connectors.update(caller.tenantId, request.params.id, request.body, expectedVersion(request)), options.clock());
  });
  app.delete(`${connectorsUrl}/:id`, { schema: { params: GuidParams } }, async (request, reply) => {
    const { caller } = request;
    await connectors.delete(caller.tenantId, request.params.id, expectedVersion(request));
    return reply.code(204).send();
  });
  // The rest is beta only, as in Graph.
  if (!beta) return;
  const protections = `/${PROTECTIONS.path}`;
  app.get(`${protections}/:id/deploymentSummary`, { schema: { params: GuidParams, response: { 200: DeploymentSummary, ...ERROR_RESPONSES } } }, async (request) => {
    const { caller } = request;
    const summary = await appPolicies.deploymentSummary(caller.tenantId, request.params.id);
    return {
      '@odata.context': `${baseUrl}/$metadata#${PROTECTIONS.path}('${request.params.id}')/deploymentSummary/$entity`,
      '@odata.type': '#microsoft.graph.managedAppPolicyDeploymentSummary',
      id: request.params.id,
      displayName: summary.displayName,
      configurationDeployedUserCount: summary.configurationDeployedUserCount,
      lastRefreshTime: iso(summary.lastRefreshTime),
      configurationDeploymentSummaryPerApp: summary.configurationDeploymentSummaryPerApp.map((entry) => ({
        '@odata.type': '#microsoft.graph.managedAppPolicyDeploymentSummaryPerApp',
        mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: entry.appId },
        configurationAppliedUserCount: entry.configurationAppliedUserCount,
      })),
      ...(summary.truncated ? { '@openmam.truncated': true } : {}),
    };
  });
  app.get(`${protections}/templates/:level`, { schema: { params: TemplateParams, querystring: TemplateQuery } }, async (request) => {
    const { level } = request.params;
    const number = Object.hasOwn(LEVELS, level) ? LEVELS[level] : undefined;
    if (number === undefined) throw new GraphError(404, 'ResourceNotFound', `no template ${JSON.stringify(level)}: level1, level2 or level3`);
    // An empty value is the parameter left out.
    const { minimumOsVersion, maximumOsVersion } = request.query;
    const params = { ...(minimumOsVersion ? { minimumOsVersion } : {}), ...(maximumOsVersion ? { maximumOsVersion } : {}) };
    return { '@odata.type': PROTECTIONS.odataType, ...appPolicies.template(number, params) };
  });
}
