import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, compareKeys, groupRecord } from '../conformance-support.ts';
import type { ConfigurationStore, GroupRecord, GroupStore, StoreFixture } from '../conformance-support.ts';

/** GroupStore (src/store/roles.ts); membership changes bump the configuration version (ConfigurationStore). */
export function groupConformance(fixture: StoreFixture<GroupStore & ConfigurationStore>): void {
  const { newTenant } = fixture;

  describe('groups', () => {
    let store: GroupStore & ConfigurationStore;

    before(() => {
      store = fixture.store;
    });

    async function newGroup(tenantId: string, overrides: Partial<GroupRecord> = {}): Promise<GroupRecord> {
      const group = groupRecord(tenantId, overrides);
      await store.createGroup(group);
      return group;
    }

    it('createGroup reads back exactly; another tenant does not see it', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const sales = await newGroup(tenant.id, { displayName: 'Sales — Ä ✓', description: 'Everyone selling "things"' });
      const bare = await newGroup(tenant.id, { description: null });
      assert.deepEqual(await store.getGroup(tenant.id, sales.id), sales);
      assert.deepEqual(await store.getGroup(tenant.id, bare.id), bare);
      assert.equal(await store.getGroup(other.id, sales.id), undefined, 'groups belong to their tenant');
      assert.equal(await store.getGroup(tenant.id, randomUUID()), undefined);
      assert.deepEqual(await store.listGroups(other.id), []);
    });

    it('creating a group bumps nothing', async () => {
      const tenant = await newTenant();
      await newGroup(tenant.id);
      assert.equal(await store.getConfigurationVersion(tenant.id), 0);
    });

    it('createGroup refuses an existing id of the tenant with conflict and keeps the original; another tenant may use the id', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const original = await newGroup(tenant.id);
      await assertRejectsWith(store.createGroup({ ...original, displayName: 'Impostor' }), 'conflict');
      assert.deepEqual(await store.getGroup(tenant.id, original.id), original);
      const twin = await newGroup(other.id, { id: original.id, displayName: 'Twin' });
      assert.deepEqual(await store.getGroup(other.id, original.id), twin);
      assert.deepEqual(await store.getGroup(tenant.id, original.id), original);
    });

    it('createGroup refuses an unknown tenant with not_found', async () => {
      const tenantId = randomUUID();
      const group = groupRecord(tenantId);
      await assertRejectsWith(store.createGroup(group), 'not_found');
      assert.equal(await store.getGroup(tenantId, group.id), undefined);
    });

    it('listGroups: the tenant\'s groups by displayName, then id', async () => {
      const tenant = await newTenant();
      const neighbour = await newTenant();
      const [first, second] = [randomUUID(), randomUUID()].sort(compareKeys);
      const beta2 = await newGroup(tenant.id, { id: second!, displayName: 'Beta' });
      const gamma = await newGroup(tenant.id, { displayName: 'Gamma' });
      const alpha = await newGroup(tenant.id, { displayName: 'Alpha' });
      const beta1 = await newGroup(tenant.id, { id: first!, displayName: 'Beta' });
      await newGroup(neighbour.id, { displayName: 'Alpha' });
      assert.deepEqual(await store.listGroups(tenant.id), [alpha, beta1, beta2, gamma]);
      assert.deepEqual(await store.listGroups(randomUUID()), []);
    });

    it('addGroupMember: true when added (bumps), false when already a member (bumps nothing)', async () => {
      const tenant = await newTenant();
      const group = await newGroup(tenant.id);
      const alice = randomUUID();
      assert.equal(await store.addGroupMember(tenant.id, group.id, alice), true);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      assert.equal(await store.addGroupMember(tenant.id, group.id, alice), false);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1, 'adding a member again bumps nothing');
      assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice]);
    });

    it('addGroupMember refuses an unknown group (or another tenant\'s) with not_found and bumps nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const foreign = await newGroup(other.id);
      const member = randomUUID();
      await assertRejectsWith(store.addGroupMember(tenant.id, randomUUID(), member), 'not_found');
      await assertRejectsWith(store.addGroupMember(tenant.id, foreign.id, member), 'not_found');
      await assertRejectsWith(store.addGroupMember(randomUUID(), foreign.id, member), 'not_found');
      assert.equal(await store.getConfigurationVersion(tenant.id), 0);
      assert.equal(await store.getConfigurationVersion(other.id), 0);
      assert.deepEqual(await store.listGroupMembers(other.id, foreign.id), []);
      assert.deepEqual(await store.groupsOfMember(tenant.id, member), []);
    });

    it('listGroupMembers and groupsOfMember: ordered, one group or member, one tenant', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [a, b, c] = [await newGroup(tenant.id), await newGroup(tenant.id), await newGroup(tenant.id)];
      const foreign = await newGroup(other.id, { id: a.id });
      const members = [randomUUID(), randomUUID(), randomUUID()];
      const alice = members[0]!;
      for (const member of [...members].reverse()) await store.addGroupMember(tenant.id, a.id, member);
      await store.addGroupMember(tenant.id, c.id, alice);
      await store.addGroupMember(tenant.id, b.id, alice);
      await store.addGroupMember(other.id, foreign.id, alice);
      assert.deepEqual(await store.listGroupMembers(tenant.id, a.id), [...members].sort(compareKeys));
      assert.deepEqual(await store.listGroupMembers(tenant.id, b.id), [alice]);
      assert.deepEqual(await store.listGroupMembers(other.id, a.id), [alice]);
      assert.deepEqual(await store.listGroupMembers(tenant.id, randomUUID()), []);
      assert.deepEqual(await store.groupsOfMember(tenant.id, alice), [a.id, b.id, c.id].sort(compareKeys));
      assert.deepEqual(await store.groupsOfMember(tenant.id, members[1]!), [a.id]);
      assert.deepEqual(await store.groupsOfMember(other.id, alice), [foreign.id]);
      assert.deepEqual(await store.groupsOfMember(tenant.id, randomUUID()), []);
      assert.equal(await store.getConfigurationVersion(tenant.id), 5);
      assert.equal(await store.getConfigurationVersion(other.id), 1);
    });

    it('groupsOfMembers: groupsOfMember for many members at once, one tenant, every member a key, past one chunk', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const [a, b] = [await newGroup(tenant.id), await newGroup(tenant.id)];
      const foreign = await newGroup(other.id);
      const [alice, bob, nobody] = [randomUUID(), randomUUID(), randomUUID()];
      await store.addGroupMember(tenant.id, b.id, alice);
      await store.addGroupMember(tenant.id, a.id, alice);
      await store.addGroupMember(tenant.id, a.id, bob);
      await store.addGroupMember(other.id, foreign.id, bob);
      const answer = await store.groupsOfMembers(tenant.id, [bob, nobody, alice, alice]);
      assert.deepEqual([...answer.keys()].sort(compareKeys), [alice, bob, nobody].sort(compareKeys));
      assert.deepEqual(answer.get(alice), [a.id, b.id].sort(compareKeys));
      assert.deepEqual(answer.get(alice), await store.groupsOfMember(tenant.id, alice));
      assert.deepEqual(answer.get(bob), [a.id]);
      assert.deepEqual(answer.get(nobody), []);
      assert.deepEqual((await store.groupsOfMembers(other.id, [bob])).get(bob), [foreign.id]);
      assert.equal((await store.groupsOfMembers(tenant.id, [])).size, 0);
      // More members than one query carries: the answer is the same as one by one.
      const many = [...Array.from({ length: 1500 }, () => randomUUID()), alice, bob];
      const all = await store.groupsOfMembers(tenant.id, many);
      assert.equal(all.size, many.length);
      assert.deepEqual(all.get(alice), [a.id, b.id].sort(compareKeys));
      assert.deepEqual(all.get(bob), [a.id]);
      assert.equal([...all.values()].filter((groups) => groups.length > 0).length, 2);
    });

    it('removeGroupMember: true when removed (bumps), false when not a member (bumps nothing)', async () => {
      const tenant = await newTenant();
      const group = await newGroup(tenant.id);
      const [alice, bob] = [randomUUID(), randomUUID()];
      await store.addGroupMember(tenant.id, group.id, alice);
      await store.addGroupMember(tenant.id, group.id, bob);
      assert.equal(await store.removeGroupMember(tenant.id, group.id, alice), true);
      assert.equal(await store.getConfigurationVersion(tenant.id), 3);
      assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [bob]);
      assert.deepEqual(await store.groupsOfMember(tenant.id, alice), []);
      assert.equal(await store.removeGroupMember(tenant.id, group.id, alice), false, 'already removed');
      assert.equal(await store.removeGroupMember(tenant.id, randomUUID(), bob), false, 'unknown group');
      assert.equal(await store.removeGroupMember(randomUUID(), group.id, bob), false, 'unknown tenant');
      assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing removal bumps nothing');
      assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [bob]);
    });

    it('removeGroupMember of another tenant removes nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const group = await newGroup(tenant.id);
      const alice = randomUUID();
      await store.addGroupMember(tenant.id, group.id, alice);
      assert.equal(await store.removeGroupMember(other.id, group.id, alice), false);
      assert.equal(await store.getConfigurationVersion(other.id), 0);
      assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice]);
    });

    it('deleteGroup deletes the group and its memberships and bumps; a missing group bumps nothing', async () => {
      const tenant = await newTenant();
      const other = await newTenant();
      const doomed = await newGroup(tenant.id);
      const kept = await newGroup(tenant.id);
      const alice = randomUUID();
      await store.addGroupMember(tenant.id, doomed.id, alice);
      await store.addGroupMember(tenant.id, kept.id, alice);
      assert.equal(await store.deleteGroup(other.id, doomed.id), false, 'another tenant cannot delete it');
      assert.equal(await store.getConfigurationVersion(other.id), 0);
      assert.deepEqual(await store.getGroup(tenant.id, doomed.id), doomed);

      assert.equal(await store.deleteGroup(tenant.id, doomed.id), true);
      assert.equal(await store.getConfigurationVersion(tenant.id), 3);
      assert.equal(await store.getGroup(tenant.id, doomed.id), undefined);
      assert.deepEqual(await store.listGroups(tenant.id), [kept]);
      assert.deepEqual(await store.listGroupMembers(tenant.id, doomed.id), []);
      assert.deepEqual(await store.groupsOfMember(tenant.id, alice), [kept.id]);

      assert.equal(await store.deleteGroup(tenant.id, doomed.id), false, 'already deleted');
      assert.equal(await store.deleteGroup(randomUUID(), doomed.id), false, 'unknown tenant');
      assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');

      const reborn = await newGroup(tenant.id, { id: doomed.id });
      assert.deepEqual(await store.getGroup(tenant.id, doomed.id), reborn);
      assert.deepEqual(await store.listGroupMembers(tenant.id, doomed.id), [], 'a group created again starts empty');
    });

    it('concurrent adds of one member: exactly one true, one bump; of distinct members: one bump each', async () => {
      const tenant = await newTenant();
      const group = await newGroup(tenant.id);
      const alice = randomUUID();
      const answers = await Promise.all(Array.from({ length: 6 }, () => store.addGroupMember(tenant.id, group.id, alice)));
      assert.equal(answers.filter(Boolean).length, 1, `one added, got ${JSON.stringify(answers)}`);
      assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      const others = Array.from({ length: 8 }, () => randomUUID());
      const results = await Promise.allSettled([
        ...others.map((m) => store.addGroupMember(tenant.id, group.id, m)),
        store.addGroupMember(tenant.id, randomUUID(), alice),
      ]);
      assert.deepEqual(results.slice(0, -1).map((r) => r.status === 'fulfilled' && r.value), others.map(() => true));
      assert.equal(results.at(-1)?.status, 'rejected', 'the unknown group is refused, the others are not affected');
      assert.equal(await store.getConfigurationVersion(tenant.id), 1 + others.length);
      assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice, ...others].sort(compareKeys));
    });
  });
}
