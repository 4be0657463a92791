import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, compareKeys, configurationSet, policyRecord, T0 } from '../conformance-support.ts';
import type { ConfigurationSetRecord, ConfigurationStore, PolicyRecord, PolicyStore, StoreFixture } from '../conformance-support.ts';

/** PolicyStore (src/store/roles.ts): a policy and its configuration set (ConfigurationStore) are written together. */
export function policyConformance(fixture: StoreFixture<PolicyStore & ConfigurationStore>): void {
  const { newTenant } = fixture;

  describe('policies', () => {
    let store: PolicyStore & ConfigurationStore;

    before(() => {
      store = fixture.store;
    });

    /** A policy and the set it compiles into (same tenant and id). */
    function policyPair(tenantId: string, overrides: Partial<PolicyRecord> = {}): [PolicyRecord, ConfigurationSetRecord] {
      const policy = policyRecord(tenantId, overrides);
      const set = configurationSet(tenantId, policy.id, {
        name: `Policy ${policy.id}`,
        target: { kind: 'groups', include: ['g-include'], exclude: ['g-exclude'], allUsers: false },
        createdAt: policy.createdAt,
        updatedAt: policy.updatedAt,
      });
      return [policy, set];
    }

    it('createPolicy writes the policy and its set, bumps once and answers the new version', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      assert.equal(await store.createPolicy(policy, set), 1);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [set]);
    });

    it('updatePolicy at the stored version writes the policy (version + 1) and its set, keeping both createdAt, and bumps again', async () => {
      const tenant = await newTenant();
      const [original, originalSet] = policyPair(tenant.id);
      await store.createPolicy(original, originalSet);
      const changed: PolicyRecord = {
        ...original,
        body: { displayName: 'Renamed', enforcementLevel: 'encryptAuditAndBlock', nested: { list: [1, 'two', null, true] } },
        assignments: [{ id: 'a-2', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }],
        createdAt: T0 + 500,
        updatedAt: T0 + 600,
      };
      const changedSet = configurationSet(tenant.id, original.id, {
        name: 'Renamed',
        target: { kind: 'groups', include: [], exclude: [], allUsers: true },
        settings: [{ locUri: './Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
        createdAt: T0 + 500,
        updatedAt: T0 + 600,
      });
      assert.deepEqual(await store.updatePolicy(changed, changedSet), { kind: 'saved', version: original.version + 1 });
      assert.equal(await store.getConfigurationVersion(tenant.id), 2);
      assert.deepEqual(await store.getPolicy(tenant.id, original.id), { ...changed, version: original.version + 1, createdAt: original.createdAt });
      assert.deepEqual(await store.getConfigurationSet(tenant.id, original.id), { ...changedSet, createdAt: originalSet.createdAt });
      assert.equal((await store.listPolicies(tenant.id, original.kind)).length, 1, 'an update never duplicates the policy');
    });

    it('updatePolicy at a stale version writes neither policy nor set, bumps nothing, and answers stale', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      const first = { ...policy, body: { displayName: 'First' } };
      const firstSet = { ...set, name: 'First' };
      assert.deepEqual(await store.updatePolicy(first, firstSet), { kind: 'saved', version: policy.version + 1 });
      // A writer that read the same version as the first loses: its change is refused, never laid over the first's.
      const lost = { ...policy, body: { displayName: 'Lost' } };
      assert.deepEqual(await store.updatePolicy(lost, { ...set, name: 'Lost', settings: [] }), { kind: 'stale', current: policy.version + 1 });
      assert.deepEqual(await store.getPolicy(tenant.id, policy.id), { ...first, version: policy.version + 1 });
      assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), firstSet);
      assert.equal(await store.getConfigurationVersion(tenant.id), 2);
      // Of concurrent writers at one version, exactly one wins; the configuration version moves once.
      const current = (await store.getPolicy(tenant.id, policy.id))!;
      const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => store.updatePolicy({ ...current, body: { displayName: `Racer ${i}` } }, { ...set, name: `Racer ${i}` })));
      assert.equal(outcomes.filter((o) => o.kind === 'saved').length, 1);
      assert.deepEqual(outcomes.filter((o) => o.kind === 'stale'), Array.from({ length: 5 }, () => ({ kind: 'stale', current: current.version + 1 })));
      const winner = (await store.getPolicy(tenant.id, policy.id))!;
      assert.equal(winner.version, current.version + 1);
      assert.equal((await store.getConfigurationSet(tenant.id, policy.id))?.name, winner.body['displayName'], 'the set is the winner\'s');
      assert.equal(await store.getConfigurationVersion(tenant.id), 3);
    });

    it('updatePolicy of a deleted policy answers not_found and re-creates neither the policy nor its set', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      assert.deepEqual(await store.deletePolicy(tenant.id, policy.id), { kind: 'deleted' });
      assert.deepEqual(await store.updatePolicy({ ...policy, body: { displayName: 'Resurrected?' } }, set), { kind: 'not_found' });
      assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
      assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), []);
      assert.equal(await store.getConfigurationVersion(tenant.id), 2, 'the refused update bumps nothing');
      const [ghost, ghostSet] = policyPair(randomUUID());
      assert.deepEqual(await store.updatePolicy(ghost, ghostSet), { kind: 'not_found' }, 'unknown tenant');
    });

    it('an update racing a delete: either the policy is updated and then deleted, or stays deleted; never resurrected', async () => {
      const tenant = await newTenant();
      for (let i = 0; i < 10; i++) {
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        const [updated, deleted] = await Promise.all([store.updatePolicy({ ...policy, body: { displayName: 'Racing' } }, set), store.deletePolicy(tenant.id, policy.id)]);
        assert.deepEqual(deleted, { kind: 'deleted' });
        assert.ok(updated.kind === 'saved' || updated.kind === 'not_found', JSON.stringify(updated));
        assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
        assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
      }
    });

    it('createPolicy is a plain insert: a taken id is conflict, and the stored policy and set stay', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      await assertRejectsWith(store.createPolicy({ ...policy, body: { displayName: 'Replaced?' } }, { ...set, name: 'Replaced?' }), 'conflict');
      assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
    });

    it('deletePolicy with an expected version deletes only at that version', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      await store.updatePolicy(policy, set);
      assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version), { kind: 'stale', current: policy.version + 1 });
      assert.equal((await store.getPolicy(tenant.id, policy.id))?.version, policy.version + 1);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
      assert.equal(await store.getConfigurationVersion(tenant.id), 2);
      assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version + 1), { kind: 'deleted' });
      assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
      assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version + 1), { kind: 'not_found' });
    });

    it('createPolicy replaces a configuration set of the same id written before', async () => {
      const tenant = await newTenant();
      const earlier = configurationSet(tenant.id, 'shared', { createdAt: T0 - 100 });
      await store.putConfigurationSet(earlier);
      const [policy, set] = policyPair(tenant.id, { id: 'shared' });
      assert.equal(await store.createPolicy(policy, set), 2);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, 'shared'), { ...set, createdAt: earlier.createdAt });
    });

    it('createPolicy for an unknown tenant: not_found, and neither policy nor set is written', async () => {
      const tenantId = randomUUID();
      const [policy, set] = policyPair(tenantId);
      await assertRejectsWith(store.createPolicy(policy, set), 'not_found');
      assert.equal(await store.getPolicy(tenantId, policy.id), undefined);
      assert.equal(await store.getConfigurationSet(tenantId, policy.id), undefined);
    });

    it('createPolicy failing after the policy row: neither is written, nothing bumped, the old ones kept', async () => {
      const tenant = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      // A set the store cannot write (a value JSON cannot carry): the policy written before it must be undone.
      const unwritable: ConfigurationSetRecord = { ...set, settings: [{ locUri: './Device/X', format: 'int', value: 1n as unknown as string }] };
      const changed: PolicyRecord = { ...policy, body: { displayName: 'Never' }, updatedAt: T0 + 9 };
      await assert.rejects(store.updatePolicy(changed, unwritable));
      const [fresh, freshSet] = policyPair(tenant.id);
      await assert.rejects(store.createPolicy(fresh, { ...freshSet, settings: unwritable.settings }));
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
      assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
      assert.equal(await store.getPolicy(tenant.id, fresh.id), undefined);
      assert.equal(await store.getConfigurationSet(tenant.id, fresh.id), undefined);
    });

    it('createPolicy refuses a set that is not the policy\'s (another id or tenant) and writes nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await assert.rejects(store.createPolicy(policy, { ...set, id: 'another' }));
      await assert.rejects(store.createPolicy(policy, { ...set, tenantId: other.id }));
      await assert.rejects(store.updatePolicy(policy, { ...set, id: 'another' }));
      assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
      assert.equal(await store.getConfigurationSet(tenant.id, 'another'), undefined);
      assert.equal(await store.getConfigurationSet(other.id, policy.id), undefined);
      assert.equal(await store.getConfigurationVersion(tenant.id), 0);
      assert.equal(await store.getConfigurationVersion(other.id), 0);
    });

    it('concurrent creates each get their own version; a failing one takes nothing of the others with it', async () => {
      const tenant = await newTenant();
      const pairs = Array.from({ length: 8 }, () => policyPair(tenant.id));
      const ghost = policyPair(randomUUID());
      const results = await Promise.allSettled([...pairs.map(([p, s]) => store.createPolicy(p, s)), store.createPolicy(...ghost)]);
      const versions = results.slice(0, -1).map((r) => (r.status === 'fulfilled' ? r.value : -1));
      assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(results.at(-1)?.status, 'rejected');
      assert.equal(await store.getConfigurationVersion(tenant.id), 8);
      for (const [policy, set] of pairs) {
        assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
      }
      assert.equal(await store.getPolicy(ghost[0].tenantId, ghost[0].id), undefined);
    });

    it('getPolicy answers undefined for an unknown id and for another tenant', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [policy, set] = policyPair(tenant.id);
      await store.createPolicy(policy, set);
      assert.equal(await store.getPolicy(other.id, policy.id), undefined);
      assert.equal(await store.getPolicy(tenant.id, randomUUID()), undefined);
      assert.equal(await store.getPolicy(randomUUID(), policy.id), undefined);
    });

    it('listPolicies: one kind of one tenant, by createdAt, then id', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [first, second] = [randomUUID(), randomUUID()].sort(compareKeys);
      const saved: PolicyRecord[] = [];
      for (const overrides of [
        { createdAt: T0 + 20, id: second! },
        { createdAt: T0 + 30 },
        { createdAt: T0 + 10 },
        { createdAt: T0 + 20, id: first! },
        { createdAt: T0, kind: 'windows10CustomConfiguration' as const },
      ]) {
        const [policy, set] = policyPair(tenant.id, overrides);
        await store.createPolicy(policy, set);
        saved.push(policy);
      }
      await store.createPolicy(...policyPair(other.id));
      const [p20b, p30, p10, p20a, custom] = saved as [PolicyRecord, PolicyRecord, PolicyRecord, PolicyRecord, PolicyRecord];
      assert.deepEqual(await store.listPolicies(tenant.id, 'mdmWindowsInformationProtectionPolicy'), [p10, p20a, p20b, p30]);
      assert.deepEqual(await store.listPolicies(tenant.id, 'windows10CustomConfiguration'), [custom]);
      assert.deepEqual(await store.listPolicies(tenant.id, 'windowsInformationProtectionPolicy'), []);
      assert.deepEqual(await store.listPolicies(randomUUID(), 'mdmWindowsInformationProtectionPolicy'), []);
    });

    it('deletePolicy deletes the policy and its set and bumps; a missing one bumps nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [doomed, doomedSet] = policyPair(tenant.id);
      const [kept, keptSet] = policyPair(tenant.id);
      await store.createPolicy(doomed, doomedSet);
      await store.createPolicy(kept, keptSet);
      assert.deepEqual(await store.deletePolicy(other.id, doomed.id), { kind: 'not_found' }, 'another tenant cannot delete it');
      assert.equal(await store.getConfigurationVersion(other.id), 0);
      assert.deepEqual(await store.getPolicy(tenant.id, doomed.id), doomed);

      assert.deepEqual(await store.deletePolicy(tenant.id, doomed.id), { kind: 'deleted' });
      assert.equal(await store.getConfigurationVersion(tenant.id), 3);
      assert.equal(await store.getPolicy(tenant.id, doomed.id), undefined);
      assert.equal(await store.getConfigurationSet(tenant.id, doomed.id), undefined);
      assert.deepEqual(await store.getPolicy(tenant.id, kept.id), kept);
      assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [keptSet]);

      assert.deepEqual(await store.deletePolicy(tenant.id, doomed.id), { kind: 'not_found' }, 'already deleted');
      assert.deepEqual(await store.deletePolicy(tenant.id, randomUUID()), { kind: 'not_found' });
      assert.deepEqual(await store.deletePolicy(randomUUID(), kept.id), { kind: 'not_found' }, 'unknown tenant');
      assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');
    });

    it('deletePolicy leaves alone a set that has no policy', async () => {
      const tenant = await newTenant();
      await store.putConfigurationSet(configurationSet(tenant.id, 'plain'));
      assert.deepEqual(await store.deletePolicy(tenant.id, 'plain'), { kind: 'not_found' });
      assert.ok(await store.getConfigurationSet(tenant.id, 'plain'));
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
    });
  });
}
