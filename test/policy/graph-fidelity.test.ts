import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import { CLIPBOARD_SHARING_LEVELS, readAssignmentTargets, validateAppConfiguration, validateAppProtection, validateMtdConnector } from '../../src/policy/app-protection.ts';
import { notApplicableProperties, openMamAdditions, policyKind } from '../../src/core/policy-kinds/index.ts';
import { storedOnly } from '../../src/policy/applicability.ts';
import { validatePfxCertificate, validateScepCertificate } from '../../src/policy/certificates.ts';
import { validateCustomConfiguration } from '../../src/policy/custom.ts';
import { graphEnum, graphProperties } from '../../src/policy/graph-schema/index.ts';
import { MAX_DEPTH } from '../../src/policy/validate.ts';
import { validateWipPolicy } from '../../src/policy/wip.ts';
import { PFX_BASE64, PFX_PASSWORD, scepProfile } from './certificate-fixtures.ts';
import { customConfiguration, fullMamPolicy } from './fixtures.ts';

const readAssign = (input: unknown) => readAssignmentTargets(input, '#microsoft.graph.targetedManagedAppPolicyAssignment');

/** `run` refuses with a malformed_request whose message starts with `path: ` (and matches `pattern`). */
function refuses(run: () => unknown, path: string, pattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
    assert.equal(error.code, 'malformed_request');
    assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** Properties Graph returns for a WIP policy that OpenMAM stores without acting on them (beta, as a tenant returns them). */
const WIP_GRAPH_ONLY = {
  roleScopeTagIds: ['0'],
  protectionUnderLockConfigRequired: true,
  indexingEncryptedStoresOrItemsBlocked: true,
  protectedAppLockerFiles: [{ '@odata.type': '#microsoft.graph.windowsInformationProtectionAppLockerFile', displayName: 'Allow Office', fileHash: 'abc', file: 'PEFwcExvY2tlclBvbGljeS8+', version: '1' }],
  exemptAppLockerFiles: [],
};

/** What Graph computes: ignored on input, never a refusal, never stored. */
const READ_ONLY = { id: 'not-a-guid', createdDateTime: 'yesterday', lastModifiedDateTime: 7, version: '3', isAssigned: 'yes' };

describe('Graph fidelity: every Graph property is accepted, stored and returned', () => {
  it('WIP: a body with the Graph-only properties reads back equal, read-only properties dropped', () => {
    const policy = validateWipPolicy({ ...fullMamPolicy(), ...WIP_GRAPH_ONLY, ...READ_ONLY }, 'mam', 'create');
    for (const [name, value] of Object.entries(WIP_GRAPH_ONLY)) assert.deepEqual((policy as unknown as Record<string, unknown>)[name], value, name);
    for (const name of Object.keys(READ_ONLY)) assert.equal(Object.hasOwn(policy, name), false, name);
    // A second pass (a PATCH merged and validated again) keeps them as they are.
    assert.deepEqual(validateWipPolicy(JSON.parse(JSON.stringify(policy)) as unknown, 'mam', 'create'), policy);
  });

  it('custom configuration: omaSetting isEncrypted and the deviceConfiguration properties; version ignored', () => {
    const body = customConfiguration();
    const settings = (body['omaSettings'] as Record<string, unknown>[]).map((s) => ({ ...s, isEncrypted: false }));
    const config = validateCustomConfiguration({
      ...body,
      omaSettings: settings,
      roleScopeTagIds: ['0', '7'],
      version: 'four',
      supportsScopeTags: true,
      deviceManagementApplicabilityRuleOsVersion: { '@odata.type': '#microsoft.graph.deviceManagementApplicabilityRuleOsVersion', minOSVersion: '10.0.19041', maxOSVersion: null, name: 'Windows 10 2004+', ruleType: 'include' },
    }, 'create') as unknown as Record<string, unknown>;
    assert.deepEqual(config['roleScopeTagIds'], ['0', '7']);
    assert.equal((config['omaSettings'] as Record<string, unknown>[])[0]!['isEncrypted'], false);
    assert.equal((config['deviceManagementApplicabilityRuleOsVersion'] as Record<string, unknown>)['ruleType'], 'include');
    assert.equal(Object.hasOwn(config, 'version'), false);
    assert.equal(Object.hasOwn(config, 'supportsScopeTags'), false);
  });

  it('PFX and SCEP profiles: the windowsCertificateProfileBase properties OpenMAM does not model', () => {
    const pfx = validatePfxCertificate({ displayName: 'VPN', pfxCertificate: PFX_BASE64, password: PFX_PASSWORD, intendedPurpose: 'vpn', renewalThresholdPercentage: 20, subjectNameFormat: 'commonName' }, 'create') as unknown as Record<string, unknown>;
    assert.equal(pfx['intendedPurpose'], 'vpn');
    assert.equal(pfx['renewalThresholdPercentage'], 20);
    const scep = validateScepCertificate(scepProfile({ renewalThresholdPercentage: 20, subjectAlternativeNameFormatString: '' }), 'create') as unknown as Record<string, unknown>;
    assert.equal(scep['renewalThresholdPercentage'], 20);
  });

  it('app protection and configuration: roleScopeTagIds kept', () => {
    const protection = validateAppProtection({ displayName: 'Contoso apps', roleScopeTagIds: ['0'] }, 'create') as unknown as Record<string, unknown>;
    assert.deepEqual(protection['roleScopeTagIds'], ['0']);
    const configuration = validateAppConfiguration({ displayName: 'Contoso settings', roleScopeTagIds: ['0'] }, 'create') as unknown as Record<string, unknown>;
    assert.deepEqual(configuration['roleScopeTagIds'], ['0']);
  });
});

describe('Graph fidelity: the beta types as microsoft-graph-docs-contrib api-reference/beta documents them (022b186d)', () => {
  it('windowsManagedAppClipboardSharingLevel has orgDestinationAnySource and orgDestinationOrgSource (intune-mam-windowsmanagedappclipboardsharinglevel.md)', () => {
    // Members in the page's value order (0..4): $metadata numbers them by position.
    assert.deepEqual(graphEnum('windowsManagedAppClipboardSharingLevel')?.members, ['anyDestinationAnySource', 'none', 'orgDestinationAnySource', 'orgDestinationOrgSource', 'unknownFutureValue']);
    assert.equal(graphProperties('windowsManagedAppProtection')?.['allowedOutboundClipboardSharingLevel']?.type, 'windowsManagedAppClipboardSharingLevel');
    // Every level validateAppProtection accepts is a member the tables (and so $metadata) declare.
    for (const value of CLIPBOARD_SHARING_LEVELS) {
      assert.ok(graphEnum('windowsManagedAppClipboardSharingLevel')?.members.includes(value), value);
      assert.equal(validateAppProtection({ displayName: 'Contoso apps', allowedOutboundClipboardSharingLevel: value }, 'create').allowedOutboundClipboardSharingLevel, value);
    }
  });
});

describe('Graph fidelity: wrong types and enum members are refused, naming the path and the members', () => {
  it('types', () => {
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), indexingEncryptedStoresOrItemsBlocked: 'true' }, 'mam', 'create'), 'indexingEncryptedStoresOrItemsBlocked', /true or false/);
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), roleScopeTagIds: [0] }, 'mam', 'create'), 'roleScopeTagIds[0]', /must be a string/);
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), protectedAppLockerFiles: [{ file: 'not base64!' }] }, 'mam', 'create'), 'protectedAppLockerFiles[0].file', /base64/);
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), protectedAppLockerFiles: [{ size: 1 }] }, 'mam', 'create'), 'protectedAppLockerFiles[0].size', /not a property of windowsInformationProtectionAppLockerFile/);
    refuses(() => validatePfxCertificate({ renewalThresholdPercentage: 2.5 }, 'update'), 'renewalThresholdPercentage', /integer/);
  });

  it('enums, single and flags', () => {
    refuses(
      () => validatePfxCertificate({ intendedPurpose: 'email' }, 'update'),
      'intendedPurpose',
      /"email" is not a member of intendedPurpose: (?=.*smimeEncryption)(?=.*vpn)(?=.*wifi)/,
    );
    refuses(() => validatePfxCertificate({ subjectAlternativeNameType: 'emailAddress,phone' }, 'update'), 'subjectAlternativeNameType', /"phone" is not a member of subjectAlternativeNameType/);
    assert.equal((validatePfxCertificate({ subjectAlternativeNameType: 'emailAddress,userPrincipalName' }, 'update') as Record<string, unknown>)['subjectAlternativeNameType'], 'emailAddress,userPrincipalName');
    refuses(
      () => validateCustomConfiguration({ deviceManagementApplicabilityRuleOsVersion: { ruleType: 'maybe' } }, 'update'),
      'deviceManagementApplicabilityRuleOsVersion.ruleType',
      /member of deviceManagementApplicabilityRuleType: exclude, include/,
    );
  });

  it('a complex value of the wrong derived type', () => {
    refuses(
      () => validateCustomConfiguration({ deviceManagementApplicabilityRuleOsVersion: { '@odata.type': '#microsoft.graph.deviceManagementApplicabilityRuleOsEdition' } }, 'update'),
      'deviceManagementApplicabilityRuleOsVersion.@odata.type',
      /must be one of #microsoft.graph.deviceManagementApplicabilityRuleOsVersion/,
    );
  });

  it('connectors store the Graph properties OpenMAM does not act on, by their Graph type, never drop them', () => {
    const connector = validateMtdConnector({ windowsEnabled: true, androidEnabled: false, macEnabled: true, partnerState: 'available' }, 'create');
    assert.deepEqual(connector.graphExtras, { windowsEnabled: true, androidEnabled: false, macEnabled: true });
    assert.equal(connector.partnerState, 'available');
    refuses(() => validateMtdConnector({ androidEnabled: 'true' }, 'update'), 'androidEnabled', /must be true or false/);
    refuses(() => validateMtdConnector({ androidOn: true }, 'update'), 'androidOn', /not a property of mobileThreatDefenseConnector/);
  });
});

