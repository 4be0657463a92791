import type { CompliancePolicyRecord, ComplianceRunLease, ComplianceSubject, DeviceComplianceResult } from '../../store/compliance-records.ts';
import type { ComplianceStore } from '../../store/compliance-records.ts';
import type { EnrollmentRecord } from '../../store/records.ts';
import type { AssignmentFilterStore, GroupStore } from '../../store/roles.ts';
import { deviceFacts } from '../devices/device-facts.ts';
import { deviceFilterJudge, deviceFilterSubject } from '../devices/device-filters.ts';
import type { DeviceEventSink } from '../management/session.ts';
import { OpenMamError } from '../../errors.ts';
import { checkinLapsed, complianceFilterIds, evaluateDevice, type HealthAttestationFacts, type WithoutPolicyState } from './evaluate.ts';

/**
 * Device compliance evaluation, always off the request path (evaluate.ts is the rule):
 * - **inventory changes** (`DeviceEventSink`, called by the session engine after a message's stored inventory
 *   changed): the enrollment joins an in-memory queue, drained a moment later in batches (one read of the devices
 *   and their DeviceStatus inventory, one of their users' groups, one of each tenant's policies, one write); a failure
 *   is logged and the device is judged again at its next change or run, never thrown into a session;
 * - **policy changes**: the policy write owed its tenant a run in the same transaction (`compliance_runs`); a node
 *   leases the run (one node per tenant at a time, whichever serves the write or polls first) and judges the tenant's
 *   devices in keyset batches of `batchSize` (one read of enrollments + management state, one of their inventory, one
 *   of group memberships, one write of the states, the enrollments and the run's cursor with its lease renewed). A
 *   crash leaves the cursor: the next lease resumes there; a newer change restarts from the first device. Every
 *   state row records the policy version it judged. Idempotent: a batch judged twice writes the same result;
 * - **grace periods** end in a sweep (every minute): inGracePeriod -> noncompliant, one bounded UPDATE;
 * - **retire actions** (`retire` in a policy's scheduledActionsForRule) come due in the same sweep: each policy state
 *   row records since when the policy is nonCompliant on the device and when its retire is due (evaluate.ts
 *   nonCompliantSpan, written with the states); the sweep reads due rows in batches through their index, asks
 *   `actions.retire` for the devices still enrolled and `managed`, and clears the rows it handled. A retire request is
 *   a compare-and-set on managementState, so when several nodes sweep at once the second ask is a 409: done;
 * - **check-in validity** (tenant `deviceComplianceCheckinThresholdDays`): the evaluation judges a device with no
 *   check-in for that long noncompliant; the sweep walks each tenant's active enrollments a bounded slice per minute
 *   (a rolling cursor over `enrollments_tenant_active_id`; no index on the check-in time, which every check-in writes)
 *   and queues for evaluation the devices whose lapse changed (went silent, or checked in again).
 * Steady check-ins never reach any of this: their messages change no inventory.
 */

/**
 * What noncompliance actions other than `block` do. `retire`: the managed device retire (core/management/
 * device-actions.ts DeviceActionService.request with reason `compliance`), called by the minute sweep when a policy's
 * retire is due. A refusal with `conflict` (a retire or wipe pending already, or the enrollment ended) or `not_found`
 * counts as done.
 */
export interface NoncomplianceActions {
  retire?(enrollment: Pick<EnrollmentRecord, 'id' | 'tenantId'>, policyId: string): Promise<void>;
}

/** A tenant's device compliance settings (tenant settings secureByDefault, deviceComplianceCheckinThresholdDays). */
export interface TenantComplianceRules {
  withoutPolicy: WithoutPolicyState;
  /** Days without a check-in after which a device is noncompliant; absent: never. */
  checkinThresholdDays?: number;
}

