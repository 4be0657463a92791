import { backoffDelayMs, retryLaterDelayMs } from './backoff.ts';
import { parseIsoDuration, type ErrorBody } from '@openmam/contract';
import {
  AccountDisabledError,
  AccountMismatchError,
  isAccountDisabled,
  MamError,
  MamHttpError,
  MamNetworkError,
  NotOnboardedError,
  TryLaterError,
  WipedError,
  WrongAccountError,
} from './errors.ts';
import { evaluateHealthChecks } from './health.ts';
import { LOCAL_MESSAGES } from './messages.ts';
import { emptySnapshot, MemoryStorage, type MamSnapshot, type MamStorage, type WipeRecord } from './storage.ts';
import type {
  AccessState,
  ActionMessage,
  AppInfo,
  ComplianceState,
  ConfigurationDocument,
  DeviceInfo,
  HealthCheckFailure,
  MamAction,
  PolicyDocument,
} from './types.ts';

/**
 * The managed-app side of OpenMAM (`/mam/v1`): registers the app for the signed-in work account, checks in on the
 * server's schedule, holds the app protection policy and app configuration, carries out wipes and reports their
 * result, and decides locally whether the app may open the work account's data (offline grace period, version
 * checks, block actions), so the decision holds while the device is offline.
 *
 * One client is bound to one work account (the user of the tokens `getToken` returns): the policy it holds applies
 * to that account's data only. Personal data, and the data of other accounts, are the app's own business.
 */

/** Time and timers, injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time; timers are unref'd, so a scheduled check-in never keeps a Node process alive by itself. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface WipeContext {
  /** Why: the server action's reason (`adminWipe`, `offlineWipe`, `minimumWipeOsVersion`...), or `accountDisabled`. */
  reason: string;
  /** `server`: a wipe action from OpenMAM; `offline` / `accountDisabled`: decided on the device from the policy. */
  trigger: WipeRecord['trigger'];
  /** The server action's id; null for a wipe decided on the device. */
  actionId: string | null;
}

/** Removes the work account's data (and only it). Throw (or reject) when it could not. */
export type WipeHandler = (context: WipeContext) => unknown;

export interface MamClientOptions {
  /** OpenMAM's public URL, e.g. `https://mam.contoso.com`. */
  serverUrl: string;
  /** The work account's access token for OpenMAM (fresh: the client asks before every call). */
  getToken: () => Promise<string>;
  app: AppInfo;
  device: DeviceInfo;
  /** Where state survives restarts; default: memory only. See `JsonFileStorage` (`@openmam/client/json-file-storage`). */
  storage?: MamStorage;
  clock?: Clock;
  fetch?: typeof fetch;
  /** [0, 1) for back-off jitter; default Math.random. */
  random?: () => number;
  /** Per request; default 30 seconds. */
  requestTimeoutMs?: number;
  /** The policy changed (null: none applies any more). Apply its data protection settings to the work account's data. */
  onPolicy?: (policy: PolicyDocument | null) => unknown;
  /** The app configuration changed (null: none applies any more). */
  onConfiguration?: (configuration: ConfigurationDocument | null) => unknown;
  /** A new action arrived (wipe, block or warn), with the message to show. Wipes run through `onWipe` handlers. */
  onAction?: (action: MamAction) => unknown;
  /** `accessState()` changed: re-check what the UI shows. */
  onAccessStateChange?: (state: AccessState) => unknown;
  /** A background check-in or callback failed (the scheduler keeps going). */
  onError?: (error: unknown) => unknown;
}

export interface CheckInResult {
  registrationId: string;
  complianceState: ComplianceState;
  /** Every action of this answer (wipes already carried out). */
  actions: MamAction[];
  nextCheckInSeconds: number;
  policyChanged: boolean;
  configurationChanged: boolean;
  accessState: AccessState;
}

/** The server's answer to a registration or check-in (docs/app-protection.md). */
interface Answer {
  registrationId?: unknown;
  policy?: unknown;
  configuration?: unknown;
  actions?: unknown;
  complianceState?: unknown;
  nextCheckInSeconds?: unknown;
}

