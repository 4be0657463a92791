import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateDevice, evaluateSettings, policyState, type ComplianceEvidence, type HealthAttestationFacts } from '../../src/core/compliance/evaluate.ts';
import { deviceFacts, DEVICE_STATUS_NODES } from '../../src/core/devices/device-facts.ts';
import type { CompliancePolicyRecord } from '../../src/store/compliance-records.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 7, 3, 0, 0);

/** DeviceStatus values as the device reports them (0 on for security products, 1 true for flags). */
function evidence(osVersion: string | null, status: Partial<Record<keyof typeof DEVICE_STATUS_NODES, string>> = {}, attestation?: HealthAttestationFacts): ComplianceEvidence {
  const inventory = new Map(Object.entries(status).map(([node, value]) => [DEVICE_STATUS_NODES[node as keyof typeof DEVICE_STATUS_NODES], { value, updatedAt: NOW - HOUR }]));
  const facts = deviceFacts({ deviceName: 'PC', osVersion, osEdition: '48', manufacturer: null, model: null }, inventory);
  return attestation === undefined ? { facts } : { facts, attestation };
}

const HEALTHY = { firewall: '0', antivirus: '0', antispyware: '0', antivirusSignatures: '1', encryption: '1', tpm: '2.0' } as const;

function policy(body: Record<string, unknown>, graceHours = 0, id = 'p1'): CompliancePolicyRecord {
  return {
    tenantId: 't',
    id,
    kind: 'windows10CompliancePolicy',
    body: { displayName: id, scheduledActionsForRule: [{ ruleName: 'r', scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: graceHours }] }], ...body },
    assignments: [{ id: 'a', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }],
    version: 3,
    createdAt: 0,
    updatedAt: 0,
  };
}

function stateOf(body: Record<string, unknown>, ev: ComplianceEvidence, setting: string): string | undefined {
  return evaluateSettings(body, ev).find((r) => r.setting === setting)?.state;
}

