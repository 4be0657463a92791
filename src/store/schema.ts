import type { ColumnType, Generated } from 'kysely';
import type {
  ConfigurationTarget,
  DeviceActionKind,
  DeviceActionReason,
  DeviceActionState,
  DeviceComplianceState,
  DeviceManagementState,
  EnrollmentState,
  IdentityProviderKind,
  NodeStatus,
  PolicyKind,
  UnenrollReason,
} from './records.ts';
import type {
  AccessPolicyRecord,
  AppComplianceState,
  AppOperationRecord,
  AppOperationStatus,
  AppPolicyKind,
  AppRegistrationRecord,
  MtdConnectorRecord,
  SignInRecord,
  ThreatLevel,
} from './app-protection-records.ts';

/**
 * The tables as Kysely sees them (see migrations/001_initial.ts). Columns are snake_case; times are bigint epoch
 * milliseconds (read back as JS numbers on both backends); booleans are integers 0/1; tenant settings and
 * configuration set settings are JSON text; the management tables come from migrations/003_management.ts, groups
 * and policies from migrations/004_groups_policies.ts.
 */
export interface Database {
  tenants: TenantsTable;
  enrollments: EnrollmentsTable;
  devices: DevicesTable;
  secrets: SecretsTable;
  configuration_sets: ConfigurationSetsTable;
  management_state: ManagementStateTable;
  node_states: NodeStatesTable;
  inventory: InventoryTable;
  management_sessions: ManagementSessionsTable;
  message_log: MessageLogTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  policies: PoliciesTable;
  wip_log_requests: WipLogRequestsTable;
  app_policies: AppPoliciesTable;
  /** A view (migration 016): `policies` and `app_policies` as one collection of managed app policies. */
  managed_app_policies: ManagedAppPoliciesView;
  app_registrations: AppRegistrationsTable;
  app_operations: AppOperationsTable;
  app_blocked_users: AppBlockedUsersTable;
  mtd_connectors: MtdConnectorsTable;
  mtd_threat_reports: MtdThreatReportsTable;
  access_policies: AccessPoliciesTable;
  device_compliance: DeviceComplianceTable;
  managed_apps: ManagedAppsTable;
  service_principals: ServicePrincipalsTable;
  sign_ins: SignInsTable;
  users: UsersTable;
  activity_hours: ActivityHoursTable;
  assignment_filters: AssignmentFiltersTable;
  audit_events: AuditEventsTable;
  device_actions: DeviceActionsTable;
  health_attestations: HealthAttestationsTable;
  health_attestation_certificates: HealthAttestationCertificatesTable;
  compliance_policies: CompliancePoliciesTable;
  compliance_states: ComplianceStatesTable;
  compliance_runs: ComplianceRunsTable;
}

export interface TenantsTable {
  id: string;
  name: string;
  identity_provider: IdentityProviderKind;
  enrollment_allowed: number;
  settings: string;
  created_at: number;
  updated_at: number;
  /** Bumped by every change of the columns above: the compare-and-set of tenant settings writes. */
  version: ColumnType<number, number | undefined, number>;
  /** Bumped by every configuration set change (ConfigurationStore); 0 until the first. */
  config_version: ColumnType<number, number | undefined, number>;
  /** Bumped by every app protection change a whole tenant sees (AppProtectionStore); 0 until the first. */
  app_config_version: ColumnType<number, number | undefined, number>;
}

export interface DeviceFactColumns {
  hw_dev_id: string | null;
  device_name: string | null;
  device_type: string | null;
  os_edition: string | null;
  os_version: string | null;
  locale: string | null;
}

export interface EnrollmentsTable extends DeviceFactColumns {
  id: string;
  tenant_id: string;
  dev_id: string;
  user_oid: string;
  upn: string | null;
  entra_device_id: string | null;
  enrollment_type: 'MAM';
  state: EnrollmentState;
  application_version: string | null;
  request_version: string | null;
  terms_accepted_at: number | null;
  enroll_count: number;
  created_at: number;
  enrolled_at: number;
  updated_at: number;
  unenrolled_at: number | null;
  /** Migration 019 (the device's life). */
  unenroll_reason: ColumnType<UnenrollReason | null, UnenrollReason | null | undefined, UnenrollReason | null>;
  management_state: ColumnType<DeviceManagementState, DeviceManagementState | undefined, DeviceManagementState>;
  compliance_state: ColumnType<DeviceComplianceState, DeviceComplianceState | undefined, DeviceComplianceState>;
  compliance_grace_until: ColumnType<number | null, number | null | undefined, number | null>;
  /** Migration 025: 1 when noncompliant for want of a check-in within the tenant's validity period. */
  compliance_lapsed: ColumnType<number, number | undefined, number>;
  manufacturer: ColumnType<string | null, string | null | undefined, string | null>;
  model: ColumnType<string | null, string | null | undefined, string | null>;
}

