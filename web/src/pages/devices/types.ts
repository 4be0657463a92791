/** Graph `managedDevice` as OpenMAM answers it for a MAM enrollment (src/http/admin/device-routes.ts presentDevice). */
export interface ManagedDevice {
  id: string;
  deviceName: string | null;
  operatingSystem: string;
  osVersion: string | null;
  azureADDeviceId: string | null;
  userId: string;
  userPrincipalName: string | null;
  enrolledDateTime: string;
  lastSyncDateTime: string | null;
  '@openmam.devId': string;
  '@openmam.messageLogUntilDateTime'?: string | null;
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