describe('Bad input', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i += 1) value = [value];
    return value;
  };

  it('a 10,000-level nested value is one clean refusal, wherever it goes', () => {
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), displayName: nested(10_000) }, 'mam', 'create'), 'displayName' + '[0]'.repeat(MAX_DEPTH - 1), /nested more than 32 levels/);
    refuses(() => validateCustomConfiguration({ roleScopeTagIds: nested(10_000) }, 'update'), 'roleScopeTagIds' + '[0]'.repeat(MAX_DEPTH - 1), /nested/);
    refuses(() => validateAppProtection({ displayName: 'x', roleScopeTagIds: nested(10_000) }, 'create'), 'roleScopeTagIds' + '[0]'.repeat(MAX_DEPTH - 1), /nested/);
    refuses(() => readAssign({ assignments: nested(10_000) }), 'assignments' + '[0]'.repeat(MAX_DEPTH - 1), /nested/);
    // Within the bound, a scalar's place still refuses an array by its type.
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), displayName: nested(3) }, 'mam', 'create'), 'displayName', /must be a string/);
  });

  it('NUL and lone surrogates in any string property, stored-only ones included', () => {
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), displayName: 'WIP\u0000' }, 'mam', 'create'), 'displayName', /control character or an unpaired surrogate/);
    refuses(() => validateWipPolicy({ ...fullMamPolicy(), roleScopeTagIds: ['\uD800'] }, 'mam', 'create'), 'roleScopeTagIds[0]', /unpaired surrogate/);
    refuses(() => validateAppProtection({ displayName: 'x\uDC00y' }, 'create'), 'displayName', /unpaired surrogate/);
    refuses(() => validateCustomConfiguration({ omaSettings: [{ '@odata.type': '#microsoft.graph.omaSettingString', displayName: 'a', omaUri: './Vendor/MSFT/A', value: 'v\u0000' }] }, 'update'), 'omaSettings[0].value', /control character/);
  });
});

