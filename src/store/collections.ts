import type { CollectionSource, QueryField } from './collection-query.ts';
import { DEVICE_COMPLIANCE_STATES } from './records.ts';

/**
 * The collections the admin API pages through, as the store keeps them: each field a query may name, by its Graph
 * property path, with where it is stored. The admin API's OData reader takes its allow-list of `$filter` and
 * `$orderby` fields from here, so a field is declared once.
 */

/** A table keyed by (tenant_id, id), as every admin collection's is. */
function tenantCollection(table: string, fields: Readonly<Record<string, QueryField>>): CollectionSource {
  return { table, tenantColumn: 'tenant_id', idColumn: 'id', fields };
}

/** Fields every Graph entity OpenMAM versions has: its id and its creation and change times. */
const ENTITY_FIELDS = {
  id: { type: 'string', source: { column: 'id' }, required: true, lowerCase: true },
  createdDateTime: { type: 'dateTime', source: { column: 'created_at' }, required: true },
  lastModifiedDateTime: { type: 'dateTime', source: { column: 'updated_at' }, required: true },
} as const;

/** A member of a JSON `body` column. */
function bodyField(type: 'string' | 'number' | 'boolean', ...path: string[]): { type: typeof type; source: { json: string; path: string[] } } {
  return { type, source: { json: 'body', path } };
}

export const GROUPS = tenantCollection('groups', {
  id: ENTITY_FIELDS.id,
  displayName: { type: 'string', source: { column: 'display_name' }, required: true },
  description: { type: 'string', source: { column: 'description' } },
  createdDateTime: ENTITY_FIELDS.createdDateTime,
});

/**
 * OMA-DM policies (WIP, device configurations): one table for every kind, the Graph properties in `body`. A
 * collection's source is this with the kinds it serves as `scope` (see `ofKinds`).
 */
const POLICY_FIELDS = {
  ...ENTITY_FIELDS,
  displayName: bodyField('string', 'displayName'),
  description: bodyField('string', 'description'),
  version: { type: 'number', source: { column: 'version' }, required: true },
} as const;

export const POLICIES = tenantCollection('policies', POLICY_FIELDS);

/** Every managed app policy, of either table (the view of migration 016); scoped to the kinds by `ofKinds`. */
export const MANAGED_APP_POLICIES = tenantCollection('managed_app_policies', POLICY_FIELDS);

/** App protection and app configuration policies: one table, the Graph properties in `body`. */
export const APP_POLICIES = tenantCollection('app_policies', POLICY_FIELDS);

/** Device compliance policies (migration 021): one table for every kind, the Graph properties in `body`. */
export const COMPLIANCE_POLICIES = tenantCollection('compliance_policies', POLICY_FIELDS);

/** A source limited to some kinds of a shared table. */
export function ofKinds(source: CollectionSource, kinds: readonly string[]): CollectionSource {
  return { ...source, scope: { ...source.scope, kind: kinds } };
}

/** Conditional access policies (identity/conditionalAccess/policies). */
export const ACCESS_POLICIES = tenantCollection('access_policies', {
  id: ENTITY_FIELDS.id,
  createdDateTime: ENTITY_FIELDS.createdDateTime,
  modifiedDateTime: ENTITY_FIELDS.lastModifiedDateTime,
  displayName: { type: 'string', source: { column: 'display_name' }, required: true },
  state: { type: 'string', source: { column: 'state' }, members: ['enabled', 'disabled', 'enabledForReportingButNotEnforced'] },
});

/**
 * Graph's `managementState` members (learn.microsoft.com/graph/api/resources/intune-devices-managementstate; the
 * v1.0 metadata's order). A filter may name any of them (one OpenMAM never sets matches no device); any other value
 * is a 400. test/http/device-picture-suite.ts checks this list against the Graph tables (src/policy/graph-schema).
 */
export const GRAPH_MANAGEMENT_STATES = ['managed', 'retirePending', 'retireFailed', 'wipePending', 'wipeFailed', 'unhealthy', 'deletePending', 'retireIssued', 'wipeIssued', 'wipeCanceled', 'retireCanceled', 'discovered', 'unknownFutureValue'] as const;

/**
 * MAM-enrolled devices (deviceManagement/managedDevices): the tenant's active enrollments. Newest first by default,
 * on the index enrollments_tenant_enrolled_at. The device's life (migration 019) is on the enrollment row, so an admin
 * filters and orders by compliance and management state in the same statement (indexes enrollments_compliance and
 * enrollments_management_state); migration 024 indexes the Entra device id. Manufacturer, model and the grace end are
 * nullable columns no index orders (collection-sql sorts them as coalesce(...)): filter only. `lastSyncDateTime` lives
 * in `management_state` (written behind, in bulk, by the check-in recorder) and `operatingSystem` is no column (always
 * Windows): neither is a field, so a query naming them is a 400 (docs/graph.md).
 */