export const DEFAULT_OFFLINE_ACCESS_CHECK_MS = 720 * 60_000;
export const DEFAULT_OFFLINE_WIPE_MS = 90 * 86_400_000;
const DEFAULT_CHECKIN_SECONDS = 30 * 60;
const NOT_ONBOARDED_SECONDS = 24 * 60 * 60;
const MAX_HANDLED_WIPE_IDS = 64;

export class MamClient {
  private readonly options: MamClientOptions;
  private readonly serverUrl: string;
  private readonly clock: Clock;
  private readonly storage: MamStorage;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly timeoutMs: number;
  private readonly wipeHandlers = new Set<WipeHandler>();

  private state: MamSnapshot = emptySnapshot();
  private loading: Promise<void> | undefined;
  /** Operations run one at a time, in call order. */
  private tail: Promise<unknown> = Promise.resolve();

  private running = false;
  private timer: unknown = undefined;
  private nextAt: number | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private failures = 0;
  /** The latest attempt to reach OpenMAM failed (network, or a 5xx). */
  private unreachable = false;
  private wiping = false;
  private enforcementQueued = false;
  private announced = '';

  constructor(options: MamClientOptions) {
    for (const [name, value] of [
      ['serverUrl', options.serverUrl],
      ['app.appId', options.app?.appId],
      ['app.appVersion', options.app?.appVersion],
      ['app.sdkVersion', options.app?.sdkVersion],
      ['device.osVersion', options.device?.osVersion],
      ['device.deviceTag', options.device?.deviceTag],
    ] as const) {
      if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`MamClient: ${name} is required`);
    }
    if (typeof options.getToken !== 'function') throw new TypeError('MamClient: getToken is required');
    const url = new URL(options.serverUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('MamClient: serverUrl must be an http(s) URL');
    this.options = options;
    this.serverUrl = options.serverUrl.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.storage = options.storage ?? new MemoryStorage();
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.random = options.random ?? Math.random;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  // ---- what the app reads

  get registrationId(): string | null {
    return this.state.registrationId;
  }

  get policy(): PolicyDocument | null {
    return this.state.policy;
  }

  get configuration(): ConfigurationDocument | null {
    return this.state.configuration;
  }

  /** Epoch milliseconds of the last successful check-in (or registration). */
  get lastCheckInAt(): number | null {
    return this.state.lastCheckInAt;
  }

  get complianceState(): ComplianceState | null {
    return this.state.complianceState;
  }

  /** The work account this client is bound to (token `oid`, else `sub`), once a token was seen. */
  get accountId(): string | null {
    return this.state.accountId;
  }

  /** When the scheduler checks in next (epoch milliseconds); null when it is not running. */
  get nextCheckInAt(): number | null {
    return this.nextAt;
  }

  /** Reads the stored state (once). register/checkIn/start do it themselves; call it to read state before them. */
  load(): Promise<void> {
    this.loading ??= this.storage.load().then(
      (snapshot) => {
        if (snapshot !== undefined) this.state = snapshot;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  /**
   * Adds a wipe handler; returns its removal. On a wipe every handler runs (in parallel); the wipe succeeded when all
   * did. Handlers remove the work account's data only (org-tagged files, caches, tokens) and should be idempotent.
   */
  onWipe(handler: WipeHandler): () => void {
    this.wipeHandlers.add(handler);
    return () => {
      this.wipeHandlers.delete(handler);
    };
  }

  /** Headers for a gateway in front of org resources (`openmam gateway`): the app and its registration. */
  accessHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'X-OpenMAM-App-Id': this.options.app.appId };
    if (this.state.registrationId !== null) headers['X-OpenMAM-Registration-Id'] = this.state.registrationId;
    if (this.options.device.azureAdDeviceId) headers['X-OpenMAM-Device-Id'] = this.options.device.azureAdDeviceId;
    return headers;
  }

  // ---- registration and check-in

  /** Registers the app for the signed-in work account (at sign-in). Registering again answers the same registration. */
  register(): Promise<CheckInResult> {
    return this.exclusive(() => this.doRegister());
  }

  /** Checks in now (registers first when needed): reports versions and local health, applies what comes back. */
  checkIn(): Promise<CheckInResult> {
    return this.exclusive(() => this.doCheckIn());
  }

  /**
   * Checks in now and then on the server's schedule (`nextCheckInSeconds`: 30 minutes with a policy, 12 hours
   * without), backing off on failures (30 s doubling to 60 minutes, jittered), retrying after a day when the
   * organization does not use OpenMAM; stops on a wrong account or after a wipe. Resolves once state is loaded.
   */
  async start(): Promise<void> {
    await this.load();
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.cancelTimer();
  }

  /** Resolves when no operation or scheduled check-in is in progress (tests, orderly shutdown). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const tail = this.tail;
      const ticking = this.ticking;
      await tail;
      await ticking;
      if (tail === this.tail && ticking === this.ticking) return;
    }
  }

  /** Forgets everything stored (the user signed out of the work account). Does not wipe. */
  reset(): Promise<void> {
    this.stop();
    return this.exclusive(async () => {
      await this.storage.clear();
      this.state = emptySnapshot();
      this.announce();
    });
  }

  // ---- local decisions

  /** The policy's version checks (app, SDK, OS) against the running versions; failures are reported at the next check-in. */
  evaluateLocalHealth(): HealthCheckFailure[] {
    const policy = this.state.policy;
    if (policy === null) return [];
    return evaluateHealthChecks(policy.settings, {
      appVersion: this.options.app.appVersion,
      sdkVersion: this.options.app.sdkVersion,
      osVersion: this.options.device.osVersion,
    });
  }

  /** Whether the app may open the work account's data now. Gate every access to org data on it. */
  canAccessOrgData(): boolean {
    const { status } = this.accessState();
    return status === 'allowed' || status === 'warned' || status === 'unmanaged';
  }

  /**
   * Where the work account's data stands now, decided locally from the held policy and the last answer: wrong account,
   * wiped, not registered, blocked (failed wipe, disabled account, offline longer than periodOfflineBeforeAccessCheck,
   * block actions, failed version checks), warned, allowed. When the offline wipe period has passed (or a disabled
   * account's policy says wipe), this answers `wiped` at once and runs the wipe handlers in the background, once.
   */
  accessState(): AccessState {
    const now = this.clock.now();
    const due = this.localWipeDue(now);
    if (due !== null) this.queueEnforcement();
    const state = this.describe(now, due);
    this.announceState(state);
    return state;
  }

  /** As accessState(), but carries out a due local wipe before answering. */
  enforceLocalPolicy(): Promise<AccessState> {
    return this.exclusive(async () => {
      await this.enforceLocal();
      return this.announce();
    });
  }

  // ---- internals: operations

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      await this.load();
      return work();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async doRegister(known?: string): Promise<CheckInResult> {
    const token = known ?? (await this.authorise(true));
    const { app, device } = this.options;
    const body: Record<string, string> = {
      appId: app.appId,
      appVersion: app.appVersion,
      sdkVersion: app.sdkVersion,
      osVersion: device.osVersion,
      deviceTag: device.deviceTag,
    };
    for (const field of ['deviceName', 'deviceModel', 'deviceManufacturer', 'azureAdDeviceId'] as const) {
      const value = device[field];
      if (typeof value === 'string' && value !== '') body[field] = value;
    }
    let answer: Answer;
    try {
      answer = (await this.request('/mam/v1/registrations', body, token)) ?? {};
    } catch (error) {
      if (error instanceof WrongAccountError) {
        this.state.wrongAccount = { userMessage: error.userMessage, at: this.clock.now() };
        this.state.registrationId = null;
        await this.save();
      } else if (error instanceof NotOnboardedError) {
        this.state.notOnboardedAt = this.clock.now();
        await this.save();
      }
      throw error;
    }
    if (typeof answer.registrationId !== 'string' || answer.registrationId === '') throw new MamError('bad_answer', 'the registration answer has no registrationId');
    const s = this.state;
    s.registrationId = answer.registrationId;
    s.accountId = accountOfToken(token) ?? s.accountId;
    s.wrongAccount = null;
    s.notOnboardedAt = null;
    s.wipe = null;
    return this.applyAnswer(answer, token);
  }

  private async doCheckIn(): Promise<CheckInResult> {
    const s = this.state;
    if (s.registrationId === null) {
      if (s.wipe?.status === 'succeeded') {
        // Nothing to check in for any more; deliver what is owed, then say so.
        if (s.pendingResults.length > 0) await this.deliverResults(await this.authorise(false), true);
        throw new WipedError();
      }
      return this.doRegister();
    }
    const token = await this.authorise(false);
    await this.deliverResults(token, false);
    const failures = this.evaluateLocalHealth().filter((f) => f.action !== 'warn');
    const body = {
      appVersion: this.options.app.appVersion,
      sdkVersion: this.options.app.sdkVersion,
      osVersion: this.options.device.osVersion,
      policyVersion: s.policy?.version ?? null,
      configurationVersion: s.configuration?.version ?? null,
      healthCheckFailures: failures,
    };
    let answer: Answer;
    try {
      answer = (await this.request(`/mam/v1/registrations/${encodeURIComponent(s.registrationId)}/checkin`, body, token)) ?? {};
    } catch (error) {
      if (error instanceof MamHttpError && error.status === 404) {
        // The registration is gone: wiped on the server, or retired after a long silence.
        s.registrationId = null;
        s.actions = [];
        if (s.wipe?.status === 'succeeded') {
          await this.save();
          throw new WipedError();
        }
        return this.doRegister(token);
      }
      if (error instanceof NotOnboardedError) {
        s.notOnboardedAt = this.clock.now();
        await this.save();
      }
      throw error;
    }
    return this.applyAnswer(answer, token);
  }

  /** A token for the bound account. A disabled account applies the policy's appActionIfUnableToAuthenticateUser. */
  private async authorise(registering: boolean): Promise<string> {
    let token: string;
    try {
      token = await this.options.getToken();
    } catch (error) {
      if (isAccountDisabled(error)) {
        await this.accountDisabled();
        throw error instanceof MamError ? error : new AccountDisabledError(`getToken: ${describeError(error)}`, { cause: error });
      }
      throw new MamError('token_unavailable', `getToken failed: ${describeError(error)}`, { cause: error });
    }
    if (typeof token !== 'string' || token === '') throw new MamError('token_unavailable', 'getToken returned no token');
    const s = this.state;
    const account = accountOfToken(token);
    if (account !== null && s.accountId !== null && account !== s.accountId && !(registering && s.registrationId === null)) {
      throw new AccountMismatchError(s.accountId, account);
    }
    if (s.accountId === null && account !== null) s.accountId = account;
    if (s.accountDisabledAt !== null) {
      s.accountDisabledAt = null;
      await this.save();
    }
    return token;
  }

  private async accountDisabled(): Promise<void> {
    const s = this.state;
    s.accountDisabledAt ??= this.clock.now();
    await this.save();
    await this.enforceLocal();
    this.announce();
  }

  private async applyAnswer(answer: Answer, token: string): Promise<CheckInResult> {
    const s = this.state;
    const registrationId = s.registrationId!;
    const now = this.clock.now();
    s.lastCheckInAt = now;
    if (answer.complianceState === 'compliant' || answer.complianceState === 'notCompliant' || answer.complianceState === 'unknown') {
      s.complianceState = answer.complianceState;
    }

    let policyChanged = false;
    if (answer.policy !== undefined) {
      const policy = readPolicy(answer.policy);
      if ((policy?.version ?? null) !== (s.policy?.version ?? null)) {
        s.policy = policy;
        policyChanged = true;
      }
    }
    let configurationChanged = false;
    if (answer.configuration !== undefined) {
      const configuration = readConfiguration(answer.configuration);
      if ((configuration?.version ?? null) !== (s.configuration?.version ?? null)) {
        s.configuration = configuration;
        configurationChanged = true;
      }
    }
    const actions = Array.isArray(answer.actions) ? answer.actions.filter(isAction) : [];
    const shown = new Set(s.actions.map((a) => a.id));
    s.actions = actions.filter((a) => a.type !== 'wipe');
    const wipes = actions.filter((a) => a.type === 'wipe' && !s.handledWipeIds.includes(a.id));
    await this.save();

    if (policyChanged) this.notify(() => this.options.onPolicy?.(s.policy));
    if (configurationChanged) this.notify(() => this.options.onConfiguration?.(s.configuration));
    for (const action of actions) {
      const fresh = action.type === 'wipe' ? wipes.includes(action) : !shown.has(action.id);
      if (fresh) this.notify(() => this.options.onAction?.(action));
    }
    if (wipes.length > 0) await this.carryOutWipes(wipes, registrationId, token);

    const next = answer.nextCheckInSeconds;
    return {
      registrationId,
      complianceState: s.complianceState ?? 'unknown',
      actions,
      nextCheckInSeconds: typeof next === 'number' && Number.isFinite(next) && next > 0 ? next : DEFAULT_CHECKIN_SECONDS,
      policyChanged,
      configurationChanged,
      accessState: this.announce(),
    };
  }

  /** Wipe actions of one answer: the handlers run once for all of them, and each gets the result. */
  private async carryOutWipes(wipes: MamAction[], registrationId: string, token: string): Promise<void> {
    const s = this.state;
    const first = wipes[0]!;
    let outcome: { status: 'succeeded' | 'failed'; detail: string };
    if (s.wipe?.status === 'succeeded') {
      // Wiped on the device already (offline period, disabled account), and access was blocked since.
      outcome = { status: 'succeeded', detail: `already wiped on the device at ${new Date(s.wipe.at).toISOString()} (${s.wipe.reason})` };
    } else {
      this.wiping = true;
      this.announce();
      try {
        outcome = await this.runWipeHandlers({ reason: first.reason, trigger: 'server', actionId: first.id });
      } finally {
        this.wiping = false;
      }
      s.wipe = { at: this.clock.now(), trigger: 'server', reason: first.reason, ...outcome, message: first.message };
    }
    for (const wipe of wipes) {
      s.handledWipeIds.push(wipe.id);
      s.pendingResults.push({ registrationId, actionId: wipe.id, ...outcome });
    }
    s.handledWipeIds.splice(0, Math.max(0, s.handledWipeIds.length - MAX_HANDLED_WIPE_IDS));
    if (outcome.status === 'succeeded') {
      // The work account's data is gone: so is its management, until the user signs in and registers again.
      const hadPolicy = s.policy !== null;
      const hadConfiguration = s.configuration !== null;
      s.registrationId = null;
      s.policy = null;
      s.configuration = null;
      s.actions = [];
      if (hadPolicy) this.notify(() => this.options.onPolicy?.(null));
      if (hadConfiguration) this.notify(() => this.options.onConfiguration?.(null));
    }
    await this.save();
    await this.deliverResults(token, false);
  }

  /** Posts the wipe results not delivered yet. Unreachable: kept for later (thrown when `strict`). */
  private async deliverResults(token: string, strict: boolean): Promise<void> {
    const s = this.state;
    for (const result of [...s.pendingResults]) {
      try {
        await this.request(
          `/mam/v1/registrations/${encodeURIComponent(result.registrationId)}/actions/${encodeURIComponent(result.actionId)}/result`,
          { status: result.status, detail: result.detail },
          token,
        );
      } catch (error) {
        // 404/409: the server does not know the action or has its result already; nothing more to deliver.
        if (!(error instanceof MamHttpError && (error.status === 404 || error.status === 409))) {
          if (strict) throw error;
          this.report(error);
          return;
        }
      }
      s.pendingResults = s.pendingResults.filter((r) => r !== result);
      await this.save();
    }
  }

  private async runWipeHandlers(context: WipeContext): Promise<{ status: 'succeeded' | 'failed'; detail: string }> {
    const handlers = [...this.wipeHandlers];
    if (handlers.length === 0) return { status: 'failed', detail: 'the app registered no wipe handler (MamClient.onWipe)' };
    const results = await Promise.allSettled(handlers.map(async (handler) => handler(context)));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [describeError(r.reason)] : []));
    if (failed.length === 0) return { status: 'succeeded', detail: `${handlers.length} wipe handler(s) completed` };
    return { status: 'failed', detail: `${failed.length} of ${handlers.length} wipe handler(s) failed: ${failed.join('; ')}`.slice(0, 2000) };
  }

