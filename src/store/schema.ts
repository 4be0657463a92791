import type { EnrollmentState, IdentityProviderKind } from './records.ts';

/**
 * The tables as Kysely sees them (see migrations/001_initial.ts). Columns are snake_case; times are bigint epoch
 * milliseconds (read back as JS numbers on both backends); booleans are integers 0/1; tenant settings are JSON text.
 */
export interface Database {
  tenants: TenantsTable;
  enrollments: EnrollmentsTable;
  devices: DevicesTable;
  secrets: SecretsTable;
}

export interface TenantsTable {
  id: string;
  name: string;
  identity_provider: IdentityProviderKind;
  enrollment_allowed: number;
  settings: string;
  created_at: number;
  updated_at: number;
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
