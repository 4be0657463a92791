import { TryLaterError as SdkTryLaterError } from '../../packages/client/src/index.ts';
import { prepareDemoTenant, type DemoTenantReport } from './demo-tenant.ts';
import { TryLaterError } from './device-simulator.ts';
import { HttpsTransport } from './https.ts';
import { deviceProfile, userNames, type DeviceProfile } from './inventory.ts';
import { seededRandom, type Random } from './random.ts';
import { CONTOSO_APPS, MICROSOFT_EDGE, SimulatedApp, type AppCheckIn, type CatalogueApp } from './simulated-app.ts';
import { refuseSomeSettings, SimulatedDevice, type SyncResult } from './simulated-device.ts';
import { AccessGateway, EXCHANGE_ONLINE, ThreatConnector, type AccessResult, type ThreatLevel } from './services.ts';
import { TokenCache, type TokenSource } from './tokens.ts';

/**
 * A simulated fleet against a running server: Windows devices with a MAM work account (enrolled and synced over
 * OMA-DM), managed apps on them (the SDK: registration, check-ins, wipes), a threat defense connector whose reports
 * change now and then, and a gateway asking for access decisions, each on a schedule with jitter. `speed` compresses
 * time: at 60, an app's 30-minute check-in comes every 30 seconds. The CLI (`openmam simulate`) and the browser tests
 * drive it; tests may turn the schedule off and take every step themselves.
 */
export interface SimulationOptions {
  /** The server's public URL, e.g. https://localhost:8443. */
  serverUrl: string;
  /** The server's certificate (PEM) when it is not publicly trusted (the development server's self-signed one). */
  ca?: string;
  tenantId: string;
  /** Mints the tokens of users, apps and services (see tokens.ts). */
  tokens: TokenSource;
  /** Devices enrolled over OMA-DM (default 0). */
  devices?: number;
  /** Managed apps (default 0), spread over the devices, a different app of `catalogue` on each device of a user. */
  apps?: number;
  /** The users, one per device, in order (default: generated first.last@domain names). */
  users?: readonly string[];
  /** Group object ids every simulated user is a member of (the `groups` claim of their tokens). */
  groups?: readonly string[];
  /** Domain of generated user names (default contoso.example). */
  domain?: string;
  /** The apps to run (default Microsoft Edge, plus the Contoso apps when `setup`). */
  catalogue?: readonly CatalogueApp[];
  /** Prepare the demo tenant first (prepareDemoTenant, with an OpenMAM.Admin token). Default false. */
  setup?: boolean;
  /** Same seed, same fleet (default 1). */
  seed?: number;
  /** Simulated seconds per real second (default 60). */
  speed?: number;
  /** Run the schedule (default true); false: nothing happens but what the caller asks (tests). */
  schedule?: boolean;
  /** Make trouble: devices refusing settings, old app versions, changing threat levels (default true). */
  failures?: boolean;
  /** The protected resource of access decisions (default Exchange Online's app id). */
  resource?: string;
  onEvent?: (event: SimulationEvent) => void;
}

export interface SimulationEvent {
  at: number;
  kind: 'setup' | 'enrolled' | 'sync' | 'registered' | 'checkIn' | 'wipe' | 'threat' | 'access' | 'error';
  /** The device name, app id (`<device name>/<windows app id>`) or service. */
  subject: string;
  detail: string;
}

export interface SimulationStats {
  devicesEnrolled: number;
  syncs: number;
  settingsApplied: number;
  settingsRefused: number;
  appsRegistered: number;
  checkIns: number;
  compliant: number;
  notCompliant: number;
  wipes: number;
  threatReports: number;
  accessAllowed: number;
  accessDenied: number;
  errors: number;
}

export interface Simulation {
  readonly tenantId: string;
  readonly devices: readonly SimulatedDevice[];
  readonly apps: readonly SimulatedApp[];
  readonly stats: Readonly<SimulationStats>;
  /** What `setup` created (undefined without setup). */
  readonly setup: DemoTenantReport | undefined;
  /** An OMA-DM session of the device now (by DevId, Entra device id or device name). */
  syncDevice(id: string): Promise<SyncResult>;
  /** A check-in of the app now (by app id, registration id); wipes are carried out and reported. */
  checkInApp(id: string): Promise<AppCheckIn>;
  /** The connector reports `level` for a device (by any of its ids, or an app on it): one report per app registered there; answers how many. */
  reportThreat(deviceOrAppId: string, level: ThreatLevel): Promise<number>;
  /** The decision a gateway in front of `resource` (default: the simulation's) gets for this app. */
  evaluateAccess(appId: string, resource?: string): Promise<AccessResult>;
  /** Stops the schedule, waits for what is under way, closes connections. */
  stop(): Promise<void>;
}

