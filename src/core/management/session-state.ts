import type { AttestationStep } from './health-attestation.ts';
import type { CommandPurpose, PlannedCommand, PlannedItem } from './desired-state.ts';

/**
 * What a management session remembers between messages. Kept in the store as JSON (ManagementSessionRecord.state)
 * so that any node can serve the next message.
 */
export interface SessionState {
  loginStatus: 'user' | 'others' | 'none' | undefined;
  /** The device's MaxMsgSize: our messages stay below it. */
  maxMsgSize: number;
  /** Next CmdID for our commands and statuses; unique within the session. */
  nextCmdId: number;
  /** Commands sent and not yet answered, by CmdID. */
  outstanding: Map<string, SentCommand>;
  /** Planned commands that did not fit into the messages sent so far. */
  queue: PlannedCommand[];
  /** The configuration version the plan was made against; undefined until a plan is made in this session. */
  plannedVersion: number | undefined;
  waitingForUser: boolean;
  /** Inventory Gets were sent in this session. */
  inventoryRequested: boolean;
  /** Some command of this session got no usable answer, or failed to fit: the device is not settled yet. */
  unsettled: boolean;
  /** The Windows edition (DeviceFacts.operatingSystemSKU) the plan judged filters on; absent when it judged none. */
  plannedSku?: string | null;
  /** Pending syncDevice actions this session carries out: done when it ends (device-actions.ts). */
  syncDevices?: string[];
}

export interface SentCommand {
  /** Our MsgID that carried it (the device's Status quotes it as MsgRef). */
  msgId: number;
  verb: 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec' | 'Atomic';
  item?: PlannedItem;
  /** For a Delete of an interior node: the node states under it, forgotten with it. */
  covers?: string[];
  /** For an Atomic: the CmdIDs of its commands. */
  children?: string[];
  /** For a command inside an Atomic: the Atomic's CmdID. */
  atomic?: string;
  /** Not desired state: its answer goes to this request. */
  purpose?: CommandPurpose;
  /** A command of the HealthAttestation flow: its answer goes there, never to node states. */
  attestation?: AttestationStep;
}

export function newSessionState(maxMsgSize: number): SessionState {
  return {
    loginStatus: undefined,
    maxMsgSize,
    nextCmdId: 1,
    outstanding: new Map(),
    queue: [],
    plannedVersion: undefined,
    waitingForUser: false,
    inventoryRequested: false,
    unsettled: false,
  };
}

export function serializeSessionState(state: SessionState): string {
  return JSON.stringify({ ...state, outstanding: [...state.outstanding] });
}

export function parseSessionState(json: string): SessionState {
  const stored = JSON.parse(json) as Omit<SessionState, 'outstanding'> & { outstanding: [string, SentCommand][] };
  return { ...stored, outstanding: new Map(stored.outstanding) };
}
