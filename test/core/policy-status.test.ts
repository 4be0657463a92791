import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyService, type PolicyServiceOptions } from '../../src/core/policies.ts';
import { PolicyStatusService } from '../../src/core/policy-status.ts';
import { validateCustomConfiguration } from '../../src/policy/custom.ts';
import type { EnrollmentRecord, ManagementState, NodeStateRecord, PolicyRecord } from '../../src/store/records.ts';
import { NEW_ENROLLMENT_LIFE } from '../../src/store/records.ts';
import type { PolicyStore } from '../../src/store/roles.ts';
import { AuditTrail } from '../../src/core/audit/audit-trail.ts';
import type { AuditStore } from '../../src/store/audit-records.ts';

const TENANT = 'tenant-a';
const GROUP = '11111111-1111-1111-1111-111111111111';
const NODE = './Vendor/MSFT/Policy/Config/NetworkIsolation/NeutralResources';

function enrollment(i: number): EnrollmentRecord {
  return {
    id: `e-${i}`, tenantId: TENANT, devId: `DEV${i}`, userOid: `user-${i}`, upn: `u${i}@contoso.example`, entraDeviceId: null, enrollmentType: 'MAM', state: 'enrolled',
    applicationVersion: null, requestVersion: null, termsAcceptedAt: null, enrollCount: 1, createdAt: 0, enrolledAt: i, updatedAt: 0, unenrolledAt: null,
    hwDevId: null, deviceName: `PC-${i}`, deviceType: null, osEdition: null, osVersion: null, locale: null, ...NEW_ENROLLMENT_LIFE,
  };
}

/**
 * The reads PolicyStatusService makes, over fixed data, counting every call: the per-device reads (getManagedDevice,
 * getNodeStates, groupsOfMember) must not be used by deviceStatuses.
 */
class CountingStore {
  readonly calls = new Map<string, number>();
  constructor(
    readonly enrollments: EnrollmentRecord[],
    readonly memberships: Map<string, string[]>,
    readonly tokenGroups: Map<string, string[]>,
    readonly nodes: Map<string, NodeStateRecord[]>,
  ) {}

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  async listEnrollments(_tenantId: string, options: { limit: number }): Promise<EnrollmentRecord[]> {
    this.count('listEnrollments');
    return this.enrollments.slice(0, options.limit);
  }
  async getManagementStatesOf(ids: readonly string[]): Promise<Map<string, ManagementState>> {
    this.count('getManagementStatesOf');
    return new Map(ids.map((id) => [id, { enrollmentId: id, settledVersion: 0, waitingForUser: false, inventoryAt: null, lastCheckinAt: null, messageLogUntil: null, tokenGroups: this.tokenGroups.get(id) ?? null }]));
  }
  async groupsOfMembers(_tenantId: string, members: readonly string[]): Promise<Map<string, string[]>> {
    this.count('groupsOfMembers');
    return new Map(members.map((m) => [m, this.memberships.get(m) ?? []]));
  }
  async getNodeStatesOf(ids: readonly string[]): Promise<Map<string, NodeStateRecord[]>> {
    this.count('getNodeStatesOf');
    return new Map(ids.map((id) => [id, this.nodes.get(id) ?? []]));
  }
  async getManagedDevice(): Promise<undefined> {
    this.count('getManagedDevice');
    return undefined;
  }
  async getNodeStates(): Promise<NodeStateRecord[]> {
    this.count('getNodeStates');
    return [];
  }
  async groupsOfMember(): Promise<string[]> {
    this.count('groupsOfMember');
    return [];
  }
  async listPolicies(): Promise<PolicyRecord[]> {
    this.count('listPolicies');
    return [];
  }
}

describe('PolicyStatusService.deviceStatuses', () => {
  it('reads a fixed number of times whatever the number of devices, and reports each targeted device', async () => {
    const count = 3000;
    const enrollments = Array.from({ length: count }, (_, i) => enrollment(i));
    // Even devices are targeted: half through admin-managed membership, half through the token's groups claim.
    const memberships = new Map(enrollments.filter((_, i) => i % 4 === 0).map((e) => [e.userOid, [GROUP]]));
    const tokenGroups = new Map(enrollments.filter((_, i) => i % 4 === 2).map((e) => [e.id, [GROUP]]));
    const state = (value: string, status: NodeStateRecord['status'], statusCode: string): NodeStateRecord => ({ locUri: NODE, format: 'chr', value, status, statusCode, updatedAt: 5 });
    const nodes = new Map<string, NodeStateRecord[]>([
      ['e-0', [state('login.example.com', 'applied', '200')]],
      ['e-2', [state('login.example.com', 'failed', '500')]],
    ]);
    const store = new CountingStore(enrollments, memberships, tokenGroups, nodes);
    const policies = new PolicyService({ store: {} as PolicyStore, appStore: {} as PolicyServiceOptions['appStore'], audit: new AuditTrail({} as AuditStore), clock: () => 0, newId: () => 'x', providerId: 'OpenMAM' });
    const body = validateCustomConfiguration(
      { displayName: 'neutral', omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'n', omaUri: NODE, value: 'login.example.com' }] },
      'create',
    );
    const policy: PolicyRecord = {
      tenantId: TENANT, id: 'p', kind: 'windows10CustomConfiguration', body: { ...body }, version: 1, createdAt: 0, updatedAt: 0,
      assignments: [{ id: 'a', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: GROUP } }],
    };
    const statuses = await new PolicyStatusService(store, policies).deviceStatuses(policy, 10_000);

    assert.equal(statuses.length, count / 2);
    assert.deepEqual(statuses.slice(0, 3).map((s) => [s.devId, s.status, s.statusCode]), [['DEV0', 'applied', null], ['DEV2', 'failed', '500'], ['DEV4', 'pending', null]]);
    assert.deepEqual(Object.fromEntries(store.calls), { listEnrollments: 1, getManagementStatesOf: 1, groupsOfMembers: 1, getNodeStatesOf: 1 });
  });

  it('reads nothing more when no device is enrolled', async () => {
    const store = new CountingStore([], new Map(), new Map(), new Map());
    const policies = new PolicyService({ store: {} as PolicyStore, appStore: {} as PolicyServiceOptions['appStore'], audit: new AuditTrail({} as AuditStore), clock: () => 0, newId: () => 'x', providerId: 'OpenMAM' });
    const body = validateCustomConfiguration({ displayName: 'n', omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'n', omaUri: NODE, value: 'x' }] }, 'create');
    const policy: PolicyRecord = { tenantId: TENANT, id: 'p', kind: 'windows10CustomConfiguration', body: { ...body }, version: 1, createdAt: 0, updatedAt: 0, assignments: [] };
    assert.deepEqual(await new PolicyStatusService(store, policies).deviceStatuses(policy, 100), []);
    assert.deepEqual(Object.fromEntries(store.calls), { listEnrollments: 1 });
  });
});
