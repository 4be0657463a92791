import type { DeviceRecord, EnrollmentRecord, TenantRecord, TenantSettings } from './records.ts';

/**
 * Storage, as small role interfaces. Each consumer takes the narrowest one it needs. One implementation
 * (store/kysely-store.ts) serves both SQLite and PostgreSQL; test/store/conformance.ts is the contract every
 * backend must pass.
 */

export interface TenantStore {
  /** Undefined when the tenant was never onboarded. */
  getTenant(id: string): Promise<TenantRecord | undefined>;
  /** Ordered by creation time, oldest first. */
  listTenants(): Promise<TenantRecord[]>;
  /** Refuses (OpenMamError `conflict`) when the id exists. */
  createTenant(tenant: TenantRecord): Promise<void>;
  /** Replaces name, identityProvider, enrollmentAllowed and settings; `not_found` when absent. */
  updateTenant(id: string, change: { name?: string; enrollmentAllowed?: boolean; settings?: TenantSettings; updatedAt: number }): Promise<TenantRecord>;
}

/** What an enrollment request brings; the store assigns nothing but what `EnrollmentStore.enroll` says. */
export type EnrollmentInput = Omit<EnrollmentRecord, 'state' | 'enrollCount' | 'createdAt' | 'enrolledAt' | 'updatedAt' | 'unenrolledAt'>;

export type EnrollOutcome =
  | { kind: 'enrolled'; enrollment: EnrollmentRecord; replaced: boolean }
  /** The device already has an active MAM enrollment of another user (or in another tenant). Nothing was written. */
  | { kind: 'device_taken'; existing: EnrollmentRecord };

export interface EnrollmentStore {
  /**
   * Records an enrollment atomically, keeping the rule "one active MAM work account per device":
   * - no active enrollment on `input.devId`: inserts one (state enrolled, enrollCount 1, createdAt = enrolledAt = now);
   * - an active one of the same tenant and user: replaces it in place, keeping its `id` and `createdAt`,
   *   taking every other field from `input`, enrolledAt = now, enrollCount + 1;
   * - an active one of another user or tenant: writes nothing and answers `device_taken`.
   * The device record (DeviceStore) is upserted in the same transaction. Concurrent calls for one devId never
   * leave two active enrollments.
   */
  enroll(input: EnrollmentInput, now: number): Promise<EnrollOutcome>;
  getEnrollment(id: string): Promise<EnrollmentRecord | undefined>;
  /** The active (state enrolled) enrollment of a device, if any. */
  getActiveEnrollmentByDevId(devId: string): Promise<EnrollmentRecord | undefined>;
  /** A tenant's enrollments, newest enrolledAt first, at most `limit`. */
  listEnrollments(tenantId: string, options: { limit: number; state?: EnrollmentRecord['state'] }): Promise<EnrollmentRecord[]>;
  /** Marks an active enrollment unenrolled; false when there was none active with that id. */
  markUnenrolled(id: string, now: number): Promise<boolean>;
}

export interface DeviceStore {
  getDevice(devId: string): Promise<DeviceRecord | undefined>;
}

/** The whole store as the composition root sees it. */
export interface Store extends TenantStore, EnrollmentStore, DeviceStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Applies pending numbered migrations; idempotent. */
  migrate(): Promise<void>;
  /** Cheap liveness probe for /healthz. */
  ping(): Promise<void>;
  /** Waits for running queries, then releases the database. */
  close(): Promise<void>;
}

/**
 * Server-wide secrets shared by every node of one installation (for example the key that signs Terms of Use
 * acceptances), kept in the database so stateless nodes agree on them.
 */
export interface SecretStore {
  /** The secret named `name`; the first caller stores `candidate`, every later caller gets what was stored. */
  getOrCreateSecret(name: string, candidate: Uint8Array): Promise<Uint8Array>;
}