  // ---- internals: local enforcement

  private offlinePeriods(): { accessCheck: number; wipe: number } | undefined {
    const settings = this.state.policy?.settings;
    if (settings === undefined) return undefined;
    const period = (value: unknown, fallback: number): number => (typeof value === 'string' ? (parseIsoDuration(value) ?? fallback) : fallback);
    return {
      accessCheck: period(settings.periodOfflineBeforeAccessCheck, DEFAULT_OFFLINE_ACCESS_CHECK_MS),
      wipe: period(settings.periodOfflineBeforeWipeIsEnforced, DEFAULT_OFFLINE_WIPE_MS),
    };
  }

  /** A wipe the device must carry out by itself now: `offline` (period passed) or `accountDisabled`. Each runs once. */
  private localWipeDue(now: number): WipeRecord['trigger'] | null {
    const s = this.state;
    if (s.wipe !== null || s.registrationId === null || s.policy === null) return null;
    if (s.accountDisabledAt !== null && s.policy.settings.appActionIfUnableToAuthenticateUser === 'wipe') return 'accountDisabled';
    const periods = this.offlinePeriods();
    // PT0S: never wipe for being offline.
    if (periods !== undefined && periods.wipe > 0 && s.lastCheckInAt !== null && now - s.lastCheckInAt > periods.wipe) return 'offline';
    return null;
  }

