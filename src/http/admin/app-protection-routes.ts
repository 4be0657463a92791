import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AccessPolicyService } from '../../core/app-protection/access-policies.ts';
import type { DeploymentSummaries } from '../../core/app-protection/deployment-summary.ts';
import { effectivePartnerState, type ThreatConnectorService } from '../../core/app-protection/threat-connectors.ts';
import type { PolicyService } from '../../core/policies.ts';
import { APP_PROTECTIONS, appProtectionTemplate, policyKind } from '../../core/policy-kinds/index.ts';
import type { AccessPolicyRecord, AppPolicyRecord, MtdConnectorRecord } from '../../store/app-protection-records.ts';
import { ACCESS_POLICIES, CONNECTORS } from '../../store/collections.ts';
import { etagAnnotation } from '../graph/etag.ts';
import { GraphError } from '../graph/graph-api.ts';
import { entityOperations, resourceRoutes } from '../graph/resource-routes.ts';
import { EntityBody, ERROR_RESPONSES, GraphTypeProperties, GuidParams, NotApplicableProperties, NullableString, SafeString } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { policyEntitySchema } from './policy-routes.ts';
import { CONNECTOR_AUDIT } from '../../core/app-protection/threat-connectors.ts';
import { ACCESS_POLICY_AUDIT } from '../../core/app-protection/access-policies.ts';

/**
 * The app protection service's Graph-shaped admin resources besides the policy collections (policy-routes.ts serves
 * those from the registry; docs/app-protection.md "Admin API"):
 * - beta `deviceAppManagement/windowsManagedAppProtections/{id}/deploymentSummary`;
 * - beta `deviceAppManagement/windowsManagedAppProtections/templates/{level1|level2|level3}`: the data protection
 *   framework levels as a policy body to POST (Graph has no such resource; it lives under the collection it feeds,
 *   `minimumOsVersion` and `maximumOsVersion` as query parameters);
 * - `deviceManagement/mobileThreatDefenseConnectors` (beta and v1.0): list, create, get, PATCH, delete;
 * - `identity/conditionalAccess/policies`, in beta and v1.0 (as in Graph): list, create, get, PATCH, delete.
 * Readers (OpenMAM.Reader) read; writes need OpenMAM.Admin; another tenant's ids are 404.
 */
export interface AppProtectionRoutesOptions {
  policies: PolicyService;
  deploymentSummaries: DeploymentSummaries;
  connectors: ThreatConnectorService;
  accessPolicies: AccessPolicyService;
  clock: () => number;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
  version: string;
  skipTokens: SkipTokens;
}

const CONNECTORS_PATH = 'deviceManagement/mobileThreatDefenseConnectors';
const ACCESS_POLICIES_PATH = 'identity/conditionalAccess/policies';
const LEVELS: Readonly<Record<string, 1 | 2 | 3>> = { level1: 1, level2: 2, level3: 3 };

const iso = (time: number): string => new Date(time).toISOString();

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

/** Graph `mobileThreatDefenseConnector` as presentConnector answers it: every Graph property, OpenMAM's typed. */
const Connector = EntityBody({
  ...GraphTypeProperties('mobileThreatDefenseConnector'),
  id: Type.String(),
  lastHeartbeatDateTime: NullableString(),
  partnerState: Type.String(),
  windowsMobileApplicationManagementEnabled: Type.Boolean(),
  windowsDeviceBlockedOnMissingPartnerData: Type.Boolean(),
  partnerUnsupportedOsVersionBlocked: Type.Boolean(),
  partnerUnresponsivenessThresholdInDays: Type.Integer(),
  ...NotApplicableProperties,
});

/**
 * Graph `conditionalAccessPolicy` as OpenMAM keeps it (policy/app-protection.ts accessPolicyAsGraph): every Graph
 * property (the stored-only ones too); the conditions and controls are the model's objects, written as it builds them.
 */
const AccessPolicy = EntityBody({
  ...GraphTypeProperties('conditionalAccessPolicy'),
  id: Type.String(),
  displayName: Type.String(),
  state: Type.String(),
  conditions: Type.Unknown(),
  grantControls: Type.Unknown(),
  approvedApplications: Type.Array(Type.String()),
  createdDateTime: Type.String(),
  modifiedDateTime: Type.String(),
  ...NotApplicableProperties,
});

