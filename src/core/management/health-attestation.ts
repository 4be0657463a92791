import { createHash, randomBytes } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import { expectPlainObject, readBoolean, refuse } from '../../policy/validate.ts';
import {
  DHA_CLOUD_URL,
  DHA_VALIDATE_PATH,
  DHA_VALIDATION_RESPONSE_NS,
  DhaFormatError,
  readDeviceHealthData,
  readValidationResponse,
  writeValidationRequest,
  type DhaReport,
} from '../../protocol/health-attestation/dha.ts';
import type { HealthAttestationChange, HealthAttestationRecord, HealthAttestationState, HealthAttestationStore } from '../../store/health-attestation-records.ts';
import type { EnrollmentRecord, TenantRecord } from '../../store/records.ts';
import type { EnrollmentStore } from '../../store/roles.ts';
import type { PlannedCommand } from './desired-state.ts';

/**
 * Health attestation of MAM devices through the HealthAttestation CSP against a Device Health Attestation (DHA)
 * service (learn.microsoft.com/windows/client-management/mdm/healthattestation-csp, "Windows 10 Device
 * HealthAttestation", DHA-CSP integration steps 1-8; [MS-DHA]).
 *
 * The flow, per enrollment, driven by the session engine (session.ts calls `HealthAttestationSessions.begin` once
 * per message, for tenants that enable it):
 * 1. When the device has no recent round (none yet, the last one older than 24 h, or a nonce that expired unused):
 *    `Replace HASEndpoint` (only for an on-premises service; the CSP's default is DHA-Cloud), `Replace Nonce` with a
 *    fresh random nonce the server keeps for this enrollment, `Exec VerifyHealth`, `Get Status`.
 * 2. The device fetches its health certificate from the DHA service and raises Alert 1226
 *    `com.microsoft.mdm:HealthAttestation.Result` (data 3), or a later `Get Status` answers 3: then
 *    `Replace Nonce` (the same nonce), `Get Certificate` and `Get CorrelationID`.
 * 3. The Certificate (DHA-Data) is stored with the message and validated OFF the answer's path
 *    (`HealthAttestationValidator`): POSTed with OUR nonce to the service's ValidateHealthCertificate/v3 (10 s bound),
 *    the answer read by the hardened reader, and kept only as the service validated it.
 *
 * Why a report is trusted: the DHA-Report (V3 schema) does not echo the nonce; the service checks the device's signed
 * claims against the nonce the MDM sends, and the MDM only ever sends the nonce it issued to this enrollment (never
 * one the device offers). A verdict is written only while the flow still holds that nonce. DHA-Data already accepted
 * once (SHA-256 of the whole Certificate value: its claims are bound to one nonce, while the encrypted certificate
 * itself is legitimately cached on the device for a boot cycle) is refused as a replay without asking the service.
 * A service that cannot be reached (network error, timeout, 5xx) leaves the state `unknown` — never compliant — and
 * the validation is tried again later with backoff.
 */

export const HEALTH_ATTESTATION = './Vendor/MSFT/HealthAttestation';
export const NODES = {
  verifyHealth: `${HEALTH_ATTESTATION}/VerifyHealth`,
  status: `${HEALTH_ATTESTATION}/Status`,
  certificate: `${HEALTH_ATTESTATION}/Certificate`,
  nonce: `${HEALTH_ATTESTATION}/Nonce`,
  correlationId: `${HEALTH_ATTESTATION}/CorrelationID`,
  hasEndpoint: `${HEALTH_ATTESTATION}/HASEndpoint`,
} as const;

/** Which command of the flow a sent command was (SentCommand.attestation): its answer comes back here. */
export type AttestationStep = 'endpoint' | 'nonce' | 'verify' | 'status' | 'certificate' | 'correlationId';

/** A report older than this is renewed at the device's next session. */
export const ATTESTATION_REFRESH_MS = 24 * 3600_000;
/** A nonce not answered with a certificate within this is given up, and a new round starts. */
export const NONCE_TTL_MS = 4 * 3600_000;
/** DHA-CSP status HEALTHATTESTATION_CERT_RETRIEVAL_COMPLETE: DHA-Data is ready for pickup. */
const STATUS_COMPLETE = '3';
/** 0 uninitialized, 1 requested: wait for the alert. */
const STATUS_WAITING = new Set(['0', '1']);