  private offlineBlocked(now: number): boolean {
    const s = this.state;
    const periods = this.offlinePeriods();
    if (periods === undefined || s.lastCheckInAt === null) return false;
    // PT0S: blocked as soon as OpenMAM cannot be reached.
    if (periods.accessCheck === 0) return this.unreachable;
    return now - s.lastCheckInAt > periods.accessCheck;
  }

  private async enforceLocal(): Promise<void> {
    const due = this.localWipeDue(this.clock.now());
    if (due === null) return;
    const reason = due === 'offline' ? 'offlineWipe' : 'accountDisabled';
    this.wiping = true;
    let outcome: { status: 'succeeded' | 'failed'; detail: string };
    try {
      outcome = await this.runWipeHandlers({ reason, trigger: due, actionId: null });
    } finally {
      this.wiping = false;
    }
    const message = due === 'offline' ? LOCAL_MESSAGES.offlineWipe : LOCAL_MESSAGES.accountDisabledWipe;
    // The registration stays: the next check-in acknowledges the server's wipe with this outcome.
    this.state.wipe = { at: this.clock.now(), trigger: due, reason, ...outcome, message };
    await this.save();
  }

  private queueEnforcement(): void {
    if (this.enforcementQueued) return;
    this.enforcementQueued = true;
    this.exclusive(async () => {
      this.enforcementQueued = false;
      await this.enforceLocal();
      this.announce();
    }).catch((error: unknown) => this.report(error));
  }

