import { compilePollSchedule } from '../csp/compile/dmclient-poll.ts';
import { OpenMamError } from '../errors.ts';
import { MIN_LONG_TERM_POLL_MINUTES, type TenantDirectory } from '../identity/tenants.ts';
import { arrayReader, enumReader, integerReader, readBoolean, readGuid, readObject, refuse, stringReader, type PropertySpecs } from '../policy/validate.ts';
import type { ConfigurationSetRecord, PollSchedule, TenantRecord, TenantSettings } from '../store/records.ts';
import type { ConfigurationService } from './management/configuration.ts';
import { MAM_USER_SCOPES, type MamUserScopeKind } from './mam-user-scope.ts';
import { healthAttestationSettingsOf, readHealthAttestationPatch, type HealthAttestationSettings } from './management/health-attestation.ts';
import { ANY_VERSION, writeVersioned, type ExpectedVersion } from './versioned-write.ts';
import { DEFAULT_CHECKIN_THRESHOLD_DAYS } from './compliance/evaluate.ts';
import type { TenantComplianceRules } from './compliance/compliance-service.ts';
import type { AuditActivity, AuditContext, AuditTrail } from './audit/audit-trail.ts';

/** The configuration set that carries a tenant's changed poll schedule to its enrolled devices. */
export const POLL_SCHEDULE_SET_ID = 'openmam-tenant-poll-schedule';

/**
 * What an admin may change of their tenant (admin API `deviceManagement/openMamTenantSettings`, CLI `tenant set`):
 * its display name, whether it accepts enrollments, the Terms of Use, the devices' poll schedule, and the MAM user
 * scope (who may use MAM: `none`, `all`, or the members of `mamUserScopeGroupIds` with `selected`), and after how many
 * days without a check-in a device is retired (`staleDeviceRetireAfterDays`, null: never), and device compliance's
 * `secureByDefault` and `deviceComplianceCheckinThresholdDays` (Graph deviceManagementSettings). Every field is
 * optional (a PATCH); `pollSchedule` may itself be partial and is laid over the stored one.
 */
export interface TenantSettingsPatch {
  displayName?: string;
  enrollmentAllowed?: boolean;
  requireTermsOfUse?: boolean;
  termsOfUseText?: string;
  pollSchedule?: Partial<PollSchedule>;
  mamUserScope?: MamUserScopeKind;
  mamUserScopeGroupIds?: string[];
  staleDeviceRetireAfterDays?: number | null;
  healthAttestation?: Partial<HealthAttestationSettings>;
  secureByDefault?: boolean | null;
  deviceComplianceCheckinThresholdDays?: number;
  auditEventRetentionDays?: number;
}

/** Properties the resource shows but a client may not set: dropped from a PATCH body, so a GET body can be sent back. */
const READ_ONLY = ['id', 'identityProvider', 'createdDateTime', 'lastModifiedDateTime', '@odata.context', '@odata.type', '@odata.etag'] as const;

/** DMClient takes counts and intervals (minutes) as integers; this bound keeps them sane. */
const POLL_NUMBER = integerReader(0, 1_000_000);
const TERMS_OF_USE_MAX_LENGTH = 20_000;
const MIN_STALE_DAYS = 30;
const MIN_AUDIT_RETENTION_DAYS = 30;
const MAX_AUDIT_RETENTION_DAYS = 3650;
const MAX_STALE_DAYS = 270;

const POLL_SCHEDULE_SPECS: PropertySpecs<Partial<PollSchedule>> = {
  numberOfFirstRetries: { read: POLL_NUMBER },
  intervalForFirstSetOfRetries: { read: POLL_NUMBER },
  numberOfSecondRetries: { read: POLL_NUMBER },
  intervalForSecondSetOfRetries: { read: POLL_NUMBER },
  numberOfRemainingScheduledRetries: { read: POLL_NUMBER },
  intervalForRemainingScheduledRetries: { read: POLL_NUMBER },
  pollOnLogin: { read: readBoolean },
  allUsersPollOnFirstLogin: { read: readBoolean },
};

