import type { ActionMessage, ComplianceState, ConfigurationDocument, MamAction, PolicyDocument } from './types.ts';

/**
 * What the client keeps between runs of the app: the registration, the policy and configuration it holds, when it
 * last checked in successfully (the offline grace period counts from there), and the few facts that must survive a
 * restart (a wipe done, a wipe result not delivered yet, a wrong-account refusal).
 */
export interface MamSnapshot {
  /** Format version of this snapshot. */
  format: 1;
  /** The work account this state belongs to (the token's `oid`, else `sub`), once known. */
  accountId: string | null;
  registrationId: string | null;
  policy: PolicyDocument | null;
  configuration: ConfigurationDocument | null;
  /** Epoch milliseconds of the last successful registration or check-in; null before the first. */
  lastCheckInAt: number | null;
  complianceState: ComplianceState | null;
  /** The block and warn actions of the last answer (they hold until an answer no longer lists them). */
  actions: MamAction[];
  /** Ids of the wipe actions carried out already (each runs once). */
  handledWipeIds: string[];
  /** Wipe results not delivered yet (the server was unreachable); sent before the next check-in. */
  pendingResults: PendingResult[];
  /** The latest wipe the client carried out, for the server or by itself; cleared by a new registration. */
  wipe: WipeRecord | null;
  /** Set while getToken says the account is disabled. */
  accountDisabledAt: number | null;
  /** Set when registration was refused with `409 wrongAccount`. */
  wrongAccount: { userMessage: string; at: number } | null;
  /** Set when registration was refused because the tenant is not onboarded. */
  notOnboardedAt: number | null;
}

export interface PendingResult {
  registrationId: string;
  actionId: string;
  status: 'succeeded' | 'failed';
  detail: string;
}

export interface WipeRecord {
  at: number;
  /** `server`: a wipe action; `offline`: the offline period passed; `accountDisabled`: appActionIfUnableToAuthenticateUser. */
  trigger: 'server' | 'offline' | 'accountDisabled';
  reason: string;
  status: 'succeeded' | 'failed';
  detail: string;
  /** What to show the user about it. */
  message: ActionMessage;
}

/** Persistence of one client's snapshot. Implementations need not be atomic across processes: one app, one client. */
export interface MamStorage {
  /** The saved snapshot, or undefined when none was saved. */
  load(): Promise<MamSnapshot | undefined>;
  save(snapshot: MamSnapshot): Promise<void>;
  /** Forget everything (the user signed out). */
  clear(): Promise<void>;
}

export function emptySnapshot(): MamSnapshot {
  return {
    format: 1,
    accountId: null,
    registrationId: null,
    policy: null,
    configuration: null,
    lastCheckInAt: null,
    complianceState: null,
    actions: [],
    handledWipeIds: [],
    pendingResults: [],
    wipe: null,
    accountDisabledAt: null,
    wrongAccount: null,
    notOnboardedAt: null,
  };
}

/** A stored snapshot with every field present (fields added later get their defaults); undefined if unusable. */
export function normaliseSnapshot(value: unknown): MamSnapshot | undefined {
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== 1) return undefined;
  return { ...emptySnapshot(), ...(value as Partial<MamSnapshot>) };
}

/** The default: kept in memory only, so a restarted app registers again and starts its offline period afresh. */
export class MemoryStorage implements MamStorage {
  private snapshot: MamSnapshot | undefined;

  async load(): Promise<MamSnapshot | undefined> {
    return this.snapshot === undefined ? undefined : structuredClone(this.snapshot);
  }

  async save(snapshot: MamSnapshot): Promise<void> {
    this.snapshot = structuredClone(snapshot);
  }

  async clear(): Promise<void> {
    this.snapshot = undefined;
  }
}
