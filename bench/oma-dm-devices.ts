/**
 * What the benchmarks that drive Windows devices over OMA-DM share (sync.bench.ts, overload.bench.ts): a real Windows
 * client's first package for a device and the headers it comes with, the header status of a server message, and the
 * 50 settings of an admin's change.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import type { Config } from '../src/config.ts';
import type { DevIdentityProvider } from '../src/identity/dev-idp.ts';
import { DeviceSimulator, MDM_PATH, MDM_QUERY, SYNCML_CONTENT_TYPE, type SessionTranscript } from '../src/simulator/device-simulator.ts';
import type { DesiredSetting } from '../src/store/records.ts';
import { pool } from './app-protection-setup.ts';

const FIXTURE_DEV_ID = '6B29FC40CA471067B31D00DD010662DA';
/** A Windows client's first package: Alert 1201, 1224 LoginStatus and AADUserToken, Replace DevInfo, Final. */
const FIRST_PACKAGE = readFileSync(new URL('../test/fixtures/syncml/client-first-package.xml', import.meta.url), 'utf8').replace(/^\s*<!--[\s\S]*?-->\s*/, '');

/** How many settings `fiftySettings` builds. */
export const CHANGED_SETTINGS = 50;

/** Device `devId`'s first package of session `sessionId` (test/fixtures/syncml/client-first-package.xml). */
export function firstPackage(devId: string, sessionId: string): string {
  return FIRST_PACKAGE.replaceAll(FIXTURE_DEV_ID, devId)
    .replace(/<SessionID>[^<]*<\/SessionID>/, `<SessionID>${sessionId}</SessionID>`)
    .replace(/(<Target>\s*<LocURI>)[^<]*(<\/LocURI>)/, `$1https://127.0.0.1:8443${MDM_PATH}${MDM_QUERY.replace('&', '&amp;')}$2`);
}

export interface EnrolledDevices {
  simulators: DeviceSimulator[];
  /** Each device's user token (the simulator's), by the same index. */
  tokens: string[];
  /** Each device's first session, by the same index. */
  firstSessions: SessionTranscript[];
  enrollSeconds: number;
  firstSessionSeconds: number;
}

/**
 * `count` Windows devices of `tenantId`, each its own user (`device<i>@contoso.example`) with a token minted by the
 * built-in identity provider for an Entra device of its own, enrolled over HTTPS (MS-MDE2, the device simulator) and
 * settled by a full first session (inventory), `concurrency` at a time over `agent`. Fails if a first session does not
 * end with status 200.
 */
export async function enrollDevices(options: {
  idp: DevIdentityProvider;
  config: Config;
  tenantId: string;
  baseUrl: string;
  ca: string;
  agent: Agent;
  count: number;
  concurrency: number;
}): Promise<EnrolledDevices> {
  const { idp, config, tenantId, count, concurrency } = options;
  const now = Date.now();
  const tokens = await Promise.all(
    Array.from({ length: count }, (_, i) => idp.mint({ tenantId, upn: `device${i}@contoso.example`, deviceId: randomUUID(), audience: config.appIdUri, expiresInSeconds: 4 * 3600, now })),
  );
  const simulators = tokens.map((token) => new DeviceSimulator({ baseUrl: options.baseUrl, ca: options.ca, token, agent: options.agent }));
  await pool(simulators, concurrency, (simulator) => simulator.enroll());
  const enrolled = Date.now();
  const firstSessions = await pool(simulators, concurrency, (simulator) => simulator.sync());
  const failed = firstSessions.filter((session) => session.headerStatus !== '200' || session.messages.at(-1)?.status !== 200).length;
  if (failed > 0) throw new Error(`${failed} first sessions failed`);
  return { simulators, tokens, firstSessions, enrollSeconds: (enrolled - now) / 1000, firstSessionSeconds: (Date.now() - enrolled) / 1000 };
}

/** The headers Windows' OMA-DM client sends a message with, and the device's Entra token. */
export function deviceHeaders(token: string): Record<string, string> {
  return {
    'content-type': SYNCML_CONTENT_TYPE,
    'user-agent': 'MSFT OMA DM Client/1.2.0.1',
    accept: 'application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, application/octet-stream',
    'accept-language': 'en-US',
    authorization: `Bearer ${token}`,
  };
}

/** Elements that are commands (not Status, Results or Final) in a server message's body. */
const COMMAND_ELEMENT = /<(Add|Replace|Delete|Exec|Get|Alert|Atomic|Sequence|Copy)[\s>]/g;

/** The commands of a server message (an Atomic and the commands inside it each count). */
export function commandsIn(message: string): number {
  return message.replace(/<SyncHdr>[\s\S]*<\/SyncHdr>/, '').match(COMMAND_ELEMENT)?.length ?? 0;
}

