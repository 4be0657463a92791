import { normalizeLocUri } from '../../csp/loc-uri.ts';
import { mamRefusal } from '../../csp/mam-allow-list.ts';
import { isOpenMamError } from '../../errors.ts';
import type { TokenVerifier, VerifiedIdentity } from '../../identity/identity.ts';
import { ALERT, STATUS, type Alert, type Command, type Item, type ItemCommand, type Results, type Status, type SyncHdr, type SyncMLMessage } from '../../protocol/syncml/types.ts';
import type { DeviceActionResult, EnrollmentRecord, InventoryValue, NodeStateRecord, UnenrollReason } from '../../store/records.ts';
import type { AssignmentFilterStore, ConfigurationStore, DeviceActionStore, GroupStore, ManagedDevice, ManagementStore, SyncOutcome, WipLogStore } from '../../store/roles.ts';
import { deviceFacts, deviceReportSku, type DeviceFacts } from '../devices/device-facts.ts';
import { deviceFilterJudge, deviceFilterSubject, deviceMatches } from '../devices/device-filters.ts';
import { judgeAtomic, type AtomicMemberAnswer } from './atomic-status.ts';
import { appliesTo, needsDeviceFacts, planChanges, targetFilterIds, type DeviceActionPurpose, type PlannedCommand } from './desired-state.ts';
import { answerDeviceAction, isRetiring, planDeviceActions } from './device-actions.ts';
import {
  DEFAULT_INVENTORY_INTERVAL_MS,
  DEVINFO_MANUFACTURER,
  DEVINFO_MODEL,
  HEALTH_ATTESTATION_RESULT,
  INVENTORY_NODES,
  KNOWN_INVENTORY_NODES,
  MAX_INVENTORY_NODES_PER_DEVICE,
  MAX_INVENTORY_VALUE_LENGTH,
} from './inventory.ts';
import { parseWipLogs } from '../../protocol/reporting/wip-logs.ts';
import { wipLogCommands } from './wip-logs.ts';
import type { AttestationSession, HealthAttestationSessionHook } from './health-attestation.ts';
import type { ActivitySink } from '../activity-rollups.ts';
import { newSessionState, parseSessionState, serializeSessionState, type SentCommand, type SessionState } from './session-state.ts';
import { deviceLinkOf, type DeviceLink } from './device-link.ts';

/**
 * OMA-DM management sessions (SyncML DM 1.2 as Windows speaks it; seed 000/001 "Policy sync"). One call handles one
 * device message: authenticate it against the enrollment of the DevId in SyncHdr/Source, acknowledge the header and
 * every device command with a Status, record answers to our earlier commands, then send what brings the device to its
 * desired state — within the device's MaxMsgSize, continuing over as many messages as needed. Session state lives in
 * the store, so consecutive messages may be served by different nodes.
 *
 * Deciding that a device is up to date costs one indexed read: its settled configuration version against its
 * tenant's (ManagementStore.getManagedDevice). Only when they differ are the device's node states and configuration
 * sets read and compared.
 */
export interface Measure {
  /** Bytes of one command as written on the wire. */
  command(command: Command): number;
  /** Bytes of a message with this header and an empty body. */
  envelope(header: SyncHdr, final: boolean): number;
}

export interface CheckinSink {
  record(enrollmentId: string, at: number): void;
}

/**
 * Told after a message's changes are stored that the device reported something about itself (DevInfo, DeviceStatus,
 * a health attestation result): what judges a device (compliance) or targets it (assignment filters) reads it again.
 * Called off the answer's path: it must not throw and must not make the device wait.
 */
export interface DeviceEventSink {
  inventoryChanged(enrollment: EnrollmentRecord, at: number): void;
}

export interface ManagementServiceOptions {
  store: Pick<ManagementStore, 'getManagedDevice' | 'getNodeStates' | 'getSession' | 'applySyncOutcome' | 'listInventory'> &
    Pick<ConfigurationStore, 'configurationSetsFor'> &
    Pick<GroupStore, 'groupsOfMember'> &
    Pick<WipLogStore, 'pendingWipLogRequests'>;
  /** Pending retire, wipe and syncDevice actions (store.deviceActions). */
  deviceActions: Pick<DeviceActionStore, 'pendingDeviceActions'>;
  /** The DMClient provider id of OpenMAM's enrollments: a retire's Unenroll names it (device-actions.ts). */
  providerId: string;
  verifier: TokenVerifier;
  checkins: CheckinSink;
  /** Hourly activity: every session counts once, at its first message (MsgID 1), steady or not. */
  activity: ActivitySink;
  /** The tenant's assignment filters, read when planning a device some filtered assignment may reach. */
  filters?: Pick<AssignmentFilterStore, 'getAssignmentFilters'>;
  /** Told when a device's reported inventory changed (absent: nobody listens). */
  deviceEvents?: DeviceEventSink;
  /** The HealthAttestation flow (health-attestation.ts); absent: no device is attested. */
  healthAttestation?: HealthAttestationSessionHook;
  /** Where a refused device link is reported (a user token naming another Entra device than the enrollment's). */
  warn?: (details: Record<string, unknown>, message: string) => void;
  measure: Measure;
  clock: () => number;
  /** Our own URL: the Source of our messages. */
  serverUrl: string;
  inventoryIntervalMs?: number;
  sessionTtlMs?: number;
}

