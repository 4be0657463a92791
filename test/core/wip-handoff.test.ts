import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMdmHandoff, handoffWarnings, primaryEnterpriseId, type HandoffMamPolicy, type HandoffMdmPolicy } from '../../src/core/wip/handoff.ts';
import { validateWipPolicy } from '../../src/policy/wip.ts';

/** A MAM policy that satisfies all three conditions of seed 000 and offers the upgrade. */
function mam(change: Partial<HandoffMamPolicy> = {}): HandoffMamPolicy {
  return {
    enforcementLevel: 'encryptAuditAndBlock',
    enterpriseDomain: 'contoso.com',
    revokeOnMdmHandoffDisabled: true,
    mdmEnrollmentUrl: 'https://enrollment.contoso.com/EnrollmentServer/Discovery.svc',
    ...change,
  };
}

function mdm(id: string, change: Partial<HandoffMdmPolicy> = {}): HandoffMdmPolicy {
  return { id, displayName: `MDM ${id}`, enforcementLevel: 'encryptAuditAndPrompt', enterpriseDomain: 'contoso.com', ...change };
}

describe('checkMdmHandoff: no selective wipe only when all three conditions of seed 000 hold', () => {
  it('is clean when both turn WIP on, the enterprise ID is the same and RevokeOnMDMHandoff is 0', () => {
    const result = checkMdmHandoff(mam(), [mdm('m1')]);
    assert.equal(result.wouldSelectivelyWipe, false);
    assert.deepEqual(result.reasons, []);
    assert.equal(result.matchingMdmPolicyId, 'm1');
    assert.equal(result.enterpriseId, 'contoso.com');
    assert.deepEqual(result.conditions, { mamWipOn: true, mdmWipOn: true, sameEnterpriseId: true, revokeOnMdmHandoffDisabled: true, mdmEnrollmentUrlSet: true });
  });

  describe('(1) both MAM and MDM policies support WIP', () => {
    it('wipes when the MAM policy has WIP off', () => {
      const result = checkMdmHandoff(mam({ enforcementLevel: 'noProtection' }), [mdm('m1')]);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.equal(result.conditions.mamWipOn, false);
      assert.equal(result.reasons.length, 1);
      assert.match(result.reasons[0]!, /MAM policy does not turn WIP on/);
    });

    it('wipes when every MDM policy has WIP off, and names no matching policy', () => {
      const result = checkMdmHandoff(mam(), [mdm('m1', { enforcementLevel: 'noProtection' }), mdm('m2', { enforcementLevel: 'noProtection' })]);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.equal(result.conditions.mdmWipOn, false);
      assert.equal(result.matchingMdmPolicyId, undefined);
      assert.match(result.reasons[0]!, /None of the tenant's 2 MDM WIP policies turns WIP on/);
    });

    it('wipes when the tenant has no MDM WIP policy at all', () => {
      const result = checkMdmHandoff(mam(), []);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.match(result.reasons[0]!, /no MDM WIP policy/);
    });

    it('every WIP-on level counts as on (silent, allow overrides, block)', () => {
      for (const level of ['encryptAndAuditOnly', 'encryptAuditAndPrompt', 'encryptAuditAndBlock'] as const) {
        assert.equal(checkMdmHandoff(mam({ enforcementLevel: level }), [mdm('m1', { enforcementLevel: level })]).wouldSelectivelyWipe, false, level);
      }
    });
  });

  describe('(2) the EDP enterprise ID (first protected domain) is the same', () => {
    it('wipes when the MDM policy protects another enterprise, and says which', () => {
      const result = checkMdmHandoff(mam(), [mdm('m1', { enterpriseDomain: 'fabrikam.com' })]);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.equal(result.conditions.sameEnterpriseId, false);
      assert.equal(result.matchingMdmPolicyId, undefined);
      assert.match(result.reasons[0]!, /"contoso\.com".*fabrikam\.com/);
    });

    it('compares the first entry only: contoso.com as a secondary protected domain of the MDM policy does not match', () => {
      const other = mdm('m1', { enterpriseDomain: 'fabrikam.com', enterpriseProtectedDomainNames: [{ resources: ['contoso.com'] }] });
      assert.equal(checkMdmHandoff(mam(), [other]).conditions.sameEnterpriseId, false);
    });

    it('takes the first protected domain when enterpriseDomain is not set', () => {
      const mamWithoutDomain = mam({ enterpriseDomain: null, enterpriseProtectedDomainNames: [{ resources: [] }, { resources: ['contoso.com', 'contoso.net'] }] });
      assert.equal(primaryEnterpriseId(mamWithoutDomain), 'contoso.com');
      const result = checkMdmHandoff(mamWithoutDomain, [mdm('m1', { enterpriseDomain: undefined, enterpriseProtectedDomainNames: [{ resources: ['contoso.com'] }] })]);
      assert.equal(result.wouldSelectivelyWipe, false);
      assert.equal(result.enterpriseId, 'contoso.com');
    });

    it('compares case-insensitively and an IDN in either form as one ID', () => {
      assert.equal(checkMdmHandoff(mam({ enterpriseDomain: 'bücher.example' }), [mdm('m1', { enterpriseDomain: 'xn--bcher-kva.example' })]).conditions.sameEnterpriseId, true);
      assert.equal(checkMdmHandoff(mam({ enterpriseDomain: 'Contoso.COM' }), [mdm('m1')]).conditions.sameEnterpriseId, true);
    });

    it('picks the first MDM policy with WIP on and the same ID', () => {
      const result = checkMdmHandoff(mam(), [
        mdm('off', { enforcementLevel: 'noProtection' }),
        mdm('other', { enterpriseDomain: 'fabrikam.com' }),
        mdm('first'),
        mdm('second'),
      ]);
      assert.equal(result.matchingMdmPolicyId, 'first');
      assert.equal(result.wouldSelectivelyWipe, false);
    });

    it('wipes when the MAM policy has no enterprise ID at all', () => {
      const result = checkMdmHandoff(mam({ enforcementLevel: 'noProtection', enterpriseDomain: null }), [mdm('m1')]);
      assert.equal(result.enterpriseId, null);
      assert.equal(result.conditions.sameEnterpriseId, false);
      assert.ok(result.reasons.some((r) => /has no enterprise ID/.test(r)));
    });
  });

  describe('(3) RevokeOnMDMHandoff is 0 (revokeOnMdmHandoffDisabled true)', () => {
    it('wipes when revokeOnMdmHandoffDisabled is false, and still names the matching MDM policy', () => {
      const result = checkMdmHandoff(mam({ revokeOnMdmHandoffDisabled: false }), [mdm('m1')]);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.equal(result.matchingMdmPolicyId, 'm1');
      assert.deepEqual(result.reasons.length, 1);
      assert.match(result.reasons[0]!, /revokeOnMdmHandoffDisabled is not true/);
    });

    it('wipes when it is absent: the CSP default RevokeOnMDMHandoff is 1', () => {
      const result = checkMdmHandoff(mam({ revokeOnMdmHandoffDisabled: undefined }), [mdm('m1')]);
      assert.equal(result.wouldSelectivelyWipe, true);
      assert.equal(result.conditions.revokeOnMdmHandoffDisabled, false);
    });
  });

  it('reports every failed condition, in the seed order', () => {
    const result = checkMdmHandoff(mam({ enforcementLevel: 'noProtection', revokeOnMdmHandoffDisabled: false, mdmEnrollmentUrl: null }), [mdm('m1', { enterpriseDomain: 'fabrikam.com' })]);
    assert.equal(result.reasons.length, 4);
    assert.match(result.reasons[0]!, /does not turn WIP on/);
    assert.match(result.reasons[1]!, /enterprise ID/);
    assert.match(result.reasons[2]!, /revokeOnMdmHandoffDisabled/);
    assert.match(result.reasons[3]!, /mdmEnrollmentUrl/);
  });

  it('reports a missing mdmEnrollmentUrl: the device cannot change to MDM at all', () => {
    const result = checkMdmHandoff(mam({ mdmEnrollmentUrl: undefined }), [mdm('m1')]);
    assert.equal(result.wouldSelectivelyWipe, false, 'the handoff itself would be clean');
    assert.equal(result.conditions.mdmEnrollmentUrlSet, false);
    assert.equal(result.reasons.length, 1);
    assert.match(result.reasons[0]!, /no mdmEnrollmentUrl.*not offered the change to MDM/);
  });

  it('takes validated Graph bodies as they are stored', () => {
    const body = validateWipPolicy(
      { displayName: 'm', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'contoso.com', revokeOnMdmHandoffDisabled: true, mdmEnrollmentUrl: 'https://mdm.contoso.com/d' },
      'mam',
      'create',
    );
    const mdmBody = validateWipPolicy({ displayName: 'd', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'contoso.com' }, 'mdm', 'create');
    assert.equal(checkMdmHandoff(body, [{ ...mdmBody, id: 'x' }]).wouldSelectivelyWipe, false);
  });
});

describe('handoffWarnings', () => {
  it('warns with every reason when the policy offers the upgrade and it would wipe', () => {
    const warnings = handoffWarnings(mam({ revokeOnMdmHandoffDisabled: false }), [mdm('m1', { enterpriseDomain: 'fabrikam.com' })]);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.every((w) => w.startsWith('Changing to MDM would selectively wipe WIP-protected data: ')));
  });

  it('is silent when the handoff is clean', () => {
    assert.deepEqual(handoffWarnings(mam(), [mdm('m1')]), []);
  });

  it('is silent when the policy offers no upgrade (no handoff can happen)', () => {
    assert.deepEqual(handoffWarnings(mam({ mdmEnrollmentUrl: null, revokeOnMdmHandoffDisabled: false }), []), []);
  });
});