describe('compliance evaluator: each setting', () => {
  it('osMinimumVersion and osMaximumVersion against the enrollment OS version (numeric, part by part)', () => {
    assert.equal(stateOf({ osMinimumVersion: '10.0.19045.0' }, evidence('10.0.19045.4529'), 'osMinimumVersion'), 'compliant');
    assert.equal(stateOf({ osMinimumVersion: '10.0.19045.0' }, evidence('10.0.9999.1'), 'osMinimumVersion'), 'nonCompliant');
    assert.equal(stateOf({ osMaximumVersion: '10.0.22631.9999' }, evidence('10.0.26100.1'), 'osMaximumVersion'), 'nonCompliant');
    assert.equal(stateOf({ osMaximumVersion: '10.0.22631.9999' }, evidence('10.0.22631.2'), 'osMaximumVersion'), 'compliant');
    assert.equal(stateOf({ osMinimumVersion: '10.0.19045.0' }, evidence(null), 'osMinimumVersion'), 'unknown');
    const result = evaluateSettings({ osMinimumVersion: '10.0.19045.0' }, evidence('10.0.17763.1')).find((r) => r.setting === 'osMinimumVersion')!;
    assert.equal(result.currentValue, '10.0.17763.1');
    assert.match(result.reason ?? '', /below 10\.0\.19045\.0/);
  });

  it('validOperatingSystemBuildRanges: inside any range complies; an empty list configures nothing', () => {
    const ranges = [{ lowestVersion: '10.0.19045.0', highestVersion: '10.0.19045.9999' }, { lowestVersion: '10.0.22631.0', highestVersion: '10.0.22631.9999' }];
    assert.equal(stateOf({ validOperatingSystemBuildRanges: ranges }, evidence('10.0.22631.3007'), 'validOperatingSystemBuildRanges'), 'compliant');
    assert.equal(stateOf({ validOperatingSystemBuildRanges: ranges }, evidence('10.0.22000.1'), 'validOperatingSystemBuildRanges'), 'nonCompliant');
    assert.equal(stateOf({ validOperatingSystemBuildRanges: [] }, evidence('10.0.22000.1'), 'validOperatingSystemBuildRanges'), undefined);
  });

  it('firewall, antivirus and antispyware: only on (0) complies; unreported is unknown', () => {
    for (const [setting, node] of [['activeFirewallRequired', 'firewall'], ['antivirusRequired', 'antivirus'], ['antiSpywareRequired', 'antispyware']] as const) {
      assert.equal(stateOf({ [setting]: true }, evidence('10.0.1.1', { [node]: '0' }), setting), 'compliant', setting);
      for (const off of ['1', '2', '3', '4']) assert.equal(stateOf({ [setting]: true }, evidence('10.0.1.1', { [node]: off }), setting), 'nonCompliant', `${setting} ${off}`);
      assert.equal(stateOf({ [setting]: true }, evidence('10.0.1.1'), setting), 'unknown', setting);
      assert.equal(stateOf({ [setting]: false }, evidence('10.0.1.1', { [node]: '1' }), setting), undefined, `${setting} false is not configured`);
    }
  });

  it('signatureOutOfDate (signatures current), storageRequireEncryption and tpmRequired', () => {
    assert.equal(stateOf({ signatureOutOfDate: true }, evidence('10.0.1.1', { antivirusSignatures: '1' }), 'signatureOutOfDate'), 'compliant');
    assert.equal(stateOf({ signatureOutOfDate: true }, evidence('10.0.1.1', { antivirusSignatures: '0' }), 'signatureOutOfDate'), 'nonCompliant');
    assert.equal(stateOf({ signatureOutOfDate: true }, evidence('10.0.1.1'), 'signatureOutOfDate'), 'unknown');
    assert.equal(stateOf({ storageRequireEncryption: true }, evidence('10.0.1.1', { encryption: '1' }), 'storageRequireEncryption'), 'compliant');
    assert.equal(stateOf({ storageRequireEncryption: true }, evidence('10.0.1.1', { encryption: '0' }), 'storageRequireEncryption'), 'nonCompliant');
    assert.equal(stateOf({ tpmRequired: true }, evidence('10.0.1.1', { tpm: '2.0' }), 'tpmRequired'), 'compliant');
    // DeviceStatus answered without a TPM version: no TPM.
    assert.equal(stateOf({ tpmRequired: true }, evidence('10.0.1.1', { firewall: '0' }), 'tpmRequired'), 'nonCompliant');
    assert.equal(stateOf({ tpmRequired: true }, evidence('10.0.1.1'), 'tpmRequired'), 'unknown');
  });

  it('health attestation settings: unknown without a validated report (never compliant), judged from a valid one', () => {
    const body = { bitLockerEnabled: true, secureBootEnabled: true, codeIntegrityEnabled: true, earlyLaunchAntiMalwareDriverEnabled: true, requireHealthyDeviceReport: true };
    for (const result of evaluateSettings(body, evidence('10.0.1.1', HEALTHY))) assert.equal(result.state, 'unknown', result.setting);
    for (const result of evaluateSettings(body, evidence('10.0.1.1', HEALTHY, { state: 'unknown' }))) assert.equal(result.state, 'unknown', result.setting);
    const invalid = evaluateSettings(body, evidence('10.0.1.1', HEALTHY, { state: 'invalid', bitLockerEnabled: true }));
    assert.equal(invalid.find((r) => r.setting === 'bitLockerEnabled')?.state, 'unknown');
    assert.equal(invalid.find((r) => r.setting === 'requireHealthyDeviceReport')?.state, 'nonCompliant');
    const valid = evaluateSettings(body, evidence('10.0.1.1', HEALTHY, { state: 'valid', bitLockerEnabled: true, secureBootEnabled: false, codeIntegrityEnabled: true }));
    assert.deepEqual(Object.fromEntries(valid.map((r) => [r.setting, r.state])), {
      bitLockerEnabled: 'compliant',
      secureBootEnabled: 'nonCompliant',
      codeIntegrityEnabled: 'compliant',
      earlyLaunchAntiMalwareDriverEnabled: 'unknown',
      requireHealthyDeviceReport: 'compliant',
    });
  });

  it('settings a MAM device cannot evidence are notApplicable when configured, absent when not', () => {
    const results = evaluateSettings({ passwordRequired: true, passwordRequiredType: 'deviceDefault', defenderEnabled: true, rtpEnabled: false, deviceThreatProtectionRequiredSecurityLevel: 'unavailable', defenderVersion: '4.18' }, evidence('10.0.1.1'));
    assert.deepEqual(results.map((r) => [r.setting, r.state]), [['passwordRequired', 'notApplicable'], ['defenderEnabled', 'notApplicable'], ['defenderVersion', 'notApplicable']]);
    assert.equal(policyState(results), 'compliant', 'not applicable settings count for nothing');
  });
});

