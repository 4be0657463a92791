import {
  AccessGateway, HttpsTransport, SimulatedApp, SimulatedDevice, ThreatConnector, TokenCache, MICROSOFT_EDGE, WINDOWS_BUILDS, randomDeviceProfile,
  type AccessResult, type DeviceProfile, type ThreatLevel, type TokenRequest,
} from '../../src/simulator/index.ts';
import type { TestServer } from '../support/server.ts';

export { EXCHANGE_ONLINE, MICROSOFT_EDGE } from '../../src/simulator/index.ts';
export type { SimulatedApp } from '../../src/simulator/index.ts';

/**
 * The simulated fleet the console's scenarios act on, from the simulator library (`openmam simulate`'s): Microsoft
 * Edge on the real SDK (@openmam/client), Windows devices over MS-MDE2 and OMA-DM, the threat defense connector and a
 * gateway asking for access decisions, all over HTTPS against the test server, with tokens minted by its built-in
 * identity provider.
 */
export class Fleet {
  private readonly transport: HttpsTransport;
  private readonly tokens: TokenCache;
  private readonly threats: ThreatConnector;
  private readonly gateway: AccessGateway;
  private readonly apps: SimulatedApp[] = [];
  private readonly devices: SimulatedDevice[] = [];

  constructor(private readonly server: TestServer) {
    this.transport = new HttpsTransport(server.ca);
    // Only what the request names: an absent audience is OpenMAM's own (the server's default), never `undefined`.
    this.tokens = new TokenCache((request: TokenRequest) => server.mint(Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined))));
    const services = { serverUrl: server.url, tenantId: server.tenantId, tokens: this.tokens, transport: this.transport };
    this.threats = new ThreatConnector(services);
    this.gateway = new AccessGateway(services);
  }

  /**
   * A Windows device of the simulator's realistic mix, named `deviceName`, on the newest build the simulator knows
   * (the scenarios' Level 2 policy blocks builds below its minimum, and the scenario is not about that).
   */
  static newDevice(deviceName: string): DeviceProfile {
    const [newest] = WINDOWS_BUILDS[0]!;
    return { ...randomDeviceProfile(), deviceName, osVersion: newest.version, osName: newest.name };
  }

  private options(upn: string) {
    return { serverUrl: this.server.url, tenantId: this.server.tenantId, tokens: this.tokens, transport: this.transport, upn };
  }

  /** Microsoft Edge, signed in with `upn`'s work account on `device`: registered before this resolves. */
  async startApp(upn: string, device: DeviceProfile): Promise<SimulatedApp> {
    const app = new SimulatedApp({ ...this.options(upn), app: MICROSOFT_EDGE, device });
    this.apps.push(app);
    await app.register();
    return app;
  }

  /** `device` MAM-enrolled with `upn`'s work account (not synced yet). */
  async enrollDevice(upn: string, device: DeviceProfile): Promise<SimulatedDevice> {
    const enrolled = new SimulatedDevice({ ...this.options(upn), profile: device });
    this.devices.push(enrolled);
    await enrolled.enroll();
    return enrolled;
  }

  reportThreat(app: SimulatedApp, level: ThreatLevel): Promise<void> {
    return this.threats.report(app, level);
  }

  evaluate(app: SimulatedApp, resource: string): Promise<AccessResult> {
    return this.gateway.evaluate(app, resource);
  }

  close(): void {
    for (const app of this.apps) app.stop();
    for (const device of this.devices) device.close();
    this.transport.close();
  }
}
