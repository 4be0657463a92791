import type { EnrollmentRecord } from '../../store/records.ts';

/**
 * What OpenMAM knows about a MAM device, read from what the device itself stated: its enrollment request
 * (AdditionalContext OSVersion, OSEdition, DeviceName), DevInfo (Man, Mod) in each session's first package, and the
 * DeviceStatus CSP (learn.microsoft.com/windows/client-management/mdm/devicestatus-csp), read once a day. Assignment
 * filters (device.* properties) and compliance policies are judged against these facts, never against anything an
 * admin or an app wrote. Pure: the caller passes the enrollment and its stored inventory.
 */
export interface DeviceFacts {
  deviceName: string | null;
  /** `10.0.<build>.<revision>` as the device stated it when it enrolled (AdditionalContext OSVersion). */
  osVersion: string | null;
  /**
   * The Windows edition's name as Intune's assignment filters write it (`device.operatingSystemSKU`: Core,
   * Professional, Enterprise, ...), from DeviceStatus OS/Edition, else the enrollment's OSEdition (both the SKU number
   * of GetProductInfo). Null when unknown; the number itself when the table below has no name for it.
   */
  operatingSystemSKU: string | null;
  manufacturer: string | null;
  model: string | null;
  /** A MAM device is the user's own (BYOD): Intune's `device.deviceOwnership` "Personal". */
  deviceOwnership: 'Personal';
  firewall: SecurityProductState;
  antivirus: SecurityProductState;
  antispyware: SecurityProductState;
  /** DeviceStatus Antivirus/SignatureStatus: true when the signatures are the most recent; null when not reported. */
  antivirusSignaturesCurrent: boolean | null;
  /** DeviceStatus Compliance/EncryptionCompliance: the OS drive is encrypted; null when not reported. */
  encrypted: boolean | null;
  /** DeviceStatus TPM/SpecificationVersion (`2.0`, `1.2`); null when not reported or no TPM is available. */
  tpmVersion: string | null;
  /** DeviceStatus OS/Mode: 0 normal, 1 S mode; null when not reported. */
  sMode: boolean | null;
  /** When DeviceStatus was last read (the newest of its values); null when never. */
  deviceStatusReportedAt: number | null;
}

/**
 * DeviceStatus's security product status (Firewall/Status, Antivirus/Status, Antispyware/Status): 0 on and monitoring,
 * 1 disabled, 2 not monitoring everything (some options or rules off), 3 temporarily not monitoring, 4 not applicable.
 * `unreported` when the device never answered.
 */
export type SecurityProductState = 'on' | 'disabled' | 'partial' | 'temporarilyOff' | 'notApplicable' | 'unreported';

const SECURITY_STATES: readonly SecurityProductState[] = ['on', 'disabled', 'partial', 'temporarilyOff', 'notApplicable'];

export const DEVICE_STATUS = './Vendor/MSFT/DeviceStatus';
export const DEVICE_STATUS_NODES = {
  edition: `${DEVICE_STATUS}/OS/Edition`,
  mode: `${DEVICE_STATUS}/OS/Mode`,
  encryption: `${DEVICE_STATUS}/Compliance/EncryptionCompliance`,
  tpm: `${DEVICE_STATUS}/TPM/SpecificationVersion`,
  antivirus: `${DEVICE_STATUS}/Antivirus/Status`,
  antivirusSignatures: `${DEVICE_STATUS}/Antivirus/SignatureStatus`,
  antispyware: `${DEVICE_STATUS}/Antispyware/Status`,
  firewall: `${DEVICE_STATUS}/Firewall/Status`,
} as const;

/**
 * Windows SKU numbers (GetProductInfo's PRODUCT_* constants, learn.microsoft.com/windows/win32/api/sysinfoapi/
 * nf-sysinfoapi-getproductinfo) by the names Intune's filters use for `device.operatingSystemSKU`
 * (learn.microsoft.com/mem/intune/fundamentals/filters-device-properties). Home is `Core` (101) and its variants.
 */