/**
 * When a device or app the server asked to come back later (503 or 429 with Retry-After) tries again, in real
 * milliseconds (the server's clock, not the simulation's `speed`): no sooner than asked, spread over up to half as long
 * again so that the clients refused together do not return together. Undefined for any other failure.
 */
export function retryLaterMs(error: unknown, random: Random): number | undefined {
  if (!(error instanceof TryLaterError) && !(error instanceof SdkTryLaterError)) return undefined;
  return error.retryAfterSeconds * 1000 * (1 + 0.5 * random.next());
}

/** A Windows MAM device's check-in interval in the simulation (simulated seconds). */
export const DEVICE_SYNC_SECONDS = 3600;
/** How often the connector's view of the fleet may change (simulated seconds). */
export const THREAT_TICK_SECONDS = 600;
const MIN_DELAY_MS = 250;

interface Machine {
  profile: DeviceProfile;
  upn: string;
  device: SimulatedDevice | undefined;
  apps: SimulatedApp[];
  threat: ThreatLevel;
}

/** A device profile from a seed: for a test that enrolls one device or runs one app of its own. */
export function randomDeviceProfile(seed = Date.now()): DeviceProfile {
  return deviceProfile(seededRandom(seed));
}

export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const serverUrl = options.serverUrl.replace(/\/+$/, '');
  const random = seededRandom(options.seed ?? 1);
  const speed = options.speed ?? 60;
  if (!(speed > 0)) throw new RangeError('speed must be greater than 0');
  const failures = options.failures ?? true;
  const resource = options.resource ?? EXCHANGE_ONLINE.appId;
  const transport = new HttpsTransport(options.ca);
  const tokens = new TokenCache(options.tokens);
  const tenantId = options.tenantId;
  const stats: SimulationStats = { devicesEnrolled: 0, syncs: 0, settingsApplied: 0, settingsRefused: 0, appsRegistered: 0, checkIns: 0, compliant: 0, notCompliant: 0, wipes: 0, threatReports: 0, accessAllowed: 0, accessDenied: 0, errors: 0 };
  const emit = (kind: SimulationEvent['kind'], subject: string, detail: string): void => options.onEvent?.({ at: Date.now(), kind, subject, detail });
  const failed = (subject: string, error: unknown): void => {
    stats.errors++;
    emit('error', subject, error instanceof Error ? error.message : String(error));
  };

  let setup: DemoTenantReport | undefined;
  if (options.setup) {
    try {
      setup = await prepareDemoTenant(serverUrl, transport, await tokens.get({ tenantId, upn: 'simulator-admin@openmam.local', roles: ['OpenMAM.Admin'] }));
    } catch (error) {
      transport.close();
      throw error;
    }
    emit('setup', 'tenant', setup.created.length === 0 ? 'demo objects already there' : `created ${setup.created.join(', ')}`);
  }

  const catalogue = options.catalogue ?? (options.setup ? [MICROSOFT_EDGE, ...CONTOSO_APPS] : [MICROSOFT_EDGE]);
  const deviceCount = options.devices ?? 0;
  const appCount = options.apps ?? 0;
  const machineCount = Math.max(deviceCount, Math.ceil(appCount / catalogue.length));
  const upns = [...(options.users ?? []), ...userNames(random, Math.max(0, machineCount - (options.users?.length ?? 0)), options.domain ?? 'contoso.example')];
  const common = { serverUrl, ...(options.ca === undefined ? {} : { ca: options.ca }), ...(options.groups === undefined ? {} : { groups: options.groups }), tenantId, tokens, transport };

  const machines: Machine[] = [];
  for (let i = 0; i < machineCount; i++) {
    const profile = deviceProfile(random);
    const upn = upns[i]!;
    // One device in five (the third, the eighth...) refuses some settings: command failed (500) or not allowed (405).
    const refuse = failures && i % 5 === 2 ? refuseSomeSettings(profile.devId, i % 2 === 0 ? '500' : '405') : undefined;
    const device = i < deviceCount ? new SimulatedDevice({ ...common, upn, profile, ...(refuse ? { refuse } : {}) }) : undefined;
    machines.push({ profile, upn, device, apps: [], threat: 'secured' });
  }
  for (let j = 0; j < appCount; j++) {
    const machine = machines[j % machineCount]!;
    const app = catalogue[Math.floor(j / machineCount)]!;
    // One install in ten lags a version behind, as real fleets do.
    const appVersion = failures && random.chance(0.1) ? olderVersion(app.version) : app.version;
    machine.apps.push(new SimulatedApp({ ...common, upn: machine.upn, app, device: machine.profile, appVersion }));
  }
  const devices = machines.flatMap((m) => (m.device ? [m.device] : []));
  const apps = machines.flatMap((m) => m.apps);
  const connector = new ThreatConnector({ serverUrl, tenantId, tokens, transport });
  const gateway = new AccessGateway({ serverUrl, tenantId, tokens, transport });

  // ---- the steps, each counted and reported

  const syncDevice = async (device: SimulatedDevice): Promise<SyncResult> => {
    if (!device.enrolled) {
      await device.enroll();
      stats.devicesEnrolled++;
      emit('enrolled', device.profile.deviceName, `${device.upn}, ${device.profile.manufacturer} ${device.profile.model}, ${device.profile.osName} (${device.profile.osVersion})`);
    }
    const result = await device.sync();
    stats.syncs++;
    stats.settingsApplied += result.commands.length - result.failed.length;
    stats.settingsRefused += result.failed.length;
    emit('sync', device.profile.deviceName, `${result.commands.length} commands${result.failed.length > 0 ? `, ${result.failed.length} refused (${[...new Set(result.failed.map((c) => c.status))].join(', ')})` : ''}`);
    return result;
  };

  const checkInApp = async (app: SimulatedApp): Promise<AppCheckIn> => {
    const first = app.registrationId === null || app.wiped;
    const result = first ? await app.register() : await app.checkIn();
    if (first) {
      stats.appsRegistered++;
      emit('registered', app.id, `${app.upn}, ${app.app.displayName} ${app.appVersion}`);
    } else {
      stats.checkIns++;
    }
    if (result.complianceState === 'compliant') stats.compliant++;
    else if (result.complianceState === 'notCompliant') stats.notCompliant++;
    if (result.wipes > 0) {
      stats.wipes += result.wipes;
      emit('wipe', app.id, 'selective wipe carried out, reported succeeded');
    }
    if (!first) emit('checkIn', app.id, `${result.complianceState}${result.actions.length > 0 ? ` (${result.actions.map((a) => `${a.type}: ${a.reason}`).join(', ')})` : ''}`);
    return result;
  };

  const reportThreat = async (machine: Machine, level: ThreatLevel): Promise<number> => {
    let reports = 0;
    for (const app of machine.apps) {
      if (app.registrationId === null) continue;
      await connector.report(app, level);
      reports++;
    }
    machine.threat = level;
    stats.threatReports += reports;
    if (reports > 0) emit('threat', machine.profile.deviceName, level);
    return reports;
  };

  const evaluateAccess = async (app: SimulatedApp, target = resource): Promise<AccessResult> => {
    const decision = await gateway.evaluate(app, target);
    if (decision.decision === 'allow') stats.accessAllowed++;
    else stats.accessDenied++;
    emit('access', app.id, `${decision.decision}${decision.reasons.length > 0 ? ` (${decision.reasons.join(', ')})` : ''}`);
    return decision;
  };

  // ---- looking things up

  const machineOf = (id: string): Machine => {
    const wanted = id.toLowerCase();
    const machine = machines.find(
      (m) =>
        [m.profile.devId, m.profile.entraDeviceId, m.profile.deviceName, m.profile.deviceTag].some((value) => value.toLowerCase() === wanted) ||
        m.apps.some((a) => a.id.toLowerCase() === wanted || a.registrationId?.toLowerCase() === wanted),
    );
    if (!machine) throw new Error(`no simulated device or app ${id}`);
    return machine;
  };
  const appOf = (id: string): SimulatedApp => {
    const wanted = id.toLowerCase();
    const app = apps.find((a) => a.id.toLowerCase() === wanted || a.registrationId?.toLowerCase() === wanted);
    if (!app) throw new Error(`no simulated app ${id}`);
    return app;
  };

  // ---- the schedule

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.then(
      () => running.delete(work),
      () => running.delete(work),
    );
    return work;
  };
  const later = (delayMs: number, task: () => Promise<void>): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) void track(task());
    }, Math.max(MIN_DELAY_MS, delayMs));
    timers.add(timer);
  };
  /** `seconds` of simulated time in real milliseconds, give or take 20%. */
  const jittered = (seconds: number, rng: Random): number => ((seconds * 1000) / speed) * (0.8 + 0.4 * rng.next());

  const deviceLoop = (device: SimulatedDevice) => async (): Promise<void> => {
    let retryAfterMs: number | undefined;
    await syncDevice(device).catch((error: unknown) => {
      retryAfterMs = retryLaterMs(error, random);
      failed(device.profile.deviceName, error);
    });
    later(retryAfterMs ?? jittered(DEVICE_SYNC_SECONDS, random), deviceLoop(device));
  };
  const appLoop = (app: SimulatedApp) => async (): Promise<void> => {
    let next = 1800;
    try {
      const result = await checkInApp(app);
      // After a wipe the user signs in again a while later; otherwise the server's schedule.
      next = result.complianceState === 'wiped' || app.wiped ? 900 : result.nextCheckInSeconds;
      if (random.chance(0.6) && !app.wiped) await evaluateAccess(app);
    } catch (error) {
      failed(app.id, error);
      const retryAfterMs = retryLaterMs(error, random);
      if (retryAfterMs !== undefined) return later(retryAfterMs, appLoop(app));
    }
    later(jittered(next, random), appLoop(app));
  };
  const threatLoop = async (): Promise<void> => {
    const candidates = machines.filter((m) => m.apps.some((a) => a.registrationId !== null));
    if (candidates.length > 0) {
      const machine = random.pick(candidates);
      const level: ThreatLevel =
        machine.threat === 'secured' ? random.weighted<ThreatLevel>([['low', 5], ['medium', 3], ['high', 2]]) : random.chance(0.6) ? 'secured' : machine.threat;
      if (level !== machine.threat) await reportThreat(machine, level).catch((error: unknown) => failed(machine.profile.deviceName, error));
    }
    later(jittered(THREAT_TICK_SECONDS, random), threatLoop);
  };

  if (options.schedule ?? true) {
    // Everyone starts within the first simulated device interval, a few at a time, as a fleet switching on.
    const startWindowMs = Math.min(10_000, (DEVICE_SYNC_SECONDS * 1000) / speed);
    devices.forEach((device, i) => later((startWindowMs * i) / Math.max(1, devices.length) + random.int(500), deviceLoop(device)));
    apps.forEach((app, i) => later((startWindowMs * i) / Math.max(1, apps.length) + random.int(500), appLoop(app)));
    if (failures) later(startWindowMs + jittered(THREAT_TICK_SECONDS, random), threatLoop);
  }

  return {
    tenantId,
    devices,
    apps,
    stats,
    setup,
    syncDevice: (id) => {
      const device = machineOf(id).device;
      if (!device) return Promise.reject(new Error(`${id} runs apps only: it is not enrolled over OMA-DM`));
      return track(syncDevice(device));
    },
    checkInApp: (id) => track(checkInApp(appOf(id))),
    reportThreat: (id, level) => track(reportThreat(machineOf(id), level)),
    evaluateAccess: (id, target) => track(evaluateAccess(appOf(id), target)),
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
      for (const app of apps) app.stop();
      for (const device of devices) device.close();
      transport.close();
    },
  };
}

/** The previous minor release of a dotted version (3.8.2 -> 3.7.0), for installs that lag behind. */
function olderVersion(version: string): string {
  const [major = '1', minor = '0'] = version.split('.');
  const m = Number(minor);
  return m > 0 ? `${major}.${m - 1}.0` : `${Math.max(0, Number(major) - 1)}.9.0`;
}
