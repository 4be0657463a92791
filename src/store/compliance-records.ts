import type { CollectionPage, CollectionQuery } from './collection-query.ts';
import type { DeviceComplianceState, PolicyAssignment } from './records.ts';
import type { VersionedDelete, VersionedWrite } from './roles.ts';

/** Device compliance records and the role of their store (migration 021; store/repositories/compliance-store.ts implements it). */

/** The compliance policy kinds (core/policy-kinds): Windows only, as MAM is. */
export type CompliancePolicyKindName = 'windows10CompliancePolicy';

/** A compliance policy as stored: Graph properties in `body`, like PolicyRecord's. */
export interface CompliancePolicyRecord {
  tenantId: string;
  id: string;
  kind: CompliancePolicyKindName;
  body: Record<string, unknown>;
  assignments: PolicyAssignment[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Graph `complianceStatus` (a policy's or a setting's state on a device). */
export type ComplianceStatus = 'unknown' | 'notApplicable' | 'compliant' | 'remediated' | 'nonCompliant' | 'error' | 'conflict' | 'notAssigned';

/** One setting's result on one device: Graph `deviceCompliancePolicySettingState`'s essentials. */
export interface ComplianceSettingResult {
  /** The Graph property, e.g. `activeFirewallRequired`. */
  setting: string;
  state: ComplianceStatus;
  /** What the device evidenced (e.g. `10.0.19041.1`, `disabled`); null when nothing. */
  currentValue: string | null;
  /** Why, in words, for the admin. */
  reason?: string;
}

/** A policy's state on one enrollment, with the policy version it was judged at. */
export interface ComplianceStateRecord {
  enrollmentId: string;
  policyId: string;
  tenantId: string;
  state: ComplianceStatus;
  settings: ComplianceSettingResult[];
  policyVersion: number;
  evaluatedAt: number;
  /** Since when the policy has been nonCompliant here (migration 025); null or absent when it is not. */
  nonCompliantSince?: number | null;
  /** When the policy's `retire` action is due on this device (nonCompliantSince + its grace); null or absent: never. */
  retireAt?: number | null;
}

/** The device's overall result, written to its enrollment row with its policy states. */
export interface DeviceComplianceResult {
  enrollmentId: string;
  state: DeviceComplianceState;
  graceUntil: number | null;
  policies: ComplianceStateRecord[];
  /** Noncompliant for want of a check-in within the tenant's validity period (enrollments.compliance_lapsed). */
  lapsed?: boolean;
}

/** A policy's retire action due on a device (ComplianceStore.dueComplianceRetires). */
export interface DueComplianceRetire {
  tenantId: string;
  enrollmentId: string;
  policyId: string;
  /** The enrollment is active and its managementState is `managed`: only then is a retire asked. */
  managed: boolean;
}

/** One active enrollment as the check-in validity sweep sees it (ComplianceStore.complianceCheckins). */
export interface ComplianceCheckin {
  id: string;
  /** The last OMA-DM check-in, or the enrollment's time when it never checked in. */
  lastSeenAt: number;
  lapsed: boolean;
}

/** What an evaluation reads of one enrollment (one row of the batch read). */
export interface ComplianceSubject {
  id: string;
  tenantId: string;
  devId: string;
  userOid: string;
  upn: string | null;
  deviceName: string | null;
  osVersion: string | null;
  osEdition: string | null;
  manufacturer: string | null;
  model: string | null;
  complianceState: DeviceComplianceState;
  complianceGraceUntil: number | null;
  /** The groups claim of the user's latest token (management_state.token_groups). */
  tokenGroups: string[];
  /** The DeviceStatus inventory values (LocURI -> value and time). */
  inventory: Map<string, { value: string; updatedAt: number }>;
  /** Policy id -> since when that policy has been nonCompliant here (the stored states'). */
  nonCompliantSince?: ReadonlyMap<string, number>;
  /** The last OMA-DM check-in (management_state.last_checkin_at), or the enrollment's time when none yet. */
  lastSeenAt?: number;
}

/** A tenant's re-evaluation run, as leased (compliance_runs). */
export interface ComplianceRunLease {
  tenantId: string;
  /** The generation this run brings the tenant to. */
  target: number;
  /** The last enrollment id done; null at the start. */
  cursor: string | null;
}

/** How a batch of results is written (ComplianceStore.saveComplianceResults). */
export interface SaveComplianceOptions {
  /** A run's batch: the run's cursor moved and its lease renewed first; nothing written (false) when the lease was lost. */
  lease?: { owner: string; lease: ComplianceRunLease; cursor: string | null; leaseUntil: number };
  /**
   * A run's slice of a tenant's enrollments in id order: the policy states of every enrollment id in (after, through]
   * (through null: to the end) are replaced, so rows of devices that left (unenrolled) go too. Without it, the rows of
   * the results' enrollments are.
   */
  replaceRange?: { tenantId: string; after: string | null; through: string | null };
}

/** A policy's device counts by state (Graph deviceComplianceDeviceOverview). */
export type ComplianceStateCounts = Partial<Record<ComplianceStatus, number>>;

/** A policy's state on one device, with what an admin report shows of the device. */
export interface CompliancePolicyDeviceState extends ComplianceStateRecord {
  deviceName: string | null;
  model: string | null;
  userPrincipalName: string | null;
  deviceState: DeviceComplianceState;
  graceUntil: number | null;
}

/** The storage of device compliance (migration 021), reached as KyselyStore's `compliance`. */
export interface ComplianceStore {
  createCompliancePolicy(policy: CompliancePolicyRecord): Promise<void>;
  updateCompliancePolicy(policy: CompliancePolicyRecord): Promise<VersionedWrite>;
  getCompliancePolicy(tenantId: string, id: string): Promise<CompliancePolicyRecord | undefined>;
  queryCompliancePolicies(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<CompliancePolicyRecord>>;
  listCompliancePolicies(tenantId: string): Promise<CompliancePolicyRecord[]>;
  deleteCompliancePolicy(tenantId: string, id: string, expectedVersion: number | undefined): Promise<VersionedDelete>;
  /** A tenant's active enrollments after `afterId` in id order, at most `limit`, with their DeviceStatus inventory: two statements. */
  complianceSubjects(tenantId: string, afterId: string | null, limit: number): Promise<ComplianceSubject[]>;
  /** The same for some enrollments (inventory changes); unenrolled ones are left out. */
  complianceSubjectsByIds(enrollmentIds: readonly string[]): Promise<ComplianceSubject[]>;
  /**
   * One transaction: the devices' policy states replaced, their enrollment's state and grace end written; with a
   * lease, the run's cursor moved and lease renewed first, and nothing written (false) when the lease was lost.
   */
  saveComplianceResults(results: readonly DeviceComplianceResult[], options?: SaveComplianceOptions): Promise<boolean>;
  /** Owes the tenant a run (something its policies' targeting depends on changed, e.g. an assignment filter's rule). */
  requestComplianceRun(tenantId: string): Promise<void>;
  /** Takes the run of a tenant whose policies changed since it was last run, when no live lease holds it. */
  claimComplianceRun(owner: string, now: number, leaseUntil: number): Promise<ComplianceRunLease | undefined>;
  finishComplianceRun(owner: string, lease: ComplianceRunLease): Promise<void>;
  /** Policy retire actions due by `now`, in due order, at most `limit` (index compliance_states_retire). */
  dueComplianceRetires(now: number, limit: number): Promise<DueComplianceRetire[]>;
  /** The due retires handled (asked, or not to be asked): their `retire_at` cleared. */
  clearComplianceRetires(keys: readonly Pick<DueComplianceRetire, 'enrollmentId' | 'policyId'>[]): Promise<void>;
  /** A tenant's active enrollments after `afterId` in id order, at most `limit`, with their last check-in: one statement. */
  complianceCheckins(tenantId: string, afterId: string | null, limit: number): Promise<ComplianceCheckin[]>;
  /** Ends the grace periods that are over: inGracePeriod -> noncompliant; how many. */
  expireComplianceGrace(now: number, limit: number): Promise<number>;
  compliancePolicyStatesOf(enrollmentId: string): Promise<ComplianceStateRecord[]>;
  /** A policy's states on devices, in enrollment id order after `afterEnrollmentId`. */
  compliancePolicyDeviceStates(tenantId: string, policyId: string, afterEnrollmentId: string | null, limit: number): Promise<CompliancePolicyDeviceState[]>;
  compliancePolicyStateCounts(tenantId: string, policyId: string): Promise<{ counts: ComplianceStateCounts; lastEvaluatedAt: number | null }>;
  /** The compliance state of the tenant's active enrollment of an Entra device; undefined when OpenMAM manages none. */
  activeDeviceCompliance(tenantId: string, entraDeviceId: string): Promise<{ state: DeviceComplianceState; graceUntil: number | null } | undefined>;
}

