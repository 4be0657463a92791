import { createHash } from 'node:crypto';
import { isUserScoped, normalizeLocUri } from '../../csp/loc-uri.ts';
import { mamRefusal } from '../../csp/mam-allow-list.ts';
import type { AttestationStep } from './health-attestation.ts';
import type { ConfigurationSetRecord, ConfigurationTarget, DesiredSetting, DeviceActionReason, NodeStateRecord, TargetFilter } from '../../store/records.ts';

/**
 * Desired state, not a queue: from the configuration sets that apply to a device and what the device last
 * acknowledged, work out the fewest commands that bring it to the desired state. Pure: no I/O, no clock but `now`.
 */
export interface PlannedItem {
  locUri: string;
  format: string;
  value: string;
}

/** A command that is not desired state but serves a request (WIP log retrieval, a device action): its answers go there. */
export type CommandPurpose = { wipLogRequest: string } | { deviceAction: DeviceActionPurpose };

/** A step of a retire or wipe (device-actions.ts): revoking WIP data first (wipe), then DMClient Unenroll. */
export interface DeviceActionPurpose {
  id: string;
  action: 'retire' | 'wipe';
  reason: DeviceActionReason;
  step: 'revoke' | 'unenroll';
}

export type PlannedCommand =
  | {
      verb: 'Add' | 'Replace' | 'Delete' | 'Get' | 'Exec';
      item: PlannedItem;
      purpose?: CommandPurpose;
      /** Delete of an interior node: the node states under it, forgotten with it (they get no Delete of their own). */
      covers?: string[];
      /** A command of the HealthAttestation flow (health-attestation.ts): not desired state, its answer goes there. */
      attestation?: AttestationStep;
    }
  /** All-or-nothing group (e.g. DeviceLock); its Exec commands come last. */
  | { verb: 'Atomic'; group: string; commands: AtomicMember[] };

export interface AtomicMember {
  verb: 'Add' | 'Replace' | 'Exec';
  item: PlannedItem;
}

/**
 * The Format of an exec setting's node (DDF `null`: it holds no value). Its node state keeps the version the action
 * was sent for; such a node is never deleted, only forgotten (or removed with the interior node above it).
 */
export const EXEC_FORMAT = 'null';

export interface Plan {
  commands: PlannedCommand[];
  /** States the server decides without asking the device: not_applicable, conflict. */
  decided: NodeStateRecord[];
  /** States to drop without a command: no longer desired and never applied on the device. */
  forget: string[];
  /** User-scoped settings are held back until a user is signed in. */
  waitingForUser: boolean;
}

interface Wanted extends DesiredSetting {
  /** The configuration sets that want this node (for conflict reports). */
  from: string[];
  conflict: boolean;
}

/**
 * Whether a set targets this device: by device, by all devices, or by its user's groups (exclusion wins). An include
 * assignment with an assignment filter reaches the device only when `filters` says the filter lets it through
 * (core/devices/device-filters.ts); without a judge, a filtered assignment reaches nothing.
 */
export function appliesTo(target: ConfigurationTarget, device: { devId: string; groups: ReadonlySet<string>; filters?: (filter: TargetFilter) => boolean }): boolean {
  switch (target.kind) {
    case 'all_devices':
      return true;
    case 'device':
      return target.devId === device.devId;
    case 'groups': {
      if (target.exclude.some((group) => device.groups.has(group))) return false;
      const filters = target.filters;
      const passes = (filter: TargetFilter | undefined): boolean => filter === undefined || (device.filters?.(filter) ?? false);
      if (target.allUsers && passes(filters?.allUsers)) return true;
      return target.include.some((group) => device.groups.has(group) && passes(filters?.groups?.[group]));
    }
  }
}

/** Whether any set's targeting or settings depend on the device's facts (the planner then reads them). */
export function needsDeviceFacts(sets: readonly ConfigurationSetRecord[]): boolean {
  return sets.some((set) => (set.target.kind === 'groups' && set.target.filters !== undefined) || set.settings.some((s) => s.applicableWhen !== undefined));
}

/** The filter ids the sets' targets name. */
export function targetFilterIds(sets: readonly { target: ConfigurationTarget }[]): string[] {
  const ids = new Set<string>();
  for (const { target } of sets) {
    if (target.kind !== 'groups' || target.filters === undefined) continue;
    if (target.filters.allUsers) ids.add(target.filters.allUsers.id);
    for (const filter of Object.values(target.filters.groups ?? {})) ids.add(filter.id);
  }
  return [...ids];
}

