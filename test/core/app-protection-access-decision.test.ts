import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accessRemediation,
  approvedApplication,
  compliantApplication,
  compliantDevice,
  decideAccess,
  protectsResource,
  targetsUser,
  type AccessInput,
} from '../../src/core/app-protection/access-decision.ts';
import { userMessage } from '../../src/core/app-protection/messages.ts';
import type { AccessPolicyRecord } from '../../src/store/app-protection-records.ts';

function accessPolicy(id: string, change: Partial<AccessPolicyRecord> = {}): AccessPolicyRecord {
  return {
    tenantId: 't1',
    id,
    displayName: `CA ${id}`,
    state: 'enabled',
    resources: ['mail'],
    includeGroups: [],
    excludeGroups: [],
    includeAllUsers: true,
    approvedApps: ['com.microsoft.outlook'],
    grantControls: ['compliantApplication'],
    graphExtras: {},
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...change,
  };
}

const COMPLIANT = { applied: true, compliant: true, reasons: [] };

/** The decision without its per-policy results (asserted on their own below). */
function verdictOf(access: AccessInput): Omit<ReturnType<typeof decideAccess>, 'appliedPolicies'> {
  const { decision, reasons, remediation } = decideAccess(access);
  return remediation === undefined ? { decision, reasons } : { decision, reasons, remediation };
}

function input(change: Partial<AccessInput> = {}): AccessInput {
  return {
    policies: [accessPolicy('p1')],
    resource: 'mail',
    userGroups: new Set(['sales']),
    appId: 'com.microsoft.outlook',
    registered: true,
    appProtection: COMPLIANT,
    deviceCompliant: undefined,
    ...change,
  };
}

