/**
 * Health attestation per enrollment (migration 022; store/repositories/health-attestation-store.ts, reached as
 * `store.healthAttestation`): where the HealthAttestation CSP flow stands, and the last report as the Device Health
 * Attestation service validated it. Plain records and the role; core/management/health-attestation.ts holds the rules.
 */

/**
 * Where the flow stands for one enrollment:
 * `requested`: a nonce was issued and VerifyHealth sent; `ready`: the device said its DHA-Data is ready (alert or
 * Status 3); `retrieved`: the Certificate (DHA-Data) was received and waits to be validated by the DHA service;
 * `idle`: nothing in flight (the last verdict stands until the next round).
 */
export type HealthAttestationPhase = 'idle' | 'requested' | 'ready' | 'retrieved';

/**
 * The verdict: `valid` only when the DHA service validated the device's certificate against the nonce we issued;
 * `invalid` when it refused it, or its answer was not a report, or the certificate was replayed; `unknown` before any
 * verdict or while the service cannot be reached (never taken as compliant).
 */
export type HealthAttestationState = 'valid' | 'invalid' | 'unknown';

export interface HealthAttestationRecord {
  enrollmentId: string;
  tenantId: string;
  phase: HealthAttestationPhase;
  /** The nonce issued to this enrollment (hex), and when. */
  nonce: string | null;
  nonceIssuedAt: number | null;
  /** The device's last HealthAttestation Status (or Result alert) value. */
  deviceStatus: string | null;
  correlationId: string | null;
  /** DHA-Data waiting for validation (phase retrieved); cleared with the verdict. */
  certificate: string | null;
  state: HealthAttestationState;
  reason: string | null;
  /** The validated report (protocol DhaReport) as JSON; kept with `valid` and with a refused-but-readable answer never. */
  report: string | null;
  /** When the last verdict (valid or invalid) was reached. */
  validatedAt: number | null;
  /** Validation attempts of the certificate in hand (unreachable service), and when the next may run. */
  attempts: number;
  nextAttemptAt: number | null;
  updatedAt: number;
}

/**
 * What one management message changes of the flow (written in the message's transaction, SyncOutcome
 * `healthAttestation`): the fields given replace the stored ones; the row is created when missing.
 */
export type HealthAttestationChange = Partial<Pick<HealthAttestationRecord, 'phase' | 'nonce' | 'nonceIssuedAt' | 'deviceStatus' | 'correlationId' | 'certificate' | 'state' | 'reason' | 'attempts' | 'nextAttemptAt'>> & {
  tenantId: string;
  updatedAt: number;
};

/** A validation's outcome, written only if the flow still holds the certificate it judged (same nonce, phase retrieved). */
export interface HealthAttestationVerdict {
  enrollmentId: string;
  /** The nonce the judged certificate was validated against. */
  nonce: string;
  at: number;
  state: HealthAttestationState;
  reason: string | null;
  report: string | null;
  /** `unknown`: the certificate is kept and validation tried again at this time. */
  nextAttemptAt: number | null;
  /** SHA-256 (hex) of the accepted DHA-Data, remembered so that it is never accepted again (replay). */
  acceptedHash?: string;
}

export interface HealthAttestationStore {
  getHealthAttestation(enrollmentId: string): Promise<HealthAttestationRecord | undefined>;
  /** The records of many enrollments at once (a page of managed devices): a bounded number of reads, absent ones left out. */
  getHealthAttestationsOf(enrollmentIds: readonly string[]): Promise<Map<string, HealthAttestationRecord>>;
  /** Whether this DHA-Data (SHA-256 hex) was accepted before, for any enrollment. */
  isCertificateAccepted(hash: string): Promise<boolean>;
  /**
   * Writes a verdict as a compare-and-set on (nonce, phase retrieved): answers false and writes nothing when the flow
   * moved on meanwhile (a new nonce), or when `acceptedHash` was accepted already (a replay raced this one).
   */
  saveHealthAttestationVerdict(verdict: HealthAttestationVerdict): Promise<'saved' | 'stale' | 'replayed'>;
  /** Enrollments whose certificate waits for a retried validation at or before `now` (oldest first). */
  dueHealthAttestationValidations(now: number, limit: number): Promise<HealthAttestationRecord[]>;
}