/**
 * Nodes where two different values have a documented winner instead of being a conflict. The WIP enforcement level
 * (EDPEnforcementLevel 0 off, 1 silent, 2 allow overrides, 3 block) resolves to the stricter, i.e. the higher.
 */
const STRICTER_WINS: ReadonlyMap<string, (a: string, b: string) => string> = new Map([
  ['./Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', (a: string, b: string) => (Number(b) > Number(a) ? b : a)],
]);

/**
 * The settings of one set with each exec setting's value replaced by its version: a digest of the other settings of
 * its atomic group (normalised LocURI, format, value, in LocURI order) and of its own value, Format `null`. The planner
 * and the per-device status report both compare node states against these versions.
 */
export function resolveExecVersions<T extends DesiredSetting>(settings: readonly T[]): T[] {
  if (!settings.some((s) => s.exec)) return [...settings];
  const members = new Map<string, string[]>();
  for (const setting of settings) {
    if (setting.exec || setting.atomicGroup === undefined) continue;
    const lines = members.get(setting.atomicGroup) ?? [];
    lines.push(JSON.stringify([normalizeLocUri(setting.locUri), setting.format, setting.value]));
    members.set(setting.atomicGroup, lines);
  }
  return settings.map((setting) => {
    if (!setting.exec) return setting;
    const lines = setting.atomicGroup === undefined ? [] : [...(members.get(setting.atomicGroup) ?? [])].sort();
    const version = createHash('sha256').update(JSON.stringify([setting.value, ...lines])).digest('hex');
    return { ...setting, format: EXEC_FORMAT, value: version };
  });
}

/**
 * The union of all sets' settings by normalised LocURI. Two different values for one node are a conflict (neither is
 * sent), except where STRICTER_WINS names the winner.
 */
export function collectDesired(sets: readonly ConfigurationSetRecord[]): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const set of sets) {
    for (const setting of resolveExecVersions(set.settings)) {
      const locUri = normalizeLocUri(setting.locUri);
      const existing = wanted.get(locUri);
      if (!existing) {
        wanted.set(locUri, { ...setting, locUri, from: [set.id], conflict: false });
        continue;
      }
      existing.from.push(set.id);
      // A node one set wants unconditionally applies whatever another set's condition says.
      if (setting.applicableWhen === undefined) delete existing.applicableWhen;
      if (existing.format === setting.format && existing.value === setting.value) continue;
      const stricter = STRICTER_WINS.get(locUri);
      if (stricter && existing.format === setting.format) existing.value = stricter(existing.value, setting.value);
      else existing.conflict = true;
    }
  }
  return wanted;
}

function sameValue(state: NodeStateRecord, wanted: DesiredSetting): boolean {
  return state.format === wanted.format && state.value === wanted.value;
}

/** What to send for one wanted node given its known state; undefined when nothing needs sending. */
function commandFor(wanted: Wanted, state: NodeStateRecord | undefined): 'Add' | 'Replace' | undefined {
  if (state === undefined) return 'Add';
  switch (state.status) {
    case 'applied':
      return sameValue(state, wanted) ? undefined : 'Replace';
    case 'exists':
      // The node was there already when we added it (418): write the value over it.
      return 'Replace';
    case 'failed':
      // A refused value is not resent until the desired value changes.
      return sameValue(state, wanted) ? undefined : 'Add';
    case 'not_applicable':
    case 'conflict':
      return 'Add';
  }
}

/** An exec setting goes when its version was never sent, or changed; a refused version is not resent. */
function execFor(wanted: Wanted, state: NodeStateRecord | undefined): 'Exec' | undefined {
  if ((state?.status === 'applied' || state?.status === 'failed') && sameValue(state, wanted)) return undefined;
  return 'Exec';
}

function decided(locUri: string, wanted: DesiredSetting, status: 'not_applicable' | 'conflict', now: number): NodeStateRecord {
  return { locUri, format: wanted.format, value: status === 'conflict' ? '' : wanted.value, status, statusCode: null, updatedAt: now };
}

/**
 * The fewest commands from the acknowledged node states to the desired ones:
 * - Add what the device never had, Replace what changed (or answered 418), nothing for a refused value until it changes;
 * - an atomic group goes in one Atomic with only what needs sending, plus its members the device refused before (an
 *   Atomic is rolled back as a whole, so they are not on the device either) and its exec settings, last: an action
 *   runs after the values it depends on, and again whenever they are sent again;
 * - Delete what no set wants any more; a Delete of an interior node covers the nodes under it, which get none of their
 *   own; an exec node is never deleted;
 * - nothing outside the MAM allow-list, nothing for a conflict, nothing user-scoped without a signed-in user.
 */
