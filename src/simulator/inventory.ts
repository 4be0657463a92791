import type { Random } from './random.ts';

/**
 * What a simulated Windows device reports about itself: a realistic mix of hardware, Windows builds and languages,
 * so that inventory pages and version checks look like a real fleet. Builds are cumulative-update builds of the
 * Windows release information pages (learn.microsoft.com/windows/release-health/windows11-release-information and
 * .../release-information for Windows 10 22H2).
 */
export interface DeviceProfile {
  /** The Windows computer name (e.g. DESKTOP-4F2K9QD). */
  deviceName: string;
  /** DevInfo/Man and the SMBIOS manufacturer, as Windows reports it. */
  manufacturer: string;
  model: string;
  /** Firmware (BIOS/UEFI) version: DevInfo/FwV. */
  firmware: string;
  /** `10.0.<build>.<revision>`: DevInfo/SwV, the RST's OSVersion, the app's osVersion. */
  osVersion: string;
  /** e.g. `Windows 11 24H2`. */
  osName: string;
  /** OS/Edition of DeviceStatus (SKU number: 48 Pro, 101 Home, 4 Enterprise). */
  osEdition: number;
  /** Language tag: DevInfo/Lang and the RST's Locale. */
  language: string;
  /** The Entra device object id: the `deviceid` claim of tokens obtained on the device, the apps' azureAdDeviceId. */
  entraDeviceId: string;
  /** What relates the managed apps of one device (the SDK's deviceTag). */
  deviceTag: string;
  /** The OMA-DM DevId (the RST's DeviceID). */
  devId: string;
  batteryPercent: number;
  /** The address a gateway sees the device's requests come from (documentation ranges of RFC 5737, never routed). */
  ipAddress: string;
}

/** Windows builds with how common each is in the simulated fleet. */
export const WINDOWS_BUILDS: readonly (readonly [{ name: string; version: string }, number])[] = [
  [{ name: 'Windows 11 24H2', version: '10.0.26100.3476' }, 20],
  [{ name: 'Windows 11 24H2', version: '10.0.26100.3194' }, 15],
  [{ name: 'Windows 11 24H2', version: '10.0.26100.2605' }, 10],
  [{ name: 'Windows 11 23H2', version: '10.0.22631.5039' }, 15],
  [{ name: 'Windows 11 23H2', version: '10.0.22631.4890' }, 12],
  [{ name: 'Windows 11 23H2', version: '10.0.22631.4460' }, 8],
  [{ name: 'Windows 10 22H2', version: '10.0.19045.5608' }, 10],
  [{ name: 'Windows 10 22H2', version: '10.0.19045.5247' }, 10],
];

interface Hardware {
  manufacturer: string;
  models: readonly string[];
  firmware: () => string;
  prefix: string;
}

const HARDWARE = (random: Random): readonly (readonly [Hardware, number])[] => [
  [{ manufacturer: 'Microsoft Corporation', models: ['Surface Laptop 5', 'Surface Laptop 7', 'Surface Pro 9', 'Surface Pro 11', 'Surface Laptop Go 3'], firmware: () => `${20 + random.int(5)}.${random.int(120)}.${random.int(200)}`, prefix: 'LAPTOP' }, 25],
  [{ manufacturer: 'Dell Inc.', models: ['Latitude 5440', 'Latitude 7450', 'XPS 13 9340', 'OptiPlex 7010', 'Precision 3581'], firmware: () => `1.${5 + random.int(20)}.${random.int(3)}`, prefix: 'DESKTOP' }, 25],
  [{ manufacturer: 'HP', models: ['HP EliteBook 840 G10', 'HP ProBook 450 G9', 'HP EliteDesk 800 G9', 'HP ZBook Firefly 14 G10'], firmware: () => `V7${random.int(10)} Ver. 01.${String(10 + random.int(9)).padStart(2, '0')}.${String(random.int(10)).padStart(2, '0')}`, prefix: 'DESKTOP' }, 20],
  [{ manufacturer: 'LENOVO', models: ['ThinkPad T14 Gen 4', 'ThinkPad X1 Carbon Gen 11', 'ThinkPad E16 Gen 1', 'ThinkCentre M70q Gen 4'], firmware: () => `N3${'ABCDEF'[random.int(6)]}ET${40 + random.int(50)}W (1.${random.int(60)} )`, prefix: 'LAPTOP' }, 20],
  [{ manufacturer: 'ASUSTeK COMPUTER INC.', models: ['Zenbook 14 UX3405MA', 'Vivobook 15 X1504VA'], firmware: () => `UX3405MA.${300 + random.int(30)}`, prefix: 'LAPTOP' }, 10],
];

const LANGUAGES: readonly (readonly [string, number])[] = [
  ['en-US', 40],
  ['en-GB', 12],
  ['de-DE', 12],
  ['fr-FR', 10],
  ['es-ES', 6],
  ['nl-NL', 6],
  ['ja-JP', 5],
  ['pt-BR', 5],
  ['sv-SE', 4],
];

const NAME_CHARS = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** A device as Windows names it out of the box: DESKTOP-XXXXXXX or LAPTOP-XXXXXXXX (random characters). */
function windowsComputerName(random: Random, prefix: string): string {
  const length = prefix === 'DESKTOP' ? 7 : 8;
  let suffix = '';
  for (let i = 0; i < length; i++) suffix += NAME_CHARS[random.int(NAME_CHARS.length)];
  return `${prefix}-${suffix}`;
}

export function deviceProfile(random: Random): DeviceProfile {
  const hardware = random.weighted(HARDWARE(random));
  const build = random.weighted(WINDOWS_BUILDS);
  return {
    deviceName: windowsComputerName(random, hardware.prefix),
    manufacturer: hardware.manufacturer,
    model: random.pick(hardware.models),
    firmware: hardware.firmware(),
    osVersion: build.version,
    osName: build.name,
    osEdition: random.weighted([[48, 70], [101, 25], [4, 5]] as const),
    language: random.weighted(LANGUAGES),
    entraDeviceId: random.guid(),
    deviceTag: random.guid(),
    devId: random.hex(32, true),
    batteryPercent: 20 + random.int(81),
    ipAddress: `${random.pick(['192.0.2', '198.51.100', '203.0.113'])}.${1 + random.int(254)}`,
  };
}

const FIRST_NAMES = ['adele', 'alex', 'megan', 'lynne', 'diego', 'isaiah', 'johanna', 'lee', 'lidia', 'miriam', 'nestor', 'patti', 'pradeep', 'grady', 'henrietta', 'joni', 'irvin', 'christie', 'allan', 'debra', 'emily', 'enrico', 'ben', 'cameron', 'yuki', 'sofia', 'amara', 'lukas', 'ines', 'omar'];
const LAST_NAMES = ['vance', 'wilber', 'bowen', 'robinson', 'siciliani', 'langer', 'kinney', 'gu', 'holloway', 'hunter', 'wilke', 'fernandez', 'gupta', 'archie', 'muller', 'sherman', 'sink', 'cline', 'deyoung', 'berg', 'braun', 'rossi', 'adams', 'evans', 'tanaka', 'garcia', 'okafor', 'schmidt', 'duarte', 'haddad'];

/** Distinct user principal names (first.last@domain, a number added once the names run out). */
export function userNames(random: Random, count: number, domain: string): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    const base = `${random.pick(FIRST_NAMES)}.${random.pick(LAST_NAMES)}`;
    const name = seen.has(base) ? `${base}${names.length}` : base;
    seen.add(name);
    names.push(`${name}@${domain}`);
  }
  return names;
}
