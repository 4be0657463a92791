/** Graph `mobileThreatDefenseConnector`: partner states (learn.microsoft.com/graph/api/resources/intune-devices-mobilethreatpartnertenantstate). */
export const PARTNER_STATES = ['enabled', 'available', 'unavailable', 'unresponsive', 'notSetUp', 'error'] as const;
export type PartnerState = (typeof PARTNER_STATES)[number];

/** What OpenMAM acts on of a connector (docs/app-protection.md, "Threat defense"); the other Graph properties are stored only. */
export interface Connector {
  '@odata.etag': string;
  id: string;
  lastHeartbeatDateTime: string | null;
  partnerState: PartnerState;
  windowsMobileApplicationManagementEnabled: boolean;
  windowsDeviceBlockedOnMissingPartnerData: boolean;
  partnerUnsupportedOsVersionBlocked: boolean;
  partnerUnresponsivenessThresholdInDays: number;
  '@openmam.notApplicableProperties'?: string[];
}

export const CONNECTORS_PATH = '/deviceManagement/mobileThreatDefenseConnectors';