/** `notApplicable`: the paths of the stored-only properties the connector has set (ThreatConnectorService). */
function presentConnector(connector: MtdConnectorRecord, now: number, notApplicable: readonly string[]): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.mobileThreatDefenseConnector',
    ...etagAnnotation(connector.version),
    id: connector.id,
    // Stored only (windowsEnabled, androidEnabled, ...): before what OpenMAM computes, which a stored value never replaces.
    ...connector.graphExtras,
    lastHeartbeatDateTime: connector.lastHeartbeatAt === null ? null : iso(connector.lastHeartbeatAt),
    partnerState: effectivePartnerState(connector, now),
    windowsMobileApplicationManagementEnabled: connector.windowsMobileApplicationManagementEnabled,
    windowsDeviceBlockedOnMissingPartnerData: connector.windowsDeviceBlockedOnMissingPartnerData,
    partnerUnsupportedOsVersionBlocked: connector.partnerUnsupportedOsVersionBlocked,
    partnerUnresponsivenessThresholdInDays: connector.partnerUnresponsivenessThresholdInDays,
    ...(notApplicable.length > 0 ? { '@openmam.notApplicableProperties': [...notApplicable] } : {}),
  };
}

export async function appProtectionRoutes(base: FastifyInstance, options: AppProtectionRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { connectors, accessPolicies, baseUrl } = options;
  const context = { baseUrl, skipTokens: options.skipTokens };
  const page = { pageSize: 100, maxPageSize: 1000, navigations: [] } as const;

  const presentAccessPolicy = (policy: AccessPolicyRecord): Record<string, unknown> => {
    const notApplicable = accessPolicies.notApplicableProperties(policy);
    return {
      '@odata.type': '#microsoft.graph.conditionalAccessPolicy',
      ...etagAnnotation(policy.version),
      id: policy.id,
      ...accessPolicies.asGraph(policy),
      createdDateTime: iso(policy.createdAt),
      modifiedDateTime: iso(policy.updatedAt),
      ...(notApplicable.length > 0 ? { '@openmam.notApplicableProperties': notApplicable } : {}),
    };
  };
  // Conditional access policies and threat defense connectors are in v1.0 and beta, as in Graph.
  resourceRoutes<AccessPolicyRecord>(
    app,
    {
      path: ACCESS_POLICIES_PATH,
      entity: AccessPolicy,
      patchAnswer: 'noContent',
      collection: { ...page, entityType: 'conditionalAccessPolicy', fields: ACCESS_POLICIES.fields, defaultOrder: [{ field: 'createdDateTime', descending: false }], list: (tenantId, query) => accessPolicies.query(tenantId, query) },
      present: (list) => list.map(presentAccessPolicy),
      audit: ACCESS_POLICY_AUDIT,
      ...entityOperations(accessPolicies),
    },
    context,
  );
  resourceRoutes<MtdConnectorRecord>(
    app,
    {
      path: CONNECTORS_PATH,
      entity: Connector,
      // Graph's connector has no creation time: pages follow the id.
      collection: { ...page, entityType: 'mobileThreatDefenseConnector', fields: CONNECTORS.fields, defaultOrder: [], list: (tenantId, query) => connectors.query(tenantId, query) },
      present: (list) => list.map((c) => presentConnector(c, options.clock(), connectors.notApplicableProperties(c))),
      audit: CONNECTOR_AUDIT,
      ...entityOperations(connectors),
    },
    context,
  );

  // The rest is beta only, as in Graph.
  if (options.version !== 'beta') return;
  const protections = `/${APP_PROTECTIONS.path}`;
  app.get(`${protections}/:id/deploymentSummary`, { schema: { params: GuidParams, response: { 200: DeploymentSummary, ...ERROR_RESPONSES } } }, async (request) => {
    const policy = (await options.policies.get(request.caller.tenantId, APP_PROTECTIONS, request.params.id)) as AppPolicyRecord;
    const summary = await options.deploymentSummaries.summarize(policy);
    return {
      '@odata.context': `${baseUrl}/$metadata#${APP_PROTECTIONS.path}('${request.params.id}')/deploymentSummary/$entity`,
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
  app.get(`${protections}/templates/:level`, { schema: { params: TemplateParams, querystring: TemplateQuery, response: { 200: policyEntitySchema(APP_PROTECTIONS), ...ERROR_RESPONSES } } }, async (request) => {
    const { level } = request.params;
    const number = Object.hasOwn(LEVELS, level) ? LEVELS[level] : undefined;
    if (number === undefined) throw new GraphError(404, 'ResourceNotFound', `no template ${JSON.stringify(level)}: level1, level2 or level3`);
    // An empty value is the parameter left out.
    const { minimumOsVersion, maximumOsVersion } = request.query;
    const params = { ...(minimumOsVersion ? { minimumOsVersion } : {}), ...(maximumOsVersion ? { maximumOsVersion } : {}) };
    return { '@odata.type': policyKind('windowsManagedAppProtection').odataType, ...appProtectionTemplate(number, params) };
  });
}