const PATCH_SPECS: PropertySpecs<TenantSettingsPatch> = {
  displayName: { read: stringReader({ nonEmpty: true, singleLine: true, maxLength: 256 }) },
  enrollmentAllowed: { read: readBoolean },
  requireTermsOfUse: { read: readBoolean },
  termsOfUseText: { read: stringReader({ nonEmpty: true, maxLength: TERMS_OF_USE_MAX_LENGTH }) },
  pollSchedule: { read: (value, path) => readObject<Partial<PollSchedule>>(value, path, 'pollSchedule', POLL_SCHEDULE_SPECS, false) },
  mamUserScope: { read: enumReader(MAM_USER_SCOPES) },
  mamUserScopeGroupIds: { read: arrayReader(readGuid, { maxItems: 500 }) },
  // Intune's device cleanup rules take 30 to 270 days (learn.microsoft.com/mem/intune/fundamentals/device-cleanup-rules);
  // null switches the stale-device retire off (core/management/device-actions.ts sweepStale).
  staleDeviceRetireAfterDays: { read: integerReader(MIN_STALE_DAYS, MAX_STALE_DAYS), nullable: true },
  healthAttestation: { read: (value, path) => readHealthAttestationPatch(value, path) },
  // Graph deviceManagementSettings (learn.microsoft.com/graph/api/resources/intune-deviceconfig-devicemanagementsettings):
  // secureByDefault true marks devices with no compliance policy noncompliant, false compliant; null: OpenMAM's unknown.
  secureByDefault: { read: readBoolean, nullable: true },
  // Intune's "Compliance status validity period (days)": 1 to 120 (learn.microsoft.com/mem/intune/protect/device-compliance-get-started).
  deviceComplianceCheckinThresholdDays: { read: integerReader(1, 120) },
  // OpenMAM's own (Graph has no such setting): how long audit events are kept, a month to ten years (core/audit/retention.ts).
  auditEventRetentionDays: { read: integerReader(MIN_AUDIT_RETENTION_DAYS, MAX_AUDIT_RETENTION_DAYS) },
};

/** The device compliance rules of a tenant's settings (core/compliance/compliance-service.ts); no tenant: the defaults. */
export function complianceRulesOf(settings: TenantSettings | undefined): TenantComplianceRules {
  const secure = settings?.secureByDefault;
  return {
    withoutPolicy: secure === true ? 'noncompliant' : secure === false ? 'compliant' : 'unknown',
    checkinThresholdDays: settings?.deviceComplianceCheckinThresholdDays ?? DEFAULT_CHECKIN_THRESHOLD_DAYS,
  };
}

function sameComplianceRules(a: TenantSettings, b: TenantSettings): boolean {
  const x = complianceRulesOf(a);
  const y = complianceRulesOf(b);
  return x.withoutPolicy === y.withoutPolicy && x.checkinThresholdDays === y.checkinThresholdDays;
}

/**
 * A PATCH body, checked: unknown properties, wrong types and out-of-range values are refused with the JSON path of
 * the field (`pollSchedule.intervalForFirstSetOfRetries: must be an integer, ...`); read-only properties are dropped.
 */
export function readTenantSettingsPatch(input: unknown): TenantSettingsPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) refuse('', 'the body must be a JSON object');
  const readOnly: ReadonlySet<string> = new Set(READ_ONLY);
  const writable = Object.fromEntries(Object.entries(input as Record<string, unknown>).filter(([name]) => !readOnly.has(name)));
  return readObject<TenantSettingsPatch>(writable, '', 'openMamTenantSettings', PATCH_SPECS, false);
}

/**
 * The whole schedule after a change, against the DMClient CSP's rules and Microsoft's guidance; refusals name the
 * field under `pollSchedule`.
 */
export function checkPollSchedule(poll: PollSchedule): PollSchedule {
  const intervals = ['intervalForFirstSetOfRetries', 'intervalForSecondSetOfRetries', 'intervalForRemainingScheduledRetries'] as const;
  if (intervals.every((name) => poll[name] === 0)) refuse('pollSchedule', 'the poll intervals must not all be 0');
  if (poll.intervalForRemainingScheduledRetries < MIN_LONG_TERM_POLL_MINUTES) {
    refuse(
      'pollSchedule.intervalForRemainingScheduledRetries',
      `must be at least ${MIN_LONG_TERM_POLL_MINUTES} minutes (Microsoft's guidance for MAM long-term polling), not ${poll.intervalForRemainingScheduledRetries}`,
    );
  }
  return poll;
}

function samePollSchedule(a: PollSchedule, b: PollSchedule): boolean {
  return (Object.keys(POLL_SCHEDULE_SPECS) as (keyof PollSchedule)[]).every((name) => a[name] === b[name]);
}

/**
 * Tenant settings, and those that reach devices. The poll schedule is in every new device's provisioning document;
 * when an admin changes it, enrolled devices get the DMClient Poll nodes through a tenant-wide configuration set
 * (O(1), picked up at each device's next check-in).
 */
export class TenantSettingsService {
  constructor(
    private readonly tenants: Pick<TenantDirectory, 'get' | 'read' | 'write'>,
    private readonly configuration: Pick<ConfigurationService, 'record'>,
    private readonly providerId: string,
    /** Every change is recorded in its own transaction (core/audit). */
    private readonly audit: AuditTrail,
    private readonly clock: () => number = Date.now,
    /**
     * Told after a write that changed secureByDefault or the check-in validity period: the write owed the tenant a
     * compliance run in its transaction (TenantStore.updateTenant `complianceRun`); this starts it on this node now
     * (other nodes' polls would find it within seconds).
     */
    private readonly complianceChanged?: (tenantId: string) => void,
  ) {}

  /** The tenant with its settings (read through the directory's short cache). */
  async get(tenantId: string): Promise<TenantRecord> {
    const tenant = await this.tenants.get(tenantId);
    if (!tenant) throw new OpenMamError('not_found', `tenant ${tenantId} is not onboarded`);
    return tenant;
  }

