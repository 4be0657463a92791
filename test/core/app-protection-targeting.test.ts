import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configurationDocument, intendedPolicies, MAX_INTENDED_PER_GROUP_SET, memoizedIntendedPolicies, type ConfigurationUser } from '../../src/core/app-protection/targeting.ts';
import type { AppPolicyRecord } from '../../src/store/app-protection-records.ts';

const TENANT = 'fc0dc142-71d8-4b12-bbea-bae2a8514c81';
const EDGE = 'com.microsoft.edge';

function policy(id: string, kind: AppPolicyRecord['kind'], groupId: string, body: Record<string, unknown> = {}, createdAt = 1): AppPolicyRecord {
  return {
    tenantId: TENANT,
    id,
    kind,
    body,
    apps: [{ id: `${id}-app`, appId: EDGE, version: null }],
    assignments: [{ id: `${id}-a`, target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId } }],
    version: 1,
    createdAt,
    updatedAt: createdAt,
  };
}

const user = (userId: string, upn: string): ConfigurationUser => ({ tenantId: TENANT, userId, upn, mail: null, name: null });

describe('memoizedIntendedPolicies', () => {
  const policies = [policy('p1', 'windowsManagedAppProtection', 'g1'), policy('c1', 'targetedManagedAppConfiguration', 'g1', { customSettings: [] })];

  it('answers what intendedPolicies does, and the same object for the same policy list, group set and app', () => {
    const groups = new Set(['g1']);
    const first = memoizedIntendedPolicies(policies, groups, EDGE);
    assert.deepEqual(first, intendedPolicies(policies, groups, EDGE));
    assert.equal(first.protection?.id, 'p1');
    assert.equal(memoizedIntendedPolicies(policies, groups, EDGE), first);
  });

  it('answers anew for another group set, app or policy list (a new snapshot)', () => {
    const groups = new Set(['g1']);
    const first = memoizedIntendedPolicies(policies, groups, EDGE);
    assert.equal(memoizedIntendedPolicies(policies, new Set(['g2']), EDGE).protection, undefined);
    assert.equal(memoizedIntendedPolicies(policies, groups, 'com.contoso.other').protection, undefined);
    const changed = [policy('p2', 'windowsManagedAppProtection', 'g1', {}, 0), ...policies];
    assert.equal(memoizedIntendedPolicies(changed, groups, EDGE).protection?.id, 'p2');
    assert.equal(memoizedIntendedPolicies(policies, groups, EDGE), first);
  });

  it(`keeps at most ${MAX_INTENDED_PER_GROUP_SET} apps per group set, then answers anew`, () => {
    const groups = new Set(['g1']);
    const first = memoizedIntendedPolicies(policies, groups, EDGE);
    for (let i = 0; i < MAX_INTENDED_PER_GROUP_SET; i++) memoizedIntendedPolicies(policies, groups, `com.contoso.app${i}`);
    const again = memoizedIntendedPolicies(policies, groups, EDGE);
    assert.notEqual(again, first, 'dropped past the bound');
    assert.deepEqual(again, first, 'the same answer, computed again');
  });
});

describe('configurationDocument', () => {
  const configurations = [policy('c1', 'targetedManagedAppConfiguration', 'g1', { customSettings: [{ name: 'account', value: '{{userprincipalname}}' }] })];

  it('resolves value tokens for the user asked about, whoever asked before with the same list', () => {
    const alice = user('a', 'alice@contoso.com');
    const bob = user('b', 'bob@contoso.com');
    assert.deepEqual(configurationDocument(configurations, alice)?.settings, [{ name: 'account', value: 'alice@contoso.com' }]);
    assert.deepEqual(configurationDocument(configurations, bob)?.settings, [{ name: 'account', value: 'bob@contoso.com' }]);
    assert.deepEqual(configurationDocument(configurations, alice)?.settings, [{ name: 'account', value: 'alice@contoso.com' }]);
  });

  it('follows a change of the user\'s claims, and its version changes with the values', () => {
    const before = configurationDocument(configurations, user('a', 'alice@contoso.com'));
    const renamed = configurationDocument(configurations, user('a', 'alice.smith@contoso.com'));
    assert.deepEqual(renamed?.settings, [{ name: 'account', value: 'alice.smith@contoso.com' }]);
    assert.notEqual(renamed?.version, before?.version);
  });

  it('is null without configurations', () => {
    assert.equal(configurationDocument([], user('a', 'alice@contoso.com')), null);
  });
});