describe('Assignment filters on assignment targets', () => {
  const target = (change: Record<string, unknown>, type = '#microsoft.graph.groupAssignmentTarget') => ({
    assignments: [{ target: { '@odata.type': type, ...(type === '#microsoft.graph.allLicensedUsersAssignmentTarget' ? {} : { groupId: '0b9e3c1d-2f4a-4b6c-8d7e-9f0a1b2c3d4e' }), ...change } }],
  });
  const filterId = 'f1b2c3d4-0000-4000-8000-000000000001';

  it('an include or exclude filter on a group or all licensed users is read and kept', () => {
    assert.deepEqual(readAssign(target({ deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: 'exclude' }))[0], {
      '@odata.type': '#microsoft.graph.groupAssignmentTarget',
      groupId: '0b9e3c1d-2f4a-4b6c-8d7e-9f0a1b2c3d4e',
      deviceAndAppManagementAssignmentFilterId: filterId,
      deviceAndAppManagementAssignmentFilterType: 'exclude',
    });
    assert.deepEqual(readAssign(target({ deviceAndAppManagementAssignmentFilterId: filterId.toUpperCase(), deviceAndAppManagementAssignmentFilterType: 'include' }, '#microsoft.graph.allLicensedUsersAssignmentTarget'))[0], {
      '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget',
      deviceAndAppManagementAssignmentFilterId: filterId,
      deviceAndAppManagementAssignmentFilterType: 'include',
    });
  });

  it('no filter: a null or empty id with type none, or nothing', () => {
    assert.equal(readAssign({ assignments: [{ sourceId: null, source: 'direct', ...target({ deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: 'none' }).assignments[0] }] }).length, 1);
    assert.deepEqual(readAssign(target({ deviceAndAppManagementAssignmentFilterId: '', deviceAndAppManagementAssignmentFilterType: 'none' }))[0], { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: '0b9e3c1d-2f4a-4b6c-8d7e-9f0a1b2c3d4e' });
  });

  it('refuses an id without include/exclude, a type without an id, a filter on an excluded group, an id that is not a GUID', () => {
    refuses(() => readAssign(target({ deviceAndAppManagementAssignmentFilterId: filterId })), 'assignments[0].target.deviceAndAppManagementAssignmentFilterType', /must be include or exclude/);
    refuses(() => readAssign(target({ deviceAndAppManagementAssignmentFilterType: 'include' })), 'assignments[0].target.deviceAndAppManagementAssignmentFilterId', /is required/);
    refuses(
      () => readAssign(target({ deviceAndAppManagementAssignmentFilterId: filterId, deviceAndAppManagementAssignmentFilterType: 'include' }, '#microsoft.graph.exclusionGroupAssignmentTarget')),
      'assignments[0].target.deviceAndAppManagementAssignmentFilterId',
      /excluded group takes no assignment filter/,
    );
    refuses(() => readAssign(target({ deviceAndAppManagementAssignmentFilterId: 'nope', deviceAndAppManagementAssignmentFilterType: 'include' })), 'assignments[0].target.deviceAndAppManagementAssignmentFilterId');
    refuses(() => readAssign(target({ deviceAndAppManagementAssignmentFilterType: 'maybe' })), 'assignments[0].target.deviceAndAppManagementAssignmentFilterType');
  });
});

