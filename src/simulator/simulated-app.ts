import { MamClient, MemoryStorage, SDK_VERSION, WipedError, type AccessState, type CheckInResult, type MamAction } from '../../packages/client/src/index.ts';
import { HttpsTransport } from './https.ts';
import type { DeviceProfile } from './inventory.ts';
import { claimOf, TokenCache, type TokenSource } from './tokens.ts';

/**
 * One simulated managed app (built on the real SDK, `@openmam/client`) for one user on one device: it registers,
 * checks in, carries out selective wipes and reports them succeeded, exactly as an app integrating the SDK does.
 */

/** A managed app as the tenant's catalogue knows it: its Windows app id and the Entra client its tokens come from. */
export interface CatalogueApp {
  displayName: string;
  windowsAppId: string;
  clientId: string;
  /** The version a current install runs. */
  version: string;
}

/** Microsoft Edge: built into every tenant's catalogue (client id of Intune's Windows MAM docs, protect-mam-windows). */
export const MICROSOFT_EDGE: CatalogueApp = {
  displayName: 'Microsoft Edge',
  windowsAppId: 'com.microsoft.edge',
  clientId: 'ecd6b820-32c2-49b6-98a6-444530e5a77a',
  version: '134.0.3124.85',
};

/**
 * Line-of-business apps of the demo tenant (fictitious Contoso apps with fixed client ids), added to the catalogue by
 * `prepareDemoTenant` so that a fleet runs more than one app per device.
 */
export const CONTOSO_APPS: readonly CatalogueApp[] = [
  { displayName: 'Contoso Expenses', windowsAppId: 'com.contoso.expenses', clientId: '6f0a7c51-2b1e-4d8a-9c33-51a0e7d2b101', version: '3.8.2' },
  { displayName: 'Contoso Notes', windowsAppId: 'com.contoso.notes', clientId: '6f0a7c51-2b1e-4d8a-9c33-51a0e7d2b102', version: '5.1.0' },
  { displayName: 'Contoso Field Service', windowsAppId: 'com.contoso.fieldservice', clientId: '6f0a7c51-2b1e-4d8a-9c33-51a0e7d2b103', version: '2.14.7' },
];

export interface SimulatedAppOptions {
  serverUrl: string;
  ca?: string;
  tenantId: string;
  tokens: TokenSource | TokenCache;
  upn: string;
  app: CatalogueApp;
  /** The device it runs on: its tag, Entra device id, Windows version, name and model. */
  device: Pick<DeviceProfile, 'deviceTag' | 'entraDeviceId' | 'osVersion' | 'deviceName' | 'model' | 'manufacturer'> & Partial<Pick<DeviceProfile, 'ipAddress'>>;
  /** The version this install runs (default: the app's current version); an old one fails a minimum-version check. */
  appVersion?: string;
  /** The SDK version the app is built with (default: the SDK's own). */
  sdkVersion?: string;
  /** The user's group object ids, in the `groups` claim of the user's tokens. */
  groups?: readonly string[];
  /** Share one keep-alive agent between many apps (default: the app's own, closed by stop()). */
  transport?: HttpsTransport;
}

/** What a check-in did: the server's compliance state, the actions it sent, and the wipes carried out. */
export interface AppCheckIn {
  complianceState: CheckInResult['complianceState'] | 'wiped';
  /** When the server wants the next check-in (0 after a wipe). */
  nextCheckInSeconds: number;
  actions: MamAction[];
  accessState: AccessState;
  /** Selective wipes carried out (and reported succeeded) during this check-in. */
  wipes: number;
}

export class SimulatedApp {
  /** `<device name>/<windows app id>`: unique in a simulation. */
  readonly id: string;
  readonly upn: string;
  readonly app: CatalogueApp;
  readonly device: SimulatedAppOptions['device'];
  readonly appVersion: string;
  private readonly client: MamClient;
  private readonly tokens: TokenCache;
  private readonly tenantId: string;
  private readonly groups: readonly string[] | undefined;
  private readonly ownTransport: HttpsTransport | undefined;
  private wipesDuringCall = 0;
  /** The user's Entra object id, known once a token was minted. */
  userId: string | undefined;
  checkIns = 0;
  wipes = 0;
  lastCheckInAt: number | undefined;
  lastResult: AppCheckIn | undefined;

