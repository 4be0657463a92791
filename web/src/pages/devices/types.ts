/**
 * Graph `managedDevice` as OpenMAM answers it for a MAM enrollment (src/http/admin/managed-device.ts presentDevice):
 * the properties these pages read.
 */
export interface ManagedDevice {
  id: string;
  deviceName: string | null;
  operatingSystem: string;
  osVersion: string | null;
  azureADDeviceId: string | null;
  azureADRegistered: boolean | null;
  userId: string;
  userPrincipalName: string | null;
  userDisplayName?: string | null;
  enrolledDateTime: string;
  lastSyncDateTime: string | null;
  manufacturer?: string | null;
  model?: string | null;
  isEncrypted?: boolean;
  /** Graph complianceState. */
  complianceState: ComplianceState;
  /** While `inGracePeriod`: when the grace period ends. */
  complianceGracePeriodExpirationDateTime?: string | null;
  /** Graph managementState: retire and wipe progress. */
  managementState: ManagementState;
  deviceActionResults?: DeviceActionResult[];
  '@openmam.devId': string;
  '@openmam.deviceStatusReportedDateTime'?: string | null;
  '@openmam.messageLogUntilDateTime'?: string | null;
}

/** Graph's complianceState members (learn.microsoft.com/graph/api/resources/intune-devices-compliancestate). */
export const COMPLIANCE_STATES = ['unknown', 'compliant', 'noncompliant', 'conflict', 'error', 'inGracePeriod', 'configManager'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

/**
 * Graph's managementState members a MAM device goes through (learn.microsoft.com/graph/api/resources/
 * intune-devices-managementstate); the server accepts every Graph member in a filter.
 */
export const MANAGEMENT_STATES = ['managed', 'retirePending', 'retireIssued', 'retireFailed', 'retireCanceled', 'wipePending', 'wipeIssued', 'wipeFailed', 'wipeCanceled'] as const;
export type ManagementState = (typeof MANAGEMENT_STATES)[number] | string;

/** Graph `deviceActionResult`: a retire, wipe or sync asked for the device, and how it went. */
export interface DeviceActionResult {
  actionName: string | null;
  actionState: string;
  startDateTime: string | null;
  lastUpdatedDateTime: string | null;
}

/** A policy's state on one device (`managedDevices/{id}/policyStates`). */
export interface PolicyState {
  id: string;
  policyKind: string;
  displayName: string | null;
  version: string;
  status: 'pending' | 'applied' | 'failed' | 'conflict' | 'notApplicable' | string;
  /** The SyncML status code the device answered (RFC-style 3-digit codes: 200 OK, 404, 405, 500, ...). */
  statusCode: string | null;
  lastReportedDateTime: string | null;
}

/** One OMA-DM setting's state on the device (`managedDevices/{id}/openMamNodeStates`). */
export interface NodeState {
  locUri: string;
  status: 'applied' | 'failed' | 'exists' | 'notApplicable' | 'conflict';
  statusCode: string | null;
  lastReportedDateTime: string;
}

/** The latest value of an inventory node the device reported (`managedDevices/{id}/openMamInventory`). */
export interface InventoryValue {
  locUri: string;
  value: string;
  lastReportedDateTime: string;
}

/** A kept raw OMA-DM message (`managedDevices/{id}/openMamMessages`, Admin only). */
export interface RawMessage {
  id: string;
  dateTime: string;
  direction: 'deviceToServer' | 'serverToDevice';
  syncML: string;
}

/** A WIP log retrieval (`managedDevices/{id}/wipLogRequests`), answered at the device's next check-in (Reporting CSP). */
export interface WipLogRequest {
  id: string;
  mode: string;
  startDateTime: string | null;
  endDateTime: string | null;
  count: number | null;
  learningLogs: boolean;
  status: 'pending' | 'completed' | 'failed' | string;
  statusCode: string | null;
  requestedDateTime: string;
  completedDateTime: string | null;
  entries: Record<string, string>[] | null;
}