export const MANAGED_DEVICES: CollectionSource = {
  ...tenantCollection('enrollments', {
    id: ENTITY_FIELDS.id,
    enrolledDateTime: { type: 'dateTime', source: { column: 'enrolled_at' }, required: true },
    deviceName: { type: 'string', source: { column: 'device_name' } },
    osVersion: { type: 'string', source: { column: 'os_version' } },
    azureADDeviceId: { type: 'string', source: { column: 'entra_device_id' }, lowerCase: true },
    userId: { type: 'string', source: { column: 'user_oid' }, required: true, lowerCase: true },
    userPrincipalName: { type: 'string', source: { column: 'upn' }, caseInsensitive: true },
    complianceState: { type: 'string', source: { column: 'compliance_state' }, required: true, members: DEVICE_COMPLIANCE_STATES },
    managementState: { type: 'string', source: { column: 'management_state' }, required: true, members: GRAPH_MANAGEMENT_STATES },
    complianceGracePeriodExpirationDateTime: { type: 'dateTime', source: { column: 'compliance_grace_until' }, filterOnly: true },
    manufacturer: { type: 'string', source: { column: 'manufacturer' }, filterOnly: true },
    model: { type: 'string', source: { column: 'model' }, filterOnly: true },
  }),
  scope: { state: 'enrolled' },
};

/**
 * Ended enrollments (beta `deviceManagement/openMamRetiredDevices`): retired, wiped, unenrolled by their user or by
 * the stale-device sweep, kept for reports. Newest end first, on the index enrollments_tenant_unenrolled_at.
 */
export const RETIRED_DEVICES: CollectionSource = {
  ...tenantCollection('enrollments', {
    id: ENTITY_FIELDS.id,
    retiredDateTime: { type: 'dateTime', source: { column: 'unenrolled_at' }, required: true },
    enrolledDateTime: { type: 'dateTime', source: { column: 'enrolled_at' }, required: true },
    deviceName: { type: 'string', source: { column: 'device_name' } },
    userId: { type: 'string', source: { column: 'user_oid' }, required: true, lowerCase: true },
    userPrincipalName: { type: 'string', source: { column: 'upn' }, caseInsensitive: true },
    managementState: { type: 'string', source: { column: 'management_state' }, required: true, members: GRAPH_MANAGEMENT_STATES },
    retireReason: { type: 'string', source: { column: 'unenroll_reason' }, members: ['user', 'admin', 'stale', 'compliance'] },
  }),
  scope: { state: 'unenrolled' },
};

/** Mobile threat defense connectors. */
export const CONNECTORS = tenantCollection('mtd_connectors', {
  id: ENTITY_FIELDS.id,
  lastHeartbeatDateTime: { type: 'dateTime', source: { column: 'last_heartbeat_at' } },
  partnerState: { type: 'string', source: { column: 'partner_state' }, members: ['unavailable', 'available', 'enabled', 'unresponsive', 'notSetUp', 'error'] },
});

/** Managed app registrations (deviceAppManagement/managedAppRegistrations); GUIDs are kept lower-case. */
export const APP_REGISTRATIONS = tenantCollection('app_registrations', {
  id: ENTITY_FIELDS.id,
  createdDateTime: ENTITY_FIELDS.createdDateTime,
  lastSyncDateTime: { type: 'dateTime', source: { column: 'last_check_in_at' }, required: true },
  userId: { type: 'string', source: { column: 'user_id' }, required: true, lowerCase: true },
  'appIdentifier/windowsAppId': { type: 'string', source: { column: 'app_id' }, required: true, lowerCase: true },
  deviceTag: { type: 'string', source: { column: 'device_tag' }, required: true },
  azureADDeviceId: { type: 'string', source: { column: 'azure_ad_device_id' }, lowerCase: true },
  deviceName: { type: 'string', source: { column: 'device_name' } },
  applicationVersion: { type: 'string', source: { column: 'app_version' }, required: true },
  platformVersion: { type: 'string', source: { column: 'os_version' }, required: true },
  managementSdkVersion: { type: 'string', source: { column: 'sdk_version' }, required: true },
});

/**
 * Users (migration 012). The user principal name compares and sorts ignoring case, as Entra matches it
 * (learn.microsoft.com/graph/api/user-get: "{id | userPrincipalName}").
 */
export const USERS = tenantCollection('users', {
  id: ENTITY_FIELDS.id,
  userPrincipalName: { type: 'string', source: { column: 'user_principal_name' }, caseInsensitive: true },
  displayName: { type: 'string', source: { column: 'display_name' } },
});

/**
 * The sign-in log (auditLogs/signIns), newest first. Graph's `status/errorCode` is 0 for an allowed sign-in and
 * 53003 (AADSTS53003, blocked by conditional access) for a denied one: the log keeps the decision.
 */