  /**
   * Applies an admin's PATCH (see readTenantSettingsPatch; the CLI's `tenant set` sends one too), validated whole
   * before anything is written, as a compare-and-set on the tenant's version (core/versioned-write.ts): a PATCH that
   * loses a race is applied again on top of the winner, one conditioned by If-Match is refused when stale. A changed
   * poll schedule goes to devices in the same transaction; an unchanged one re-plans nothing.
   */
  async update(caller: AuditContext, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<TenantRecord> {
    const { tenantId } = caller;
    const patch = readTenantSettingsPatch(input);
    let pollScheduleSet: ConfigurationSetRecord | undefined;
    let complianceChanged = false;
    let current: TenantRecord | undefined;
    const written = await writeVersioned({
      what: `the settings of tenant ${tenantId}`,
      expected,
      read: async () => (current = await this.tenants.read(tenantId)),
      change: (current) => {
        const next = patched(current, patch, this.clock());
        const changed = !samePollSchedule(next.settings.pollSchedule, current.settings.pollSchedule);
        pollScheduleSet = changed ? this.pollScheduleSet(next) : undefined;
        complianceChanged = !sameComplianceRules(next.settings, current.settings);
        return next;
      },
      write: (next) =>
        this.audit.attach(
          caller,
          { activity: { ...TENANT_SETTINGS_AUDIT, verb: 'Patch' }, resourceId: tenantId, resourceDisplayName: next.name, before: auditedSettings(current!), after: auditedSettings(next) },
          () => this.tenants.write(next, pollScheduleSet, { complianceRun: complianceChanged }),
        ),
    });
    if (complianceChanged) this.complianceChanged?.(tenantId);
    return written;
  }

  /** Every enrolled device of the tenant gets these DMClient Poll values at its next check-in. */
  private pollScheduleSet(tenant: TenantRecord): ConfigurationSetRecord {
    return this.configuration.record({
      tenantId: tenant.id,
      id: POLL_SCHEDULE_SET_ID,
      name: 'Poll schedule (tenant settings)',
      target: { kind: 'all_devices' },
      settings: compilePollSchedule(this.providerId, tenant.settings.pollSchedule),
    });
  }
}

/** The audit trail's subject of a change of the tenant's settings. */
export const TENANT_SETTINGS_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'tenantSettings', entity: 'OpenMamTenantSettings' };

/** The settings as the trail compares them: the PATCH body's names. */
function auditedSettings(tenant: TenantRecord): Record<string, unknown> {
  return { displayName: tenant.name, enrollmentAllowed: tenant.enrollmentAllowed, ...tenant.settings };
}

/** How long a tenant's audit events are kept (tenant setting `auditEventRetentionDays`): a year unless set. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export function auditRetentionDaysOf(settings: TenantSettings): number {
  return settings.auditEventRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
}

/** The tenant with `patch` laid over it (the poll schedule field by field), checked whole. */
function patched(current: TenantRecord, patch: TenantSettingsPatch, now: number): TenantRecord {
  const pollSchedule = patch.pollSchedule ? checkPollSchedule({ ...current.settings.pollSchedule, ...patch.pollSchedule }) : current.settings.pollSchedule;
  const settings: TenantSettings = {
    ...current.settings,
    ...(patch.requireTermsOfUse === undefined ? {} : { requireTermsOfUse: patch.requireTermsOfUse }),
    ...(patch.termsOfUseText === undefined ? {} : { termsOfUseText: patch.termsOfUseText }),
    pollSchedule,
    ...(patch.mamUserScope === undefined ? {} : { mamUserScope: patch.mamUserScope }),
    ...(patch.mamUserScopeGroupIds === undefined ? {} : { mamUserScopeGroupIds: patch.mamUserScopeGroupIds }),
    ...(patch.staleDeviceRetireAfterDays === undefined ? {} : { staleDeviceRetireAfterDays: patch.staleDeviceRetireAfterDays }),
    ...(patch.healthAttestation === undefined ? {} : { healthAttestation: { ...healthAttestationSettingsOf(current.settings), ...patch.healthAttestation } }),
    ...(patch.secureByDefault === undefined ? {} : { secureByDefault: patch.secureByDefault }),
    ...(patch.deviceComplianceCheckinThresholdDays === undefined ? {} : { deviceComplianceCheckinThresholdDays: patch.deviceComplianceCheckinThresholdDays }),
    ...(patch.auditEventRetentionDays === undefined ? {} : { auditEventRetentionDays: patch.auditEventRetentionDays }),
  };
  if (settings.mamUserScope === 'selected' && (settings.mamUserScopeGroupIds ?? []).length === 0) {
    refuse('mamUserScopeGroupIds', 'name at least one group when mamUserScope is selected');
  }
  return {
    ...current,
    ...(patch.displayName === undefined ? {} : { name: patch.displayName.trim() }),
    ...(patch.enrollmentAllowed === undefined ? {} : { enrollmentAllowed: patch.enrollmentAllowed }),
    settings,
    updatedAt: now,
  };
}
