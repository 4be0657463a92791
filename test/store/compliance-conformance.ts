import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { ComplianceService } from '../../src/core/compliance/compliance-service.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import { OpenMamError } from '../../src/errors.ts';
import type { CompliancePolicyRecord } from '../../src/store/compliance-records.ts';
import type { EnrollmentInput, Store } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Device compliance's store and runs, for every backend: a policy write owes its tenant a run; one node at a time
 * leases it (another node's claim finds nothing while the lease lives, takes it over once it lapsed, resuming at the
 * cursor); a node that lost its lease writes nothing; a newer change restarts the run from the first device; a run
 * judges every device in keyset batches and records the policy version; the active enrollment of an Entra device
 * answers access decisions; the grace sweep.
 */
const T0 = Date.UTC(2026, 11, 7);

export function complianceConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`compliance store and runs: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => store?.close());

    async function tenantWithDevices(count: number): Promise<{ tenantId: string; enrollmentIds: string[]; entraDeviceIds: string[] }> {
      const tenantId = randomUUID();
      await store.createTenant({ id: tenantId, name: 'Contoso', identityProvider: 'builtin', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: T0, updatedAt: T0 });
      const enrollmentIds: string[] = [];
      const entraDeviceIds: string[] = [];
      for (let i = 0; i < count; i++) {
        const input: EnrollmentInput = {
          id: randomUUID(),
          tenantId,
          devId: `dev-${randomUUID()}`,
          userOid: randomUUID(),
          upn: `user${i}@contoso.com`,
          entraDeviceId: randomUUID(),
          enrollmentType: 'MAM',
          applicationVersion: null,
          requestVersion: '4.0',
          termsAcceptedAt: null,
          hwDevId: null,
          deviceName: `PC-${i}`,
          deviceType: null,
          osEdition: '48',
          osVersion: i % 2 === 0 ? '10.0.22631.1' : '10.0.17763.1',
          locale: null,
        };
        const outcome = await store.enroll(input, T0);
        assert.equal(outcome.kind, 'enrolled');
        enrollmentIds.push(input.id);
        entraDeviceIds.push(input.entraDeviceId!);
      }
      return { tenantId, enrollmentIds, entraDeviceIds };
    }

    function policy(tenantId: string, body: Record<string, unknown> = {}): CompliancePolicyRecord {
      return {
        tenantId,
        id: randomUUID(),
        kind: 'windows10CompliancePolicy',
        body: { displayName: 'Build', osMinimumVersion: '10.0.19045.0', scheduledActionsForRule: [{ scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0 }] }], ...body },
        assignments: [{ id: randomUUID(), target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }],
        version: 1,
        createdAt: T0,
        updatedAt: T0,
      };
    }

    /** Claims until this tenant's run comes up (other tests' tenants may be owed runs too: they are finished here). */
    async function claimFor(owner: string, tenantId: string, now: number, leaseUntil: number) {
      for (let i = 0; i < 50; i++) {
        const lease = await store.compliance.claimComplianceRun(owner, now, leaseUntil);
        if (lease === undefined || lease.tenantId === tenantId) return lease;
        await store.compliance.finishComplianceRun(owner, lease);
      }
      return undefined;
    }

    it('leases a run to one node at a time; a lapsed lease is taken over at its cursor; the loser writes nothing; a newer change restarts', async () => {
      const { tenantId, enrollmentIds } = await tenantWithDevices(3);
      const first = policy(tenantId);
      await store.compliance.createCompliancePolicy(first);
      const a = (await claimFor('node-a', tenantId, T0, T0 + 60_000))!;
      assert.deepEqual({ ...a }, { tenantId, target: 1, cursor: null });
      assert.equal(await claimFor('node-b', tenantId, T0 + 1, T0 + 60_001), undefined, 'held by node-a');
      const result = { enrollmentId: enrollmentIds[0]!, state: 'compliant' as const, graceUntil: null, policies: [] };
      assert.equal(await store.compliance.saveComplianceResults([result], { lease: { owner: 'node-a', lease: a, cursor: enrollmentIds[0]!, leaseUntil: T0 + 60_000 } }), true);
      // node-a stalls past its lease: node-b takes the run over where node-a's last batch left it.
      const b = (await claimFor('node-b', tenantId, T0 + 120_000, T0 + 180_000))!;
      assert.deepEqual({ ...b }, { tenantId, target: 1, cursor: enrollmentIds[0] });
      assert.equal(await store.compliance.saveComplianceResults([{ ...result, state: 'noncompliant' }], { lease: { owner: 'node-a', lease: a, cursor: enrollmentIds[1]!, leaseUntil: T0 + 240_000 } }), false, 'a lost lease writes nothing');
      assert.equal((await store.getEnrollment(enrollmentIds[0]!))!.complianceState, 'compliant');
      // A change meanwhile: the run of generation 1 finishes, generation 2 starts from the first device.
      const written = await store.compliance.updateCompliancePolicy({ ...first, body: { ...first.body, osMinimumVersion: '10.0.1.0' } });
      assert.equal(written.kind, 'saved');
      await store.compliance.finishComplianceRun('node-b', b);
      assert.deepEqual(await claimFor('node-a', tenantId, T0 + 200_000, T0 + 260_000), { tenantId, target: 2, cursor: null });
    });

    it('a run judges every device in batches at the policy version, twice the same, and the report reads it', async () => {
      const { tenantId, enrollmentIds, entraDeviceIds } = await tenantWithDevices(5);
      const errors: unknown[] = [];
      const node = (nodeId: string) => new ComplianceService({ store: store.compliance, groups: store, clock: () => T0, nodeId, batchSize: 2, onError: (error) => errors.push(error) });
      const created = policy(tenantId);
      await store.compliance.createCompliancePolicy(created);
      const service = node('node-a');
      assert.ok((await service.runOwed()) >= 1);
      assert.deepEqual(errors, []);
      const states = await Promise.all(enrollmentIds.map(async (id) => (await store.getEnrollment(id))!.complianceState));
      assert.deepEqual(states, ['compliant', 'noncompliant', 'compliant', 'noncompliant', 'compliant']);
      assert.equal(await node('node-b').runOwed(), 0, 'nothing owed any more');
      const [row] = await store.compliance.compliancePolicyStatesOf(enrollmentIds[1]!);
      assert.equal(row!.policyVersion, 1);
      assert.equal(row!.settings[0]!.currentValue, '10.0.17763.1');
      const counts = await store.compliance.compliancePolicyStateCounts(tenantId, created.id);
      assert.deepEqual(counts.counts, { compliant: 3, nonCompliant: 2 });
      const page = await store.compliance.compliancePolicyDeviceStates(tenantId, created.id, null, 2);
      const next = await store.compliance.compliancePolicyDeviceStates(tenantId, created.id, page[1]!.enrollmentId, 10);
      assert.equal(page.length + next.length, 5);
      assert.deepEqual(await store.compliance.activeDeviceCompliance(tenantId, entraDeviceIds[1]!), { state: 'noncompliant', graceUntil: T0 });
      assert.equal(await store.compliance.activeDeviceCompliance(randomUUID(), entraDeviceIds[1]!), undefined, 'another tenant');
      // A device that left keeps its rows (not counted) until the next run, which removes them.
      assert.equal(await store.markUnenrolled(enrollmentIds[4]!, T0), true);
      assert.deepEqual((await store.compliance.compliancePolicyStateCounts(tenantId, created.id)).counts, { compliant: 2, nonCompliant: 2 });
      // The same run again (after a no-op change) gives the same states at version 2.
      assert.equal((await store.compliance.updateCompliancePolicy(created)).kind, 'saved');
      await service.runOwed();
      assert.equal((await store.compliance.compliancePolicyStatesOf(enrollmentIds[1]!))[0]!.policyVersion, 2);
      assert.deepEqual((await store.compliance.compliancePolicyStateCounts(tenantId, created.id)).counts, { compliant: 2, nonCompliant: 2 });
      assert.deepEqual(await store.compliance.compliancePolicyStatesOf(enrollmentIds[4]!), [], 'the run removed the rows of the device that left');
      // The policy deleted: its states go with the next run.
      assert.equal((await store.compliance.deleteCompliancePolicy(tenantId, created.id, undefined)).kind, 'deleted');
      await service.runOwed();
      assert.deepEqual(await store.compliance.compliancePolicyStatesOf(enrollmentIds[1]!), []);
      assert.equal((await store.getEnrollment(enrollmentIds[1]!))!.complianceState, 'unknown', 'no policy: unknown (never compliant by default)');
    });

    it('refuses a stale version, a missing policy and a missing tenant', async () => {
      const { tenantId } = await tenantWithDevices(0);
      const created = policy(tenantId);
      await store.compliance.createCompliancePolicy(created);
      await assert.rejects(store.compliance.createCompliancePolicy(created), /already exists/);
      await assert.rejects(store.compliance.createCompliancePolicy(policy(randomUUID())), /does not exist/);
      assert.equal((await store.compliance.updateCompliancePolicy(created)).kind, 'saved');
      assert.deepEqual(await store.compliance.updateCompliancePolicy(created), { kind: 'stale', current: 2 });
      assert.deepEqual(await store.compliance.updateCompliancePolicy({ ...created, id: randomUUID() }), { kind: 'not_found' });
      assert.deepEqual(await store.compliance.deleteCompliancePolicy(tenantId, created.id, 1), { kind: 'stale', current: 2 });
    });

    it('ends grace periods that are over, and only those', async () => {
      const { enrollmentIds } = await tenantWithDevices(2);
      await store.compliance.saveComplianceResults([
        { enrollmentId: enrollmentIds[0]!, state: 'inGracePeriod', graceUntil: T0 - 1, policies: [] },
        { enrollmentId: enrollmentIds[1]!, state: 'inGracePeriod', graceUntil: T0 + 3_600_000, policies: [] },
      ]);
      assert.ok((await store.compliance.expireComplianceGrace(T0, 1000)) >= 1);
      assert.equal((await store.getEnrollment(enrollmentIds[0]!))!.complianceState, 'noncompliant');
      assert.equal((await store.getEnrollment(enrollmentIds[1]!))!.complianceState, 'inGracePeriod');
    });

    it('records since when a policy fails and when its retire is due; the sweep asks a retire once it is, a conflict counting as done', async () => {
      const { tenantId, enrollmentIds } = await tenantWithDevices(2);
      const retiring = policy(tenantId, { scheduledActionsForRule: [{ scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 0 }, { actionType: 'retire', gracePeriodHours: 2 }] }] });
      await store.compliance.createCompliancePolicy(retiring);
      const asked: string[] = [];
      const node = (at: number, answer?: OpenMamError) =>
        new ComplianceService({
          store: store.compliance,
          groups: store,
          clock: () => at,
          nodeId: 'node-a',
          onError: (error) => assert.fail(String(error)),
          actions: {
            retire: async (enrollment) => {
              if (enrollment.tenantId !== tenantId) return;
              if (answer !== undefined) throw answer;
              asked.push(enrollment.id);
            },
          },
        });
      await node(T0).runOwed();
      const [failing] = await store.compliance.compliancePolicyStatesOf(enrollmentIds[1]!);
      assert.deepEqual([failing!.state, failing!.nonCompliantSince, failing!.retireAt], ['nonCompliant', T0, T0 + 2 * 3_600_000]);
      const [passing] = await store.compliance.compliancePolicyStatesOf(enrollmentIds[0]!);
      assert.deepEqual([passing!.nonCompliantSince, passing!.retireAt], [null, null]);
      const ours = async (at: number) => (await store.compliance.dueComplianceRetires(at, 1000)).filter((d) => d.tenantId === tenantId);
      assert.deepEqual(await ours(T0 + 3_600_000), [], 'not due yet');
      assert.deepEqual(await ours(T0 + 3 * 3_600_000), [{ tenantId, enrollmentId: enrollmentIds[1]!, policyId: retiring.id, managed: true }]);

      // Another node asked first: a conflict is done, the row cleared.
      await node(T0 + 3 * 3_600_000, new OpenMamError('conflict', 'pending already')).sweepRetires();
      assert.deepEqual(await ours(T0 + 3 * 3_600_000), []);
      // Judged again later, still failing: the start is kept, the retire due again, and asked.
      await store.compliance.requestComplianceRun(tenantId);
      await node(T0 + 3 * 3_600_000).runOwed();
      const [kept] = await store.compliance.compliancePolicyStatesOf(enrollmentIds[1]!);
      assert.deepEqual([kept!.nonCompliantSince, kept!.retireAt], [T0, T0 + 2 * 3_600_000]);
      await node(T0 + 3 * 3_600_000).sweepRetires();
      assert.deepEqual(asked, [enrollmentIds[1]]);
      assert.deepEqual(await ours(T0 + 3 * 3_600_000), [], 'asked once');
    });

    it('lists check-ins for the validity sweep; a tenant settings write may owe a compliance run in its transaction', async () => {
      const { tenantId, enrollmentIds } = await tenantWithDevices(3);
      const rows = await store.compliance.complianceCheckins(tenantId, null, 2);
      assert.deepEqual(rows.map((r) => r.id), [...enrollmentIds].sort().slice(0, 2));
      assert.deepEqual(rows.map((r) => [r.lastSeenAt, r.lapsed]), [[T0, false], [T0, false]], 'never checked in: the enrollment time');
      await store.recordCheckins(new Map([[rows[0]!.id, T0 + 5]]));
      assert.equal((await store.compliance.complianceCheckins(tenantId, null, 1))[0]!.lastSeenAt, T0 + 5);
      assert.deepEqual((await store.compliance.complianceCheckins(tenantId, rows[1]!.id, 10)).length, 1);
      const tenant = (await store.getTenant(tenantId))!;
      assert.equal(await claimFor('node-a', tenantId, T0, T0 + 60_000), undefined, 'nothing owed');
      assert.equal((await store.updateTenant({ ...tenant, settings: { ...tenant.settings, secureByDefault: true } }, undefined, { complianceRun: true })).kind, 'saved');
      assert.equal((await claimFor('node-a', tenantId, T0, T0 + 60_000))?.tenantId, tenantId);
    });
  });
}