  private describe(now: number, due: WipeRecord['trigger'] | null): AccessState {
    const s = this.state;
    if (s.wrongAccount !== null) {
      return { status: 'wrongAccount', reasons: ['wrongAccount'], message: { ...LOCAL_MESSAGES.wrongAccount, text: s.wrongAccount.userMessage }, warnings: [] };
    }
    if (s.wipe?.status === 'succeeded') return { status: 'wiped', reasons: [s.wipe.reason], message: s.wipe.message, warnings: [] };
    if (due !== null) {
      return due === 'offline'
        ? { status: 'wiped', reasons: ['offlineWipe'], message: LOCAL_MESSAGES.offlineWipe, warnings: [] }
        : { status: 'wiped', reasons: ['accountDisabled'], message: LOCAL_MESSAGES.accountDisabledWipe, warnings: [] };
    }
    if (s.registrationId === null) {
      if (s.notOnboardedAt !== null) return { status: 'unmanaged', reasons: ['notOnboarded'], warnings: [] };
      return { status: 'notRegistered', reasons: ['notRegistered'], message: LOCAL_MESSAGES.notRegistered, warnings: [] };
    }
    const blocks: { reason: string; message: ActionMessage }[] = [];
    const warnings: { reason: string; message: ActionMessage }[] = [];
    const add = (list: typeof blocks, reason: string, message: ActionMessage): void => {
      if (!blocks.some((b) => b.reason === reason) && !list.some((b) => b.reason === reason)) list.push({ reason, message });
    };
    if (this.wiping) add(blocks, 'wipePending', LOCAL_MESSAGES.wipePending);
    if (s.wipe?.status === 'failed') add(blocks, 'wipeFailed', LOCAL_MESSAGES.wipeFailed);
    if (s.accountDisabledAt !== null && s.policy?.settings.appActionIfUnableToAuthenticateUser === 'block') add(blocks, 'accountDisabled', LOCAL_MESSAGES.accountDisabled);
    if (this.offlineBlocked(now)) add(blocks, 'offlineBlock', LOCAL_MESSAGES.offlineBlock);
    for (const action of s.actions) if (action.type === 'block') add(blocks, action.reason, action.message);
    const health = this.evaluateLocalHealth();
    for (const failure of health) if (failure.action !== 'warn') add(blocks, failure.setting, LOCAL_MESSAGES.healthBlock);
    for (const action of s.actions) if (action.type === 'warn') add(warnings, action.reason, action.message);
    for (const failure of health) if (failure.action === 'warn') add(warnings, failure.setting, LOCAL_MESSAGES.healthWarn);
    const reasons = [...blocks, ...warnings].map((b) => b.reason);
    const warningMessages = warnings.map((w) => w.message);
    if (blocks.length > 0) return { status: 'blocked', reasons, message: blocks[0]!.message, warnings: warningMessages };
    return { status: warnings.length > 0 ? 'warned' : 'allowed', reasons, warnings: warningMessages };
  }

