import type { Migration } from 'kysely';
import { initial } from './001_initial.ts';
import { secrets } from './002_secrets.ts';
import { management } from './003_management.ts';
import { groupsPolicies } from './004_groups_policies.ts';
import { wipLogs } from './005_wip_logs.ts';
import { appProtection } from './006_app_protection.ts';
import { adminVersions } from './007_admin_versions.ts';
import { tenantVersions } from './008_tenant_versions.ts';
import { catalogueAndResources } from './009_catalogue_and_resources.ts';
import { registrationIdentity } from './010_registration_identity.ts';
import { signInLog } from './011_sign_in_log.ts';
import { users } from './012_users.ts';
import { collectionOrder } from './013_collection_order.ts';
import { groupMailNickname } from './014_group_mail_nickname.ts';
import { graphExtras } from './015_graph_extras.ts';
import { managedAppPolicies } from './016_managed_app_policies.ts';
import { activityHours } from './017_activity_hours.ts';
import { consoleSummaryIndexes } from './018_console_summary_indexes.ts';
import { deviceLife } from './019_device_life.ts';
import { deviceActions } from './020_device_actions.ts';
import { deviceCompliance } from './021_device_compliance.ts';
import { healthAttestation } from './022_health_attestation.ts';
import { assignmentFilters } from './023_assignment_filters.ts';
import { devicePicture } from './024_device_picture.ts';
import { complianceActions } from './025_compliance_actions.ts';
import { auditEvents } from './026_audit_events.ts';
import { boundedStores } from './027_bounded_stores.ts';
import { userStateIndexes } from './028_user_state_indexes.ts';
import type { SchemaDialect } from './schema-dialect.ts';

export type { SchemaDialect } from './schema-dialect.ts';

/**
 * Every migration, by name, for one database (the few types that differ come from `dialect`); Kysely's Migrator
 * applies them in name order. Never rename or edit a shipped one.
 */
export function migrations(dialect: SchemaDialect): Readonly<Record<string, Migration>> {
  return {
    '001_initial': initial,
    '002_secrets': secrets,
    '003_management': management(dialect),
    '004_groups_policies': groupsPolicies,
    '005_wip_logs': wipLogs,
    '006_app_protection': appProtection,
    '007_admin_versions': adminVersions,
    '008_tenant_versions': tenantVersions,
    '009_catalogue_and_resources': catalogueAndResources,
    '010_registration_identity': registrationIdentity,
    '011_sign_in_log': signInLog,
    '012_users': users,
    '013_collection_order': collectionOrder,
    '014_group_mail_nickname': groupMailNickname,
    '015_graph_extras': graphExtras,
    '016_managed_app_policies': managedAppPolicies,
    '017_activity_hours': activityHours,
    '018_console_summary_indexes': consoleSummaryIndexes,
    '019_device_life': deviceLife,
    '020_device_actions': deviceActions,
    '021_device_compliance': deviceCompliance,
    '022_health_attestation': healthAttestation,
    '023_assignment_filters': assignmentFilters,
    '024_device_picture': devicePicture,
    '025_compliance_actions': complianceActions,
    '026_audit_events': auditEvents,
    '027_bounded_stores': boundedStores,
    '028_user_state_indexes': userStateIndexes,
  };
}