export interface ComplianceServiceOptions {
  store: ComplianceStore;
  groups: Pick<GroupStore, 'groupsOfMembers'>;
  /** The tenant's assignment filters (an assignment with a device filter reaches only the devices it lets through). */
  filters?: Pick<AssignmentFilterStore, 'getAssignmentFilters'>;
  clock: () => number;
  /** This node's name in run leases. */
  nodeId: string;
  onError: (error: unknown, what: string) => void;
  /** Devices per batch (1,000). */
  batchSize?: number;
  /** How long a run's lease lasts without a batch renewing it (60 s). */
  leaseMs?: number;
  /** How often a node looks for runs owed (5 s) and sweeps grace periods (60 s). */
  pollMs?: number;
  graceSweepMs?: number;
  /**
   * What a tenant's devices with no compliance policy assigned are (evaluate.ts): `unknown` when absent (never compliant
   * by default); `compliant` is Intune's default for "Mark devices with no compliance policy assigned as", `noncompliant`
   * its secureByDefault.
   */
  withoutPolicy?: (tenantId: string) => WithoutPolicyState;
  /**
   * The tenant's compliance settings (overrides `withoutPolicy`); absent: `withoutPolicy`, no check-in validity.
   * `fresh`: read as stored now, not through a cache (a run after a settings change, maybe on another node, must see it).
   */
  rules?: (tenantId: string, fresh: boolean) => Promise<TenantComplianceRules>;
  /** The tenants whose devices' check-ins the sweep walks (with `rules`). */
  tenantIds?: () => Promise<readonly string[]>;
  /** Health attestation facts of enrollments (H3); absent: attestation settings evaluate unknown. */
  attestation?: (enrollmentIds: readonly string[]) => Promise<ReadonlyMap<string, HealthAttestationFacts>>;
  actions?: NoncomplianceActions;
}

const DEFAULT_BATCH = 1000;
/** Devices per write transaction of a run (see #run). */
const WRITE_SLICE = 250;
const QUEUE_DELAY_MS = 50;
/** Due retire rows one sweep statement reads, and at most this many statements per sweep (the rest waits a minute). */
const RETIRE_BATCH = 500;
const RETIRE_MAX_BATCHES = 20;
/** Enrollments of one tenant whose check-in one sweep looks at (a rolling cursor goes round the tenant). */
const CHECKIN_SCAN = 5_000;

/**
 * Lets requests waiting for I/O run before the next step of a run. SQLite's statements run on this thread and a chain
 * of awaits on them never returns to the event loop on its own (promise callbacks run before I/O callbacks), so
 * without this a run would hold devices' check-ins until it ended.
 */
