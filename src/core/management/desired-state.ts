import { isUserScoped, normalizeLocUri } from '../../csp/loc-uri.ts';
import { mamRefusal } from '../../csp/mam-allow-list.ts';
import type { ConfigurationSetRecord, ConfigurationTarget, DesiredSetting, NodeStateRecord } from '../../store/records.ts';

/**
 * Desired state, not a queue: from the configuration sets that apply to a device and what the device last
 * acknowledged, work out the fewest commands that bring it to the desired state. Pure: no I/O, no clock but `now`.
 */
export interface PlannedItem {
  locUri: string;
  format: string;
  value: string;
}

/** A command that is not desired state but serves a request (e.g. WIP log retrieval): its answers go there. */
export interface CommandPurpose {
  wipLogRequest: string;
}

export type PlannedCommand =
  | { verb: 'Add' | 'Replace' | 'Delete' | 'Get'; item: PlannedItem; purpose?: CommandPurpose }
  /** All-or-nothing group (e.g. DeviceLock). */
  | { verb: 'Atomic'; group: string; commands: { verb: 'Add' | 'Replace'; item: PlannedItem }[] };

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

/** Whether a set targets this device: by device, by all devices, or by its user's groups (exclusion wins). */
export function appliesTo(target: ConfigurationTarget, device: { devId: string; groups: ReadonlySet<string> }): boolean {
  switch (target.kind) {
    case 'all_devices':
      return true;
    case 'device':
      return target.devId === device.devId;
    case 'groups':
      if (target.exclude.some((group) => device.groups.has(group))) return false;
      return target.allUsers || target.include.some((group) => device.groups.has(group));
  }
}

/**
 * Nodes where two different values have a documented winner instead of being a conflict. The WIP enforcement level
 * (EDPEnforcementLevel 0 off, 1 silent, 2 allow overrides, 3 block) resolves to the stricter, i.e. the higher.
 */
const STRICTER_WINS: ReadonlyMap<string, (a: string, b: string) => string> = new Map([
  ['./Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', (a: string, b: string) => (Number(b) > Number(a) ? b : a)],
]);

/**
 * The union of all sets' settings by normalised LocURI. Two different values for one node are a conflict (neither is
 * sent), except where STRICTER_WINS names the winner.
 */
export function collectDesired(sets: readonly ConfigurationSetRecord[]): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const set of sets) {
    for (const setting of set.settings) {
      const locUri = normalizeLocUri(setting.locUri);
      const existing = wanted.get(locUri);
      if (!existing) {
        wanted.set(locUri, { ...setting, locUri, from: [set.id], conflict: false });
        continue;
      }
      existing.from.push(set.id);
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

function decided(locUri: string, wanted: DesiredSetting, status: 'not_applicable' | 'conflict', now: number): NodeStateRecord {
  return { locUri, format: wanted.format, value: status === 'conflict' ? '' : wanted.value, status, statusCode: null, updatedAt: now };
}

export function planChanges(input: {
  sets: readonly ConfigurationSetRecord[];
  nodeStates: readonly NodeStateRecord[];
  userSignedIn: boolean;
  now: number;
}): Plan {
  const wanted = collectDesired(input.sets);
  const states = new Map(input.nodeStates.map((s) => [s.locUri, s]));
  const plan: Plan = { commands: [], decided: [], forget: [], waitingForUser: false };
  const atomic = new Map<string, { verb: 'Add' | 'Replace'; item: PlannedItem }[]>();

  for (const [locUri, w] of wanted) {
    const state = states.get(locUri);
    const refusal = mamRefusal(locUri);
    if (refusal !== undefined || w.conflict) {
      const status = refusal !== undefined ? 'not_applicable' : 'conflict';
      if (state?.status !== status) plan.decided.push(decided(locUri, w, status, input.now));
      // Conflict: neither value is sent, and a value set earlier is removed (the device returns to its default).
      // A refused node was never sent, so there is nothing to remove; nothing at all is sent to it.
      if (status === 'conflict' && (state?.status === 'applied' || state?.status === 'exists')) {
        plan.commands.push({ verb: 'Delete', item: { locUri, format: state.format, value: '' } });
      }
      continue;
    }
    if (isUserScoped(locUri) && !input.userSignedIn) {
      plan.waitingForUser = true;
      continue;
    }
    const verb = commandFor(w, state);
    if (verb === undefined) continue;
    const item = { locUri, format: w.format, value: w.value };
    if (w.atomicGroup) {
      const group = atomic.get(w.atomicGroup) ?? [];
      group.push({ verb, item });
      atomic.set(w.atomicGroup, group);
    } else {
      plan.commands.push({ verb, item });
    }
  }
  for (const [group, commands] of atomic) plan.commands.push({ verb: 'Atomic', group, commands });

  // Nodes no longer wanted by any set: Delete what the device has, forget what it never applied.
  for (const state of input.nodeStates) {
    if (wanted.has(state.locUri)) continue;
    if (state.status === 'applied' || state.status === 'exists') {
      plan.commands.push({ verb: 'Delete', item: { locUri: state.locUri, format: state.format, value: '' } });
    } else {
      plan.forget.push(state.locUri);
    }
  }
  return plan;
}
