import { ACCESS_POLICIES, APP_POLICIES, CONNECTORS } from '../../store/collections.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessPolicyService } from '../../core/app-protection/access-policies.ts';
import type { AppPolicyService } from '../../core/app-protection/app-policies.ts';
import { effectivePartnerState, type ThreatConnectorService } from '../../core/app-protection/threat-connectors.ts';
import type { AccessPolicyRecord, AppPolicyKind, AppPolicyRecord, ManagedAppRef, MtdConnectorRecord } from '../../store/app-protection-records.ts';
import { etagAnnotation, expectedVersion, setEntityTag } from './etag.ts';
import { collection, GraphError } from './graph.ts';

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

function presentApp(app: ManagedAppRef): Record<string, unknown> {
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

function presentAppPolicyAssignment(assignment: AppPolicyRecord['assignments'][number]): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.targetedManagedAppPolicyAssignment', id: assignment.id, source: 'direct', sourceId: null, target: assignment.target };
}

function idOf(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

export async function appProtectionRoutes(app: FastifyInstance, options: AppProtectionRoutesOptions): Promise<void> {
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
  app.post(caUrl, async (request, reply) => {
    const { caller } = request;
    const policy = await accessPolicies.create(caller.tenantId, request.body);
    return reply.code(201).header('location', `${baseUrl}${caUrl}/${policy.id}`).send(presentAccessPolicy(policy));
  });
  app.get(`${caUrl}/:id`, async (request) => {
    const { caller } = request;
    return presentAccessPolicy(await accessPolicies.get(caller.tenantId, idOf(request)));
  });
  app.patch(`${caUrl}/:id`, async (request) => {
    const { caller } = request;
    return presentAccessPolicy(await accessPolicies.update(caller.tenantId, idOf(request), request.body, expectedVersion(request)));
  });
  app.delete(`${caUrl}/:id`, async (request, reply) => {
    const { caller } = request;
    await accessPolicies.delete(caller.tenantId, idOf(request), expectedVersion(request));
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
    app.post(url, { bodyLimit: BODY_LIMIT }, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.create(caller.tenantId, resource.kind, request.body);
      return reply.code(201).header('location', `${baseUrl}${url}/${policy.id}`).send(presentPolicy(resource, policy));
    });
    app.get(`${url}/:id`, async (request) => {
      const { caller } = request;
      return presentPolicy(resource, await appPolicies.get(caller.tenantId, resource.kind, idOf(request)));
    });
    app.patch(`${url}/:id`, { bodyLimit: BODY_LIMIT }, async (request) => {
      const { caller } = request;
      return presentPolicy(resource, await appPolicies.update(caller.tenantId, resource.kind, idOf(request), request.body, expectedVersion(request)));
    });
    app.delete(`${url}/:id`, async (request, reply) => {
      const { caller } = request;
      await appPolicies.delete(caller.tenantId, resource.kind, idOf(request), expectedVersion(request));
      return reply.code(204).send();
    });
    app.post(`${url}/:id/targetApps`, { bodyLimit: BODY_LIMIT }, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.targetApps(caller.tenantId, resource.kind, idOf(request), request.body, expectedVersion(request));
      return setEntityTag(reply, policy.version).code(204).send();
    });
    app.post(`${url}/:id/assign`, async (request, reply) => {
      const { caller } = request;
      const policy = await appPolicies.assign(caller.tenantId, resource.kind, idOf(request), request.body, expectedVersion(request));
      return setEntityTag(reply, policy.version).code(204).send();
    });
    app.get(`${url}/:id/assignments`, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, idOf(request));
      return collection(
        `${entity(policy.id)}/assignments`,
        policy.assignments.map(presentAppPolicyAssignment),
      );
    });
    app.get(`${url}/:id/assignments/:assignmentId`, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, idOf(request));
      const assignmentId = (request.params as { assignmentId: string }).assignmentId;
      const assignment = policy.assignments.find((a) => a.id.toLowerCase() === assignmentId.toLowerCase());
      if (assignment === undefined) throw new GraphError(404, 'ResourceNotFound', `No assignment ${assignmentId} on ${resource.path}('${policy.id}').`);
      return { '@odata.context': `${entity(policy.id)}/assignments/$entity`, ...presentAppPolicyAssignment(assignment) };
    });
    app.get(`${url}/:id/apps`, async (request) => {
      const { caller } = request;
      const policy = await appPolicies.get(caller.tenantId, resource.kind, idOf(request));
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
  app.post(connectorsUrl, async (request, reply) => {
    const { caller } = request;
    const connector = await connectors.create(caller.tenantId, request.body);
    return reply.code(201).header('location', `${baseUrl}${connectorsUrl}/${connector.id}`).send(presentConnector(connector, options.clock()));
  });
  app.get(`${connectorsUrl}/:id`, async (request) => {
    const { caller } = request;
    return presentConnector(await connectors.get(caller.tenantId, idOf(request)), options.clock());
  });
  app.patch(`${connectorsUrl}/:id`, async (request) => {
    const { caller } = request;
    return presentConnector(await connectors.update(caller.tenantId, idOf(request), request.body, expectedVersion(request)), options.clock());
  });
  app.delete(`${connectorsUrl}/:id`, async (request, reply) => {
    const { caller } = request;
    await connectors.delete(caller.tenantId, idOf(request), expectedVersion(request));
    return reply.code(204).send();
  });
  // The rest is beta only, as in Graph.
  if (!beta) return;
  const protections = `/${PROTECTIONS.path}`;
  app.get(`${protections}/:id/deploymentSummary`, async (request) => {
    const { caller } = request;
    const summary = await appPolicies.deploymentSummary(caller.tenantId, idOf(request));
    return {
      '@odata.context': `${baseUrl}/$metadata#${PROTECTIONS.path}('${idOf(request)}')/deploymentSummary/$entity`,
      '@odata.type': '#microsoft.graph.managedAppPolicyDeploymentSummary',
      id: idOf(request),
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
  app.get(`${protections}/templates/:level`, async (request) => {
    const { level } = request.params as { level: string };
    const number = Object.hasOwn(LEVELS, level) ? LEVELS[level] : undefined;
    if (number === undefined) throw new GraphError(404, 'ResourceNotFound', `no template ${JSON.stringify(level)}: level1, level2 or level3`);
    const query = request.query as { minimumOsVersion?: unknown; maximumOsVersion?: unknown };
    const param = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
    const params = {
      ...(param(query.minimumOsVersion) === undefined ? {} : { minimumOsVersion: param(query.minimumOsVersion)! }),
      ...(param(query.maximumOsVersion) === undefined ? {} : { maximumOsVersion: param(query.maximumOsVersion)! }),
    };
    return { '@odata.type': PROTECTIONS.odataType, ...appPolicies.template(number, params) };
  });
}
