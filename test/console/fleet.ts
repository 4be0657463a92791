import { randomBytes, randomUUID } from 'node:crypto';
import { MamClient, MemoryStorage, type CheckInResult } from '../../packages/client/src/index.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { fetchTrusting } from '../support/fetch-trusting.ts';
import type { TestServer } from '../support/server.ts';

/**
 * The simulated fleet the console's scenarios act on: managed apps on the real SDK (@openmam/client) and Windows
 * devices over MS-MDE2 and OMA-DM, against the test server over HTTPS, with the threat defense connector and a
 * gateway's access decisions beside them. Shaped as the simulator library's (src/simulator) apps, devices and
 * services, so the scenarios read the same whichever drives them.
 */
export type ThreatLevel = 'secured' | 'low' | 'medium' | 'high';

/** Microsoft Edge as every tenant's built-in catalogue has it (src/core/app-protection/app-catalogue.ts). */
export const MICROSOFT_EDGE = { displayName: 'Microsoft Edge', windowsAppId: 'com.microsoft.edge', clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a', version: '134.0.3124.85' } as const;

/** Exchange Online: the protected resource of the scenarios (application id and identifier URI). */
export const EXCHANGE_ONLINE = { displayName: 'Exchange Online', appId: '00000002-0000-0ff1-ce00-000000000000', uri: 'https://outlook.office365.com' } as const;

export interface DeviceIdentity {
  deviceName: string;
  deviceTag: string;
  entraDeviceId: string;
  osVersion: string;
  devId: string;
}

function deviceIdentity(deviceName: string): DeviceIdentity {
  return { deviceName, deviceTag: randomUUID(), entraDeviceId: randomUUID(), osVersion: '10.0.26100.3476', devId: randomBytes(16).toString('hex').toUpperCase() };
}

export class SimulatedApp {
  readonly client: MamClient;
  userId: string | undefined;

  constructor(
    private readonly server: TestServer,
    readonly upn: string,
    readonly device: DeviceIdentity,
  ) {
    this.client = new MamClient({
      serverUrl: server.url,
      getToken: () => this.token(),
      app: { appId: MICROSOFT_EDGE.windowsAppId, appVersion: MICROSOFT_EDGE.version, sdkVersion: '1.0.0' },
      device: { osVersion: device.osVersion, deviceName: device.deviceName, deviceModel: 'Surface Laptop 6', deviceManufacturer: 'Microsoft Corporation', deviceTag: device.deviceTag, azureAdDeviceId: device.entraDeviceId },
      storage: new MemoryStorage(),
      fetch: fetchTrusting(server.ca),
    });
    // The simulated app's organisation data is nothing: removing it always succeeds.
    this.client.onWipe(() => undefined);
  }

  /** The user's token through Edge's own client on this device, for OpenMAM or for a resource. */
  async token(audience?: string): Promise<string> {
    const token = await this.server.mint({ upn: this.upn, clientId: MICROSOFT_EDGE.clientId, deviceId: this.device.entraDeviceId, ...(audience === undefined ? {} : { audience }) });
    this.userId ??= JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).oid as string;
    return token;
  }

  get complianceState(): CheckInResult['complianceState'] | null {
    return this.client.complianceState;
  }

  register(): Promise<CheckInResult> {
    return this.client.register();
  }

  /** Checks in now, carrying out (and reporting succeeded) any wipe. */
  checkIn(): Promise<CheckInResult> {
    return this.client.checkIn();
  }

  stop(): void {
    this.client.stop();
  }
}

export class SimulatedDevice {
  readonly simulator: DeviceSimulator;
  private constructor(
    readonly upn: string,
    readonly device: DeviceIdentity,
    simulator: DeviceSimulator,
  ) {
    this.simulator = simulator;
  }

  static async enroll(server: TestServer, upn: string, device: DeviceIdentity): Promise<SimulatedDevice> {
    const token = await server.mint({ upn, deviceId: device.entraDeviceId });
    const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token, devId: device.devId, devInfo: { Man: 'Microsoft Corporation', Mod: 'Surface Laptop 6', SwV: device.osVersion } });
    await simulator.enroll({ DeviceName: device.deviceName, OSVersion: device.osVersion });
    return new SimulatedDevice(upn, device, simulator);
  }

  /** One OMA-DM session now. */
  async sync(): Promise<void> {
    const transcript = await this.simulator.sync();
    if (!/^2\d\d$/.test(transcript.headerStatus)) throw new Error(`OMA-DM session of ${this.device.deviceName}: SyncHdr ${transcript.headerStatus}`);
  }

  close(): void {
    this.simulator.close();
  }
}

/** The apps and devices of a scenario, with the threat connector and the gateway beside them. */
export class Fleet {
  private readonly apps: SimulatedApp[] = [];
  private readonly devices: SimulatedDevice[] = [];

  constructor(private readonly server: TestServer) {}

  static newDevice(deviceName: string): DeviceIdentity {
    return deviceIdentity(deviceName);
  }

  async startApp(upn: string, device: DeviceIdentity): Promise<SimulatedApp> {
    const app = new SimulatedApp(this.server, upn, device);
    this.apps.push(app);
    await app.register();
    return app;
  }

  async enrollDevice(upn: string, device: DeviceIdentity): Promise<SimulatedDevice> {
    const enrolled = await SimulatedDevice.enroll(this.server, upn, device);
    this.devices.push(enrolled);
    return enrolled;
  }

  /** The threat defense connector reports the level of the app's device (POST /mtd/v1/health, docs/app-protection.md). */
  async reportThreat(app: SimulatedApp, level: ThreatLevel): Promise<void> {
    const token = await this.server.mint({ roles: ['OpenMAM.ThreatConnector'] });
    const body = { userId: app.userId, appId: MICROSOFT_EDGE.windowsAppId, azureAdDeviceId: app.device.entraDeviceId, healthState: level, lastUpdatedDateTime: new Date().toISOString() };
    const answer = await this.server.json('POST', '/mtd/v1/health', token, body);
    if (answer.status !== 204) throw new Error(`threat report: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  /** A gateway in front of `resource` asks for the decision on the app's request (POST /access/v1/evaluate). */
  async evaluate(app: SimulatedApp, resource: string): Promise<{ decision: string; reasons: string[] }> {
    const token = await this.server.mint({ roles: ['OpenMAM.Gateway'] });
    const headers = app.client.accessHeaders();
    const answer = await this.server.json('POST', '/access/v1/evaluate', token, {
      userToken: await app.token(resource),
      resource,
      ...(headers['X-OpenMAM-Registration-Id'] === undefined ? {} : { registrationId: headers['X-OpenMAM-Registration-Id'] }),
      appId: MICROSOFT_EDGE.windowsAppId,
      azureAdDeviceId: app.device.entraDeviceId,
    });
    if (answer.status !== 200) throw new Error(`access decision: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as { decision: string; reasons: string[] };
  }

  close(): void {
    for (const app of this.apps) app.stop();
    for (const device of this.devices) device.close();
  }
}