  /** The current access state, announced to onAccessStateChange when it changed. */
  private announce(): AccessState {
    const state = this.describe(this.clock.now(), this.localWipeDue(this.clock.now()));
    this.announceState(state);
    return state;
  }

  private announceState(state: AccessState): void {
    const key = JSON.stringify(state);
    if (key === this.announced) return;
    this.announced = key;
    this.notify(() => this.options.onAccessStateChange?.(state));
  }

  // ---- internals: schedule

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = null;
  }

  private schedule(delayMs: number): void {
    this.cancelTimer();
    if (!this.running) return;
    this.nextAt = this.clock.now() + delayMs;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      const result = await this.checkIn();
      this.failures = 0;
      this.schedule(result.nextCheckInSeconds * 1000);
    } catch (error) {
      if (error instanceof NotOnboardedError) {
        this.failures = 0;
        this.schedule(error.retryAfterSeconds * 1000);
      } else if (error instanceof WrongAccountError || error instanceof WipedError || error instanceof AccountMismatchError) {
        this.stop();
      } else if (error instanceof TryLaterError) {
        this.failures += 1;
        this.schedule(retryLaterDelayMs(error.retryAfterSeconds, this.failures, this.random));
      } else {
        this.failures += 1;
        this.schedule(backoffDelayMs(this.failures, this.random));
      }
      this.report(error);
      // Offline long enough to block or wipe: decide now, not only when the app asks.
      this.accessState();
    }
  }

  // ---- internals: I/O

  private async save(): Promise<void> {
    await this.storage.save(this.state);
  }

  private notify(call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) result.catch((error: unknown) => this.report(error));
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    try {
      this.options.onError?.(error);
    } catch {
      // An error handler that throws has nowhere to go.
    }
  }

  /** POSTs JSON; the parsed answer (undefined for 204). Errors: MamNetworkError, MamHttpError and its kinds. */
  private async request(path: string, body: unknown, token: string): Promise<Answer | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.fetchImpl(`${this.serverUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      this.unreachable = true;
      throw new MamNetworkError(`OpenMAM at ${this.serverUrl} could not be reached: ${describeError(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    this.unreachable = status >= 500;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) {
      if (parsed !== undefined && (typeof parsed !== 'object' || parsed === null)) throw new MamError('bad_answer', `unreadable answer from ${path}`);
      return parsed as Answer | undefined;
    }
    // The contract's error body (@openmam/contract ErrorBody), read defensively: a proxy may answer with anything.
    const error = (parsed as { error?: Partial<Record<keyof ErrorBody['error'], unknown>> } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
    const message = typeof error?.message === 'string' ? error.message : `OpenMAM answered ${status}`;
    if (status === 409 && code === 'wrongAccount') {
      const text = (error?.userMessage as { text?: unknown } | undefined)?.text;
      throw new WrongAccountError(message, typeof text === 'string' ? text : LOCAL_MESSAGES.wrongAccount.text);
    }
    if (status === 403) {
      const next = error?.nextCheckInSeconds;
      const seconds = retryAfterSeconds(retryAfter, this.clock.now()) ?? (typeof next === 'number' && next > 0 ? next : undefined);
      if (seconds !== undefined || code === 'tenantNotOnboarded') {
        throw new NotOnboardedError(code, message, seconds ?? NOT_ONBOARDED_SECONDS);
      }
    }
    if (status === 503 || status === 429) {
      // OpenMAM sheds load or this app is over its rate: it says when to come back.
      const seconds = retryAfterSeconds(retryAfter, this.clock.now());
      if (seconds !== undefined) throw new TryLaterError(status, code, message, seconds);
    }
    throw new MamHttpError(status, code, message);
  }
}

// ---- helpers

/**
 * The error and its causes: fetch says only "fetch failed" and puts what happened in `cause` (undici: a refused
 * connection, a DNS failure, an untrusted certificate, each with its `code`), which is what a person can act on.
 */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${code}: ${current.message}` : current.message);
    current = current.cause;
  }
  return parts.length === 0 ? String(error) : [parts[0], ...parts.slice(1).map((part) => `(cause: ${part})`)].join(' ');
}

/** `Retry-After`: seconds, or an HTTP date. */
function retryAfterSeconds(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) > 0 ? Number(header) : undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - now) / 1000));
}

/**
 * The account a token belongs to (`oid`, else `sub`), read without verification (the server verifies): only to keep
 * one client's state to one account. Undefined-shaped tokens give null.
 */
export function accountOfToken(token: string): string | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(new TextDecoder().decode(base64UrlDecode(payload))) as { oid?: unknown; sub?: unknown };
    if (typeof claims.oid === 'string' && claims.oid !== '') return claims.oid;
    if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
  } catch {
    // Not a JWT: nothing to bind to.
  }
  return null;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64UrlDecode(text: string): Uint8Array {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.replace(/=+$/, '')) {
    const value = BASE64URL.indexOf(char === '+' ? '-' : char === '/' ? '_' : char);
    if (value < 0) throw new Error('not base64url');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readPolicy(value: unknown): PolicyDocument | null {
  if (value === null) return null;
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['version'] !== 'string' || !isObject(value['settings'])) {
    throw new MamError('bad_answer', 'the answer carries an unreadable policy document');
  }
  return value as unknown as PolicyDocument;
}

function readConfiguration(value: unknown): ConfigurationDocument | null {
  if (value === null) return null;
  if (!isObject(value) || typeof value['version'] !== 'string' || !Array.isArray(value['settings'])) {
    throw new MamError('bad_answer', 'the answer carries an unreadable configuration document');
  }
  return value as unknown as ConfigurationDocument;
}

function isAction(value: unknown): value is MamAction {
  return (
    isObject(value) &&
    typeof value['id'] === 'string' &&
    (value['type'] === 'wipe' || value['type'] === 'block' || value['type'] === 'warn') &&
    typeof value['reason'] === 'string' &&
    isObject(value['message'])
  );
}
