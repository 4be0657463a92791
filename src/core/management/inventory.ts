/**
 * Inventory OpenMAM collects from a MAM device (DevInfo, DeviceStatus: both on the MAM allow-list). DeviceStatus is
 * what conditional access needs (seed 000). The device reports ./DevInfo/Man, Mod, DmV and Lang itself in every
 * session's first package; DeviceStatus is read with Get once per interval (DevDetail is not
 * available to MAM).
 */
export const INVENTORY_NODES: readonly string[] = [
  './Vendor/MSFT/DeviceStatus/OS/Edition',
  './Vendor/MSFT/DeviceStatus/OS/Mode',
  './Vendor/MSFT/DeviceStatus/Compliance/EncryptionCompliance',
  './Vendor/MSFT/DeviceStatus/TPM/SpecificationVersion',
  './Vendor/MSFT/DeviceStatus/Antivirus/Status',
  './Vendor/MSFT/DeviceStatus/Antivirus/SignatureStatus',
  './Vendor/MSFT/DeviceStatus/Antispyware/Status',
  './Vendor/MSFT/DeviceStatus/Firewall/Status',
  './Vendor/MSFT/DeviceStatus/UAC/Status',
];

export const DEFAULT_INVENTORY_INTERVAL_MS = 24 * 3600_000;

/** Where a HealthAttestation result alert is kept in the inventory (read by the compliance work). */
export const HEALTH_ATTESTATION_RESULT = './Vendor/MSFT/HealthAttestation/Result';

/** What the device reports in every session's first package (DevInfo, OMA DM standard objects): its maker and model. */
export const DEVINFO_MANUFACTURER = './DevInfo/Man';
export const DEVINFO_MODEL = './DevInfo/Mod';