describe('compliance evaluator: the device', () => {
  const base = { enrollmentId: 'e1', tenantId: 't', groups: new Set<string>(), withoutPolicy: 'unknown' as const, now: NOW, previous: { state: 'unknown' as const, graceUntil: null } };

  it('compliant only when every applicable setting is evidenced compliant', () => {
    const result = evaluateDevice({ ...base, evidence: evidence('10.0.19045.1', HEALTHY), policies: [policy({ osMinimumVersion: '10.0.19045.0', activeFirewallRequired: true, tpmRequired: true })] });
    assert.equal(result.state, 'compliant');
    assert.equal(result.graceUntil, null);
    assert.equal(result.policies[0]!.policyVersion, 3);
  });

  it('unknown when evidence is missing and nothing failed; noncompliant wins over unknown', () => {
    assert.equal(evaluateDevice({ ...base, evidence: evidence('10.0.19045.1'), policies: [policy({ activeFirewallRequired: true })] }).state, 'unknown');
    assert.equal(evaluateDevice({ ...base, evidence: evidence('10.0.1.1'), policies: [policy({ activeFirewallRequired: true, osMinimumVersion: '10.0.19045.0' })] }).state, 'noncompliant');
  });

  it('the block action grace period: inGracePeriod until it ends, the end kept while failing, then noncompliant', () => {
    const failing = { evidence: evidence('10.0.19045.1', { ...HEALTHY, firewall: '1' }), policies: [policy({ activeFirewallRequired: true }, 24)] };
    const first = evaluateDevice({ ...base, ...failing });
    assert.equal(first.state, 'inGracePeriod');
    assert.equal(first.graceUntil, NOW + 24 * HOUR);
    const later = evaluateDevice({ ...base, ...failing, now: NOW + 5 * HOUR, previous: { state: 'inGracePeriod', graceUntil: first.graceUntil } });
    assert.equal(later.graceUntil, NOW + 24 * HOUR, 'not extended by a later evaluation');
    const over = evaluateDevice({ ...base, ...failing, now: NOW + 25 * HOUR, previous: { state: 'inGracePeriod', graceUntil: first.graceUntil } });
    assert.equal(over.state, 'noncompliant');
    const fixed = evaluateDevice({ ...base, evidence: evidence('10.0.19045.1', HEALTHY), policies: failing.policies, previous: { state: 'noncompliant', graceUntil: NOW } });
    assert.deepEqual([fixed.state, fixed.graceUntil], ['compliant', null]);
    assert.equal(evaluateDevice({ ...base, ...failing, policies: [policy({ activeFirewallRequired: true }, 0)] }).state, 'noncompliant', 'no grace: at once');
  });

  it('no policy assigned: unknown (never compliant by default) unless the tenant says otherwise; assignments target by group, exclusion wins, a filter must let the device through', () => {
    assert.equal(evaluateDevice({ ...base, evidence: evidence(null), policies: [] }).state, 'unknown');
    assert.equal(evaluateDevice({ ...base, evidence: evidence(null), policies: [], withoutPolicy: 'compliant' }).state, 'compliant', "Intune's default");
    assert.equal(evaluateDevice({ ...base, evidence: evidence(null), policies: [], withoutPolicy: 'noncompliant' }).state, 'noncompliant', 'secureByDefault');
    const grouped = { ...policy({ activeFirewallRequired: true }), assignments: [{ id: 'a', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget' as const, groupId: 'g1' } }, { id: 'b', target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget' as const, groupId: 'g2' } }] };
    const ev = evidence('10.0.1.1', { ...HEALTHY, firewall: '1' });
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [grouped] }).policies.length, 0, 'not in the group');
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [grouped], groups: new Set(['g1']) }).state, 'noncompliant');
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [grouped], groups: new Set(['g1', 'g2']) }).policies.length, 0, 'exclusion wins');
    const filtered = { ...policy({ activeFirewallRequired: true }), assignments: [{ id: 'a', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' as const, deviceAndAppManagementAssignmentFilterId: 'f1', deviceAndAppManagementAssignmentFilterType: 'include' as const } }] };
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [filtered] }).policies.length, 0, 'no judge: a filtered assignment never reaches the device');
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [filtered], filters: (f) => f.id === 'f1' }).policies.length, 1, 'the filter lets it through');
    assert.equal(evaluateDevice({ ...base, evidence: ev, policies: [filtered], filters: () => false }).policies.length, 0);
  });

  it('several failing policies: the shortest block grace period applies', () => {
    const ev = evidence('10.0.1.1', { ...HEALTHY, firewall: '1' });
    const result = evaluateDevice({ ...base, evidence: ev, policies: [policy({ activeFirewallRequired: true }, 48, 'a'), policy({ osMinimumVersion: '10.0.19045.0' }, 2, 'b')] });
    assert.equal(result.graceUntil, NOW + 2 * HOUR);
  });
});
