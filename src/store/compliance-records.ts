import type { DeviceComplianceState, PolicyAssignment } from './records.ts';

/** Device compliance records (migration 021; store/compliance-store.ts). */

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
}

/** The device's overall result, written to its enrollment row with its policy states. */
export interface DeviceComplianceResult {
  enrollmentId: string;
  state: DeviceComplianceState;
  graceUntil: number | null;
  policies: ComplianceStateRecord[];
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
}

/** A tenant's re-evaluation run, as leased (compliance_runs). */
export interface ComplianceRunLease {
  tenantId: string;
  /** The generation this run brings the tenant to. */
  target: number;
  /** The last enrollment id done; null at the start. */
  cursor: string | null;
}

/** A policy's device counts by state (Graph deviceComplianceDeviceOverview). */
export type ComplianceStateCounts = Partial<Record<ComplianceStatus, number>>;
