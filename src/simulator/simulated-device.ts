import { DeviceSimulator, tryLaterOf, type NodeValue, type TranscriptCommand } from './device-simulator.ts';
import { SimulatedHealthAttestation, type SimulatedHealthAttestationOptions } from './health-attestation.ts';
import type { HttpsTransport } from './https.ts';
import type { DeviceProfile } from './inventory.ts';
import { hashOf } from './random.ts';
import { TokenCache, type TokenSource } from './tokens.ts';

/**
 * One simulated Windows device with a MAM work account: it enrolls (MS-MDE2, MAM) with its user's token and syncs
 * over OMA-DM, reporting the inventory of its profile, and may refuse some settings with a SyncML status, as a real
 * device does when a CSP cannot apply a value.
 */
export interface SimulatedDeviceOptions {
  serverUrl: string;
  /** The server's certificate (PEM), when it is not publicly trusted. */
  ca?: string;
  tenantId: string;
  tokens: TokenSource | TokenCache;
  /** The work account. */
  upn: string;
  profile: DeviceProfile;
  /** Settings this device refuses, and the status it answers for them (SyncML DM 1.2 Representation Protocol: 500 command failed, 405 command not allowed). */
  refuse?: SettingRefusal;
  /**
   * The status this device answers a server's DMClient Unenroll with (default 200: it unenrolls and stops syncing);
   * e.g. 500 (command failed) or 405 (command not allowed) to see a retire fail.
   */
  unenrollStatus?: string;
  /** The user's group object ids, in the `groups` claim of the user's tokens. */
  groups?: readonly string[];
  /** Share one keep-alive agent between many devices. */
  transport?: HttpsTransport;
  /**
   * The device's HealthAttestation CSP and its DHA service (./health-attestation.ts): `boot` says what it booted with
   * (Secure Boot or BitLocker off, ...), `mischief` makes it forge or replay its health certificate. Absent: the CSP's
   * nodes are plain nodes and VerifyHealth does nothing.
   */
  healthAttestation?: SimulatedHealthAttestationOptions;
}

export interface SettingRefusal {
  status: string;
  refuses(locUri: string): boolean;
}

/**
 * A refusal of the first setting the device is sent and of about one in `oneIn` of the others (by a hash of device and
 * LocURI, so the same settings fail at every session), never of the DMClient account itself (a device that refused its
 * own account would stop syncing).
 */