// ---- Tenant settings

/** The tenant setting `healthAttestation` (deviceManagement/openMamTenantSettings). */
export interface HealthAttestationSettings {
  /** Off by default: attesting costs every device a round trip to an outside service, an admin turns it on. */
  enabled: boolean;
  /** An on-premises DHA service (https://host[:port]); null: Microsoft's DHA-Cloud (https://has.spserv.microsoft.com). */
  serviceUrl: string | null;
}

export const DEFAULT_HEALTH_ATTESTATION_SETTINGS: HealthAttestationSettings = { enabled: false, serviceUrl: null };

/** The tenant's setting (absent in tenants stored before it existed: the default). */
export function healthAttestationSettingsOf(settings: { healthAttestation?: HealthAttestationSettings }): HealthAttestationSettings {
  return settings.healthAttestation ?? DEFAULT_HEALTH_ATTESTATION_SETTINGS;
}

/**
 * A PATCH of `healthAttestation` (partial: `enabled`, `serviceUrl`), refusals naming the field. The service URL must be
 * https with a host and no path, query, fragment or credentials: devices are given its host (HASEndpoint takes an
 * FQDN, optionally with the port) and the server appends the protocol's fixed path.
 */
export function readHealthAttestationPatch(value: unknown, path: string): Partial<HealthAttestationSettings> {
  const record = expectPlainObject(value, path);
  const out: Partial<HealthAttestationSettings> = {};
  for (const key of Object.keys(record)) {
    if (key !== 'enabled' && key !== 'serviceUrl') refuse(`${path}.${key}`, 'unknown property (healthAttestation has enabled and serviceUrl)');
  }
  if (record['enabled'] !== undefined) out.enabled = readBoolean(record['enabled'], `${path}.enabled`);
  if (record['serviceUrl'] !== undefined) out.serviceUrl = readServiceUrl(record['serviceUrl'], `${path}.serviceUrl`);
  return out;
}

function readServiceUrl(value: unknown, path: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > 2048) refuse(path, 'must be an https URL (https://host[:port]) or null for Microsoft\'s DHA-Cloud');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    refuse(path, `must be an https URL (https://host[:port]), not "${value.slice(0, 100)}"`);
  }
  if (url.protocol !== 'https:') refuse(path, 'must use https (the DHA protocol runs over TLS only)');
  if (url.username !== '' || url.password !== '') refuse(path, 'must not carry credentials');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    refuse(path, `must be https://host[:port] with no path, query or fragment (OpenMAM adds ${DHA_VALIDATE_PATH})`);
  }
  return `https://${url.host}`;
}

/** The service a tenant's devices and validations use. */
export function serviceUrlOf(settings: HealthAttestationSettings): string {
  return settings.serviceUrl ?? DHA_CLOUD_URL;
}

// ---- Facts for compliance, and Graph's deviceHealthAttestationState

/** What compliance (H2) judges: the verdict and, when valid, the attested boot properties. Pure data. */
export interface HealthAttestationFacts {
  state: HealthAttestationState;
  bitLockerEnabled?: boolean;
  secureBootEnabled?: boolean;
  codeIntegrityEnabled?: boolean;
  earlyLaunchAntiMalwareDriverEnabled?: boolean;
  bootDebuggingEnabled?: boolean;
  osKernelDebuggingEnabled?: boolean;
  testSigningEnabled?: boolean;
  /** When the verdict was reached (epoch ms). */
  validatedAt?: number;
  reason?: string;
}

function reportOf(record: HealthAttestationRecord): DhaReport | undefined {
  if (record.state !== 'valid' || record.report === null) return undefined;
  try {
    return JSON.parse(record.report) as DhaReport;
  } catch {
    return undefined;
  }
}