export const WINDOWS_SKUS: Readonly<Record<number, string>> = {
  4: 'Enterprise',
  27: 'EnterpriseN',
  48: 'Professional',
  49: 'ProfessionalN',
  98: 'CoreN',
  99: 'CoreCountrySpecific',
  100: 'CoreSingleLanguage',
  101: 'Core',
  121: 'Education',
  122: 'EducationN',
  125: 'EnterpriseS',
  126: 'EnterpriseSN',
  161: 'ProfessionalWorkstation',
  162: 'ProfessionalWorkstationN',
  164: 'ProfessionalEducation',
  165: 'ProfessionalEducationN',
  175: 'ServerRdsh',
  188: 'IoTEnterprise',
  191: 'IoTEnterpriseS',
  203: 'CloudEdition',
  202: 'CloudEditionN',
};

/** The Home editions (seed 000: users who upgrade from MAM to MDM on Home lose WIP). */
export const HOME_SKUS: ReadonlySet<string> = new Set(['Core', 'CoreN', 'CoreCountrySpecific', 'CoreSingleLanguage']);

/** The name of a SKU number as the device wrote it (decimal); the number itself when unnamed; null when not a number. */
export function skuName(value: string | null | undefined): string | null {
  const text = value?.trim();
  if (text === undefined || !/^\d{1,9}$/.test(text)) return null;
  return WINDOWS_SKUS[Number(text)] ?? text;
}

export function deviceFacts(enrollment: Pick<EnrollmentRecord, 'deviceName' | 'osVersion' | 'osEdition' | 'manufacturer' | 'model'>, inventory: ReadonlyMap<string, { value: string; updatedAt: number }>): DeviceFacts {
  const value = (locUri: string): string | undefined => inventory.get(locUri)?.value.trim();
  let reportedAt: number | null = null;
  for (const locUri of Object.values(DEVICE_STATUS_NODES)) {
    const at = inventory.get(locUri)?.updatedAt;
    if (at !== undefined && (reportedAt === null || at > reportedAt)) reportedAt = at;
  }
  const tpm = value(DEVICE_STATUS_NODES.tpm);
  return {
    deviceName: enrollment.deviceName,
    osVersion: enrollment.osVersion,
    operatingSystemSKU: skuName(value(DEVICE_STATUS_NODES.edition)) ?? skuName(enrollment.osEdition),
    manufacturer: enrollment.manufacturer,
    model: enrollment.model,
    deviceOwnership: 'Personal',
    firewall: securityState(value(DEVICE_STATUS_NODES.firewall)),
    antivirus: securityState(value(DEVICE_STATUS_NODES.antivirus)),
    antispyware: securityState(value(DEVICE_STATUS_NODES.antispyware)),
    antivirusSignaturesCurrent: flag(value(DEVICE_STATUS_NODES.antivirusSignatures)),
    encrypted: flag(value(DEVICE_STATUS_NODES.encryption)),
    tpmVersion: tpm !== undefined && /^\d+(\.\d+)*$/.test(tpm) ? tpm : null,
    sMode: flag(value(DEVICE_STATUS_NODES.mode)),
    deviceStatusReportedAt: reportedAt,
  };
}

function securityState(value: string | undefined): SecurityProductState {
  if (value === undefined || !/^\d$/.test(value)) return 'unreported';
  return SECURITY_STATES[Number(value)] ?? 'unreported';
}

/** DeviceStatus's 0/1 integers (and `true`/`false`, which some builds write). */
function flag(value: string | undefined): boolean | null {
  if (value === '1' || value?.toLowerCase() === 'true') return true;
  if (value === '0' || value?.toLowerCase() === 'false') return false;
  return null;
}

/**
 * The edition as a message's reported inventory states it (DeviceStatus OS/Edition), else as the enrollment did;
 * undefined when the message reported no edition (nothing contradicts what was known).
 */
export function deviceReportSku(reported: ReadonlyMap<string, { value: string }>, enrollment: Pick<EnrollmentRecord, 'osEdition'>): string | null | undefined {
  const edition = reported.get(DEVICE_STATUS_NODES.edition);
  if (edition === undefined) return undefined;
  return skuName(edition.value) ?? skuName(enrollment.osEdition);
}