describe('decideAccess: which policies apply', () => {
  it('allows with noPolicy when the tenant has none', () => {
    assert.deepEqual(verdictOf(input({ policies: [], appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
  });

  it('allows with noPolicy when no policy protects the resource', () => {
    assert.deepEqual(verdictOf(input({ resource: 'files', appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
  });

  it('ignores a disabled policy', () => {
    const policies = [accessPolicy('p1', { state: 'disabled' })];
    assert.deepEqual(verdictOf(input({ policies, appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
  });

  it('ignores a policy that does not target the user', () => {
    const policies = [accessPolicy('p1', { includeAllUsers: false, includeGroups: ['finance'] })];
    assert.deepEqual(verdictOf(input({ policies, appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
  });

  it('applies a policy that includes one of the user\'s groups', () => {
    const policies = [accessPolicy('p1', { includeAllUsers: false, includeGroups: ['finance', 'sales'] })];
    assert.equal(decideAccess(input({ policies, appProtection: undefined })).decision, 'deny');
  });

  it('lets an excluded group win over all users and over an included group', () => {
    const allButSales = [accessPolicy('p1', { excludeGroups: ['sales'] })];
    assert.deepEqual(verdictOf(input({ policies: allButSales, appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
    const includedAndExcluded = [accessPolicy('p1', { includeAllUsers: false, includeGroups: ['sales'], excludeGroups: ['sales'] })];
    assert.deepEqual(verdictOf(input({ policies: includedAndExcluded, appProtection: undefined })), { decision: 'allow', reasons: ['noPolicy'] });
  });

  it('matches the resource case-insensitively', () => {
    const policies = [accessPolicy('p1', { resources: ['00000002-0000-0FF1-CE00-000000000000'] })];
    assert.equal(decideAccess(input({ policies, resource: '00000002-0000-0ff1-ce00-000000000000', appProtection: undefined })).decision, 'deny');
  });
});

describe('decideAccess: grant controls', () => {
  it('compliantApplication: allows an applied and compliant registration', () => {
    assert.deepEqual(verdictOf(input()), { decision: 'allow', reasons: ['compliantApplication'] });
  });

  it('compliantApplication: denies without a registration, with the AADSTS53005 wording', () => {
    const decision = decideAccess(input({ appProtection: undefined, registered: false }));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['protectionPolicyRequired']);
    assert.equal(decision.remediation?.title, userMessage('protectionPolicyRequired').title);
    assert.match(decision.remediation?.message ?? '', /^Application needs to enforce Intune protection policies/);
  });

  it('compliantApplication: denies a registration without an applied policy', () => {
    const decision = decideAccess(input({ appProtection: { applied: false, compliant: true, reasons: [] } }));
    assert.deepEqual(decision.reasons, ['protectionPolicyRequired']);
  });

  it('compliantApplication: a registered app that no protection policy targets is told "App not set up"', () => {
    const decision = decideAccess(input({ appProtection: { applied: false, compliant: false, reasons: ['appNotSetUp'] } }));
    assert.deepEqual(decision.reasons, ['appNotSetUp']);
    assert.equal(decision.remediation?.title, userMessage('appNotSetUp').title);
  });

  it('compliantApplication: denies a non-compliant registration with its reasons, remedied by the first', () => {
    const appProtection = { applied: true, compliant: false, reasons: ['minimumRequiredOsVersion', 'minimumWarningAppVersion', 'offlineBlock'] };
    const decision = decideAccess(input({ appProtection }));
    assert.deepEqual(decision.reasons, ['minimumRequiredOsVersion', 'offlineBlock']);
    assert.deepEqual(decision.remediation, accessRemediation('minimumRequiredOsVersion'));
  });

  it('compliantApplication: a warning never remedies a denial', () => {
    const appProtection = { applied: true, compliant: false, reasons: ['minimumWarningAppVersion', 'userBlocked'] };
    assert.deepEqual(verdictOf(input({ appProtection })).reasons, ['userBlocked']);
    const unexplained = { applied: true, compliant: false, reasons: ['minimumWarningOsVersion'] };
    assert.deepEqual(verdictOf(input({ appProtection: unexplained })).reasons, ['protectionPolicyRequired']);
  });

  it('compliantApplication: a compliant registration with warnings is allowed', () => {
    const appProtection = { applied: true, compliant: true, reasons: ['minimumWarningAppVersion'] };
    assert.equal(decideAccess(input({ appProtection })).decision, 'allow');
  });

  it('approvedApplication: allows an approved app that is registered, in any case', () => {
    const policies = [accessPolicy('p1', { grantControls: ['approvedApplication'] })];
    assert.deepEqual(verdictOf(input({ policies, appId: 'Com.Microsoft.Outlook', appProtection: undefined })), { decision: 'allow', reasons: ['approvedApplication'] });
  });

  it('approvedApplication: denies an approved app that is not registered, and an unapproved one', () => {
    const policies = [accessPolicy('p1', { grantControls: ['approvedApplication'] })];
    const unregistered = decideAccess(input({ policies, registered: false, appProtection: undefined }));
    assert.deepEqual(unregistered.reasons, ['approvedAppRequired']);
    assert.equal(unregistered.remediation?.title, 'App not approved');
    assert.deepEqual(verdictOf(input({ policies, appId: 'com.contoso.notes' })).reasons, ['approvedAppRequired']);
  });

  it('no control grants an app under a pending selective wipe, or a wiped-and-blocked user (issue 12: approvedApplication granted them)', () => {
    const underWipe = { applied: true, compliant: false, reasons: ['wipePending'] };
    const blocked = { applied: false, compliant: false, reasons: ['appNotSetUp', 'userBlocked'] };
    for (const grantControls of [['approvedApplication'], ['compliantDevice'], ['approvedApplication', 'compliantDevice']] as const) {
      const policies = [accessPolicy('p1', { grantControls: [...grantControls] })];
      const wiping = decideAccess(input({ policies, appProtection: underWipe, deviceCompliant: true }));
      assert.deepEqual([wiping.decision, wiping.reasons], ['deny', ['wipePending']], grantControls.join(','));
      assert.equal(wiping.remediation?.title, accessRemediation('wipePending').title);
      assert.deepEqual(verdictOf(input({ policies, appProtection: blocked, deviceCompliant: true })).reasons, ['userBlocked']);
    }
    const unprotected = verdictOf(input({ policies: [accessPolicy('p1', { resources: ['other'] })], appProtection: underWipe }));
    assert.deepEqual(unprotected, { decision: 'allow', reasons: ['noPolicy'] }, 'a resource no policy protects is not ours to refuse');
  });

  it('compliantDevice: only a report of compliance grants', () => {
    const policies = [accessPolicy('p1', { grantControls: ['compliantDevice'] })];
    assert.deepEqual(verdictOf(input({ policies, deviceCompliant: true })), { decision: 'allow', reasons: ['compliantDevice'] });
    assert.deepEqual(verdictOf(input({ policies, deviceCompliant: false })).reasons, ['deviceNotCompliant']);
    const unknown = decideAccess(input({ policies, deviceCompliant: undefined }));
    assert.deepEqual(unknown.reasons, ['deviceNotCompliant']);
    assert.equal(unknown.remediation?.title, 'Device non-compliant');
  });

  it('grants on any one control of a policy (app CA or device CA, seed 004)', () => {
    const policies = [accessPolicy('p1', { grantControls: ['compliantApplication', 'compliantDevice'] })];
    assert.deepEqual(verdictOf(input({ policies, appProtection: undefined, deviceCompliant: true })), { decision: 'allow', reasons: ['compliantDevice'] });
    assert.deepEqual(verdictOf(input({ policies, deviceCompliant: false })), { decision: 'allow', reasons: ['compliantApplication'] });
  });

  it('names every failed control of a policy, in control order, when none grants', () => {
    const policies = [accessPolicy('p1', { grantControls: ['compliantDevice', 'approvedApplication', 'compliantApplication'] })];
    const decision = verdictOf(input({ policies, appId: 'com.contoso.notes', appProtection: undefined, deviceCompliant: false }));
    assert.deepEqual(decision, {
      decision: 'deny',
      reasons: ['deviceNotCompliant', 'approvedAppRequired', 'protectionPolicyRequired'],
      remediation: accessRemediation('deviceNotCompliant'),
    });
  });

  it('lets a policy without grant controls require nothing', () => {
    const policies = [accessPolicy('p1', { grantControls: [] })];
    assert.deepEqual(verdictOf(input({ policies, appProtection: undefined })), { decision: 'allow', reasons: ['noGrantControls'] });
  });
});

describe('decideAccess: several policies must all be satisfied', () => {
  it('allows when each is satisfied by a different control', () => {
    const policies = [accessPolicy('p1', { grantControls: ['approvedApplication'] }), accessPolicy('p2', { grantControls: ['compliantApplication'] })];
    assert.deepEqual(verdictOf(input({ policies })), { decision: 'allow', reasons: ['approvedApplication', 'compliantApplication'] });
  });

  it('denies when one is not, naming only what failed', () => {
    const policies = [accessPolicy('p1', { grantControls: ['compliantApplication'] }), accessPolicy('p2', { grantControls: ['compliantDevice'] })];
    const decision = verdictOf(input({ policies, deviceCompliant: false }));
    assert.deepEqual(decision, { decision: 'deny', reasons: ['deviceNotCompliant'], remediation: accessRemediation('deviceNotCompliant') });
  });

  it('lists a reason failed by two policies once, remedied by the first policy\'s', () => {
    const policies = [accessPolicy('p1', { grantControls: ['approvedApplication'] }), accessPolicy('p2', { grantControls: ['approvedApplication', 'compliantDevice'] })];
    const decision = decideAccess(input({ policies, appId: 'com.contoso.notes' }));
    assert.deepEqual(decision.reasons, ['approvedAppRequired', 'deviceNotCompliant']);
    assert.equal(decision.remediation?.title, 'App not approved');
  });

  it('does not let a policy on another resource or for other users get in the way', () => {
    const policies = [
      accessPolicy('other-resource', { resources: ['files'], grantControls: ['compliantDevice'] }),
      accessPolicy('other-users', { includeAllUsers: false, includeGroups: ['finance'], grantControls: ['compliantDevice'] }),
      accessPolicy('p1'),
    ];
    assert.deepEqual(verdictOf(input({ policies })), { decision: 'allow', reasons: ['compliantApplication'] });
  });
});

describe('decideAccess: the policies that applied, for the sign-in log', () => {
  it('lists each applicable policy with its result and controls, and none when no policy applies', () => {
    const policies = [accessPolicy('p1'), accessPolicy('p2', { grantControls: ['compliantDevice'] }), accessPolicy('other', { resources: ['files'] })];
    const decision = decideAccess(input({ policies }));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.appliedPolicies, [
      { id: 'p1', displayName: 'CA p1', enforcedGrantControls: ['compliantApplication'], result: 'success' },
      { id: 'p2', displayName: 'CA p2', enforcedGrantControls: ['compliantDevice'], result: 'failure' },
    ]);
    assert.deepEqual(decideAccess(input({ policies: [accessPolicy('other', { resources: ['files'] })] })).appliedPolicies, []);
  });

  it('fails every applicable policy when the app is under selective wipe', () => {
    const decision = decideAccess(input({ appProtection: { applied: true, compliant: false, reasons: ['wipePending'] } }));
    assert.deepEqual(decision.appliedPolicies.map((p) => p.result), ['failure']);
  });

  it("matches 'All' resources", () => {
    assert.equal(decideAccess(input({ policies: [accessPolicy('all', { resources: ['All'] })], appProtection: undefined, registered: false })).decision, 'deny');
  });
});

describe('the single rules', () => {
  it('protectsResource needs an enabled policy naming the resource', () => {
    assert.equal(protectsResource(accessPolicy('p', { resources: ['mail', 'files'] }), 'files'), true);
    assert.equal(protectsResource(accessPolicy('p', { resources: ['mail'] }), 'mai'), false);
    // includeApplications "All": every resource, whatever the gateway names it.
    assert.equal(protectsResource(accessPolicy('p', { resources: ['All'] }), 'anything'), true);
    assert.equal(protectsResource(accessPolicy('p', { resources: ['All'], state: 'disabled' }), 'anything'), false);
    assert.equal(protectsResource(accessPolicy('p', { state: 'disabled' }), 'mail'), false);
  });

  it('targetsUser needs all users or an included group, and no excluded group', () => {
    assert.equal(targetsUser(accessPolicy('p'), new Set()), true);
    assert.equal(targetsUser(accessPolicy('p', { includeAllUsers: false }), new Set(['sales'])), false);
    assert.equal(targetsUser(accessPolicy('p', { includeAllUsers: false, includeGroups: ['sales'] }), new Set(['sales'])), true);
    assert.equal(targetsUser(accessPolicy('p', { excludeGroups: ['sales'] }), new Set(['sales', 'it'])), false);
  });

  it('approvedApplication needs both approval and registration', () => {
    const policy = { approvedApps: ['com.microsoft.outlook'] };
    assert.equal(approvedApplication(policy, 'com.microsoft.outlook', true).granted, true);
    assert.equal(approvedApplication(policy, 'com.microsoft.outlook', false).granted, false);
    assert.equal(approvedApplication(policy, 'com.microsoft.teams', true).granted, false);
    assert.equal(approvedApplication({ approvedApps: [] }, 'com.microsoft.outlook', true).granted, false);
  });

  it('compliantApplication and compliantDevice', () => {
    assert.equal(compliantApplication(COMPLIANT).granted, true);
    assert.equal(compliantApplication(undefined).granted, false);
    assert.equal(compliantDevice(true).granted, true);
    assert.equal(compliantDevice(false).granted, false);
  });

  it('accessRemediation tells what happened, then what to do', () => {
    const message = userMessage('deviceNotCompliant');
    assert.deepEqual(accessRemediation('deviceNotCompliant'), { title: message.title, message: `${message.text} ${message.remediation}` });
    assert.equal(accessRemediation('somethingNew').title, 'Unknown failure');
  });
});

describe('decideAccess: stored-only Graph properties', () => {
  // Extras that Entra would act on (exclusions, platforms, session controls, more grant controls): OpenMAM stores
  // them only, so each decision below is the same with them as without.
  const extras = {
    description: 'Stored only',
    sessionControls: { signInFrequency: { value: 1, type: 'hours', isEnabled: true } },
    conditions: { users: { excludeUsers: ['u-1'], excludeRoles: ['r-1'] }, platforms: { includePlatforms: ['android'] }, applications: { excludeApplications: ['mail'] } },
    grantControls: { termsOfUse: ['tou-1'] },
  };
  const cases: [string, Partial<AccessInput>][] = [
    ['compliant', {}],
    ['no registration', { appProtection: undefined, registered: false }],
    ['not applied', { appProtection: { applied: false, compliant: true, reasons: [] } }],
    ['another resource', { resource: 'files', appProtection: undefined }],
    ['another group', { userGroups: new Set(['finance']) }],
  ];
  const policySets: [string, Partial<AccessPolicyRecord>][] = [
    ['all users', {}],
    ['excluding sales', { excludeGroups: ['sales'] }],
    ['finance only, approved apps', { includeAllUsers: false, includeGroups: ['finance'], grantControls: ['approvedApplication'] }],
    ['disabled', { state: 'disabled' }],
  ];
  for (const [policyName, change] of policySets) {
    it(`decides the same with and without them: ${policyName}`, () => {
      for (const [caseName, access] of cases) {
        const without = decideAccess(input({ ...access, policies: [accessPolicy('p1', change)] }));
        const withExtras = decideAccess(input({ ...access, policies: [accessPolicy('p1', { ...change, graphExtras: extras })] }));
        assert.deepEqual(withExtras, without, caseName);
      }
    });
  }
});
