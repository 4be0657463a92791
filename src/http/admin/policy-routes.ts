import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { isDevicePolicy, policyAuditSubject, type PolicyService, type StoredPolicy } from '../../core/policies.ts';
import {
  collectionsDerivedFrom,
  kindsOf,
  MAX_ASSIGNMENTS,
  MAX_TARGET_APPS,
  notApplicableProperties,
  policyCollections,
  policyKind,
  readableProperties,
  type GraphVersion,
  type PolicyCollection,
} from '../../core/policy-kinds/index.ts';
import type { PolicyStatusService } from '../../core/policy-status.ts';
import { WipTools } from '../../core/wip/tools.ts';
import type { ManagedAppRef } from '../../store/app-protection-records.ts';
import type { PolicyAssignment } from '../../store/records.ts';
import { POLICIES } from '../../store/collections.ts';
import { etagAnnotation, expectedVersion, setEntityTag } from '../graph/etag.ts';
import { auditContextOf, collection, GraphError } from '../graph/graph-api.ts';
import { recordOperation } from '../graph/metadata-route.ts';
import { resourceRoutes } from '../graph/resource-routes.ts';
import { AssignBody, AssignmentParams, CollectionBody, EntityBody, ERROR_RESPONSES, GuidParams, NO_CONTENT_RESPONSES, NullableString, OpenObject, SafeString } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';

/**
 * Every policy collection of the registry (core/policy-kinds), with the routes its declaration implies: the entity
 * routes of the one factory (graph/resource-routes.ts: list with OData and keyset pages, get, create, PATCH, delete),
 * `assign` and `assignments` (one by id too), and where the collection has them `targetApps` and `apps` (managed app
 * policies) or `deviceStatuses` (OMA-DM policies). A new kind gets all of this from its declaration alone.
 */
export interface PolicyRoutesOptions {
  policies: PolicyService;
  statuses: PolicyStatusService;
  /** e.g. https://openmam.example/graph/beta */
  baseUrl: string;
  version: GraphVersion;
  skipTokens: SkipTokens;
}

/** Policies with hundreds of apps, ranges and settings stay far below this. */
const POLICY_BODY_LIMIT = 1024 * 1024;

const iso = (time: number): string => new Date(time).toISOString();

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

/** Graph's assignment entities (targetedManagedAppPolicyAssignment, deviceConfigurationAssignment); `source` is beta's. */
const Assignment = EntityBody({ id: Type.String(), source: Type.String(), sourceId: NullableString(), target: OpenObject });

/** Graph `managedMobileApp`. */
const ManagedMobileApp = EntityBody({
  id: Type.String(),
  mobileAppIdentifier: Type.Object({ '@odata.type': Type.String(), windowsAppId: Type.String() }),
  version: NullableString(),
});

/** `targetApps` (learn.microsoft.com/graph/api/intune-mam-targetedmanagedappconfiguration-targetapps): apps, and appGroupType where the collection takes it. */
const TargetAppsBody = Type.Object({ apps: Type.Array(OpenObject, { maxItems: MAX_TARGET_APPS }), appGroupType: Type.Optional(SafeString({ maxLength: 64 })) }, { additionalProperties: false });

const assignBody = AssignBody(MAX_ASSIGNMENTS);