const yieldToRequests = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ComplianceService implements DeviceEventSink {
  readonly #options: ComplianceServiceOptions;
  /** Enrollments whose inventory changed, to judge: one entry per enrolled device at most (a set), drained in batches. */
  readonly #queued = new Set<string>();
  #drainTimer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #rerun = false;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  /**
   * Per tenant, where the check-in walk resumes (in memory: a restarted node starts again at the first device).
   * One entry per onboarded tenant at most, removed when a walk reaches the end.
   */
  readonly #checkinCursor = new Map<string, string>();

  constructor(options: ComplianceServiceOptions) {
    this.#options = options;
  }

  /** Starts the polls (runs owed by any node's writes, grace expiry); timers do not keep the process alive. */
  start(): void {
    const poll = setInterval(() => this.tenantChanged(), this.#options.pollMs ?? 5_000);
    const sweep = setInterval(() => void this.sweep(), this.#options.graceSweepMs ?? 60_000);
    poll.unref();
    sweep.unref();
    this.#timers.push(poll, sweep);
    this.tenantChanged();
  }

  /** Stops the polls and waits for the work in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    await Promise.all([this.#draining, this.#running]);
  }

  // ---- inventory changes

  inventoryChanged(enrollment: EnrollmentRecord): void {
    if (this.#closed) return;
    this.#queued.add(enrollment.id);
    if (this.#drainTimer === undefined && this.#draining === undefined) this.#drainTimer = setTimeout(() => this.#drain(), QUEUE_DELAY_MS);
  }

  /** Judges every queued device now (tests, and the drain timer). */
  async flush(): Promise<void> {
    if (this.#drainTimer !== undefined) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
    }
    while (this.#draining !== undefined) await this.#draining;
    if (this.#queued.size > 0) {
      this.#drain();
      await this.#draining;
    }
  }

  #drain(): void {
    this.#drainTimer = undefined;
    this.#draining = (async () => {
      try {
        while (this.#queued.size > 0) {
          const ids = [...this.#queued].slice(0, this.#batchSize());
          for (const id of ids) this.#queued.delete(id);
          try {
            const subjects = await this.#options.store.complianceSubjectsByIds(ids);
            await this.#options.store.saveComplianceResults(await this.#judge(subjects, new Map()));
          } catch (error) {
            this.#options.onError(error, 'compliance evaluation after an inventory change');
          }
        }
      } finally {
        this.#draining = undefined;
      }
    })();
  }

  // ---- policy changes

  /** A tenant's policies changed (or a poll): runs every run owed, on this node, one at a time. */
  tenantChanged(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#rerun = true;
      return;
    }
    this.#running = (async () => {
      try {
        do {
          this.#rerun = false;
          await this.runOwed();
        } while (this.#rerun && !this.#closed);
      } catch (error) {
        this.#options.onError(error, 'compliance re-evaluation');
      } finally {
        this.#running = undefined;
      }
    })();
  }

  /**
   * A device assignment filter's rule changed: when a compliance policy of the tenant names it, the tenant is owed a
   * run (requested after the filter's write; a failure is logged, and the next policy change or device report mends it).
   */
  filterChanged(tenantId: string, filterId: string): void {
    if (this.#closed) return;
    void (async () => {
      const policies = await this.#options.store.listCompliancePolicies(tenantId);
      if (!complianceFilterIds(policies).includes(filterId)) return;
      await this.#options.store.requestComplianceRun(tenantId);
      this.tenantChanged();
    })().catch((error: unknown) => this.#options.onError(error, 'compliance re-evaluation after a filter change'));
  }

  /** Waits for the runs in flight (tests). */
  async settled(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Leases and completes every run owed that no other node holds. */
  async runOwed(): Promise<number> {
    let runs = 0;
    for (;;) {
      const now = this.#options.clock();
      const lease = await this.#options.store.claimComplianceRun(this.#options.nodeId, now, now + this.#leaseMs());
      if (lease === undefined) return runs;
      if (await this.#run(lease)) runs++;
      if (this.#closed) return runs;
    }
  }

  /** One tenant's devices, batch by batch from the lease's cursor; false when the lease was lost (another node has it). */
  async #run(lease: ComplianceRunLease): Promise<boolean> {
    const { store } = this.#options;
    const policies = await store.listCompliancePolicies(lease.tenantId);
    const rules = this.#options.rules !== undefined ? new Map([[lease.tenantId, await this.#options.rules(lease.tenantId, true)]]) : undefined;
    let cursor = lease.cursor;
    for (;;) {
      if (this.#closed) return false;
      await yieldToRequests();
      const subjects = await store.complianceSubjects(lease.tenantId, cursor, this.#batchSize());
      const final = subjects.length < this.#batchSize();
      await yieldToRequests();
      const results = await this.#judge(subjects, new Map([[lease.tenantId, policies]]), undefined, rules);
      const batchEnd = subjects[subjects.length - 1]?.id ?? cursor;
      // Written in slices, each a short transaction with a turn for requests before it; each replaces the states of its
      // id range (devices that left lose theirs) only while this node holds the lease (renewed by each), and the last
      // moves the cursor, so a crash mid-batch judges the batch again (the same result: idempotent).
      let after = cursor;
      for (let start = 0; start === 0 || start < results.length; start += WRITE_SLICE) {
        await yieldToRequests();
        const slice = results.slice(start, start + WRITE_SLICE);
        const last = start + WRITE_SLICE >= results.length;
        const sliceEnd = slice[slice.length - 1]?.enrollmentId ?? null;
        const through = final && last ? null : sliceEnd;
        const kept = await store.saveComplianceResults(slice, {
          replaceRange: { tenantId: lease.tenantId, after, through },
          lease: { owner: this.#options.nodeId, lease, cursor: last ? batchEnd : cursor, leaseUntil: this.#options.clock() + this.#leaseMs() },
        });
        if (!kept) return false;
        after = sliceEnd;
      }
      cursor = batchEnd;
      if (final) break;
    }
    await store.finishComplianceRun(this.#options.nodeId, lease);
    return true;
  }

  // ---- grace, actions, check-in validity

  /** The minute sweep: grace periods, retire actions due, lapsed check-ins; each failure logged on its own. */
  async sweep(): Promise<void> {
    const steps: [string, () => Promise<number>][] = [
      ['compliance grace sweep', () => this.sweepGrace()],
      ['compliance retire sweep', () => this.sweepRetires()],
      ['compliance check-in sweep', () => this.sweepCheckins()],
    ];
    for (const [what, step] of steps) {
      if (this.#closed) return;
      try {
        await step();
      } catch (error) {
        this.#options.onError(error, what);
      }
    }
  }

  /**
   * Asks a retire of each device whose policy's retire action is due and that is still enrolled and `managed`; clears
   * the due rows handled (asked, refused as done, or not managed any more). How many retires this node asked.
   */
  async sweepRetires(): Promise<number> {
    const retire = this.#options.actions?.retire;
    if (retire === undefined) return 0;
    let asked = 0;
    for (let round = 0; round < RETIRE_MAX_BATCHES && !this.#closed; round++) {
      const due = await this.#options.store.dueComplianceRetires(this.#options.clock(), RETIRE_BATCH);
      const handled: typeof due = [];
      const done = new Set<string>();
      for (const item of due) {
        if (item.managed && !done.has(item.enrollmentId)) {
          try {
            await retire({ id: item.enrollmentId, tenantId: item.tenantId }, item.policyId);
            asked++;
          } catch (error) {
            // Another node asked first, an admin did, or the device left: nothing more to do for it.
            if (!(error instanceof OpenMamError && (error.code === 'conflict' || error.code === 'not_found'))) {
              this.#options.onError(error, `compliance retire of ${item.enrollmentId}`);
              continue;
            }
          }
          done.add(item.enrollmentId);
        }
        handled.push(item);
      }
      await this.#options.store.clearComplianceRetires(handled);
      if (due.length < RETIRE_BATCH || handled.length === 0) break;
    }
    return asked;
  }

  /**
   * For each tenant with a check-in validity period, looks at the next slice of its active enrollments and judges again
   * the devices whose lapse changed, at `now` (the clock's; tests pass a later time); how many it judged.
   */
  async sweepCheckins(now = this.#options.clock()): Promise<number> {
    const { rules, tenantIds, store } = this.#options;
    if (rules === undefined || tenantIds === undefined) return 0;
    let judged = 0;
    for (const tenantId of await tenantIds()) {
      if (this.#closed) break;
      const days = (await rules(tenantId, false)).checkinThresholdDays;
      if (days === undefined) continue;
      const rows = await this.#options.store.complianceCheckins(tenantId, this.#checkinCursor.get(tenantId) ?? null, CHECKIN_SCAN);
      if (rows.length < CHECKIN_SCAN) this.#checkinCursor.delete(tenantId);
      else this.#checkinCursor.set(tenantId, rows[rows.length - 1]!.id);
      const changed = rows.filter((row) => checkinLapsed(row.lastSeenAt, days, now) !== row.lapsed).map((row) => row.id);
      for (let start = 0; start < changed.length; start += this.#batchSize()) {
        await yieldToRequests();
        const subjects = await store.complianceSubjectsByIds(changed.slice(start, start + this.#batchSize()));
        await store.saveComplianceResults(await this.#judge(subjects, new Map(), now));
        judged += subjects.length;
      }
    }
    return judged;
  }

  /** Ends grace periods that are over; how many devices turned noncompliant. */
  async sweepGrace(): Promise<number> {
    let total = 0;
    for (;;) {
      const changed = await this.#options.store.expireComplianceGrace(this.#options.clock(), 10_000);
      total += changed;
      if (changed < 10_000) return total;
    }
  }

  // ---- judging

  /** The results of some devices (any tenants): their groups read at once, each tenant's policies once. */
  async #judge(subjects: readonly ComplianceSubject[], policiesByTenant: Map<string, CompliancePolicyRecord[]>, at?: number, rulesByTenant?: ReadonlyMap<string, TenantComplianceRules>): Promise<DeviceComplianceResult[]> {
    const { store, groups, clock } = this.#options;
    const byTenant = new Map<string, ComplianceSubject[]>();
    for (const subject of subjects) {
      const list = byTenant.get(subject.tenantId);
      if (list === undefined) byTenant.set(subject.tenantId, [subject]);
      else list.push(subject);
    }
    const attestation = this.#options.attestation ? await this.#options.attestation(subjects.map((s) => s.id)) : new Map<string, HealthAttestationFacts>();
    const now = at ?? clock();
    const results: DeviceComplianceResult[] = [];
    for (const [tenantId, tenantSubjects] of byTenant) {
      let policies = policiesByTenant.get(tenantId);
      if (policies === undefined) {
        policies = await store.listCompliancePolicies(tenantId);
        policiesByTenant.set(tenantId, policies);
      }
      const needsGroups = policies.some((p) => p.assignments.some(({ target }) => 'groupId' in target));
      const memberships = needsGroups ? await groups.groupsOfMembers(tenantId, tenantSubjects.map((s) => s.userOid)) : new Map<string, string[]>();
      const rules: TenantComplianceRules =
        rulesByTenant?.get(tenantId) ?? (this.#options.rules !== undefined ? await this.#options.rules(tenantId, false) : { withoutPolicy: this.#options.withoutPolicy?.(tenantId) ?? 'unknown' });
      const { withoutPolicy, checkinThresholdDays } = rules;
      const filterIds = complianceFilterIds(policies);
      const filterRecords = filterIds.length > 0 && this.#options.filters !== undefined ? await this.#options.filters.getAssignmentFilters(tenantId, filterIds) : [];
      for (const subject of tenantSubjects) {
        const facts = deviceFacts(subject, subject.inventory);
        const evaluation = evaluateDevice({
          enrollmentId: subject.id,
          tenantId,
          groups: new Set([...(memberships.get(subject.userOid) ?? []), ...subject.tokenGroups]),
          ...(filterIds.length > 0 ? { filters: deviceFilterJudge(filterRecords, deviceFilterSubject(facts)) } : {}),
          evidence: { facts, ...(attestation.has(subject.id) ? { attestation: attestation.get(subject.id)! } : {}) },
          previous: { state: subject.complianceState, graceUntil: subject.complianceGraceUntil },
          policies,
          withoutPolicy,
          now,
          ...(subject.nonCompliantSince !== undefined ? { nonCompliantSince: subject.nonCompliantSince } : {}),
          ...(checkinThresholdDays !== undefined && subject.lastSeenAt !== undefined ? { checkin: { lastSeenAt: subject.lastSeenAt, thresholdDays: checkinThresholdDays } } : {}),
        });
        results.push({ enrollmentId: subject.id, ...evaluation });
      }
    }
    return results;
  }

  #batchSize(): number {
    return this.#options.batchSize ?? DEFAULT_BATCH;
  }

  #leaseMs(): number {
    return this.#options.leaseMs ?? 60_000;
  }
}
