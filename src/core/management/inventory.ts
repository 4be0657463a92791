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

/**
 * The DevInfo nodes of the OMA DM standard object (OMA-TS-DM_StdObj: DevId, Man, Mod, DmV, Lang), which Windows
 * reports with a Replace in every session's first package ("OMA DM protocol support", learn.microsoft.com).
 */
export const DEVINFO_NODES: readonly string[] = ['./DevInfo/DevId', DEVINFO_MANUFACTURER, DEVINFO_MODEL, './DevInfo/DmV', './DevInfo/Lang'];

/** Every inventory node OpenMAM reads or is told about today (15): always kept, they take none of the spare slots. */
export const KNOWN_INVENTORY_NODES: ReadonlySet<string> = new Set([...DEVINFO_NODES, ...INVENTORY_NODES, HEALTH_ATTESTATION_RESULT]);

/**
 * At most this many distinct inventory nodes are stored per device. The known nodes are 15; the other 49 slots take
 * what a device reports beyond them (a vendor's DevInfo/Ext, a Results item under another name), first come first
 * kept. Four times what a Windows device reports today bounds a device to 64 rows however it misbehaves (a device
 * reporting 10,000 nodes in one session stored all of them before), and leaves room for the nodes a later version
 * reads without a change here.
 */
export const MAX_INVENTORY_NODES_PER_DEVICE = 64;

/**
 * The longest value stored for one node. DevInfo and DeviceStatus values are a few characters (OMA DM chr and int
 * leaves); with MAX_INVENTORY_NODES_PER_DEVICE this bounds a device's inventory to 256 KiB of values.
 */
export const MAX_INVENTORY_VALUE_LENGTH = 4096;