/** SecretStore: `value` is the secret's bytes in base64. */
export interface SecretsTable {
  name: string;
  value: string;
  created_at: number;
}

export interface DevicesTable extends DeviceFactColumns {
  dev_id: string;
  tenant_id: string;
  entra_device_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface ConfigurationSetsTable {
  tenant_id: string;
  id: string;
  name: string;
  target_kind: ConfigurationTarget['kind'];
  /** Set when target_kind is `device`. */
  target_dev_id: string | null;
  /** Set when target_kind is `groups`: JSON {include: string[], exclude: string[], allUsers: boolean}. */
  target_groups: string | null;
  /** JSON array of DesiredSetting. */
  settings: string;
  created_at: number;
  updated_at: number;
}

/** One row per enrollment, written lazily: a missing row reads as settled_version 0, not waiting, all times null. */
export interface ManagementStateTable {
  enrollment_id: string;
  settled_version: number;
  waiting_for_user: number;
  inventory_at: number | null;
  last_checkin_at: number | null;
  message_log_until: number | null;
  /** JSON array of the group ids of the user's latest token; null before the first check-in. */
  token_groups: string | null;
}

export interface NodeStatesTable {
  enrollment_id: string;
  loc_uri: string;
  format: string;
  value: string;
  status: NodeStatus;
  status_code: string | null;
  updated_at: number;
}

export interface InventoryTable {
  enrollment_id: string;
  loc_uri: string;
  value: string;
  updated_at: number;
}

export interface ManagementSessionsTable {
  enrollment_id: string;
  session_id: string;
  last_device_msg_id: number;
  last_server_msg_id: number;
  state: string;
  expires_at: number;
}

/** `id` is numbered by the database, ascending: it orders records of the same `at`. */
export interface MessageLogTable {
  id: ColumnType<number, never, never>;
  enrollment_id: string;
  at: number;
  direction: 'in' | 'out';
  /** Read back as a Buffer on both backends. */
  body: Uint8Array;
}

export interface GroupsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  description: string | null;
  /** Migration 014; null for groups created before it. */
  mail_nickname: string | null;
  created_at: number;
}

/** Who an admin put in a group; the key (tenant_id, group_id) references groups. */
export interface GroupMembersTable {
  tenant_id: string;
  group_id: string;
  member_id: string;
}

/** Migration 012: users seen in verified tokens or named as group members; times are epoch ms, null for a bare reference. */
export interface UsersTable {
  tenant_id: string;
  id: string;
  user_principal_name: string | null;
  display_name: string | null;
  first_seen_at: number | null;
  last_seen_at: number | null;
}