export interface ManagementReply {
  response: SyncMLMessage;
  /** The enrollment the message belonged to, when it could be identified. */
  enrollmentId: string | undefined;
  /** The admin asked to keep this device's raw messages. */
  logMessages: boolean;
  /** The session ended with this message. */
  sessionEnded: boolean;
}

/** When a device does not say, assume what Windows advertises. */
const DEFAULT_MAX_MSG_SIZE = 512 * 1024;
/** Never trust a device to take less than this: our header and statuses must fit. */
const MIN_MAX_MSG_SIZE = 4 * 1024;
const DEFAULT_SESSION_TTL_MS = 15 * 60_000;

/** Alert codes a device may send; anything else is answered 406 (optional feature not supported). */
const KNOWN_ALERTS: ReadonlySet<string> = new Set([
  ALERT.serverInitiatedSession,
  ALERT.clientInitiatedSession,
  ALERT.nextMessage,
  ALERT.sessionAbort,
  ALERT.clientEvent,
  ALERT.genericAlert,
]);

const UNENROLLMENT_ALERT = 'com.microsoft:mdm.unenrollment.userrequest';
const HEALTH_ATTESTATION_ALERT = 'com.microsoft.mdm:HealthAttestation.Result';
const LOGIN_STATUS_ALERT = 'com.microsoft/MDM/LoginStatus';

/** The SyncML status a device command is refused with (no Refusal: the command is accepted with 200). */
type Refusal = { code: string };

class Responder {
  readonly body: Command[] = [];

  constructor(
    private readonly state: SessionState,
    private readonly deviceMsgId: string,
  ) {}

  nextCmdId(): string {
    return String(this.state.nextCmdId++);
  }

  status(cmdRef: string, cmd: string, data: string, extra: Partial<Status> = {}): Status {
    const status: Status = { kind: 'Status', cmdId: this.nextCmdId(), msgRef: this.deviceMsgId, cmdRef, cmd, data, ...extra };
    this.body.push(status);
    return status;
  }
}

/** Mutable result of processing one device message. */
interface Effects {
  /** WIP log requests answered in this message. */
  wipLogs: Map<string, NonNullable<SyncOutcome['wipLogResults']>[number]>;
  nodeStates: Map<string, NodeStateRecord>;
  forget: Set<string>;
  inventory: Map<string, InventoryValue>;
  /** The Statuses of the device's DevInfo Replaces and the nodes each reported: a node refused later changes its Status. */
  inventoryReplies: { status: Status; locUris: string[] }[];
  /** This message adds a node that is none of the known ones: the store checks the device's inventory bound again. */
  inventoryBounded: boolean;
  unenroll: boolean;
  /** Why the enrollment ends when `unenroll` (absent: the user asked, alert 1226). */
  unenrollReason?: UnenrollReason;
  /** Retire, wipe and syncDevice actions answered in this message (device-actions.ts). */
  deviceActions: DeviceActionResult[];
  endSession: boolean;
  inventoryAnswered: boolean;
  /** The device's HealthAttestation flow in this message, when its tenant attests. */
  attestation: AttestationSession | undefined;
}

export class ManagementService {
  private readonly inventoryIntervalMs: number;
  private readonly sessionTtlMs: number;

