import type { Insertable, Selectable, Transaction, Updateable } from 'kysely';
import type { StoreContext } from '../store-context.ts';
import type {
  HealthAttestationChange,
  HealthAttestationPhase,
  HealthAttestationRecord,
  HealthAttestationState,
  HealthAttestationStore,
  HealthAttestationVerdict,
} from '../health-attestation-records.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { Database, HealthAttestationsTable } from '../schema.ts';

type Row = Selectable<HealthAttestationsTable>;
/** Ids per `IN (...)` read: far below either database's parameter limit. */
const MAX_READ_BATCH = 1024;
/** KyselyStore's write path and lifecycle, and its database for plain reads (a few per device a day). */
type HealthAttestationStoreContext = Pick<StoreContext, 'db' | 'write' | 'track' | 'isUniqueViolation'>;

/**
 * Health attestation storage (HealthAttestationStore), over KyselyStore's database, write path and lifecycle, which
 * exposes it as `healthAttestation`. What a management message changes is written inside that message's transaction
 * by `writeHealthAttestationChange` (called from applySyncOutcome); verdicts of the background validation are a
 * compare-and-set on the nonce, with the accepted certificate's hash inserted in the same transaction (its primary
 * key refuses a second acceptance of the same DHA-Data).
 */
export class KyselyHealthAttestationStore implements HealthAttestationStore {
  readonly #context: HealthAttestationStoreContext;

  constructor(context: HealthAttestationStoreContext) {
    this.#context = context;
  }

  getHealthAttestation(enrollmentId: string): Promise<HealthAttestationRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('health_attestations').selectAll().where('enrollment_id', '=', enrollmentId).executeTakeFirst();
      return row === undefined ? undefined : fromRow(row);
    });
  }

  getHealthAttestationsOf(enrollmentIds: readonly string[]): Promise<Map<string, HealthAttestationRecord>> {
    return this.#context.track(async () => {
      const found = new Map<string, HealthAttestationRecord>();
      for (const batch of batches([...new Set(enrollmentIds)].sort(compareKeys), MAX_READ_BATCH)) {
        const rows = await this.#context.db.selectFrom('health_attestations').selectAll().where('enrollment_id', 'in', batch).execute();
        for (const row of rows) found.set(row.enrollment_id, fromRow(row));
      }
      return found;
    });
  }

  isCertificateAccepted(hash: string): Promise<boolean> {
    return this.#context.track(async () => {
      const row = await this.#context.db.selectFrom('health_attestation_certificates').select('certificate_hash').where('certificate_hash', '=', hash).executeTakeFirst();
      return row !== undefined;
    });
  }

  saveHealthAttestationVerdict(verdict: HealthAttestationVerdict): Promise<'saved' | 'stale' | 'replayed'> {
    return this.#context.track(async () => {
      try {
        return await this.#context.write(async (trx) => {
          const keepCertificate = verdict.state === 'unknown';
          const set: Updateable<HealthAttestationsTable> = {
            state: verdict.state,
            reason: verdict.reason,
            updated_at: verdict.at,
            next_attempt_at: keepCertificate ? verdict.nextAttemptAt : null,
          };
          if (!keepCertificate) {
            set.phase = 'idle';
            set.certificate = null;
            set.validated_at = verdict.at;
            // A refusal keeps no report: only what the service validated is ever shown as the device's health.
            set.report = verdict.state === 'valid' ? verdict.report : null;
          }
          const updated = await trx
            .updateTable('health_attestations')
            .set((eb) => (keepCertificate ? { ...set, attempts: eb('attempts', '+', 1) } : set))
            .where('enrollment_id', '=', verdict.enrollmentId)
            .where('nonce', '=', verdict.nonce)
            .where('phase', '=', 'retrieved')
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 0) return 'stale';
          if (verdict.acceptedHash !== undefined) {
            await trx
              .insertInto('health_attestation_certificates')
              .values({ certificate_hash: verdict.acceptedHash, enrollment_id: verdict.enrollmentId, nonce: verdict.nonce, accepted_at: verdict.at })
              .execute();
          }
          return 'saved';
        });
      } catch (error) {
        // The hash was accepted meanwhile (another node, another enrollment): the whole verdict is undone.
        if (verdict.acceptedHash !== undefined && this.#context.isUniqueViolation(error)) return 'replayed';
        throw error;
      }
    });
  }

  dueHealthAttestationValidations(now: number, limit: number): Promise<HealthAttestationRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#context
        .db
        .selectFrom('health_attestations')
        .selectAll()
        .where('next_attempt_at', 'is not', null)
        .where('next_attempt_at', '<=', now)
        .where('phase', '=', 'retrieved')
        .orderBy('next_attempt_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    });
  }
}

/** Inside applySyncOutcome's transaction: the fields a message changed, upserted by primary key. */
export async function writeHealthAttestationChange(trx: Transaction<Database>, enrollmentId: string, change: HealthAttestationChange): Promise<void> {
  const columns: Updateable<HealthAttestationsTable> = { tenant_id: change.tenantId, updated_at: change.updatedAt };
  if (change.phase !== undefined) columns.phase = change.phase;
  if (change.nonce !== undefined) columns.nonce = change.nonce;
  if (change.nonceIssuedAt !== undefined) columns.nonce_issued_at = change.nonceIssuedAt;
  if (change.deviceStatus !== undefined) columns.device_status = change.deviceStatus;
  if (change.correlationId !== undefined) columns.correlation_id = change.correlationId;
  if (change.certificate !== undefined) columns.certificate = change.certificate;
  if (change.state !== undefined) columns.state = change.state;
  if (change.reason !== undefined) columns.reason = change.reason;
  if (change.attempts !== undefined) columns.attempts = change.attempts;
  if (change.nextAttemptAt !== undefined) columns.next_attempt_at = change.nextAttemptAt;
  const insert: Insertable<HealthAttestationsTable> = { enrollment_id: enrollmentId, tenant_id: change.tenantId, updated_at: change.updatedAt, ...columns } as Insertable<HealthAttestationsTable>;
  await trx
    .insertInto('health_attestations')
    .values(insert)
    .onConflict((oc) => oc.column('enrollment_id').doUpdateSet(columns))
    .execute();
}

function fromRow(row: Row): HealthAttestationRecord {
  return {
    enrollmentId: row.enrollment_id,
    tenantId: row.tenant_id,
    phase: row.phase as HealthAttestationPhase,
    nonce: row.nonce,
    nonceIssuedAt: row.nonce_issued_at === null ? null : Number(row.nonce_issued_at),
    deviceStatus: row.device_status,
    correlationId: row.correlation_id,
    certificate: row.certificate,
    state: row.state as HealthAttestationState,
    reason: row.reason,
    report: row.report,
    validatedAt: row.validated_at === null ? null : Number(row.validated_at),
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    updatedAt: Number(row.updated_at),
  };
}