/** What every policy answer carries besides its kind's properties. */
const ENTITY_PROPERTIES = ['id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'roleScopeTagIds'] as const;
/** OpenMAM's annotations of a policy. */
const ANNOTATIONS = ['@openmam.notApplicableSettings', '@openmam.notApplicableProperties', '@openmam.warnings'] as const;

/**
 * The properties a collection's entities may carry, derived from its kinds' declarations: every readable property of
 * every kind, the entity's own, the navigations `$expand` adds, and OpenMAM's annotations. They are the response
 * schema (fast-json-stringify writes nothing else, whatever a body holds) and what `$select` may name.
 */
function propertiesOf(policyCollection: PolicyCollection): string[] {
  const names = new Set<string>([...ENTITY_PROPERTIES, 'assignments']);
  for (const declaration of kindsOf(policyCollection)) for (const name of readableProperties(declaration)) names.add(name);
  if (policyCollection.targetApps !== undefined) names.add('apps').add('deployedAppCount');
  return [...names];
}

function entitySchema(properties: readonly string[]): TSchema {
  return EntityBody(Object.fromEntries([...properties, ...ANNOTATIONS].map((name) => [name, Type.Unknown()])));
}

/** The response schema of a collection's policies (also of the templates that answer a policy body to POST). */
export function policyEntitySchema(policyCollection: PolicyCollection): TSchema {
  return entitySchema(propertiesOf(policyCollection));
}

export async function policyRoutes(base: FastifyInstance, options: PolicyRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { policies, baseUrl, version } = options;
  const tools = new WipTools(policies);

  /** One policy as Graph answers it: its kind's readable properties only (an allow-list), then OpenMAM's annotations. */
  const presentPolicy = (policy: StoredPolicy, warnings: readonly string[]): Record<string, unknown> => {
    const declaration = policyKind(policy.kind);
    const readable = readableProperties(declaration);
    const properties = Object.fromEntries(Object.entries(policy.body).filter(([name]) => readable.has(name)));
    // Settings outside the MAM allow-list: shown, never sent (a kind that reaches no MAM device refuses nothing).
    const refused = isDevicePolicy(policy) && 'reachesMamDevices' in declaration && declaration.reachesMamDevices ? policies.compile(policy).refused : [];
    const notApplicable = notApplicableProperties(declaration, policy.body);
    return {
      '@odata.type': declaration.odataType,
      ...etagAnnotation(policy.version),
      id: policy.id,
      ...properties,
      ...(readable.has('roleScopeTagIds') && properties['roleScopeTagIds'] == null ? { roleScopeTagIds: [] } : {}),
      createdDateTime: iso(policy.createdAt),
      lastModifiedDateTime: iso(policy.updatedAt),
      version: declaration.collection.versionType === 'Int32' ? policy.version : String(policy.version),
      isAssigned: policy.assignments.length > 0,
      // Graph: the apps the policy is deployed to; OpenMAM counts its target apps.
      ...('apps' in policy ? { deployedAppCount: policy.apps.length } : {}),
      ...(refused.length > 0 ? { '@openmam.notApplicableSettings': refused } : {}),
      // Graph properties stored as given but not acted on: an admin must not believe they are enforced.
      ...(notApplicable.length > 0 ? { '@openmam.notApplicableProperties': notApplicable } : {}),
      // E.g. a MAM WIP policy whose MDM upgrade would selectively wipe the user's data (see {id}/mdmHandoffCheck).
      ...(warnings.length > 0 ? { '@openmam.warnings': warnings } : {}),
    };
  };
  const present = async (listed: readonly StoredPolicy[]): Promise<Record<string, unknown>[]> => {
    const warnings = await tools.handoffWarnings(listed.filter(isDevicePolicy));
    return listed.map((policy) => presentPolicy(policy, warnings.get(policy.id) ?? []));
  };

  for (const policyCollection of policyCollections(version)) {
    const { path } = policyCollection;
    const url = `/${path}`;
    const entity = (id: string) => `${baseUrl}/$metadata#${path}('${id}')`;
    const assignmentType = `#microsoft.graph.${policyCollection.assignment.entityType}`;
    const presentAssignment = (assignment: PolicyAssignment): Static<typeof Assignment> => ({
      '@odata.type': assignmentType,
      id: assignment.id,
      // source and sourceId are beta's (policy sets); v1.0's assignments have id and target only.
      ...(version === 'beta' ? { source: 'direct', sourceId: null } : {}),
      target: presentTarget(assignment.target, version),
    });
    const presentApp = (ref: ManagedAppRef): Static<typeof ManagedMobileApp> => ({
      '@odata.type': '#microsoft.graph.managedMobileApp',
      id: ref.id,
      mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: ref.appId },
      version: ref.version,
    });
    const appsOf = (policy: StoredPolicy): ManagedAppRef[] => ('apps' in policy ? policy.apps : []);
    const targetApps = policyCollection.targetApps !== undefined;
    const properties = propertiesOf(policyCollection);
    const subject = policyAuditSubject(policyCollection);

    resourceRoutes<StoredPolicy>(
      app,
      {
        path,
        entity: entitySchema(properties),
        selectable: properties,
        bodyLimit: POLICY_BODY_LIMIT,
        collection: {
          entityType: policyCollection.entityType,
          fields: POLICIES.fields,
          navigations: targetApps ? ['apps', 'assignments'] : ['assignments'],
          defaultOrder: [{ field: 'createdDateTime', descending: false }],
          pageSize: 100,
          maxPageSize: 1000,
          list: (tenantId, query) => policies.query(tenantId, policyCollection, query),
          expand: {
            assignments: (page) => page.map((policy) => policy.assignments.map(presentAssignment)),
            ...(targetApps ? { apps: (page: readonly StoredPolicy[]) => page.map((policy) => appsOf(policy).map(presentApp)) } : {}),
          },
        },
        present,
        get: (tenantId, id) => policies.get(tenantId, policyCollection, id),
        audit: policyAuditSubject(policyCollection),
        create: (caller, body) => policies.create(caller, policyCollection, body),
        update: (caller, id, patch, expected) => policies.update(caller, policyCollection, id, patch, expected),
        delete: (caller, id, expected) => policies.delete(caller, policyCollection, id, expected),
      },
      { baseUrl, skipTokens: options.skipTokens },
    );

    const assignments = { type: policyCollection.assignment.entityType, collection: true } as const;
    recordOperation(app, {
      kind: 'action',
      name: 'assign',
      bindingType: policyCollection.entityType,
      parameters: [{ name: 'assignments', ...assignments }],
      ...(policyCollection.assignment.answer === 'assignments' ? { returns: assignments } : {}),
    });
    // Graph's answer to assign differs by collection (see PolicyCollection.assignment.answer).
    const assign = async (request: FastifyRequest, id: string, body: unknown, reply: FastifyReply): Promise<StoredPolicy> => {
      const policy = await policies.assign(auditContextOf(request), policyCollection, id, body, expectedVersion(request));
      setEntityTag(reply, policy.version);
      return policy;
    };
    if (policyCollection.assignment.answer === 'noContent') {
      app.post(`${url}/:id/assign`, { config: { audit: { ...subject, verb: 'Assign' } }, schema: { params: GuidParams, body: assignBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
        await assign(request, request.params.id, request.body, reply);
        return reply.code(204).send(null);
      });
    } else {
      app.post(`${url}/:id/assign`, { config: { audit: { ...subject, verb: 'Assign' } }, schema: { params: GuidParams, body: assignBody, response: { 200: CollectionBody(Assignment), ...ERROR_RESPONSES } } }, async (request, reply) => {
        const policy = await assign(request, request.params.id, request.body, reply);
        return collection(`${baseUrl}/$metadata#Collection(${assignmentType.slice(1)})`, policy.assignments.map(presentAssignment));
      });
    }
    app.get(`${url}/:id/assignments`, { schema: { params: GuidParams, response: { 200: CollectionBody(Assignment), ...ERROR_RESPONSES } } }, async (request) => {
      const policy = await policies.get(request.caller.tenantId, policyCollection, request.params.id);
      return collection(`${entity(policy.id)}/assignments`, policy.assignments.map(presentAssignment));
    });
    app.get(`${url}/:id/assignments/:assignmentId`, { schema: { params: AssignmentParams, response: { 200: Assignment, ...ERROR_RESPONSES } } }, async (request) => {
      const policy = await policies.get(request.caller.tenantId, policyCollection, request.params.id);
      const { assignmentId } = request.params;
      const assignment = policy.assignments.find((a) => a.id.toLowerCase() === assignmentId.toLowerCase());
      if (assignment === undefined) throw new GraphError(404, 'ResourceNotFound', `No assignment ${assignmentId} on ${path}('${policy.id}').`);
      return { '@odata.context': `${entity(policy.id)}/assignments/$entity`, ...presentAssignment(assignment) };
    });

    if (targetApps) {
      recordOperation(app, {
        kind: 'action',
        name: 'targetApps',
        bindingType: policyCollection.entityType,
        parameters: [{ name: 'apps', type: 'managedMobileApp', collection: true }, ...(policyCollection.targetApps?.withAppGroupType ? [{ name: 'appGroupType', type: 'targetedManagedAppGroupType' }] : [])],
      });
      app.post(`${url}/:id/targetApps`, { bodyLimit: POLICY_BODY_LIMIT, config: { audit: { ...subject, verb: 'TargetApps' } }, schema: { params: GuidParams, body: TargetAppsBody, response: NO_CONTENT_RESPONSES } }, async (request, reply) => {
        const policy = await policies.targetApps(auditContextOf(request), policyCollection, request.params.id, request.body, expectedVersion(request));
        return setEntityTag(reply, policy.version).code(204).send(null);
      });
      app.get(`${url}/:id/apps`, { schema: { params: GuidParams, response: { 200: CollectionBody(ManagedMobileApp), ...ERROR_RESPONSES } } }, async (request) => {
        const policy = await policies.get(request.caller.tenantId, policyCollection, request.params.id);
        return collection(`${entity(policy.id)}/apps`, appsOf(policy).map(presentApp));
      });
    }

    if (policyCollection.delivery === 'omaDm') {
      app.get(`${url}/:id/deviceStatuses`, { config: { odata: ['$top', '$select'] }, schema: { params: GuidParams, response: { 200: CollectionBody(DeviceStatus), ...ERROR_RESPONSES } } }, async (request) => {
        const policy = await policies.get(request.caller.tenantId, policyCollection, request.params.id);
        if (!isDevicePolicy(policy)) throw new GraphError(404, 'ResourceNotFound', `${path}('${policy.id}') has no device statuses.`);
        const top = Number((request.query as { $top?: string }).$top ?? 1000);
        const statuses = await options.statuses.deviceStatuses(policy, Number.isInteger(top) && top > 0 ? Math.min(top, 10_000) : 1000);
        return collection(
          `${entity(policy.id)}/deviceStatuses`,
          statuses.map((s) => ({
            id: s.enrollmentId,
            deviceDisplayName: s.deviceName,
            deviceId: s.devId,
            userPrincipalName: s.userPrincipalName,
            // Graph's complianceStatus (deviceConfigurationDeviceStatus.status); OpenMAM's finer word as an annotation.
            status: GRAPH_DEVICE_STATUS[s.status],
            '@openmam.status': s.status,
            statusCode: s.statusCode,
            lastReportedDateTime: s.lastReportedAt === null ? null : iso(s.lastReportedAt),
          })),
        );
      });
    }
  }

  // Graph's managedAppPolicies (learn.microsoft.com/graph/api/intune-mam-managedapppolicy-list): every managed app
  // policy of this version in one collection, each answered as its own type. A PATCH or DELETE goes through the
  // policy's own collection, with its kind's rules.
  const appPolicyCollections = collectionsDerivedFrom('managedAppPolicy', version);
  const unionProperties = [...new Set(appPolicyCollections.flatMap(propertiesOf))];
  const ownCollection = async (tenantId: string, id: string): Promise<PolicyCollection> => policyKind((await policies.getAcross(tenantId, appPolicyCollections, id)).kind).collection;
  resourceRoutes<StoredPolicy>(
    app,
    {
      path: 'deviceAppManagement/managedAppPolicies',
      entity: entitySchema(unionProperties),
      selectable: unionProperties,
      bodyLimit: POLICY_BODY_LIMIT,
      collection: {
        entityType: 'managedAppPolicy',
        fields: POLICIES.fields,
        navigations: [],
        defaultOrder: [{ field: 'createdDateTime', descending: false }],
        pageSize: 100,
        maxPageSize: 1000,
        list: (tenantId, query) => policies.queryAcross(tenantId, appPolicyCollections, query),
      },
      present,
      get: (tenantId, id) => policies.getAcross(tenantId, appPolicyCollections, id),
      // Each success is recorded under the policy's own collection; a refusal, under the base type.
      audit: { area: 'appProtection', entity: 'ManagedAppPolicy' },
      update: async (caller, id, patch, expected) => policies.update(caller, await ownCollection(caller.tenantId, id), id, patch, expected),
      delete: async (caller, id, expected) => policies.delete(caller, await ownCollection(caller.tenantId, id), id, expected),
    },
    { baseUrl, skipTokens: options.skipTokens },
  );
}

/**
 * An assignment's target as answered: in beta with its filter when it has one (an unfiltered target is answered as
 * before, without Graph's null id and `none` type); in v1.0, whose types have no filter properties, never with one.
 */
function presentTarget(target: PolicyAssignment['target'], version: string): object {
  if (version === 'beta') return target;
  return Object.fromEntries(Object.entries(target).filter(([name]) => name !== 'deviceAndAppManagementAssignmentFilterId' && name !== 'deviceAndAppManagementAssignmentFilterType'));
}