/** The facts of a stored record (undefined: never attested, `unknown`). Only a valid report yields properties. */
export function healthAttestationFacts(record: HealthAttestationRecord | undefined): HealthAttestationFacts {
  if (!record) return { state: 'unknown', reason: 'not attested yet' };
  const base: HealthAttestationFacts = { state: record.state };
  if (record.validatedAt !== null) base.validatedAt = record.validatedAt;
  if (record.reason !== null) base.reason = record.reason;
  const report = reportOf(record);
  if (!report) return record.state === 'valid' ? { state: 'unknown', reason: 'the stored report is unreadable' } : base;
  return {
    ...base,
    // BitlockerStatus 1: BitLocker was on at boot (CSP: "If BitLockerStatus = 1 (On)").
    bitLockerEnabled: report.bitLockerStatus === 1,
    secureBootEnabled: report.secureBootEnabled,
    codeIntegrityEnabled: report.codeIntegrityEnabled,
    earlyLaunchAntiMalwareDriverEnabled: report.elamDriverLoaded,
    bootDebuggingEnabled: report.bootDebuggingEnabled,
    osKernelDebuggingEnabled: report.osKernelDebuggingEnabled,
    testSigningEnabled: report.testSigningEnabled,
  };
}

/**
 * The facts of many enrollments at once (compliance evaluates devices in batches): one bounded read; an enrollment
 * never attested has no entry (its facts are `unknown`, healthAttestationFacts(undefined)).
 */
export function healthAttestationFactsOf(store: Pick<HealthAttestationStore, 'getHealthAttestationsOf'>): (enrollmentIds: readonly string[]) => Promise<Map<string, HealthAttestationFacts>> {
  return async (enrollmentIds) => {
    const records = await store.getHealthAttestationsOf(enrollmentIds);
    return new Map([...records].map(([id, record]) => [id, healthAttestationFacts(record)]));
  };
}

/**
 * Graph's `deviceHealthAttestationState` complex type of a managedDevice
 * (learn.microsoft.com/graph/api/resources/intune-devices-devicehealthattestationstate): every property a string but
 * the counts and issuedDateTime. On/off properties read `enabled` / `disabled`; `deviceHealthAttestationStatus`
 * carries OpenMAM's verdict (valid, invalid, unknown). Null when the device was never attested.
 */
export function deviceHealthAttestationState(record: HealthAttestationRecord | undefined): Record<string, string | number | null> | null {
  if (!record) return null;
  const onOff = (value: boolean | undefined): string | null => (value === undefined ? null : value ? 'enabled' : 'disabled');
  const report = reportOf(record);
  return {
    lastUpdateDateTime: new Date(record.validatedAt ?? record.updatedAt).toISOString(),
    contentNamespaceUrl: report ? DHA_VALIDATION_RESPONSE_NS : null,
    deviceHealthAttestationStatus: record.state,
    contentVersion: report ? '3' : null,
    issuedDateTime: report?.issued ?? null,
    attestationIdentityKey: report ? (report.aikPresent ? 'present' : 'notPresent') : null,
    resetCount: report?.resetCount ?? 0,
    restartCount: report?.restartCount ?? 0,
    dataExcutionPolicy: report ? (report.depPolicy === 1 ? 'enabled' : 'disabled') : null,
    bitLockerStatus: report ? onOff(report.bitLockerStatus === 1) : null,
    bootManagerVersion: report ? String(report.bootManagerRevListVersion) : null,
    codeIntegrityCheckVersion: report ? String(report.codeIntegrityRevListVersion) : null,
    secureBoot: onOff(report?.secureBootEnabled),
    bootDebugging: onOff(report?.bootDebuggingEnabled),
    operatingSystemKernelDebugging: onOff(report?.osKernelDebuggingEnabled),
    codeIntegrity: onOff(report?.codeIntegrityEnabled),
    testSigning: onOff(report?.testSigningEnabled),
    safeMode: onOff(report?.safeMode),
    windowsPE: onOff(report?.winPE),
    earlyLaunchAntiMalwareDriverProtection: onOff(report?.elamDriverLoaded),
    virtualSecureMode: onOff(report?.vsmEnabled),
    pcrHashAlgorithm: report ? String(report.pcrHashAlgorithmId) : null,
    bootAppSecurityVersion: report ? String(report.bootAppSvn) : null,
    bootManagerSecurityVersion: report ? String(report.bootManagerSvn) : null,
    tpmVersion: report ? String(report.tpmVersion) : null,
    pcr0: report?.pcr0 ?? null,
    secureBootConfigurationPolicyFingerPrint: report?.sbcpHash ?? null,
    codeIntegrityPolicy: report?.ciPolicy ?? null,
    bootRevisionListInfo: report?.bootRevListInfo ?? null,
    operatingSystemRevListInfo: report?.osRevListInfo ?? null,
    healthStatusMismatchInfo: report?.healthStatusMismatchFlags?.join(',') ?? null,
    healthAttestationSupportedStatus: record.state === 'unknown' && record.validatedAt === null ? 'unknown' : 'supported',
  };
}

