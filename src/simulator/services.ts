import { errorText, HttpsTransport } from './https.ts';
import type { SimulatedApp } from './simulated-app.ts';
import { TokenCache, type TokenSource } from './tokens.ts';

/**
 * The services beside the apps, as the simulator plays them: a threat defense connector reporting device threat
 * levels (`/mtd/v1/health`, app role OpenMAM.ThreatConnector) and a gateway asking for access decisions
 * (`/access/v1/evaluate`, app role OpenMAM.Gateway); see docs/app-protection.md. Their tokens are app-only.
 */
export type ThreatLevel = 'secured' | 'low' | 'medium' | 'high';
export const THREAT_LEVELS: readonly ThreatLevel[] = ['secured', 'low', 'medium', 'high'];

/** Exchange Online: the protected resource of the demo tenant (its application id and identifier URI). */
export const EXCHANGE_ONLINE = { displayName: 'Exchange Online', appId: '00000002-0000-0ff1-ce00-000000000000', uri: 'https://outlook.office365.com' } as const;

export interface AccessResult {
  decision: 'allow' | 'deny';
  reasons: string[];
  remediation?: { title: string; message: string };
}

export interface ServiceOptions {
  serverUrl: string;
  tenantId: string;
  tokens: TokenSource | TokenCache;
  /** The server's certificate (PEM) when it is not publicly trusted; unused when `transport` is given. */
  ca?: string;
  /** Share one keep-alive agent (default: the service's own, closed by close()). */
  transport?: HttpsTransport;
}

/** What both services hold: their tokens (app-only, with their role) and their connection. */
abstract class Service {
  protected readonly serverUrl: string;
  protected readonly tenantId: string;
  protected readonly tokens: TokenCache;
  protected readonly transport: HttpsTransport;
  private readonly ownsTransport: boolean;

  constructor(options: ServiceOptions) {
    this.serverUrl = options.serverUrl.replace(/\/+$/, '');
    this.tenantId = options.tenantId;
    this.tokens = TokenCache.of(options.tokens);
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport ?? new HttpsTransport(options.ca);
  }

  close(): void {
    if (this.ownsTransport) this.transport.close();
  }
}

export class ThreatConnector extends Service {
  /**
   * Reports the threat level of the device an app runs on, for that app's user. 204 expected; 404 when the user has
   * no registration in the tenant (not registered yet), 409 when no connector is enabled.
   */
  async report(app: SimulatedApp, level: ThreatLevel): Promise<void> {
    if (app.userId === undefined) throw new Error(`${app.app.displayName} on ${app.device.deviceName} has not signed in yet`);
    const token = await this.tokens.get({ tenantId: this.tenantId, roles: ['OpenMAM.ThreatConnector'] });
    const answer = await this.transport.json('POST', `${this.serverUrl}/mtd/v1/health`, token, {
      userId: app.userId,
      appId: app.app.windowsAppId,
      azureAdDeviceId: app.device.entraDeviceId,
      healthState: level,
      lastUpdatedDateTime: new Date().toISOString(),
    });
    if (answer.status !== 204) throw new Error(`threat report for ${app.device.deviceName}: ${errorText(answer)}`);
  }
}

export class AccessGateway extends Service {
  /**
   * The decision a gateway in front of `resource` asks for when the app calls it: the user's token for the resource
   * (through the app's client, on its device) and the SDK's claims (registration, app and device ids).
   */
  async evaluate(app: SimulatedApp, resource: string): Promise<AccessResult> {
    const [token, userToken] = await Promise.all([this.tokens.get({ tenantId: this.tenantId, roles: ['OpenMAM.Gateway'] }), app.tokenFor(resource)]);
    const headers = app.accessHeaders();
    const answer = await this.transport.json('POST', `${this.serverUrl}/access/v1/evaluate`, token, {
      userToken,
      resource,
      ...(headers['X-OpenMAM-Registration-Id'] ? { registrationId: headers['X-OpenMAM-Registration-Id'] } : {}),
      appId: app.app.windowsAppId,
      azureAdDeviceId: app.device.entraDeviceId,
      ...(app.device.ipAddress === undefined ? {} : { ipAddress: app.device.ipAddress }),
    });
    if (answer.status !== 200) throw new Error(`access decision for ${app.app.displayName} on ${app.device.deviceName}: ${errorText(answer)}`);
    return answer.body as unknown as AccessResult;
  }
}