/** The status a server message gives the device's SyncHdr. */
export function headerStatusOf(body: string): string | undefined {
  return /<Status>\s*<CmdID>[^<]*<\/CmdID>\s*<MsgRef>[^<]*<\/MsgRef>\s*<CmdRef>0<\/CmdRef>\s*<Cmd>SyncHdr<\/Cmd>\s*<Data>(\d+)<\/Data>/.exec(body)?.[1];
}

/** 50 settings from MAM-allowed CSPs: EDP settings, a DeviceLock group sent as one Atomic, two VPNv2 profiles. */
export function fiftySettings(): DesiredSetting[] {
  const edp = './Vendor/MSFT/EnterpriseDataProtection/Settings';
  const lock = './Vendor/MSFT/Policy/Config/DeviceLock';
  const settings: DesiredSetting[] = [
    { locUri: `${edp}/EDPEnforcementLevel`, format: 'int', value: '3' },
    { locUri: `${edp}/EnterpriseProtectedDomainNames`, format: 'chr', value: 'contoso.com|contoso.net|fabrikam.example' },
    { locUri: `${edp}/AllowUserDecryption`, format: 'int', value: '0' },
    { locUri: `${edp}/RequireProtectionUnderLockConfig`, format: 'int', value: '1' },
    { locUri: `${edp}/RevokeOnUnenroll`, format: 'int', value: '1' },
    { locUri: `${edp}/RevokeOnMDMHandoff`, format: 'int', value: '1' },
    { locUri: `${edp}/EDPShowIcons`, format: 'int', value: '1' },
    { locUri: `${edp}/AllowAzureRMSForEDP`, format: 'int', value: '1' },
    { locUri: `${edp}/SMBAutoEncryptedFileExtensions`, format: 'chr', value: '.docx|.xlsx|.pptx|.pdf' },
    { locUri: `${edp}/EDPDataRecoveryCertificate`, format: 'b64', value: Buffer.from('a recovery certificate, DER in real life '.repeat(6)).toString('base64') },
  ];
  const deviceLock: [string, string][] = [
    ['DevicePasswordEnabled', '0'],
    ['AllowSimpleDevicePassword', '0'],
    ['MinDevicePasswordLength', '8'],
    ['AlphanumericDevicePasswordRequired', '1'],
    ['MinDevicePasswordComplexCharacters', '2'],
    ['DevicePasswordExpiration', '90'],
    ['DevicePasswordHistory', '5'],
    ['MaxDevicePasswordFailedAttempts', '10'],
    ['MaxInactivityTimeDeviceLock', '5'],
    ['AllowIdleReturnWithoutPassword', '0'],
  ];
  for (const [name, value] of deviceLock) settings.push({ locUri: `${lock}/${name}`, format: 'int', value, atomicGroup: 'DeviceLock' });
  for (const profile of ['ContosoVPN', 'FabrikamVPN']) {
    const base = `./Vendor/MSFT/VPNv2/${profile}`;
    const nodes: [string, string, string][] = [
      ['ProfileXML', 'chr', `<VPNProfile><ProfileName>${profile}</ProfileName><NativeProfile><Servers>vpn.${profile.toLowerCase()}.example</Servers><NativeProtocolType>Ikev2</NativeProtocolType><Authentication><UserMethod>Eap</UserMethod></Authentication><RoutingPolicyType>SplitTunnel</RoutingPolicyType></NativeProfile><AlwaysOn>true</AlwaysOn></VPNProfile>`],
      ['NativeProfile/Servers', 'chr', `vpn.${profile.toLowerCase()}.example`],
      ['NativeProfile/NativeProtocolType', 'chr', 'Ikev2'],
      ['NativeProfile/RoutingPolicyType', 'chr', 'SplitTunnel'],
      ['NativeProfile/Authentication/UserMethod', 'chr', 'Eap'],
      ['NativeProfile/DisableClassBasedDefaultRoute', 'bool', 'true'],
      ['AlwaysOn', 'bool', 'true'],
      ['RememberCredentials', 'bool', 'true'],
      ['TrustedNetworkDetection', 'chr', 'corp.contoso.com'],
      ['DnsSuffix', 'chr', 'corp.contoso.com'],
      ['RegisterDNS', 'bool', 'true'],
      ['DeviceTunnel', 'bool', 'false'],
      ['EdpModeId', 'chr', 'contoso.com'],
      ['Route/0/Address', 'chr', '10.0.0.0'],
      ['Route/0/PrefixSize', 'int', '8'],
    ];
    for (const [node, format, value] of nodes) settings.push({ locUri: `${base}/${node}`, format, value });
  }
  if (settings.length !== CHANGED_SETTINGS) throw new Error(`expected ${CHANGED_SETTINGS} settings, built ${settings.length}`);
  return settings;
}
