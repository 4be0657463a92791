import { normalizeLocUri } from '../csp/loc-uri.ts';
import { mamRefusal } from '../csp/mam-allow-list.ts';
import type { ConfigurationTarget, DesiredSetting, EnrollmentRecord, NodeStateRecord, PolicyKind, PolicyRecord, TargetFilter } from '../store/records.ts';
import type { AssignmentFilterStore, EnrollmentStore, GroupStore, ManagementStore, PolicyStore } from '../store/roles.ts';
import { appliesTo, resolveExecVersions, targetFilterIds } from './management/desired-state.ts';
import { deviceFacts } from './devices/device-facts.ts';
import { deviceFilterJudge, deviceFilterSubject } from './devices/device-filters.ts';
import { targetOf, type PolicyService } from './policies.ts';

/**
 * Where a policy stands on each device it targets, worked out when an admin asks (no per-device rows are written
 * when a policy changes): from the settings it compiles to and the node states each device acknowledged.
 */
export type PolicyDeviceState = 'pending' | 'applied' | 'failed' | 'conflict' | 'notApplicable';

export interface PolicyDeviceStatus {
  enrollmentId: string;
  devId: string;
  deviceName: string | null;
  userPrincipalName: string | null;
  status: PolicyDeviceState;
  /** The device's SyncML status code for a failure. */
  statusCode: string | null;
  lastReportedAt: number | null;
}

export interface DevicePolicyState {
  policy: PolicyRecord;
  status: PolicyDeviceState;
  statusCode: string | null;
  lastReportedAt: number | null;
}

const POLICY_KINDS: readonly PolicyKind[] = [
  'windowsInformationProtectionPolicy',
  'windows10CustomConfiguration',
  'windows81TrustedRootCertificate',
  'windowsPfxCertificate',
  'windowsScepCertificate',
];

/** SyncML 216: a command of an Atomic that was rolled back because another one failed. */
const ATOMIC_ROLLBACK = '216';

export class PolicyStatusService {
  constructor(
    private readonly store: Pick<EnrollmentStore, 'listEnrollments'> &
      Pick<ManagementStore, 'getManagedDevice' | 'getNodeStates' | 'getNodeStatesOf' | 'getManagementStatesOf'> &
      Pick<GroupStore, 'groupsOfMember' | 'groupsOfMembers'> &
      Pick<PolicyStore, 'listPolicies'>,
    private readonly policies: PolicyService,
    /** The tenant's assignment filters (absent: a filtered assignment reaches no device in the report). */
    private readonly filters?: Pick<AssignmentFilterStore, 'getAssignmentFilters'>,
  ) {}

  policyStatesOf(enrollment: EnrollmentRecord): Promise<DevicePolicyState[]> {
    return devicePolicyStates(this.store, this.policies, enrollment, this.filters);
  }

  /**
   * The policy's state on each active enrollment it targets (at most `limit` enrollments looked at, newest first).
   * A fixed number of reads whatever the number of devices: the enrollments, then their management states (token
   * groups), their users' group memberships and the node states of the targeted ones, each read for all at once.
   */
  async deviceStatuses(policy: PolicyRecord, limit: number): Promise<PolicyDeviceStatus[]> {
    const target = targetOf(policy);
    const { settings, refused } = this.policies.compile(policy);
    const refusedUris = new Set(refused.map((r) => r.locUri));
    const enrollments = await this.store.listEnrollments(policy.tenantId, { limit, state: 'enrolled' });
    if (enrollments.length === 0) return [];
    const [managementStates, memberships] = await Promise.all([
      this.store.getManagementStatesOf(enrollments.map((e) => e.id)),
      // Only group targets depend on memberships.
      target.kind === 'groups' ? this.store.groupsOfMembers(policy.tenantId, enrollments.map((e) => e.userOid)) : Promise.resolve(new Map<string, string[]>()),
    ]);
    // Assignment filters are judged on what the enrollment records (name, OS version and edition, manufacturer, model):
    // one read of the filters, none per device. A device the groups reach and a filter keeps out is notApplicable.
    const filterIds = targetFilterIds([{ target }]);
    const filters = filterIds.length === 0 || this.filters === undefined ? [] : await this.filters.getAssignmentFilters(policy.tenantId, filterIds);
    const reached = enrollments.flatMap((enrollment) => {
      const groups = new Set([...(memberships.get(enrollment.userOid) ?? []), ...(managementStates.get(enrollment.id)?.tokenGroups ?? [])]);
      if (!appliesTo(target, { devId: enrollment.devId, groups, filters: () => true })) return [];
      if (filterIds.length === 0) return [{ enrollment, filteredOut: false }];
      const judge = deviceFilterJudge(filters, deviceFilterSubject(deviceFacts(enrollment, new Map())));
      return [{ enrollment, filteredOut: !appliesTo(target, { devId: enrollment.devId, groups, filters: judge }) }];
    });
    if (reached.length === 0) return [];
    const targeted = reached.filter((r) => !r.filteredOut).map((r) => r.enrollment);
    const nodeStates = targeted.length === 0 ? new Map<string, NodeStateRecord[]>() : await this.store.getNodeStatesOf(targeted.map((e) => e.id));
    return reached.map(({ enrollment, filteredOut }) => {
      const nodes = new Map((nodeStates.get(enrollment.id) ?? []).map((n) => [n.locUri, n]));
      const { status, statusCode, lastReportedAt } = filteredOut ? { status: 'notApplicable' as const, statusCode: null, lastReportedAt: null } : summarise(settings, refusedUris, nodes);
      return { enrollmentId: enrollment.id, devId: enrollment.devId, deviceName: enrollment.deviceName, userPrincipalName: enrollment.upn, status, statusCode, lastReportedAt };
    });
  }
}

