import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkinLapsed, DAY_MS, evaluateDevice, nonCompliantSpan, retireGraceMs, type ComplianceEvidence } from '../../src/core/compliance/evaluate.ts';
import { deviceFacts, DEVICE_STATUS_NODES } from '../../src/core/devices/device-facts.ts';
import { complianceRulesOf, readTenantSettingsPatch } from '../../src/core/tenant-settings.ts';
import type { CompliancePolicyRecord } from '../../src/store/compliance-records.ts';

/** The retire action for noncompliance and check-in validity (evaluate.ts), and their tenant settings (tenant-settings.ts). */
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 7, 3, 0, 0);

function evidence(firewall: '0' | '1'): ComplianceEvidence {
  const inventory = new Map([[DEVICE_STATUS_NODES.firewall, { value: firewall, updatedAt: NOW - HOUR }]]);
  return { facts: deviceFacts({ deviceName: 'PC', osVersion: '10.0.22631.1', osEdition: '48', manufacturer: null, model: null }, inventory) };
}

function policy(retireHours: number | null): CompliancePolicyRecord {
  const actions = [{ actionType: 'block' as const, gracePeriodHours: 0 }, ...(retireHours === null ? [] : [{ actionType: 'retire' as const, gracePeriodHours: retireHours }])];
  return {
    tenantId: 't',
    id: 'p1',
    kind: 'windows10CompliancePolicy',
    body: { displayName: 'p1', activeFirewallRequired: true, scheduledActionsForRule: [{ ruleName: 'r', scheduledActionConfigurations: actions }] },
    assignments: [{ id: 'a', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

const base = { enrollmentId: 'e1', tenantId: 't', groups: new Set<string>(), withoutPolicy: 'unknown' as const, now: NOW, previous: { state: 'unknown' as const, graceUntil: null } };

describe('compliance retire action', () => {
  it('reads the retire grace of a policy; none without a retire action', () => {
    assert.equal(retireGraceMs(policy(720).body), 720 * HOUR);
    assert.equal(retireGraceMs(policy(0).body), 0);
    assert.equal(retireGraceMs(policy(null).body), null);
  });

  it('nonCompliant since: set when the policy fails, kept while it fails, cleared otherwise; retire due since + grace', () => {
    assert.deepEqual(nonCompliantSpan('nonCompliant', undefined, NOW, 24 * HOUR), { nonCompliantSince: NOW, retireAt: NOW + 24 * HOUR });
    assert.deepEqual(nonCompliantSpan('nonCompliant', NOW - 5 * HOUR, NOW, 24 * HOUR), { nonCompliantSince: NOW - 5 * HOUR, retireAt: NOW + 19 * HOUR }, 'kept, not extended');
    assert.deepEqual(nonCompliantSpan('nonCompliant', NOW - 5 * HOUR, NOW, null), { nonCompliantSince: NOW - 5 * HOUR, retireAt: null }, 'no retire action');
    assert.deepEqual(nonCompliantSpan('nonCompliant', NOW + HOUR, NOW, 0), { nonCompliantSince: NOW, retireAt: NOW }, 'a start in the future (clock skew) is now');
    for (const state of ['compliant', 'unknown', 'notApplicable'] as const) assert.deepEqual(nonCompliantSpan(state, NOW - HOUR, NOW, 0), { nonCompliantSince: null, retireAt: null }, state);
  });

  it('the evaluation carries the span per policy state, from the states stored', () => {
    const first = evaluateDevice({ ...base, evidence: evidence('1'), policies: [policy(48)] });
    assert.deepEqual([first.policies[0]!.nonCompliantSince, first.policies[0]!.retireAt], [NOW, NOW + 48 * HOUR]);
    const later = evaluateDevice({ ...base, now: NOW + 10 * HOUR, evidence: evidence('1'), policies: [policy(48)], nonCompliantSince: new Map([['p1', NOW]]) });
    assert.deepEqual([later.policies[0]!.nonCompliantSince, later.policies[0]!.retireAt], [NOW, NOW + 48 * HOUR]);
    const fixed = evaluateDevice({ ...base, now: NOW + 10 * HOUR, evidence: evidence('0'), policies: [policy(48)], nonCompliantSince: new Map([['p1', NOW]]) });
    assert.deepEqual([fixed.state, fixed.policies[0]!.nonCompliantSince, fixed.policies[0]!.retireAt], ['compliant', null, null], 'compliant before the grace ended: no retire');
  });
});

describe('compliance status validity period', () => {
  it('a device silent for the period is noncompliant whatever its policies say; a check-in within it is judged on its policies', () => {
    assert.equal(checkinLapsed(NOW - 30 * DAY_MS, 30, NOW), true);
    assert.equal(checkinLapsed(NOW - 30 * DAY_MS + 1, 30, NOW), false);
    const silent = evaluateDevice({ ...base, evidence: evidence('0'), policies: [policy(null)], checkin: { lastSeenAt: NOW - 2 * DAY_MS, thresholdDays: 1 } });
    assert.deepEqual([silent.state, silent.graceUntil, silent.lapsed, silent.policies[0]!.state], ['noncompliant', null, true, 'compliant']);
    const none = evaluateDevice({ ...base, evidence: evidence('0'), policies: [], withoutPolicy: 'compliant', checkin: { lastSeenAt: NOW - 2 * DAY_MS, thresholdDays: 1 } });
    assert.equal(none.state, 'noncompliant', 'no policy either');
    const seen = evaluateDevice({ ...base, evidence: evidence('0'), policies: [policy(null)], checkin: { lastSeenAt: NOW - HOUR, thresholdDays: 1 } });
    assert.deepEqual([seen.state, seen.lapsed], ['compliant', undefined]);
  });
});

describe('tenant settings: secureByDefault and deviceComplianceCheckinThresholdDays', () => {
  it('rules: unknown and 30 days when never set; true noncompliant, false compliant', () => {
    assert.deepEqual(complianceRulesOf(undefined), { withoutPolicy: 'unknown', checkinThresholdDays: 30 });
    assert.deepEqual(complianceRulesOf({ secureByDefault: null } as never), { withoutPolicy: 'unknown', checkinThresholdDays: 30 });
    assert.equal(complianceRulesOf({ secureByDefault: true } as never).withoutPolicy, 'noncompliant');
    assert.equal(complianceRulesOf({ secureByDefault: false, deviceComplianceCheckinThresholdDays: 7 } as never).withoutPolicy, 'compliant');
    assert.equal(complianceRulesOf({ deviceComplianceCheckinThresholdDays: 7 } as never).checkinThresholdDays, 7);
  });

  it('reads them, and refuses wrong ones naming the field', () => {
    assert.deepEqual(readTenantSettingsPatch({ secureByDefault: true, deviceComplianceCheckinThresholdDays: 120 }), { secureByDefault: true, deviceComplianceCheckinThresholdDays: 120 });
    assert.deepEqual(readTenantSettingsPatch({ secureByDefault: null }), { secureByDefault: null });
    assert.throws(() => readTenantSettingsPatch({ secureByDefault: 'yes' }), /^OpenMamError: secureByDefault: /);
    assert.throws(() => readTenantSettingsPatch({ deviceComplianceCheckinThresholdDays: 0 }), /deviceComplianceCheckinThresholdDays: /);
    assert.throws(() => readTenantSettingsPatch({ deviceComplianceCheckinThresholdDays: 121 }), /deviceComplianceCheckinThresholdDays: /);
    assert.throws(() => readTenantSettingsPatch({ deviceComplianceCheckinThresholdDays: 1.5 }), /deviceComplianceCheckinThresholdDays: /);
    assert.throws(() => readTenantSettingsPatch({ deviceComplianceCheckinThresholdDays: null }), /deviceComplianceCheckinThresholdDays: /);
  });
});