export function refuseSomeSettings(devId: string, status: string, oneIn = 3): SettingRefusal {
  let first: string | undefined;
  return {
    status,
    refuses: (locUri) => {
      if (/\/DMClient\//i.test(locUri) || !/\/Vendor\/MSFT\//i.test(locUri)) return false;
      first ??= locUri;
      return locUri === first || hashOf(`${devId}\n${locUri}`) % oneIn === 0;
    },
  };
}

/** One server command of a session and the status the device answered. */
export interface AppliedCommand {
  verb: string;
  locUri: string;
  status: string;
  data?: string;
}

export interface SyncResult {
  sessionId: string;
  /** The server's status for the device's first SyncHdr ('200' when the session was accepted). */
  headerStatus: string;
  /** Every Add, Replace, Delete, Exec and Get of the session, in order, with the device's status. */
  commands: AppliedCommand[];
  /** Those the device refused or failed (status not 2xx). */
  failed: AppliedCommand[];
  messages: number;
}

const ITEM_VERBS = new Set(['Add', 'Replace', 'Delete', 'Exec', 'Get']);

export class SimulatedDevice {
  readonly upn: string;
  readonly profile: DeviceProfile;
  readonly refusal: SettingRefusal | undefined;
  private readonly simulator: DeviceSimulator;
  private readonly tokens: TokenCache;
  private readonly tenantId: string;
  private readonly groups: readonly string[] | undefined;
  /** The HealthAttestation CSP, when the device has one (options.healthAttestation). */
  readonly attestation: SimulatedHealthAttestation | undefined;
  enrolled = false;
  syncs = 0;
  lastSync: SyncResult | undefined;
  lastSyncAt: number | undefined;

  constructor(options: SimulatedDeviceOptions) {
    this.upn = options.upn;
    this.profile = options.profile;
    this.refusal = options.refuse;
    this.tenantId = options.tenantId;
    this.groups = options.groups;
    this.tokens = TokenCache.of(options.tokens);
    const refusal = options.refuse;
    const profile = options.profile;
    this.attestation = options.healthAttestation ? new SimulatedHealthAttestation(options.healthAttestation) : undefined;
    this.simulator = new DeviceSimulator({
      ...(this.attestation ? { healthAttestation: this.attestation } : {}),
      baseUrl: options.serverUrl,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      token: '',
      devId: profile.devId,
      ...(options.transport ? { agent: options.transport.agent } : {}),
      devInfo: { Man: profile.manufacturer, Mod: profile.model, Lang: profile.language, OEM: profile.manufacturer, FwV: profile.firmware, HwV: profile.firmware, SwV: profile.osVersion },
      ...(refusal || options.unenrollStatus !== undefined
        ? {
            statusFor: (command) => {
              if (command.verb === 'Exec' && /\/DMClient\/Provider\/[^/]+\/Unenroll$/i.test(command.locUri)) return options.unenrollStatus ?? '200';
              return (command.verb === 'Add' || command.verb === 'Replace') && refusal?.refuses(command.locUri) ? refusal.status : '200';
            },
          }
        : {}),
    });
    this.simulator.nodes.set('./Vendor/MSFT/DeviceStatus/OS/Edition', { format: 'int', value: String(profile.osEdition) });
    this.simulator.nodes.set('./Vendor/MSFT/DeviceStatus/Battery/EstimatedChargeRemaining', { format: 'int', value: String(profile.batteryPercent) });
  }

  /** The OMA-DM DevId. */
  get id(): string {
    return this.profile.devId;
  }

  /** The device's DM tree, by LocURI (what the server's settings did to it). */
  get nodes(): ReadonlyMap<string, NodeValue> {
    return this.simulator.nodes;
  }

  private async freshToken(): Promise<void> {
    this.simulator.useToken(
      await this.tokens.get({ tenantId: this.tenantId, upn: this.upn, deviceId: this.profile.entraDeviceId, ...(this.groups === undefined ? {} : { groups: this.groups }) }),
    );
  }

  /** MAM enrollment (the work account added on the device). Throws EnrollmentRefusedError with the server's fault. */
  async enroll(): Promise<void> {
    await this.freshToken();
    await this.simulator.enroll({
      DeviceName: this.profile.deviceName,
      OSVersion: this.profile.osVersion,
      ApplicationVersion: this.profile.osVersion,
      Locale: this.profile.language,
      OSEdition: String(this.profile.osEdition),
      HWDevID: `${this.profile.devId}${this.profile.devId}`,
    });
    this.enrolled = true;
  }

  /** One OMA-DM session now: what the server sent, and how the device answered. Throws NotEnrolledError once the server unenrolled it. */
  async sync(): Promise<SyncResult> {
    await this.freshToken();
    const transcript = await this.simulator.sync();
    const last = transcript.messages.at(-1);
    if (last && last.status !== 200) {
      throw tryLaterOf(last, `OMA-DM session of ${this.profile.deviceName}`) ?? new Error(`OMA-DM session of ${this.profile.deviceName}: HTTP ${last.status} ${last.response.slice(0, 300)}`);
    }
    const commands = transcript.commands.filter((c) => ITEM_VERBS.has(c.verb)).map(applied);
    const result: SyncResult = {
      sessionId: transcript.sessionId,
      headerStatus: transcript.headerStatus,
      commands,
      failed: commands.filter((c) => !/^2\d\d$/.test(c.status)),
      messages: transcript.messages.length,
    };
    if (!/^2\d\d$/.test(result.headerStatus)) throw new Error(`OMA-DM session of ${this.profile.deviceName}: the server answered SyncHdr ${result.headerStatus}`);
    if (this.simulator.unenrolledByServer) this.enrolled = false; // the work account is gone
    this.syncs++;
    this.lastSync = result;
    this.lastSyncAt = Date.now();
    return result;
  }

  close(): void {
    this.simulator.close();
    this.attestation?.close();
  }
}

function applied(command: TranscriptCommand): AppliedCommand {
  return { verb: command.verb, locUri: command.locUri, status: command.statusSent, ...(command.data === undefined ? {} : { data: command.data }) };
}
