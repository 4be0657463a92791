import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineWipTemplate } from '../../src/core/wip/baseline-template.ts';
import { evaluateEasCompliance, mamDeviceLock } from '../../src/core/wip/eas-compliance.ts';
import { checkMdmHandoff } from '../../src/core/wip/handoff.ts';
import { compileWipPolicy } from '../../src/csp/compile/wip.ts';
import { isOpenMamError } from '../../src/errors.ts';
import { validateWipPolicy, type WindowsInformationProtectionDesktopApp } from '../../src/policy/wip.ts';

const TENANT_ID = '6f1c0e2a-8b7d-4c55-9a3e-2d4b1f0c9e77';

function refusedAt(action: () => unknown, path: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isOpenMamError(error), String(error));
    assert.equal(error.code, 'malformed_request');
    assert.ok(error.message.startsWith(`${path}: `), error.message);
    return true;
  });
}

describe('baselineWipTemplate', () => {
  it('with the enterprise domain filled in, passes validateWipPolicy(..., "mam", "create") unchanged', () => {
    const template = baselineWipTemplate('contoso.com');
    assert.equal(template.enterpriseDomain, 'contoso.com');
    assert.deepEqual(validateWipPolicy(JSON.parse(JSON.stringify(template)), 'mam', 'create'), template);
  });

  it('without it, has enterpriseDomain null and is refused exactly there until filled', () => {
    const template = baselineWipTemplate();
    assert.equal(template.enterpriseDomain, null);
    refusedAt(() => validateWipPolicy(template, 'mam', 'create'), 'enterpriseDomain');
    assert.doesNotThrow(() => validateWipPolicy({ ...template, enterpriseDomain: 'fabrikam.com' }, 'mam', 'create'));
  });

  it('refuses a domain that is not canonical or not a domain, naming enterpriseDomain', () => {
    refusedAt(() => baselineWipTemplate('Contoso.com'), 'enterpriseDomain');
    refusedAt(() => baselineWipTemplate('contoso..com'), 'enterpriseDomain');
    refusedAt(() => baselineWipTemplate('https://contoso.com'), 'enterpriseDomain');
  });

  it('carries the recommended settings', () => {
    const t = baselineWipTemplate('contoso.com');
    assert.equal(t['@odata.type'], '#microsoft.graph.windowsInformationProtectionPolicy');
    assert.equal(t.enforcementLevel, 'encryptAuditAndPrompt');
    assert.equal(t.revokeOnUnenrollDisabled, false);
    assert.equal(t.revokeOnMdmHandoffDisabled, true);
    assert.equal(t.iconsVisible, true);
    assert.equal(t.pinMinimumLength, 6);
    assert.equal(t.minutesOfInactivityBeforeDeviceLock, 15);
    assert.equal(t.passwordMaximumAttemptCount, 10);
    assert.equal(t.windowsHelloForBusinessBlocked, false);
  });

  it('protects Microsoft Edge (Store app) and the Office desktop apps by publisher, product and file', () => {
    const apps = baselineWipTemplate('contoso.com').protectedApps ?? [];
    const edge = apps.find((a) => a['@odata.type'] === '#microsoft.graph.windowsInformationProtectionStoreApp');
    assert.deepEqual(edge && [edge.publisherName, edge.productName, edge.denied], [
      'CN=MICROSOFT CORPORATION, O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US',
      'Microsoft.MicrosoftEdge',
      false,
    ]);
    const office = apps.filter((a): a is WindowsInformationProtectionDesktopApp => a['@odata.type'] === '#microsoft.graph.windowsInformationProtectionDesktopApp' && a.productName === 'MICROSOFT OFFICE');
    assert.deepEqual(office.map((a) => a.binaryName), ['WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'OUTLOOK.EXE', 'ONENOTE.EXE']);
    for (const app of office) {
      assert.equal(app.publisherName, 'O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US');
      assert.deepEqual([app.binaryVersionLow, app.binaryVersionHigh, app.denied], ['16.0.0.0', '*', false]);
    }
    assert.deepEqual(baselineWipTemplate('contoso.com').exemptApps, undefined, 'nothing exempt');
  });

  it('compiles into CSP settings a MAM device may receive', () => {
    const settings = compileWipPolicy({ ...baselineWipTemplate('contoso.com'), id: 'baseline' }, { tenantId: TENANT_ID, providerId: 'OpenMAM' });
    const byNode = new Map(settings.map((s) => [s.locUri.split('/').slice(-1)[0], s.value]));
    assert.equal(byNode.get('EDPEnforcementLevel'), '2');
    assert.equal(byNode.get('RevokeOnMDMHandoff'), '0');
    assert.equal(byNode.get('RevokeOnUnenroll'), '1');
    assert.equal(byNode.get('MaxInactivityTimeDeviceLock'), '15');
    assert.equal(byNode.get('MinimumPINLength'), '6');
  });

  it('is handoff-ready: with a matching MDM policy the only finding is the upgrade URL the admin must add', () => {
    const result = checkMdmHandoff(baselineWipTemplate('contoso.com'), [{ id: 'm', enforcementLevel: 'encryptAuditAndBlock', enterpriseDomain: 'contoso.com' }]);
    assert.equal(result.wouldSelectivelyWipe, false);
    assert.deepEqual(result.conditions, { mamWipOn: true, mdmWipOn: true, sameEnterpriseId: true, revokeOnMdmHandoffDisabled: true, mdmEnrollmentUrlSet: false });
  });

  it('meets a common EAS policy (6 characters, 15 minutes, 10 attempts)', () => {
    const eas = { devicePasswordEnabled: true, minDevicePasswordLength: 6, maxInactivityTimeDeviceLock: 15, maxDevicePasswordFailedAttempts: 10 };
    assert.equal(evaluateEasCompliance(eas, mamDeviceLock(baselineWipTemplate('contoso.com'))).compliant, true);
  });

  it('returns a fresh object each time', () => {
    const a = baselineWipTemplate();
    (a.protectedApps ?? []).pop();
    assert.equal(baselineWipTemplate().protectedApps?.length, a.protectedApps!.length + 1);
  });
});