export const SIGN_INS = tenantCollection('sign_ins', {
  id: { type: 'string', source: { column: 'id' }, required: true },
  createdDateTime: ENTITY_FIELDS.createdDateTime,
  userId: { type: 'string', source: { column: 'user_id' }, lowerCase: true },
  userPrincipalName: { type: 'string', source: { column: 'user_principal_name' }, caseInsensitive: true },
  appId: { type: 'string', source: { column: 'app_id' }, lowerCase: true },
  appDisplayName: { type: 'string', source: { column: 'app_display_name' } },
  resourceId: { type: 'string', source: { column: 'resource_id' }, lowerCase: true },
  resourceDisplayName: { type: 'string', source: { column: 'resource_display_name' } },
  ipAddress: { type: 'string', source: { column: 'ip_address' } },
  correlationId: { type: 'string', source: { column: 'correlation_id' }, required: true },
  'deviceDetail/deviceId': { type: 'string', source: { column: 'device_id' }, lowerCase: true },
  conditionalAccessStatus: { type: 'string', source: { column: 'conditional_access_status' }, required: true, members: ['success', 'failure', 'notApplied'] },
  'status/errorCode': { type: 'number', source: { column: 'decision' }, required: true, storedAs: { '0': 'allow', '53003': 'deny' } },
});

/** Service principals (servicePrincipals), a directory collection: counted only with ConsistencyLevel. */
export const SERVICE_PRINCIPALS = tenantCollection('service_principals', {
  id: ENTITY_FIELDS.id,
  appId: { type: 'string', source: { column: 'app_id' }, required: true, lowerCase: true },
  displayName: { type: 'string', source: { column: 'display_name' }, required: true },
  // Graph: servicePrincipalNames/any(c:c eq 'api://...') (learn.microsoft.com/graph/api/serviceprincipal-list); compared ignoring case.
  servicePrincipalNames: { type: 'string', source: { column: 'service_principal_names' }, collection: true, caseInsensitive: true },
});

/**
 * A tenant's hours of activity (deviceManagement/openMamActivityHours, migration 017). The hour is the key: the
 * table has no other id, and its primary key (tenant_id, hour_start) serves every page in either order.
 */
export const ACTIVITY_HOURS: CollectionSource = {
  table: 'activity_hours',
  tenantColumn: 'tenant_id',
  idColumn: 'hour_start',
  fields: {
    hourStart: { type: 'dateTime', source: { column: 'hour_start' }, required: true },
  },
};

/** Assignment filters (deviceManagement/assignmentFilters, migration 023). */
export const ASSIGNMENT_FILTERS = tenantCollection('assignment_filters', {
  ...ENTITY_FIELDS,
  displayName: { type: 'string', source: { column: 'display_name' }, required: true },
  description: { type: 'string', source: { column: 'description' } },
  platform: { type: 'string', source: { column: 'platform' }, required: true, members: ['windows10AndLater', 'windowsMobileApplicationManagement'] },
  assignmentFilterManagementType: { type: 'string', source: { column: 'management_type' }, required: true, members: ['devices', 'apps'] },
});

/**
 * The audit trail (beta deviceManagement/auditEvents, migration 026), newest first on `audit_events_page`. The
 * actor's UPN is kept lower-case in its column (Entra compares UPNs ignoring case), so a filter's literal is
 * lower-cased and the column's index still serves; GUIDs are lower-case. Only the time (and id) orders a page: the
 * other fields are filters, served by the indexes of migration 026 or checked on the page index's rows.
 */
export const AUDIT_EVENTS = tenantCollection('audit_events', {
  id: { type: 'string', source: { column: 'id' }, required: true, lowerCase: true },
  activityDateTime: { type: 'dateTime', source: { column: 'activity_date_time' }, required: true },
  activityType: { type: 'string', source: { column: 'activity_type' }, required: true, filterOnly: true },
  activityOperationType: { type: 'string', source: { column: 'activity_operation_type' }, required: true, filterOnly: true },
  activityResult: { type: 'string', source: { column: 'activity_result' }, required: true, filterOnly: true },
  category: { type: 'string', source: { column: 'category' }, required: true, filterOnly: true },
  componentName: { type: 'string', source: { column: 'component_name' }, required: true, filterOnly: true },
  correlationId: { type: 'string', source: { column: 'correlation_id' }, required: true, lowerCase: true, filterOnly: true },
  'actor/userPrincipalName': { type: 'string', source: { column: 'actor_upn' }, lowerCase: true, filterOnly: true },
  'actor/userId': { type: 'string', source: { column: 'actor_user_id' }, lowerCase: true, filterOnly: true },
  'actor/applicationId': { type: 'string', source: { column: 'actor_app_id' }, lowerCase: true, filterOnly: true },
});
