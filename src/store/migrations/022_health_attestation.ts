import type { Kysely, Migration } from 'kysely';

/**
 * Health attestation (issue 15; store/repositories/health-attestation-store.ts, core/management/health-attestation.ts): one row per
 * enrollment with where the HealthAttestation CSP flow stands (the nonce issued to it, the device's status and
 * correlation id, DHA-Data waiting for the Device Health Attestation service) and the last verdict with the report
 * the service validated. Written in the management message's transaction (a small upsert by primary key) and by the
 * background validation (a compare-and-set on the nonce). `health_attestations_due` finds certificates whose
 * validation is to be tried again (service unreachable) without a scan: only rows in phase `retrieved` carry a
 * `next_attempt_at`.
 * `health_attestation_certificates` remembers the SHA-256 of every accepted DHA-Data (primary key): a certificate
 * presented again, for another nonce or another enrollment, is a replay and is refused. Rows go with their enrollment
 * only logically (no foreign key: a purge of enrollments must not have to find them first); they are small.
 * Portable like 006: times are bigint epoch ms.
 */
export const healthAttestation: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('health_attestations')
      .addColumn('enrollment_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('phase', 'text', (c) => c.notNull().defaultTo('idle'))
      .addColumn('nonce', 'text')
      .addColumn('nonce_issued_at', 'bigint')
      .addColumn('device_status', 'text')
      .addColumn('correlation_id', 'text')
      .addColumn('certificate', 'text')
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('unknown'))
      .addColumn('reason', 'text')
      .addColumn('report', 'text')
      .addColumn('validated_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('health_attestations_due').on('health_attestations').columns(['next_attempt_at']).execute();
    await db.schema
      .createTable('health_attestation_certificates')
      .addColumn('certificate_hash', 'text', (c) => c.primaryKey())
      .addColumn('enrollment_id', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('accepted_at', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('health_attestation_certificates').execute();
    await db.schema.dropTable('health_attestations').execute();
  },
};
