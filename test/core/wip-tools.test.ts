import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyService } from '../../src/core/policies.ts';
import { WipTools } from '../../src/core/wip/tools.ts';
import { isOpenMamError, OpenMamError } from '../../src/errors.ts';
import { validateWipPolicy } from '../../src/policy/wip.ts';
import type { PolicyKind, PolicyRecord } from '../../src/store/records.ts';

const TENANT = 'tenant-a';

function record(id: string, kind: PolicyKind, body: Record<string, unknown>, tenantId = TENANT): PolicyRecord {
  const validated = kind === 'windowsInformationProtectionPolicy' ? validateWipPolicy(body, 'mam', 'create') : validateWipPolicy(body, 'mdm', 'create');
  return { tenantId, id, kind, body: { ...validated }, assignments: [], version: 1, createdAt: 0, updatedAt: 0 };
}

/** PolicyService's reads, over a fixed list: not_found like the real one for another tenant's or kind's id. */
class FakePolicies implements Pick<PolicyService, 'devicePolicy' | 'list'> {
  constructor(readonly records: PolicyRecord[]) {}

  async list(tenantId: string, kind: PolicyKind): Promise<PolicyRecord[]> {
    return this.records.filter((r) => r.tenantId === tenantId && r.kind === kind);
  }

  async devicePolicy(tenantId: string, kind: PolicyKind, id: string): Promise<PolicyRecord> {
    const found = this.records.find((r) => r.tenantId === tenantId && r.kind === kind && r.id === id);
    if (!found) throw new OpenMamError('not_found', `no ${kind} with id ${id}`);
    return found;
  }
}

const mamBody = {
  displayName: 'MAM',
  enforcementLevel: 'encryptAuditAndBlock',
  enterpriseDomain: 'contoso.com',
  revokeOnMdmHandoffDisabled: true,
  mdmEnrollmentUrl: 'https://mdm.contoso.com/EnrollmentServer/Discovery.svc',
  pinMinimumLength: 8,
  minutesOfInactivityBeforeDeviceLock: 5,
};

async function rejects(promise: Promise<unknown>, code: string, path?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isOpenMamError(error), String(error));
    assert.equal(error.code, code);
    if (path !== undefined) assert.ok(error.message.startsWith(`${path}: `), error.message);
    return true;
  });
}

describe('WipTools', () => {
  const policies = new FakePolicies([
    record('mam-1', 'windowsInformationProtectionPolicy', mamBody),
    record('mdm-other', 'mdmWindowsInformationProtectionPolicy', { displayName: 'Fabrikam', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'fabrikam.com' }),
    record('mdm-1', 'mdmWindowsInformationProtectionPolicy', { displayName: 'Contoso', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'contoso.com' }),
    record('mdm-foreign', 'mdmWindowsInformationProtectionPolicy', { displayName: 'x', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'contoso.com' }, 'tenant-b'),
  ]);
  const tools = new WipTools(policies);

  it("checks the handoff against the tenant's MDM policies, with their ids", async () => {
    const result = await tools.mdmHandoffCheck(TENANT, 'mam-1');
    assert.equal(result.wouldSelectivelyWipe, false);
    assert.equal(result.matchingMdmPolicyId, 'mdm-1');
  });

  it("never matches another tenant's MDM policy", async () => {
    const only = new WipTools(new FakePolicies([policies.records[0]!, policies.records[3]!]));
    const result = await only.mdmHandoffCheck(TENANT, 'mam-1');
    assert.equal(result.wouldSelectivelyWipe, true);
    assert.equal(result.matchingMdmPolicyId, undefined);
  });

  it('is not_found for an unknown id or an MDM policy id', async () => {
    await rejects(tools.mdmHandoffCheck(TENANT, 'nope'), 'not_found');
    await rejects(tools.mdmHandoffCheck(TENANT, 'mdm-1'), 'not_found');
    await rejects(tools.mdmHandoffCheck('tenant-b', 'mam-1'), 'not_found');
  });

  it('gives handoff warnings for a stored MAM policy, none for other kinds', async () => {
    const risky = record('mam-2', 'windowsInformationProtectionPolicy', { ...mamBody, revokeOnMdmHandoffDisabled: false });
    const warnings = await tools.handoffWarnings([risky, policies.records[0]!, policies.records[1]!]);
    assert.equal(warnings.get('mam-2')?.length, 1);
    assert.deepEqual(warnings.get(policies.records[0]!.id) ?? [], []);
    assert.equal(warnings.has(policies.records[1]!.id), policies.records[1]!.kind === 'windowsInformationProtectionPolicy', 'other kinds get no entry');
    assert.deepEqual(warnings.get(policies.records[1]!.id) ?? [], []);
  });

  it('evaluates an EAS policy against the stored MAM policy', async () => {
    const ok = await tools.evaluateEasCompliance(TENANT, 'mam-1', { easPolicy: { devicePasswordEnabled: true, minDevicePasswordLength: 8, maxInactivityTimeDeviceLock: 10 } });
    assert.equal(ok.compliant, true);
    const gap = await tools.evaluateEasCompliance(TENANT, 'mam-1', { easPolicy: { devicePasswordEnabled: true, minDevicePasswordLength: 10 } });
    assert.deepEqual(gap.gaps.map((g) => [g.setting, g.eas, g.mam]), [['minDevicePasswordLength', 10, 8]]);
  });

  it('refuses a malformed action body before looking the policy up', async () => {
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', undefined), 'malformed_request', '$');
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', []), 'malformed_request', '$');
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', {}), 'malformed_request', 'easPolicy');
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', { easPolicy: {}, extra: 1 }), 'malformed_request', 'extra');
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', { easPolicy: { devicePasswordEnabled: true, minDevicePasswordLength: 40 } }), 'malformed_request', 'easPolicy.minDevicePasswordLength');
    await rejects(tools.evaluateEasCompliance(TENANT, 'nope', { easPolicy: {} }), 'not_found');
  });

  it('serves the template from the query value: none, empty, one domain; refuses a repeated one', () => {
    assert.equal(tools.baselineTemplate(undefined).enterpriseDomain, null);
    assert.equal(tools.baselineTemplate('').enterpriseDomain, null);
    assert.equal(tools.baselineTemplate('contoso.com').enterpriseDomain, 'contoso.com');
    assert.throws(() => tools.baselineTemplate(['a.com', 'b.com']), (e: unknown) => isOpenMamError(e) && e.message.startsWith('enterpriseDomain: '));
  });
});