// ---- The session engine's part

/**
 * The flow of one device within one management message: what it plans, what the device's answers change, and the
 * change to store with the message. Made by `HealthAttestationSessions.begin`; pure but for the nonce source.
 */
export class AttestationSession {
  #change: Omit<HealthAttestationChange, 'tenantId' | 'updatedAt'> = {};
  #phase: HealthAttestationRecord['phase'];
  #nonce: string | null;
  #nonceIssuedAt: number | null;
  #retrieved = false;

  constructor(
    private readonly enrollment: EnrollmentRecord,
    private readonly record: HealthAttestationRecord | undefined,
    private readonly settings: HealthAttestationSettings,
    private readonly now: number,
    private readonly newNonce: () => string = () => randomBytes(16).toString('hex').toUpperCase(),
  ) {
    this.#phase = record?.phase ?? 'idle';
    this.#nonce = record?.nonce ?? null;
    this.#nonceIssuedAt = record?.nonceIssuedAt ?? null;
  }

  /** A new round is due: none yet, the last one too old, or the nonce in flight expired unanswered. */
  get due(): boolean {
    const issued = this.#nonceIssuedAt;
    if (issued === null) return true;
    const age = this.now - issued;
    if (this.#phase === 'requested' || this.#phase === 'ready') return age >= NONCE_TTL_MS;
    return age >= ATTESTATION_REFRESH_MS;
  }

  /** Whether this session must plan (the device is not steady while the flow needs it). */
  get wantsPlanning(): boolean {
    return this.due || this.#phase === 'requested' || this.#phase === 'ready';
  }

  /** The Certificate came in this message: validate it once the message is stored. */
  get retrieved(): boolean {
    return this.#retrieved;
  }

  get enrollmentId(): string {
    return this.enrollment.id;
  }

  /** The change to store with the message; undefined when nothing changed. */
  change(): HealthAttestationChange | undefined {
    if (Object.keys(this.#change).length === 0) return undefined;
    return { ...this.#change, tenantId: this.enrollment.tenantId, updatedAt: this.now };
  }

  #set(change: Omit<HealthAttestationChange, 'tenantId' | 'updatedAt'>): void {
    Object.assign(this.#change, change);
    if (change.phase !== undefined) this.#phase = change.phase;
  }

  /** The device could not attest (a refused command, a failing status): the round ends, tried again in 24 h. */
  #giveUp(reason: string): void {
    this.#set({ phase: 'idle', state: this.record?.state === 'valid' ? 'valid' : 'unknown', reason });
  }

  /** Alert 1226 `com.microsoft.mdm:HealthAttestation.Result`; its data is the Status. */
  onAlert(value: string): void {
    this.#onStatus(value.trim());
  }

  #onStatus(status: string): void {
    if (this.#phase !== 'requested' && this.#phase !== 'ready') return; // a result we did not ask for
    this.#set({ deviceStatus: status });
    if (status === STATUS_COMPLETE) this.#set({ phase: 'ready' });
    else if (!STATUS_WAITING.has(status)) this.#giveUp(`the device could not get a health certificate (HealthAttestation status ${status.slice(0, 16)})`);
  }

  /** Commands at planning time. */
  plan(): PlannedCommand[] {
    if (this.due) {
      const nonce = this.newNonce();
      this.#nonce = nonce;
      this.#nonceIssuedAt = this.now;
      this.#set({ phase: 'requested', nonce, nonceIssuedAt: this.now, deviceStatus: null, correlationId: null, certificate: null, attempts: 0, nextAttemptAt: null });
      const commands: PlannedCommand[] = [];
      if (this.settings.serviceUrl !== null) {
        commands.push({ verb: 'Replace', item: { locUri: NODES.hasEndpoint, format: 'chr', value: new URL(this.settings.serviceUrl).host }, attestation: 'endpoint' });
      }
      commands.push(
        { verb: 'Replace', item: { locUri: NODES.nonce, format: 'chr', value: nonce }, attestation: 'nonce' },
        { verb: 'Exec', item: { locUri: NODES.verifyHealth, format: 'null', value: '' }, attestation: 'verify' },
        { verb: 'Get', item: { locUri: NODES.status, format: 'int', value: '' }, attestation: 'status' },
      );
      return commands;
    }
    if (this.#phase === 'ready') return this.#pickUp();
    if (this.#phase === 'requested') return [{ verb: 'Get', item: { locUri: NODES.status, format: 'int', value: '' }, attestation: 'status' }];
    return [];
  }

  /**
   * Step 5 of the CSP reference: the nonce again (the same one, kept for this enrollment: the device signs its claims
   * with the Nonce node's value when the Certificate is read), then Certificate and CorrelationID.
   */
  #pickUp(): PlannedCommand[] {
    if (this.#nonce === null) return [];
    return [
      { verb: 'Replace', item: { locUri: NODES.nonce, format: 'chr', value: this.#nonce }, attestation: 'nonce' },
      { verb: 'Get', item: { locUri: NODES.certificate, format: 'b64', value: '' }, attestation: 'certificate' },
      { verb: 'Get', item: { locUri: NODES.correlationId, format: 'int', value: '' }, attestation: 'correlationId' },
    ];
  }

  /** The device's Status for one of our commands; answers commands to queue in this session. */
  onStatus(step: AttestationStep, code: string): PlannedCommand[] {
    if (code.startsWith('2')) return [];
    switch (step) {
      case 'endpoint':
      case 'nonce':
      case 'verify':
        if (this.#phase === 'requested' || this.#phase === 'ready') this.#giveUp(`the device refused ${step === 'verify' ? 'VerifyHealth' : step === 'nonce' ? 'the Nonce' : 'HASEndpoint'} (status ${code.slice(0, 8)})`);
        return [];
      case 'certificate':
        if (this.#phase === 'ready') this.#giveUp(`the device did not return its health certificate (status ${code.slice(0, 8)})`);
        return [];
      case 'status':
      case 'correlationId':
        return [];
    }
  }

  /** The device's Results for one of our Gets; answers commands to queue in this session. */
  onResult(step: AttestationStep, value: string): PlannedCommand[] {
    switch (step) {
      case 'status': {
        const wasRequested = this.#phase === 'requested';
        this.#onStatus(value.trim());
        return wasRequested && this.#phase === 'ready' ? this.#pickUp() : [];
      }
      case 'certificate': {
        if (this.#phase !== 'ready' || this.#nonce === null) return [];
        const certificate = value.replace(/\s+/g, '');
        if (certificate === '') {
          this.#giveUp('the device returned an empty health certificate');
          return [];
        }
        this.#set({ phase: 'retrieved', certificate, attempts: 0, nextAttemptAt: this.now });
        this.#retrieved = true;
        return [];
      }
      case 'correlationId':
        this.#set({ correlationId: value.trim().slice(0, 64) });
        return [];
      default:
        return [];
    }
  }
}

/** What the session engine is given: one per node. */
export interface HealthAttestationSessionHook {
  /** The flow for this device in this message; undefined when its tenant does not attest (then nothing is read). */
  begin(enrollment: EnrollmentRecord, now: number): Promise<AttestationSession | undefined>;
  /** The message (with the session's change) is stored: a retrieved certificate goes to validation, behind. */
  stored(session: AttestationSession): void;
}

export interface HealthAttestationSessionsOptions {
  store: Pick<HealthAttestationStore, 'getHealthAttestation'>;
  tenants: { get(tenantId: string): Promise<TenantRecord | undefined> };
  validator: Pick<HealthAttestationValidator, 'enqueue'>;
  newNonce?: () => string;
}

export class HealthAttestationSessions implements HealthAttestationSessionHook {
  constructor(private readonly options: HealthAttestationSessionsOptions) {}

  async begin(enrollment: EnrollmentRecord, now: number): Promise<AttestationSession | undefined> {
    // The tenant comes from the directory's short cache: a tenant that does not attest costs no read.
    const tenant = await this.options.tenants.get(enrollment.tenantId);
    if (!tenant) return undefined;
    const settings = healthAttestationSettingsOf(tenant.settings);
    if (!settings.enabled) return undefined;
    const record = await this.options.store.getHealthAttestation(enrollment.id);
    return new AttestationSession(enrollment, record, settings, now, this.options.newNonce);
  }

  stored(session: AttestationSession): void {
    if (session.retrieved) this.options.validator.enqueue(session.enrollmentId);
  }
}

// ---- Validation against the DHA service, behind the answer's path

/** One POST to a DHA service. Injectable: tests give their own, and nothing reaches the internet by default. */
export interface DhaTransport {
  post(url: string, body: string, timeoutMs: number): Promise<{ status: number; body: string }>;
}

/** Told after a verdict is stored (compliance re-evaluates; the foundation's DeviceEventSink fits). */
export interface HealthAttestationListener {
  inventoryChanged(enrollment: EnrollmentRecord, at: number): void;
}

export interface HealthAttestationValidatorOptions {
  store: HealthAttestationStore;
  enrollments: Pick<EnrollmentStore, 'getEnrollment'>;
  tenants: { get(tenantId: string): Promise<TenantRecord | undefined> };
  transport: DhaTransport;
  clock: () => number;
  onError: (error: unknown) => void;
  listener?: HealthAttestationListener;
  timeoutMs?: number;
  /** How often certificates waiting on an unreachable service are tried again (default 60 s); 0: never by itself. */
  sweepIntervalMs?: number;
}

export const DHA_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3600_000;
const SWEEP_BATCH = 64;

type Judgement = { state: HealthAttestationState; reason: string | null; report: string | null; acceptedHash?: string };

/**
 * Validates stored certificates with the DHA service, off the management request's path (like write-behind): the
 * session stores the DHA-Data and calls `enqueue`; the POST, its answer and the verdict happen here. A certificate
 * whose service could not be reached stays stored (`unknown`) and is tried again by the sweep with backoff (1 min,
 * doubling, at most hourly), on whichever node runs it first: the verdict is a compare-and-set on the nonce.
 */
export class HealthAttestationValidator {
  /** Validations in flight, one per enrollment at most (enqueue skips a second), each removed when it settles (timeout). */
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly options: HealthAttestationValidatorOptions) {
    this.#timeoutMs = options.timeoutMs ?? DHA_TIMEOUT_MS;
    const every = options.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.retryDue().catch(options.onError), every);
      this.#timer.unref();
    }
  }

  /** Validates this enrollment's retrieved certificate soon; never throws, never makes the caller wait. */
  enqueue(enrollmentId: string): void {
    if (this.#closed || this.#inFlight.has(enrollmentId)) return;
    const run = this.validate(enrollmentId)
      .then(() => undefined, this.options.onError)
      .finally(() => this.#inFlight.delete(enrollmentId));
    this.#inFlight.set(enrollmentId, run);
  }

  /** Everything enqueued so far has been judged (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.values()]);
  }

  /** Certificates whose retry time has come (the sweep; tests call it directly). Answers how many were tried. */
  async retryDue(): Promise<number> {
    const due = await this.options.store.dueHealthAttestationValidations(this.options.clock(), SWEEP_BATCH);
    for (const record of due) this.enqueue(record.enrollmentId);
    await this.idle();
    return due.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.idle();
  }

  /** Judges the stored certificate, if the flow holds one, and stores the verdict. Answers the record as stored. */
  async validate(enrollmentId: string): Promise<HealthAttestationRecord | undefined> {
    const record = await this.options.store.getHealthAttestation(enrollmentId);
    if (!record || record.phase !== 'retrieved' || record.certificate === null || record.nonce === null) return record;
    const tenant = await this.options.tenants.get(record.tenantId);
    const serviceUrl = serviceUrlOf(tenant ? healthAttestationSettingsOf(tenant.settings) : DEFAULT_HEALTH_ATTESTATION_SETTINGS);
    const judgement = await this.judge(record.certificate, record.nonce, serviceUrl);
    const at = this.options.clock();
    const saved = await this.options.store.saveHealthAttestationVerdict({
      enrollmentId,
      nonce: record.nonce,
      at,
      state: judgement.state,
      reason: judgement.reason,
      report: judgement.report,
      nextAttemptAt: judgement.state === 'unknown' ? at + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(record.attempts, 10)) : null,
      ...(judgement.acceptedHash === undefined ? {} : { acceptedHash: judgement.acceptedHash }),
    });
    if (saved === 'replayed') {
      await this.options.store.saveHealthAttestationVerdict({ enrollmentId, nonce: record.nonce, at, state: 'invalid', reason: REPLAY_REASON, report: null, nextAttemptAt: null });
    }
    if (saved === 'stale') return this.options.store.getHealthAttestation(enrollmentId);
    // Still unknown, as before: nothing new for compliance.
    if (judgement.state === 'unknown' && record.state === 'unknown') return this.options.store.getHealthAttestation(enrollmentId);
    const enrollment = await this.options.enrollments.getEnrollment(enrollmentId);
    if (enrollment && this.options.listener) {
      try {
        this.options.listener.inventoryChanged(enrollment, at);
      } catch (error) {
        this.options.onError(error);
      }
    }
    return this.options.store.getHealthAttestation(enrollmentId);
  }

  /** The verdict on one DHA-Data for one nonce: the rules in order, each a refusal or a pass. */
  async judge(certificate: string, nonce: string, serviceUrl: string): Promise<Judgement> {
    const hash = createHash('sha256').update(certificate, 'utf8').digest('hex');
    if (await this.options.store.isCertificateAccepted(hash)) return { state: 'invalid', reason: REPLAY_REASON, report: null };
    let request: string;
    try {
      request = writeValidationRequest({ nonce, ...readDeviceHealthData(certificate) });
    } catch (error) {
      return { state: 'invalid', reason: `the device's health certificate is not DHA-Data: ${messageOf(error)}`, report: null };
    }
    let answer: { status: number; body: string };
    try {
      answer = await this.options.transport.post(`${serviceUrl}${DHA_VALIDATE_PATH}`, request, this.#timeoutMs);
    } catch (error) {
      if (error instanceof DhaFormatError) return { state: 'invalid', reason: `the health attestation service's answer is not a report: ${error.message}`, report: null };
      return { state: 'unknown', reason: `the health attestation service could not be reached: ${messageOf(error)}`, report: null };
    }
    if (answer.status >= 500 || answer.status === 408 || answer.status === 429) {
      return { state: 'unknown', reason: `the health attestation service is unavailable (HTTP ${answer.status})`, report: null };
    }
    if (answer.status !== 200) return { state: 'invalid', reason: `the health attestation service refused the certificate (HTTP ${answer.status})`, report: null };
    let response;
    try {
      response = readValidationResponse(answer.body);
    } catch (error) {
      return { state: 'invalid', reason: `the health attestation service's answer is not a report: ${messageOf(error)}`, report: null };
    }
    if (response.kind === 'refused') {
      return { state: 'invalid', reason: `the health attestation service found the certificate invalid (ErrorCode ${response.errorCode}${response.errorMessage ? `: ${response.errorMessage}` : ''})`, report: null };
    }
    if (response.report.healthStatusMismatchFlags && response.report.healthStatusMismatchFlags.length > 0) {
      return { state: 'invalid', reason: `the health attestation service found a health status mismatch (${response.report.healthStatusMismatchFlags.join(', ')})`, report: null };
    }
    return { state: 'valid', reason: null, report: JSON.stringify(response.report), acceptedHash: hash };
  }
}

export const REPLAY_REASON = 'replay: this health certificate was presented before (for another nonce)';

function messageOf(error: unknown): string {
  if (error instanceof DhaFormatError || error instanceof OpenMamError) return error.message;
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