  constructor(private readonly options: ManagementServiceOptions) {
    this.inventoryIntervalMs = options.inventoryIntervalMs ?? DEFAULT_INVENTORY_INTERVAL_MS;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  async handle(message: SyncMLMessage, bearerToken: string | undefined): Promise<ManagementReply> {
    const now = this.options.clock();
    const header = message.header;
    const managed = await this.options.store.getManagedDevice(header.source);
    if (!managed) return this.refuse(message, STATUS.invalidCredentials, undefined);
    const enrollment = managed.enrollment;
    const logMessages = managed.management.messageLogUntil !== null && managed.management.messageLogUntil > now;

    const authentication = await this.authenticate(enrollment, bearerToken);
    if (authentication.status !== STATUS.ok) return { ...this.refuse(message, authentication.status, enrollment.id), logMessages };
    const link = authentication.deviceLink ?? { kind: 'none' };
    if (link.kind === 'mismatch') {
      this.options.warn?.({ enrollmentId: enrollment.id, enrollmentDeviceId: link.enrollmentDeviceId, tokenDeviceId: link.tokenDeviceId }, 'device link: the user token names another Entra device than the enrollment; not re-linked');
    }
    // The user's groups (from the token) decide which group-targeted sets apply: a change means re-planning.
    const tokenGroups = authentication.tokenGroups;
    const groupsChanged = tokenGroups !== undefined && !sameList(tokenGroups, managed.management.tokenGroups);

    const msgId = Number(header.msgId);
    if (!Number.isSafeInteger(msgId) || msgId < 1) return { ...this.refuse(message, STATUS.badRequest, enrollment.id), logMessages };

    const stored = msgId === 1 ? undefined : await this.options.store.getSession(enrollment.id, header.sessionId, now);
    if (msgId > 1 && (!stored || stored.lastDeviceMsgId + 1 !== msgId)) {
      // A replayed message, one out of sequence, or one of a session that expired: nothing is processed.
      return { ...this.refuse(message, STATUS.badRequest, enrollment.id), logMessages };
    }
    const state = stored ? parseSessionState(stored.state) : newSessionState(clampMaxMsgSize(header.maxMsgSize));
    if (header.maxMsgSize !== undefined) state.maxMsgSize = clampMaxMsgSize(header.maxMsgSize);
    const serverMsgId = (stored?.lastServerMsgId ?? 0) + 1;

    const responder = new Responder(state, header.msgId);
    responder.status('0', 'SyncHdr', STATUS.ok);
    const attestation = await this.options.healthAttestation?.begin(enrollment, now);
    const effects: Effects = { wipLogs: new Map(), nodeStates: new Map(), forget: new Set(), inventory: new Map(), inventoryReplies: [], inventoryBounded: false, unenroll: false, deviceActions: [], endSession: false, inventoryAnswered: false, attestation };
    const steadyCandidate = msgId === 1 && !groupsChanged && this.isSettled(managed, now);
    for (const command of message.body) this.processDeviceCommand(command, state, responder, effects, { now, recordDevInfo: !steadyCandidate });
    this.recordAnswers(message.body, state, effects, now);
    await this.boundInventory(enrollment.id, effects);
    // The plan judged filters on an edition this session's inventory contradicts: plan again at the next session.
    const reportedSku = state.plannedSku === undefined ? undefined : deviceReportSku(effects.inventory, enrollment);
    if (reportedSku !== undefined && reportedSku !== state.plannedSku) state.unsettled = true;

    const responseHeader: SyncHdr = { verDtd: '1.2', verProto: 'DM/1.2', sessionId: header.sessionId, msgId: String(serverMsgId), target: header.source, source: this.options.serverUrl };
    let final = true;
    const stopping = effects.unenroll || effects.endSession;
    if (!stopping && !message.final) {
      // The device has more to say in this package: ask for its next message, send nothing of ours yet.
      responder.body.push({ kind: 'Alert', cmdId: responder.nextCmdId(), data: ALERT.nextMessage, items: [] });
      final = false;
    } else if (!stopping) {
      const attestationDue = effects.attestation?.wantsPlanning === true;
      if (state.plannedVersion === undefined && !(msgId === 1 && !groupsChanged && !attestationDue && this.isSettled(managed, now, state.loginStatus))) {
        await this.plan(managed, tokenGroups, state, effects, now);
      }
      final = this.pack(responseHeader, state, responder, serverMsgId);
    }

    // A final message with nothing but Status ends the session on the device's side too.
    const sessionOver = stopping || (final && responder.body.every((c) => c.kind === 'Status'));
    // A syncDevice is done when the session it asked for ends (device-actions.ts).
    if (sessionOver) for (const id of state.syncDevices ?? []) effects.deviceActions.push({ id, action: 'syncDevice', state: 'done', statusCode: null });
    // Anything sent and never answered is sent again next session: the device is settled only if all was answered.
    const settle = sessionOver && !stopping && state.plannedVersion !== undefined && !state.unsettled && state.outstanding.size === 0;
    const outcome: SyncOutcome = {
      enrollmentId: enrollment.id,
      now,
      session: sessionOver
        ? stored
          ? { kind: 'end', sessionId: header.sessionId, expectedLastDeviceMsgId: stored.lastDeviceMsgId }
          : { kind: 'none' }
        : {
            kind: 'save',
            record: { enrollmentId: enrollment.id, sessionId: header.sessionId, lastDeviceMsgId: msgId, lastServerMsgId: serverMsgId, state: serializeSessionState(state), expiresAt: now + this.sessionTtlMs },
            expectedLastDeviceMsgId: stored ? stored.lastDeviceMsgId : null,
          },
      nodeStates: [...effects.nodeStates.values()],
      forgetNodes: [...effects.forget],
      inventory: [...effects.inventory.values()],
      ...(effects.inventoryBounded ? { inventoryLimit: MAX_INVENTORY_NODES_PER_DEVICE } : {}),
      ...(effects.unenroll ? { unenrolledAt: now, ...(effects.unenrollReason ? { unenrollReason: effects.unenrollReason } : {}) } : {}),
      ...(effects.deviceActions.length > 0 ? { deviceActions: effects.deviceActions } : {}),
      ...deviceReportOf(effects.inventory, enrollment),
      ...(link.kind === 'link' ? { entraDeviceLink: link.entraDeviceId } : {}),
      ...(effects.wipLogs.size > 0 ? { wipLogResults: [...effects.wipLogs.values()] } : {}),
    };
    const attestationChange = effects.attestation?.change();
    if (attestationChange) outcome.healthAttestation = attestationChange;
    const management: NonNullable<SyncOutcome['management']> = {};
    if (settle) {
      management.settledVersion = state.plannedVersion!;
      management.waitingForUser = state.waitingForUser;
    }
    if (state.inventoryRequested && effects.inventoryAnswered && sessionOver) management.inventoryAt = now;
    if (groupsChanged) management.tokenGroups = [...tokenGroups];
    if (Object.keys(management).length > 0) outcome.management = management;

    if (!isNoOp(outcome)) {
      const written = await this.options.store.applySyncOutcome(outcome);
      if (!written) return { ...this.refuse(message, STATUS.badRequest, enrollment.id), logMessages };
      if (outcome.inventory.length > 0 && !effects.unenroll) this.options.deviceEvents?.inventoryChanged(enrollment, now);
      if (effects.attestation && attestationChange) this.options.healthAttestation?.stored(effects.attestation);
    }
    this.options.checkins.record(enrollment.id, now);
    // Counted once the first message is accepted (a refused one is no session); continuations are the same session.
    if (msgId === 1) this.options.activity.count(enrollment.tenantId, 'omaDmSessions', now);
    return {
      response: { header: responseHeader, body: responder.body, final },
      enrollmentId: enrollment.id,
      logMessages,
      sessionEnded: sessionOver,
    };
  }

  /**
   * The bearer token must be valid and belong to the enrollment: its user, or (when no user is signed in and the
   * device sends its own token, AADSendDeviceToken) its Entra device, in its tenant. 407 when no token came at all.
   * A user token also brings the user's groups (sorted).
   */
  private async authenticate(enrollment: EnrollmentRecord, token: string | undefined): Promise<{ status: string; tokenGroups?: readonly string[]; deviceLink?: DeviceLink }> {
    if (token === undefined) return { status: STATUS.missingCredentials };
    let identity: VerifiedIdentity;
    try {
      identity = await this.options.verifier.verify(token);
    } catch (error) {
      if (isOpenMamError(error) && (error.code === 'upstream_unavailable' || error.code === 'internal')) throw error;
      return { status: STATUS.invalidCredentials };
    }
    if (identity.tenantId !== enrollment.tenantId) return { status: STATUS.invalidCredentials };
    if (identity.objectId === enrollment.userOid) return { status: STATUS.ok, tokenGroups: identity.groups, deviceLink: deviceLinkOf(enrollment, identity) };
    const sameDevice = enrollment.entraDeviceId !== null && identity.deviceId === enrollment.entraDeviceId && identity.upn === undefined;
    return { status: sameDevice ? STATUS.ok : STATUS.invalidCredentials };
  }

  /** Nothing new for this device: configuration settled at the tenant's version, inventory fresh, nobody waiting. */
  private isSettled(managed: ManagedDevice, now: number, loginStatus?: SessionState['loginStatus']): boolean {
    const m = managed.management;
    if (isRetiring(managed.enrollment.managementState)) return false;
    if (m.settledVersion !== managed.configVersion) return false;
    if (m.inventoryAt === null || now - m.inventoryAt >= this.inventoryIntervalMs) return false;
    return !(m.waitingForUser && loginStatus === 'user');
  }

  /**
   * The answer to a message that could not be processed for now (the store or the identity provider is away): its
   * SyncHdr gets 503 (Service unavailable, SyncML Representation Protocol) and no command; nothing was applied.
   */
  unavailable(message: SyncMLMessage): SyncMLMessage {
    return this.refuse(message, STATUS.serviceUnavailable, undefined).response;
  }

  private refuse(message: SyncMLMessage, code: string, enrollmentId: string | undefined): ManagementReply {
    const header = message.header;
    return {
      response: {
        header: { verDtd: '1.2', verProto: 'DM/1.2', sessionId: header.sessionId, msgId: '1', target: header.source, source: this.options.serverUrl },
        body: [{ kind: 'Status', cmdId: '1', msgRef: header.msgId, cmdRef: '0', cmd: 'SyncHdr', data: code }],
        final: true,
      },
      enrollmentId,
      logMessages: false,
      sessionEnded: true,
    };
  }

  /** One device command: answer it with a Status (Status and Results are answers themselves and get none). */
  private processDeviceCommand(command: Command, state: SessionState, responder: Responder, effects: Effects, context: { now: number; recordDevInfo: boolean }): void {
    switch (command.kind) {
      case 'Status':
      case 'Results':
        return;
      case 'Alert': {
        const refusal = this.processAlert(command, state, effects, context.now);
        responder.status(command.cmdId, 'Alert', refusal?.code ?? STATUS.ok);
        return;
      }
      case 'Replace': {
        const refusal = devInfoReport(command);
        const status = responder.status(command.cmdId, 'Replace', refusal?.code ?? STATUS.ok);
        if (!refusal && context.recordDevInfo) {
          const locUris = command.items.map((item) => normalizeLocUri(item.source ?? item.target ?? ''));
          const tooLong = locUris.filter((locUri, i) => !keepInventory(effects, locUri, command.items[i]!.data ?? '', context.now));
          if (tooLong.length > 0) refuseItems(status, STATUS.requestEntityTooLarge, tooLong);
          effects.inventoryReplies.push({ status, locUris });
        }
        return;
      }
      case 'Add':
      case 'Delete':
      case 'Exec':
      case 'Get':
      case 'Atomic':
      case 'Sequence':
        // A device does not manage the server.
        responder.status(command.cmdId, command.kind, STATUS.commandNotAllowed);
        return;
    }
  }

  private processAlert(alert: Alert, state: SessionState, effects: Effects, now: number): Refusal | undefined {
    if (!KNOWN_ALERTS.has(alert.data)) return { code: STATUS.optionalFeatureNotSupported }; // an alert code we do not know
    if (alert.data === ALERT.sessionAbort) effects.endSession = true;
    for (const item of alert.items) {
      const type = item.meta?.type?.trim();
      if (type === LOGIN_STATUS_ALERT) {
        const status = item.data?.trim();
        if (status === 'user' || status === 'others' || status === 'none') state.loginStatus = status;
      } else if (alert.data === ALERT.genericAlert && type === UNENROLLMENT_ALERT) {
        effects.unenroll = true;
      } else if (alert.data === ALERT.genericAlert && type === HEALTH_ATTESTATION_ALERT) {
        keepInventory(effects, HEALTH_ATTESTATION_RESULT, item.data ?? '', now);
        effects.attestation?.onAlert(item.data ?? '');
      }
    }
    return undefined;
  }

  /** Statuses and Results that answer our earlier commands; anything that answers nothing we sent is ignored. */
  private recordAnswers(body: readonly Command[], state: SessionState, effects: Effects, now: number): void {
    // Results first: Windows puts a Get's Results after its Status, which would already have closed the Get.
    for (const command of body) if (command.kind === 'Results') this.recordResults(command, state, effects, now);
    const atomicStatuses: Status[] = [];
    const insideAtomic = new Map<string, Status>();
    for (const command of body) {
      if (command.kind !== 'Status' || command.cmdRef === '0') continue;
      const sent = state.outstanding.get(command.cmdRef);
      if (sent?.verb === 'Atomic') atomicStatuses.push(command);
      else if (sent?.atomic !== undefined) insideAtomic.set(command.cmdRef, command);
      else this.recordStatus(command, state, effects, now);
    }
    for (const status of atomicStatuses) this.recordAtomicStatus(status, insideAtomic, state, effects, now);
  }

  private recordResults(results: Results, state: SessionState, effects: Effects, now: number): void {
    const sent = state.outstanding.get(results.cmdRef);
    if (sent?.verb !== 'Get' || String(sent.msgId) !== results.msgRef) return;
    if (sent.attestation) {
      // Answers of the HealthAttestation flow go there (the Certificate is no inventory); follow-ups in this session.
      state.queue.push(...(effects.attestation?.onResult(sent.attestation, results.items[0]?.data ?? '') ?? []));
      return;
    }
    if (sent.purpose && 'wipLogRequest' in sent.purpose) {
      const logs = results.items[0]?.data ?? '';
      effects.wipLogs.set(sent.purpose.wipLogRequest, { id: sent.purpose.wipLogRequest, status: 'completed', statusCode: null, logs, entries: parseWipLogs(logs), completedAt: now });
      return;
    }
    // Results get no Status of ours: a value over the bound is dropped (boundInventory drops nodes over the count).
    for (const item of results.items) keepInventory(effects, normalizeLocUri(item.source ?? sent.item?.locUri ?? ''), item.data ?? '', now);
    effects.inventoryAnswered = true;
  }

  /**
   * At most MAX_INVENTORY_NODES_PER_DEVICE nodes per device (inventory.ts). The known nodes always fit and cost
   * nothing; a message that reports any other node reads the device's stored nodes once, keeps the new ones while
   * there is room (first reported, first kept) and refuses the rest: its Replace is answered 420 (Device full:
   * "the recipient has no more storage space", SyncML Representation Protocol 1.2 status codes) with the refused
   * nodes as SourceRefs, a final answer the device does not retry within the session; Results items (answers to our
   * Gets, which get no Status) are dropped. What was stored is kept.
   */
  private async boundInventory(enrollmentId: string, effects: Effects): Promise<void> {
    const others = [...effects.inventory.keys()].filter((locUri) => !KNOWN_INVENTORY_NODES.has(locUri));
    if (others.length === 0) return;
    const stored = new Set((await this.options.store.listInventory(enrollmentId)).map((v) => v.locUri).filter((locUri) => !KNOWN_INVENTORY_NODES.has(locUri)));
    let room = MAX_INVENTORY_NODES_PER_DEVICE - KNOWN_INVENTORY_NODES.size - stored.size;
    const refused = new Set<string>();
    for (const locUri of others) {
      if (stored.has(locUri)) continue;
      if (room > 0) {
        room--;
        // A new node is added: the store counts again under the device's lock (only then: updating a stored node
        // adds nothing, so a message that only does that is never refused for a count it did not raise).
        effects.inventoryBounded = true;
      } else {
        refused.add(locUri);
      }
    }
    if (refused.size === 0) return;
    for (const locUri of refused) effects.inventory.delete(locUri);
    for (const { status, locUris } of effects.inventoryReplies) {
      const refusedHere = locUris.filter((locUri) => refused.has(locUri));
      if (refusedHere.length > 0) refuseItems(status, STATUS.deviceFull, refusedHere);
    }
    this.options.warn?.({ enrollmentId, refused: refused.size, limit: MAX_INVENTORY_NODES_PER_DEVICE }, 'inventory: the device reported more nodes than it may keep; the rest were refused (420)');
  }

  /** An Atomic's commands are recorded together, as judgeAtomic reads the device's answers (atomic-status.ts). */
  private recordAtomicStatus(status: Status, inside: ReadonlyMap<string, Status>, state: SessionState, effects: Effects, now: number): void {
    const sent = state.outstanding.get(status.cmdRef);
    if (!sent || String(sent.msgId) !== status.msgRef) return;
    state.outstanding.delete(status.cmdRef);
    const members = (sent.children ?? []).flatMap((id) => {
      const child = state.outstanding.get(id);
      state.outstanding.delete(id);
      return child?.item === undefined ? [] : [{ child: { ...child, item: child.item }, code: inside.get(id)?.data.trim() ?? status.data.trim() }];
    });
    const judgement = judgeAtomic(members.map(({ child, code }) => ({ verb: atomicVerb(child.verb), code })));
    if (judgement.again) state.unsettled = true;
    members.forEach(({ child: { item }, code }, i) => {
      switch (judgement.verdicts[i]!) {
        case 'applied':
          effects.nodeStates.set(item.locUri, { ...item, status: 'applied', statusCode: code, updatedAt: now });
          return;
        case 'failed':
          effects.nodeStates.set(item.locUri, { ...item, status: 'failed', statusCode: code, updatedAt: now });
          return;
        case 'exists':
          effects.nodeStates.set(item.locUri, { ...item, status: 'exists', statusCode: code, updatedAt: now });
          return;
        case 'absent':
          effects.forget.add(item.locUri);
          return;
        case 'unchanged':
          return;
      }
    });
  }

  private recordStatus(status: Status, state: SessionState, effects: Effects, now: number): void {
    const sent = state.outstanding.get(status.cmdRef);
    // A Status for something we never sent in that message: ignored (it cannot change what we know).
    if (!sent || String(sent.msgId) !== status.msgRef) return;
    state.outstanding.delete(status.cmdRef);
    const code = status.data.trim();
    const ok = code.startsWith('2') && code !== STATUS.atomicRollbackOk;
    if (sent.attestation) {
      state.queue.push(...(effects.attestation?.onStatus(sent.attestation, code) ?? []));
      return;
    }
    if (sent.purpose && 'deviceAction' in sent.purpose) {
      this.recordDeviceActionStatus(sent.purpose.deviceAction, code, state, effects);
      return;
    }
    if (sent.purpose) {
      // Retrieval parameters and the Logs Get: only a failure is news (the Results complete the request).
      const id = sent.purpose.wipLogRequest;
      if (!ok && effects.wipLogs.get(id)?.status !== 'completed') {
        effects.wipLogs.set(id, { id, status: 'failed', statusCode: code, logs: null, entries: null, completedAt: now });
      }
      return;
    }
    switch (sent.verb) {
      case 'Atomic':
        return; // handled by recordAtomicStatus
      case 'Get':
        if (ok) effects.inventoryAnswered = true;
        return;
      case 'Delete':
        if (ok || code === STATUS.notFound) {
          // The node is gone, and with it everything under it.
          effects.forget.add(sent.item!.locUri);
          for (const locUri of sent.covers ?? []) effects.forget.add(locUri);
        } else {
          effects.nodeStates.set(sent.item!.locUri, { ...sent.item!, status: 'failed', statusCode: code, updatedAt: now });
        }
        return;
      case 'Exec': {
        // The version the action ran (or was refused) for: sent again only for another version.
        const item = sent.item!;
        effects.nodeStates.set(item.locUri, { ...item, status: ok ? 'applied' : 'failed', statusCode: code, updatedAt: now });
        return;
      }
      case 'Add':
      case 'Replace': {
        const item = sent.item!;
        if (ok) {
          effects.nodeStates.set(item.locUri, { ...item, status: 'applied', statusCode: code, updatedAt: now });
        } else if (code === STATUS.alreadyExists && sent.verb === 'Add' && !sent.atomic) {
          // Add is not idempotent: the node is there already, so write the value with Replace (in this session).
          effects.nodeStates.set(item.locUri, { ...item, status: 'exists', statusCode: code, updatedAt: now });
          state.queue.unshift({ verb: 'Replace', item });
        } else {
          effects.nodeStates.set(item.locUri, { ...item, status: 'failed', statusCode: code, updatedAt: now });
        }
        return;
      }
    }
  }

  /** A retire's or wipe's command answered: the action moves on (device-actions.ts answerDeviceAction). */
  private recordDeviceActionStatus(purpose: DeviceActionPurpose, code: string, state: SessionState, effects: Effects): void {
    const answer = answerDeviceAction(purpose, code, this.options.providerId);
    if (answer.result) effects.deviceActions.push(answer.result);
    if (answer.next) state.queue.unshift(answer.next);
    if (answer.unenrolled) {
      effects.unenroll = true;
      effects.unenrollReason = answer.unenrolled;
    }
  }

  /**
   * A device's pending actions, read only when its one check-in row says one may be waiting: a retire or wipe
   * (managementState), or a stale inventory, which a syncDevice makes (and a first session has). A pending retire or
   * wipe is all this session sends (answered true); pending syncDevices are done when the session ends.
   */
  private async planDeviceActions(managed: ManagedDevice, state: SessionState): Promise<boolean> {
    const retiring = isRetiring(managed.enrollment.managementState);
    if (!retiring && managed.management.inventoryAt !== null) return false;
    const plan = planDeviceActions(await this.options.deviceActions.pendingDeviceActions(managed.enrollment.id), this.options.providerId);
    if (plan.syncDevices.length > 0) state.syncDevices = plan.syncDevices;
    if (plan.retiring === undefined) return false;
    state.queue.push(...plan.commands);
    state.plannedVersion = managed.configVersion;
    // Its configuration was not planned: should the device stay (the action failed), it is not settled.
    state.unsettled = true;
    return true;
  }

  /** Reads what the device should have and plans the commands; called at most once per session. */
  private async plan(managed: ManagedDevice, tokenGroups: readonly string[] | undefined, state: SessionState, effects: Effects, now: number): Promise<void> {
    const enrollment = managed.enrollment;
    if (await this.planDeviceActions(managed, state)) return;
    const [candidates, nodeStates, memberOf] = await Promise.all([
      this.options.store.configurationSetsFor(enrollment.tenantId, enrollment.devId),
      this.options.store.getNodeStates(enrollment.id),
      this.options.store.groupsOfMember(enrollment.tenantId, enrollment.userOid),
    ]);
    const groups = new Set([...memberOf, ...(tokenGroups ?? managed.management.tokenGroups ?? [])]);
    // Assignment filters and per-setting conditions are judged on the device's facts: read only when some set has one.
    const judged = needsDeviceFacts(candidates) ? await this.deviceFactsFor(enrollment, candidates, effects) : undefined;
    if (judged !== undefined) state.plannedSku = judged.facts.operatingSystemSKU;
    const sets = candidates.filter((set) => appliesTo(set.target, { devId: enrollment.devId, groups, ...(judged ? { filters: judged.filters } : {}) }));
    const subject = judged === undefined ? undefined : deviceFilterSubject(judged.facts);
    const applicable = subject === undefined ? undefined : (rule: string): boolean => deviceMatches(rule, subject);
    const plan = planChanges({ sets, nodeStates, userSignedIn: state.loginStatus === 'user', now, ...(applicable ? { applicable } : {}) });
    for (const decided of plan.decided) effects.nodeStates.set(decided.locUri, decided);
    for (const locUri of plan.forget) effects.forget.add(locUri);
    state.queue.push(...plan.commands);
    state.waitingForUser = plan.waitingForUser;
    state.plannedVersion = managed.configVersion;
    for (const request of await this.options.store.pendingWipLogRequests(enrollment.id)) state.queue.push(...wipLogCommands(request));
    if (effects.attestation) state.queue.push(...effects.attestation.plan());
    const m = managed.management;
    if (m.inventoryAt === null || now - m.inventoryAt >= this.inventoryIntervalMs) {
      state.inventoryRequested = true;
      for (const locUri of INVENTORY_NODES) state.queue.push({ verb: 'Get', item: { locUri, format: 'chr', value: '' } });
    }
  }

  /**
   * The device's facts (its enrollment, stored inventory and what this message reported: DevInfo Man/Mod) and the
   * judge of the filters the candidate sets name: two reads, made only when planning a device that some filtered
   * assignment or conditional setting concerns.
   */
  private async deviceFactsFor(enrollment: EnrollmentRecord, candidates: Parameters<typeof targetFilterIds>[0], effects: Effects): Promise<{ facts: DeviceFacts; filters: ReturnType<typeof deviceFilterJudge> }> {
    const ids = targetFilterIds(candidates);
    const [inventory, filters] = await Promise.all([
      this.options.store.listInventory(enrollment.id),
      ids.length === 0 || this.options.filters === undefined ? [] : this.options.filters.getAssignmentFilters(enrollment.tenantId, ids),
    ]);
    const values = new Map(inventory.map((v) => [v.locUri, { value: v.value, updatedAt: v.updatedAt }]));
    for (const [locUri, v] of effects.inventory) values.set(locUri, { value: v.value, updatedAt: v.updatedAt });
    const reported = deviceReportOf(effects.inventory, enrollment).deviceReport;
    const facts = deviceFacts({ ...enrollment, ...(reported ?? {}) }, values);
    return { facts, filters: deviceFilterJudge(filters, deviceFilterSubject(facts)) };
  }

  /**
   * Moves queued commands into this message while it stays within the device's MaxMsgSize. Answers whether the
   * message is final (nothing left queued). A command that cannot fit even alone is dropped as failed.
   */
  private pack(header: SyncHdr, state: SessionState, responder: Responder, serverMsgId: number): boolean {
    const budget = state.maxMsgSize;
    let size = this.options.measure.envelope(header, false);
    for (const command of responder.body) size += this.options.measure.command(command);
    let sentAny = false;
    while (state.queue.length > 0) {
      const planned = state.queue[0]!;
      if (planned.verb !== 'Get' && planned.verb !== 'Atomic' && planned.verb !== 'Delete' && mamRefusal(planned.item.locUri) !== undefined) {
        state.queue.shift(); // Checked again at the point of sending: a refused node never reaches the wire.
        continue;
      }
      const { command, sent } = this.toCommand(planned, responder, serverMsgId);
      const commandSize = this.options.measure.command(command);
      if (size + commandSize > budget) {
        if (sentAny || responder.body.length > 1) break;
        // Alone it does not fit the device's limit either: give up on it rather than loop.
        state.queue.shift();
        state.unsettled = true;
        continue;
      }
      state.queue.shift();
      responder.body.push(command);
      for (const [cmdId, entry] of sent) state.outstanding.set(cmdId, entry);
      size += commandSize;
      sentAny = true;
    }
    return state.queue.length === 0;
  }

  private toCommand(planned: PlannedCommand, responder: Responder, msgId: number): { command: Command; sent: [string, SentCommand][] } {
    if (planned.verb === 'Atomic') {
      const atomicId = responder.nextCmdId();
      const sent: [string, SentCommand][] = [];
      const commands: Command[] = planned.commands.map((inner) => {
        const cmdId = responder.nextCmdId();
        sent.push([cmdId, { msgId, verb: inner.verb, item: inner.item, atomic: atomicId }]);
        return inner.verb === 'Exec' ? execCommand(cmdId, inner.item.locUri) : itemCommand(inner.verb, cmdId, inner.item.locUri, inner.item.format, inner.item.value);
      });
      sent.push([atomicId, { msgId, verb: 'Atomic', children: sent.map(([id]) => id) }]);
      return { command: { kind: 'Atomic', cmdId: atomicId, commands }, sent };
    }
    const cmdId = responder.nextCmdId();
    const item = planned.item;
    const command =
      planned.verb === 'Get' || planned.verb === 'Delete'
        ? ({ kind: planned.verb, cmdId, items: [{ target: item.locUri }] } satisfies ItemCommand)
        : planned.verb === 'Exec'
          ? execCommand(cmdId, item.locUri, item.format === 'chr' ? item.value : undefined)
          : itemCommand(planned.verb, cmdId, item.locUri, item.format, item.value);
    const entry: SentCommand = {
      msgId,
      verb: planned.verb,
      item,
      ...(planned.purpose ? { purpose: planned.purpose } : {}),
      ...(planned.covers ? { covers: planned.covers } : {}),
      ...(planned.attestation ? { attestation: planned.attestation } : {}),
    };
    return { command, sent: [[cmdId, entry]] };
  }
}

/** An interior node (Format node) is added without Data. */
function itemCommand(verb: 'Add' | 'Replace', cmdId: string, locUri: string, format: string, value: string): ItemCommand {
  const item: Item = format === 'node' ? { target: locUri, meta: { format } } : { target: locUri, meta: { format, type: 'text/plain' }, data: value };
  return { kind: verb, cmdId, items: [item] };
}

/**
 * Exec of an action node: Target only, as the CSP references show (the node holds no value: DDF Format null); an
 * action that takes an argument (DMClient Unenroll: the ProviderID) carries it as chr Data.
 */
function execCommand(cmdId: string, locUri: string, data?: string): ItemCommand {
  if (data === undefined) return { kind: 'Exec', cmdId, items: [{ target: locUri }] };
  return { kind: 'Exec', cmdId, items: [{ target: locUri, meta: { format: 'chr', type: 'text/plain' }, data }] };
}

/** Keeps a reported inventory value, unless it is longer than MAX_INVENTORY_VALUE_LENGTH (then false). */
function keepInventory(effects: Effects, locUri: string, value: string, now: number): boolean {
  if (value.length > MAX_INVENTORY_VALUE_LENGTH) return false;
  effects.inventory.set(locUri, { locUri, value, updatedAt: now });
  return true;
}

/** A Status listing this many refused nodes at most: ten thousand SourceRefs would not fit the device's MaxMsgSize. */
const MAX_REFUSED_REFS = 16;

/** Some items of a command were not kept: its Status says why (the first reason wins) and names them (SourceRef). */
function refuseItems(status: Status, code: string, locUris: readonly string[]): void {
  if (status.data === STATUS.ok) status.data = code;
  const refs = status.sourceRefs ?? [];
  for (const locUri of locUris) if (refs.length < MAX_REFUSED_REFS && !refs.includes(locUri)) refs.push(locUri);
  status.sourceRefs = refs;
}

/** A device reports its DevInfo with Replace in its first package; nothing else may be replaced on the server. */
function devInfoReport(command: ItemCommand): Refusal | undefined {
  const allDevInfo = command.items.every((item) => normalizeLocUri(item.source ?? item.target ?? '').startsWith('./DevInfo/'));
  return allDevInfo ? undefined : { code: STATUS.commandNotAllowed };
}

/** Commands inside our Atomics are only ever Add, Replace and Exec (desired-state.ts AtomicMember). */
function atomicVerb(verb: SentCommand['verb']): AtomicMemberAnswer['verb'] {
  return verb === 'Add' || verb === 'Replace' ? verb : 'Exec';
}

function clampMaxMsgSize(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return DEFAULT_MAX_MSG_SIZE;
  return Math.max(MIN_MAX_MSG_SIZE, Math.min(value, 16 * 1024 * 1024));
}

function sameList(a: readonly string[], b: readonly string[] | null): boolean {
  return b !== null && a.length === b.length && a.every((value, i) => value === b[i]);
}

/** DevInfo/Man and DevInfo/Mod, kept on the enrollment (managedDevice manufacturer and model) when they changed. */
function deviceReportOf(inventory: ReadonlyMap<string, InventoryValue>, enrollment: EnrollmentRecord): Pick<SyncOutcome, 'deviceReport'> {
  const report: NonNullable<SyncOutcome['deviceReport']> = {};
  const manufacturer = inventory.get(DEVINFO_MANUFACTURER)?.value.trim();
  const model = inventory.get(DEVINFO_MODEL)?.value.trim();
  if (manufacturer !== undefined && manufacturer !== '' && manufacturer !== enrollment.manufacturer) report.manufacturer = manufacturer;
  if (model !== undefined && model !== '' && model !== enrollment.model) report.model = model;
  return Object.keys(report).length > 0 ? { deviceReport: report } : {};
}

function isNoOp(outcome: SyncOutcome): boolean {
  return (
    outcome.session.kind === 'none' &&
    outcome.nodeStates.length === 0 &&
    outcome.forgetNodes.length === 0 &&
    outcome.inventory.length === 0 &&
    outcome.management === undefined &&
    outcome.unenrolledAt === undefined &&
    outcome.deviceActions === undefined &&
    outcome.deviceReport === undefined &&
    outcome.healthAttestation === undefined &&
    outcome.entraDeviceLink === undefined
  );
}