/** Every policy that targets one device (MAM: WIP and custom configurations), with its state there. */
export async function devicePolicyStates(
  store: Pick<ManagementStore, 'getManagedDevice' | 'getNodeStates'> & Pick<GroupStore, 'groupsOfMember'> & Pick<PolicyStore, 'listPolicies'>,
  policies: PolicyService,
  enrollment: EnrollmentRecord,
  filterStore?: Pick<AssignmentFilterStore, 'getAssignmentFilters'>,
): Promise<DevicePolicyState[]> {
  const managed = await store.getManagedDevice(enrollment.devId);
  const groups = new Set([...(await store.groupsOfMember(enrollment.tenantId, enrollment.userOid)), ...(managed?.management.tokenGroups ?? [])]);
  const nodes = new Map((await store.getNodeStates(enrollment.id)).map((n) => [n.locUri, n]));
  const states: DevicePolicyState[] = [];
  // Filters judged on what the enrollment records, read once for all the policies that name any.
  let judge: ((filter: TargetFilter) => boolean) | undefined;
  const filters = async (target: ConfigurationTarget): Promise<(filter: TargetFilter) => boolean> => {
    if (judge !== undefined || filterStore === undefined) return judge ?? (() => false);
    const all = await Promise.all(POLICY_KINDS.map((kind) => store.listPolicies(enrollment.tenantId, kind)));
    const ids = targetFilterIds([target, ...all.flat().map(targetOf)].map((t) => ({ target: t })));
    judge = deviceFilterJudge(await filterStore.getAssignmentFilters(enrollment.tenantId, ids), deviceFilterSubject(deviceFacts(enrollment, new Map())));
    return judge;
  };
  for (const kind of POLICY_KINDS) {
    for (const policy of await store.listPolicies(enrollment.tenantId, kind)) {
      const target = targetOf(policy);
      const judged = target.kind === 'groups' && target.filters !== undefined ? await filters(target) : undefined;
      if (!appliesTo(target, { devId: enrollment.devId, groups, ...(judged ? { filters: judged } : {}) })) continue;
      const { settings, refused } = policies.compile(policy);
      states.push({ policy, ...summarise(settings, new Set(refused.map((r) => r.locUri)), nodes) });
    }
  }
  return states;
}

/**
 * A policy's state on one device: any failure wins, then conflicts, then anything not yet acknowledged. An exec
 * setting (SCEP Enroll) counts as applied once the device accepted it for the current version of its group.
 */
export function summarise(
  settings: readonly DesiredSetting[],
  refused: ReadonlySet<string>,
  nodes: ReadonlyMap<string, NodeStateRecord>,
): { status: PolicyDeviceState; statusCode: string | null; lastReportedAt: number | null } {
  const deliverable = resolveExecVersions(settings).filter((s) => !refused.has(s.locUri) && mamRefusal(normalizeLocUri(s.locUri)) === undefined);
  if (deliverable.length === 0) return { status: 'notApplicable', statusCode: null, lastReportedAt: null };
  let lastReportedAt: number | null = null;
  let pending = false;
  let conflict = false;
  let failed: NodeStateRecord | undefined;
  let judged = 0;
  for (const setting of deliverable) {
    const node = nodes.get(normalizeLocUri(setting.locUri));
    // A conditional setting the planner judged not to apply to this device (e.g. the MDM upgrade on Home edition).
    if (setting.applicableWhen !== undefined && node?.status === 'not_applicable') continue;
    judged++;
    if (node) lastReportedAt = Math.max(lastReportedAt ?? 0, node.updatedAt);
    if (node?.status === 'failed' && node.value === setting.value) {
      // In a rolled-back Atomic every member failed; the cause is the member that did not answer 216 (rolled back).
      if (failed === undefined || (failed.statusCode === ATOMIC_ROLLBACK && node.statusCode !== ATOMIC_ROLLBACK)) failed = node;
    } else if (node?.status === 'conflict') conflict = true;
    else if (node?.status !== 'applied' || node.value !== setting.value || node.format !== setting.format) pending = true;
  }
  if (failed) return { status: 'failed', statusCode: failed.statusCode, lastReportedAt: failed.updatedAt };
  if (judged === 0) return { status: 'notApplicable', statusCode: null, lastReportedAt };
  return { status: conflict ? 'conflict' : pending ? 'pending' : 'applied', statusCode: null, lastReportedAt };
}