/** A policy of the admin API; its compiled configuration set has the same (tenant_id, id). */
export interface PoliciesTable {
  tenant_id: string;
  id: string;
  kind: PolicyKind;
  /** JSON object: the policy's Graph properties. */
  body: string;
  /** JSON array of PolicyAssignment. */
  assignments: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** WIP log requests; `entries` is JSON (array of field -> value objects). */
export interface WipLogRequestsTable {
  id: string;
  tenant_id: string;
  enrollment_id: string;
  mode: 'timeRange' | 'count';
  start_time: string | null;
  stop_time: string | null;
  log_count: number | null;
  log_type: number;
  status: 'pending' | 'completed' | 'failed';
  status_code: string | null;
  requested_at: number;
  completed_at: number | null;
  logs: string | null;
  entries: string | null;
}

// ---- The app protection service (migrations/006_app_protection.ts; records in app-protection-records.ts)

/** `body` is a JSON object (the Graph properties), `apps` a JSON array of ManagedAppRef, `assignments` of PolicyAssignment. */
export interface ManagedAppPoliciesView {
  tenant_id: string;
  id: string;
  kind: string;
  body: string;
  /** `[]` for rows of `policies`. */
  apps: string;
  assignments: string;
  version: number;
  created_at: number;
  updated_at: number;
  /** The table the row is from. */
  origin: 'policies' | 'app_policies';
}

export interface AppPoliciesTable {
  tenant_id: string;
  id: string;
  kind: AppPolicyKind;
  body: string;
  apps: string;
  assignments: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** At most one `active` row per (tenant_id, user_id, app_id, device_tag): a partial unique index. */
export interface AppRegistrationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  upn: string | null;
  app_id: string;
  app_version: string;
  sdk_version: string;
  os_version: string;
  device_name: string | null;
  device_model: string | null;
  device_manufacturer: string | null;
  device_tag: string;
  azure_ad_device_id: string | null;
  /** 0/1: the device id came from the token's `deviceid` claim (migration 010). */
  azure_ad_device_id_verified: Generated<number>;
  /** The Entra client id of the token that made the registration; null for registrations older than migration 010. */
  client_id: string | null;
  created_at: number;
  last_check_in_at: number;
  applied_policy_id: string | null;
  applied_policy_version: number | null;
  /** JSON string array. */
  reported_failures: string;
  compliance_state: AppComplianceState;
  /** JSON string array. */
  compliance_reasons: string;
  compliance_changed_at: number;
  state: AppRegistrationRecord['state'];
}

/** At most one `pending` row per (registration_id, kind): a partial unique index. */
export interface AppOperationsTable {
  id: string;
  tenant_id: string;
  registration_id: string;
  user_id: string;
  kind: AppOperationRecord['kind'];
  reason: AppOperationRecord['reason'];
  status: AppOperationStatus;
  detail: string | null;
  created_at: number;
  completed_at: number | null;
  expires_at: number;
}

export interface AppBlockedUsersTable {
  tenant_id: string;
  user_id: string;
  blocked_at: number;
}

/** The three flags are integers 0/1. */
export interface MtdConnectorsTable {
  tenant_id: string;
  id: string;
  partner_state: MtdConnectorRecord['partnerState'];
  last_heartbeat_at: number | null;
  windows_mobile_application_management_enabled: number;
  windows_device_blocked_on_missing_partner_data: number;
  partner_unsupported_os_version_blocked: number;
  partner_unresponsiveness_threshold_in_days: number;
  /** Migration 015: the Graph properties OpenMAM stores without acting on them, a JSON object in Graph's nesting. */
  graph_extras: string;
  /** Migration 007: the compare-and-set version of admin writes. */
  version: number;
  created_at: number;
  updated_at: number;
}

/** The latest report per (tenant_id, connector_id, user_id, app_id, azure_ad_device_id); the connector is a foreign key. */
export interface MtdThreatReportsTable {
  tenant_id: string;
  connector_id: string;
  user_id: string;
  app_id: string;
  azure_ad_device_id: string;
  health_state: ThreatLevel;
  reported_at: number;
  received_at: number;
}

/** The list columns are JSON string arrays; include_all_users is an integer 0/1. */
export interface AccessPoliciesTable {
  tenant_id: string;
  id: string;
  display_name: string;
  state: AccessPolicyRecord['state'];
  resources: string;
  include_groups: string;
  exclude_groups: string;
  include_all_users: number;
  approved_apps: string;
  grant_controls: string;
  /** Migration 015: the Graph properties OpenMAM stores without acting on them, a JSON object in Graph's nesting. */
  graph_extras: string;
  /** Migration 007: the compare-and-set version of admin writes. */
  version: number;
  created_at: number;
  updated_at: number;
}

export interface DeviceComplianceTable {
  tenant_id: string;
  azure_ad_device_id: string;
  /** Integer 0/1. */
  compliant: number;
  reported_at: number;
}

/**
 * Migration 009: a tenant's managed app catalogue entries (built-in ones are not stored). client_ids is a JSON string
 * array of lower-case GUIDs; (tenant_id, windows_app_id) is unique, client ids are kept unique by the writers.
 */
export interface ManagedAppsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  windows_app_id: string;
  client_ids: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Migration 009: protected resources. service_principal_names is a JSON string array; (tenant_id, app_id) is unique. */
export interface ServicePrincipalsTable {
  tenant_id: string;
  id: string;
  app_id: string;
  display_name: string;
  service_principal_names: string;
  /** Migration 015: the Graph properties OpenMAM stores without acting on them, a JSON object in Graph's nesting. */
  graph_extras: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Migration 011: the sign-in log. device_id_verified is an integer 0/1; reasons and applied_policies are JSON text. */
export interface SignInsTable {
  tenant_id: string;
  id: string;
  created_at: number;
  user_id: string | null;
  user_principal_name: string | null;
  app_id: string | null;
  app_display_name: string | null;
  windows_app_id: string | null;
  resource_id: string | null;
  resource_display_name: string | null;
  device_id: string | null;
  device_id_verified: number;
  registration_id: string | null;
  ip_address: string | null;
  correlation_id: string;
  decision: SignInRecord['decision'];
  reasons: string;
  conditional_access_status: SignInRecord['conditionalAccessStatus'];
  applied_policies: string;
}

/** Migration 017: per-tenant hourly activity counters (store/repositories/activity-store.ts). */
export interface ActivityHoursTable {
  tenant_id: string;
  hour_start: number;
  app_check_ins: number;
  oma_dm_sessions: number;
  access_allowed: number;
  access_denied: number;
  compliant_check_ins: number;
  noncompliant_check_ins: number;
}

/** Migration 023: assignment filters; role_scope_tags is a JSON array of strings. */
export interface AssignmentFiltersTable {
  tenant_id: string;
  id: string;
  display_name: string;
  description: string | null;
  platform: string;
  rule: string;
  management_type: 'devices' | 'apps';
  role_scope_tags: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Migration 020: retire, wipe and syncDevice asked of a device (store/repositories/device-actions-store.ts). */
export interface DeviceActionsTable {
  tenant_id: string;
  id: string;
  enrollment_id: string;
  action: DeviceActionKind;
  state: DeviceActionState;
  status_code: string | null;
  reason: DeviceActionReason;
  requested_at: number;
  updated_at: number;
}
/** Migration 022: the HealthAttestation CSP flow and its last verdict per enrollment (store/repositories/health-attestation-store.ts). */
export interface HealthAttestationsTable {
  enrollment_id: string;
  tenant_id: string;
  phase: ColumnType<string, string | undefined, string>;
  nonce: string | null;
  nonce_issued_at: number | null;
  device_status: string | null;
  correlation_id: string | null;
  certificate: string | null;
  state: ColumnType<string, string | undefined, string>;
  reason: string | null;
  report: string | null;
  validated_at: number | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: number | null;
  updated_at: number;
}

/** Migration 022: SHA-256 of every accepted DHA-Data, so that none is accepted twice (replay). */
export interface HealthAttestationCertificatesTable {
  certificate_hash: string;
  enrollment_id: string;
  nonce: string;
  accepted_at: number;
}

/** Migration 021: device compliance policies (store/repositories/compliance-store.ts); Graph properties and assignments as JSON. */
export interface CompliancePoliciesTable {
  tenant_id: string;
  id: string;
  kind: string;
  body: string;
  assignments: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Migration 021: a compliance policy's state on one enrollment; `settings` is a JSON array of ComplianceSettingResult. */
export interface ComplianceStatesTable {
  enrollment_id: string;
  policy_id: string;
  tenant_id: string;
  state: string;
  settings: string;
  policy_version: number;
  evaluated_at: number;
  /** Migration 025: since when the policy is nonCompliant here; when its retire action is due. */
  noncompliant_since: ColumnType<number | null, number | null | undefined, number | null>;
  retire_at: ColumnType<number | null, number | null | undefined, number | null>;
}

/** Migration 021: a tenant's re-evaluation after compliance policy changes, leased by one node at a time. */
export interface ComplianceRunsTable {
  tenant_id: string;
  requested: number;
  done: number;
  target: number;
  cursor: string | null;
  lease_owner: string | null;
  lease_until: number | null;
}

/** Migration 026: the audit trail, append-only; `actor` and `resources` are Graph's auditActor and auditResource[] as JSON. */
export interface AuditEventsTable {
  tenant_id: string;
  id: string;
  activity_date_time: number;
  display_name: string;
  activity: string;
  activity_type: string;
  activity_operation_type: string;
  activity_result: string;
  category: string;
  component_name: string;
  correlation_id: string;
  actor_upn: string | null;
  actor_user_id: string | null;
  actor_app_id: string | null;
  actor: string;
  resources: string;
}