  constructor(options: SimulatedAppOptions) {
    this.id = `${options.device.deviceName}/${options.app.windowsAppId}`;
    this.upn = options.upn;
    this.app = options.app;
    this.device = options.device;
    this.appVersion = options.appVersion ?? options.app.version;
    this.tenantId = options.tenantId;
    this.groups = options.groups;
    this.tokens = TokenCache.of(options.tokens);
    this.ownTransport = options.transport === undefined ? new HttpsTransport(options.ca) : undefined;
    const transport = options.transport ?? this.ownTransport!;
    this.client = new MamClient({
      serverUrl: options.serverUrl,
      getToken: () => this.token(),
      app: { appId: options.app.windowsAppId, appVersion: this.appVersion, sdkVersion: options.sdkVersion ?? SDK_VERSION },
      device: {
        osVersion: options.device.osVersion,
        deviceName: options.device.deviceName,
        deviceModel: options.device.model,
        deviceManufacturer: options.device.manufacturer,
        deviceTag: options.device.deviceTag,
        azureAdDeviceId: options.device.entraDeviceId,
      },
      storage: new MemoryStorage(),
      fetch: transport.fetch,
    });
    // The org data of a simulated app is nothing but a counter: removing it always succeeds.
    this.client.onWipe(() => {
      this.wipesDuringCall++;
      this.wipes++;
    });
  }

  /** A token as the app gets it from Entra on this device: the user's, for OpenMAM, through the app's own client. */
  private async token(audience?: string): Promise<string> {
    const token = await this.tokens.get({
      tenantId: this.tenantId,
      upn: this.upn,
      clientId: this.app.clientId,
      deviceId: this.device.entraDeviceId,
      ...(audience === undefined ? {} : { audience }),
      ...(this.groups === undefined ? {} : { groups: this.groups }),
    });
    this.userId ??= claimOf(token, 'oid');
    return token;
  }

  /** The user's token for a protected resource (what the app sends to it and a gateway passes on). */
  tokenFor(resource: string): Promise<string> {
    return this.token(resource);
  }

  get registrationId(): string | null {
    return this.client.registrationId;
  }

  get complianceState(): CheckInResult['complianceState'] | null {
    return this.client.complianceState;
  }

  accessState(): AccessState {
    return this.client.accessState();
  }

  /** Registers (at sign-in; again after a wipe). Throws the SDK's errors (WrongAccountError, MamHttpError...). */
  register(): Promise<AppCheckIn> {
    return this.run(() => this.client.register());
  }

  /** Checks in now (registering first when needed), carries out any wipe and reports it succeeded. */
  checkIn(): Promise<AppCheckIn> {
    return this.run(() => this.client.checkIn());
  }

  private async run(call: () => Promise<CheckInResult>): Promise<AppCheckIn> {
    this.wipesDuringCall = 0;
    let result: AppCheckIn;
    try {
      const answer = await call();
      result = { complianceState: answer.complianceState, nextCheckInSeconds: answer.nextCheckInSeconds, actions: answer.actions, accessState: answer.accessState, wipes: this.wipesDuringCall };
    } catch (error) {
      if (!(error instanceof WipedError)) throw error;
      result = { complianceState: 'wiped', nextCheckInSeconds: 0, actions: [], accessState: this.client.accessState(), wipes: this.wipesDuringCall };
    }
    this.checkIns++;
    this.lastCheckInAt = Date.now();
    this.lastResult = result;
    return result;
  }

  /** Wiped (the work account's data removed): the user must sign in again, `register()`. */
  get wiped(): boolean {
    return this.client.accessState().status === 'wiped';
  }

  /** The SDK's headers for a gateway: app id, registration id, device id. */
  accessHeaders(): Record<string, string> {
    return this.client.accessHeaders();
  }

  stop(): void {
    this.client.stop();
    this.ownTransport?.close();
  }
}