describe('What OpenMAM acts on', () => {
  it('notApplicableProperties names the set Graph-only properties of a stored body', () => {
    const policy = validateWipPolicy({ ...fullMamPolicy(), ...WIP_GRAPH_ONLY, exemptAppLockerFiles: null }, 'mam', 'create') as unknown as Record<string, unknown>;
    assert.deepEqual(notApplicableProperties(policyKind('windowsInformationProtectionPolicy'), policy), ['roleScopeTagIds', 'protectionUnderLockConfigRequired', 'indexingEncryptedStoresOrItemsBlocked', 'protectedAppLockerFiles']);
    assert.deepEqual(notApplicableProperties(policyKind('windowsInformationProtectionPolicy'), validateWipPolicy(fullMamPolicy(), 'mam', 'create') as unknown as Record<string, unknown>), []);
  });

  it('every Graph property of each kind is either acted on or stored only', () => {
    const wip = graphProperties('windowsInformationProtectionPolicy')!;
    for (const name of storedOnly(policyKind('windowsInformationProtectionPolicy'))) assert.ok(Object.hasOwn(wip, name), name);
    assert.ok(storedOnly(policyKind('windowsPfxCertificate')).includes('intendedPurpose'));
  });

  it("OpenMAM's additions to the Graph types, one list per kind", () => {
    assert.deepEqual(openMamAdditions(policyKind('windowsPfxCertificate')), ['pfxCertificate', 'password']);
    assert.deepEqual(openMamAdditions(policyKind('windowsScepCertificate')), ['challenge', 'caThumbprint', 'scepRetryCount', 'scepRetryDelayMinutes', 'templateName']);
    assert.deepEqual(openMamAdditions(policyKind('windowsManagedAppProtection')), ['encryptAppData', 'pinRequired', 'minimumPinLength', 'maximumPinRetries', 'managedBrowserRequired']);
    assert.deepEqual(openMamAdditions(policyKind('windowsInformationProtectionPolicy')), ['openMamMdmUpgradeOnHomeEdition']);
    assert.deepEqual(openMamAdditions(policyKind('windows10CustomConfiguration')), []);
  });
});