export function planChanges(input: {
  sets: readonly ConfigurationSetRecord[];
  nodeStates: readonly NodeStateRecord[];
  userSignedIn: boolean;
  now: number;
  /**
   * Whether the device matches a setting's `applicableWhen` rule (core/devices/device-filters.ts); absent: no setting
   * with a condition applies. A node whose condition fails is `not_applicable`, never sent, and removed if it was.
   */
  applicable?: (rule: string) => boolean;
}): Plan {
  const wanted = collectDesired(input.sets);
  const states = new Map(input.nodeStates.map((s) => [s.locUri, s]));
  const plan: Plan = { commands: [], decided: [], forget: [], waitingForUser: false };
  const groups = new Map<string, { wanted: Wanted; state: NodeStateRecord | undefined; verb: AtomicMember['verb'] | undefined }[]>();
  const looseExecs: PlannedCommand[] = [];

  for (const [locUri, w] of wanted) {
    const state = states.get(locUri);
    const refusal = mamRefusal(locUri);
    const inapplicable = w.applicableWhen !== undefined && !(input.applicable?.(w.applicableWhen) ?? false);
    if (refusal !== undefined || inapplicable || w.conflict) {
      const status = refusal !== undefined || inapplicable ? 'not_applicable' : 'conflict';
      if (state?.status !== status) plan.decided.push(decided(locUri, w, status, input.now));
      // Conflict: neither value is sent, and a value set earlier is removed (the device returns to its default); so
      // is one sent before the device stopped matching its condition. A node outside the allow-list was never sent.
      if ((status === 'conflict' || inapplicable) && refusal === undefined && !w.exec && (state?.status === 'applied' || state?.status === 'exists')) {
        plan.commands.push({ verb: 'Delete', item: { locUri, format: state.format, value: '' } });
      }
      continue;
    }
    if (isUserScoped(locUri) && !input.userSignedIn) {
      plan.waitingForUser = true;
      continue;
    }
    const verb = w.exec ? execFor(w, state) : commandFor(w, state);
    if (w.atomicGroup) {
      const members = groups.get(w.atomicGroup) ?? [];
      members.push({ wanted: w, state, verb });
      groups.set(w.atomicGroup, members);
      continue;
    }
    if (verb === undefined) continue;
    const command: PlannedCommand = { verb, item: { locUri, format: w.format, value: w.value } };
    if (w.exec) looseExecs.push(command);
    else plan.commands.push(command);
  }
  for (const [group, members] of groups) {
    if (members.every((m) => m.verb === undefined)) continue;
    const values: AtomicMember[] = [];
    const execs: AtomicMember[] = [];
    for (const { wanted: w, state, verb } of members) {
      const send = verb ?? (w.exec ? 'Exec' : state?.status === 'failed' ? 'Add' : undefined);
      if (send === undefined) continue;
      (w.exec ? execs : values).push({ verb: send, item: { locUri: w.locUri, format: w.format, value: w.value } });
    }
    plan.commands.push({ verb: 'Atomic', group, commands: [...values, ...execs] });
  }
  plan.commands.push(...looseExecs);

  // Nodes no longer wanted by any set: Delete what the device has, forget what it never applied (or what is an action).
  const unwanted = input.nodeStates.filter((state) => !wanted.has(state.locUri));
  const deleting = new Set(unwanted.filter((s) => (s.status === 'applied' || s.status === 'exists') && s.format !== EXEC_FORMAT).map((s) => s.locUri));
  const deletes = new Map<string, { verb: 'Delete'; item: PlannedItem; covers: string[] }>();
  const covered: [string, string][] = [];
  for (const state of unwanted) {
    const ancestor = topmostAncestor(state.locUri, deleting);
    if (ancestor !== undefined) covered.push([ancestor, state.locUri]);
    else if (deleting.has(state.locUri)) deletes.set(state.locUri, { verb: 'Delete', item: { locUri: state.locUri, format: state.format, value: '' }, covers: [] });
    else plan.forget.push(state.locUri);
  }
  for (const [ancestor, locUri] of covered) deletes.get(ancestor)!.covers.push(locUri);
  for (const command of deletes.values()) {
    const { covers, ...rest } = command;
    plan.commands.push(covers.length > 0 ? command : rest);
  }
  return plan;
}

/** The shortest proper ancestor of `locUri` (by path segments) in `nodes`, if any. */
function topmostAncestor(locUri: string, nodes: ReadonlySet<string>): string | undefined {
  for (let end = locUri.indexOf('/'); end !== -1; end = locUri.indexOf('/', end + 1)) {
    const prefix = locUri.slice(0, end);
    if (nodes.has(prefix)) return prefix;
  }
  return undefined;
}
