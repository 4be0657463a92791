import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import {
  accessPolicyAsGraph,
  accessPolicyExtrasPaths,
  appProtectionTemplate,
  CLIPBOARD_SHARING_LEVELS,
  DATA_TRANSFER_LEVELS,
  DEVICE_THREAT_LEVELS,
  PARTNER_STATES,
  readAssignmentTargets,
  readTargetApps,
  readTargetAppsRequest,
  validateAccessPolicy,
  validateAppConfiguration,
  validateAppProtection,
  validateMtdConnector,
} from '../../src/policy/app-protection.ts';

const readAssign = (input: unknown) => readAssignmentTargets(input, '#microsoft.graph.targetedManagedAppPolicyAssignment');

function refuses(run: () => unknown, path: string, pattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
    assert.equal(error.code, 'malformed_request');
    assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

const protection = (change: Record<string, unknown> = {}): Record<string, unknown> => ({ displayName: 'Contoso apps', ...change });
const refusesProtection = (change: Record<string, unknown>, path: string, pattern?: RegExp) => refuses(() => validateAppProtection(protection(change), 'create'), path, pattern);

describe('validateAppProtection: create fills every default', () => {
  it('a body with only displayName', () => {
    assert.deepEqual(validateAppProtection(protection(), 'create'), {
      displayName: 'Contoso apps',
      description: null,
      allowedInboundDataTransferSources: 'allApps',
      allowedOutboundDataTransferDestinations: 'allApps',
      allowedOutboundClipboardSharingLevel: 'anyDestinationAnySource',
      printBlocked: false,
      encryptAppData: true,
      pinRequired: false,
      minimumPinLength: 4,
      maximumPinRetries: 5,
      managedBrowserRequired: false,
      periodOfflineBeforeAccessCheck: 'PT720M',
      periodOfflineBeforeWipeIsEnforced: 'P90D',
      appActionIfUnableToAuthenticateUser: null,
      minimumWarningAppVersion: null,
      minimumRequiredAppVersion: null,
      minimumWipeAppVersion: null,
      minimumRequiredSdkVersion: null,
      minimumWipeSdkVersion: null,
      minimumWarningOsVersion: null,
      minimumRequiredOsVersion: null,
      minimumWipeOsVersion: null,
      maximumWarningOsVersion: null,
      maximumRequiredOsVersion: null,
      maximumWipeOsVersion: null,
      maximumAllowedDeviceThreatLevel: 'notConfigured',
      mobileThreatDefenseRemediationAction: 'block',
    });
  });

  it('displayName is required; read-only properties and a matching @odata.type are accepted and dropped', () => {
    refuses(() => validateAppProtection({}, 'create'), 'displayName', /is required/);
    const read = validateAppProtection(
      protection({ '@odata.type': 'microsoft.graph.windowsManagedAppProtection', id: 'x', version: '3', isAssigned: true, deployedAppCount: 2, createdDateTime: 'x', roleScopeTagIds: ['0'] }),
      'create',
    );
    assert.equal(Object.hasOwn(read, 'id') || Object.hasOwn(read, 'version') || Object.hasOwn(read, '@odata.type'), false);
    refusesProtection({ '@odata.type': '#microsoft.graph.iosManagedAppProtection' }, '@odata.type');
  });

  it('accepts every value of every enum', () => {
    for (const value of DATA_TRANSFER_LEVELS) {
      assert.equal(validateAppProtection(protection({ allowedInboundDataTransferSources: value }), 'create').allowedInboundDataTransferSources, value);
      assert.equal(validateAppProtection(protection({ allowedOutboundDataTransferDestinations: value }), 'create').allowedOutboundDataTransferDestinations, value);
    }
    for (const value of CLIPBOARD_SHARING_LEVELS) {
      assert.equal(validateAppProtection(protection({ allowedOutboundClipboardSharingLevel: value }), 'create').allowedOutboundClipboardSharingLevel, value);
    }
    for (const value of DEVICE_THREAT_LEVELS) {
      assert.equal(validateAppProtection(protection({ maximumAllowedDeviceThreatLevel: value }), 'create').maximumAllowedDeviceThreatLevel, value);
    }
    for (const value of ['block', 'wipe'] as const) {
      assert.equal(validateAppProtection(protection({ mobileThreatDefenseRemediationAction: value }), 'create').mobileThreatDefenseRemediationAction, value);
      assert.equal(validateAppProtection(protection({ appActionIfUnableToAuthenticateUser: value }), 'create').appActionIfUnableToAuthenticateUser, value);
    }
  });
});

describe('validateAppProtection: refusals name the field', () => {
  it('enums, booleans, integers', () => {
    refusesProtection({ allowedInboundDataTransferSources: 'managedApps' }, 'allowedInboundDataTransferSources', /allApps, none/);
    refusesProtection({ allowedOutboundDataTransferDestinations: 'some' }, 'allowedOutboundDataTransferDestinations');
    refusesProtection({ allowedOutboundClipboardSharingLevel: 'blocked' }, 'allowedOutboundClipboardSharingLevel');
    refusesProtection({ maximumAllowedDeviceThreatLevel: 'severe' }, 'maximumAllowedDeviceThreatLevel');
    refusesProtection({ mobileThreatDefenseRemediationAction: 'warn' }, 'mobileThreatDefenseRemediationAction', /warn is not supported for the device threat level/);
    refusesProtection({ appActionIfUnableToAuthenticateUser: 'warn' }, 'appActionIfUnableToAuthenticateUser', /not supported/);
    refusesProtection({ appActionIfUnableToAuthenticateUser: 'blockWhenSettingIsSupported' }, 'appActionIfUnableToAuthenticateUser');
    refusesProtection({ printBlocked: 'yes' }, 'printBlocked', /true or false/);
    refusesProtection({ encryptAppData: 1 }, 'encryptAppData');
    refusesProtection({ minimumPinLength: 3 }, 'minimumPinLength', /between 4 and 14/);
    refusesProtection({ minimumPinLength: 15 }, 'minimumPinLength');
    refusesProtection({ maximumPinRetries: 0 }, 'maximumPinRetries');
    refusesProtection({ maximumPinRetries: 2.5 }, 'maximumPinRetries', /integer/);
    refusesProtection({ printBlocked: null }, 'printBlocked', /must not be null/);
  });

  it('display name and description', () => {
    refusesProtection({ displayName: '  ' }, 'displayName', /empty/);
    refusesProtection({ displayName: 'a\nb' }, 'displayName', /one line/);
    refusesProtection({ displayName: 'x'.repeat(257) }, 'displayName', /longer than 256/);
    refusesProtection({ description: 7 }, 'description');
  });

  it('unknown properties and navigation properties', () => {
    refusesProtection({ surprise: true }, 'surprise', /not a property of windowsManagedAppProtection/);
    refuses(() => validateAppProtection(JSON.parse('{"displayName":"x","__proto__":{"polluted":true}}'), 'create'), '__proto__', /not a property/);
    refusesProtection({ apps: [] }, 'apps', /targetApps/);
    refusesProtection({ assignments: [] }, 'assignments', /assign/);
  });

  it('ISO durations: fixed units only, no years or months, bounded', () => {
    for (const ok of ['PT0S', 'PT720M', 'P90D', 'P1DT12H', 'PT30.5S']) {
      assert.equal(validateAppProtection(protection({ periodOfflineBeforeAccessCheck: ok, periodOfflineBeforeWipeIsEnforced: 'PT0S' }), 'create').periodOfflineBeforeAccessCheck, ok);
    }
    refusesProtection({ periodOfflineBeforeWipeIsEnforced: 'P3M' }, 'periodOfflineBeforeWipeIsEnforced', /years and months/);
    refusesProtection({ periodOfflineBeforeWipeIsEnforced: 'P1Y' }, 'periodOfflineBeforeWipeIsEnforced', /years and months/);
    refusesProtection({ periodOfflineBeforeAccessCheck: '720' }, 'periodOfflineBeforeAccessCheck', /ISO 8601 duration/);
    refusesProtection({ periodOfflineBeforeAccessCheck: '-PT1M' }, 'periodOfflineBeforeAccessCheck');
    refusesProtection({ periodOfflineBeforeAccessCheck: 'P2W' }, 'periodOfflineBeforeAccessCheck');
    refusesProtection({ periodOfflineBeforeAccessCheck: 'pt5m' }, 'periodOfflineBeforeAccessCheck');
    refusesProtection({ periodOfflineBeforeWipeIsEnforced: 'P3651D' }, 'periodOfflineBeforeWipeIsEnforced', /3650 days/);
    refusesProtection({ periodOfflineBeforeAccessCheck: 720 }, 'periodOfflineBeforeAccessCheck', /string/);
  });

  it('the offline wipe never comes before the access check (PT0S: never wipe)', () => {
    refusesProtection({ periodOfflineBeforeAccessCheck: 'P10D', periodOfflineBeforeWipeIsEnforced: 'P5D' }, 'periodOfflineBeforeWipeIsEnforced', /shorter than periodOfflineBeforeAccessCheck/);
    assert.equal(validateAppProtection(protection({ periodOfflineBeforeAccessCheck: 'P10D', periodOfflineBeforeWipeIsEnforced: 'PT0S' }), 'create').periodOfflineBeforeWipeIsEnforced, 'PT0S');
  });

  it('versions: dotted numbers', () => {
    for (const property of ['minimumRequiredAppVersion', 'minimumRequiredSdkVersion', 'minimumRequiredOsVersion', 'maximumWipeOsVersion']) {
      assert.equal((validateAppProtection(protection({ [property]: '10.0.22631.3155' }), 'create') as unknown as Record<string, unknown>)[property], '10.0.22631.3155');
      refuses(() => validateAppProtection(protection({ [property]: '10.0-beta' }), 'create'), property, /dot-separated numbers/);
      refuses(() => validateAppProtection(protection({ [property]: ' 10.0' }), 'create'), property);
      refuses(() => validateAppProtection(protection({ [property]: 10 }), 'create'), property);
    }
  });

  it('versions in order: minimums wipe <= required <= warning, maximums warning <= required <= wipe, every minimum <= every maximum', () => {
    const ok = validateAppProtection(
      protection({
        minimumWipeOsVersion: '10.0.19045',
        minimumRequiredOsVersion: '10.0.22000',
        minimumWarningOsVersion: '10.0.22631',
        maximumWarningOsVersion: '10.0.26100',
        maximumRequiredOsVersion: '10.0.26100.1',
        maximumWipeOsVersion: '11',
        minimumWipeAppVersion: '1.0',
        minimumRequiredAppVersion: '1.0.0.0',
        minimumWarningAppVersion: '2',
        minimumWipeSdkVersion: '1.0',
        minimumRequiredSdkVersion: '1.2',
      }),
      'create',
    );
    assert.equal(ok.minimumWarningOsVersion, '10.0.22631');
    refusesProtection({ minimumWipeOsVersion: '10.0.22631', minimumRequiredOsVersion: '10.0.22000' }, 'minimumRequiredOsVersion', /is below minimumWipeOsVersion/);
    refusesProtection({ minimumRequiredAppVersion: '4.10', minimumWarningAppVersion: '4.9' }, 'minimumWarningAppVersion', /below minimumRequiredAppVersion 4\.10/);
    refusesProtection({ minimumWipeAppVersion: '3', minimumWarningAppVersion: '2' }, 'minimumWarningAppVersion', /below minimumWipeAppVersion/);
    refusesProtection({ minimumWipeSdkVersion: '2', minimumRequiredSdkVersion: '1.9' }, 'minimumRequiredSdkVersion');
    refusesProtection({ maximumRequiredOsVersion: '10.0.26100', maximumWarningOsVersion: '10.0.26200' }, 'maximumRequiredOsVersion', /below maximumWarningOsVersion/);
    refusesProtection({ maximumWipeOsVersion: '10.0.1', maximumRequiredOsVersion: '10.0.2' }, 'maximumWipeOsVersion');
    refusesProtection({ minimumRequiredOsVersion: '10.0.26100', maximumRequiredOsVersion: '10.0.22631' }, 'maximumRequiredOsVersion', /no OS version could pass/);
    refusesProtection({ minimumWarningOsVersion: '10.0.26100', maximumWipeOsVersion: '10.0.22631' }, 'maximumWipeOsVersion');
  });
});

describe('validateAppProtection: update (PATCH)', () => {
  it('a subset, null clearing a nullable property, rules across properties left to the merged policy', () => {
    assert.deepEqual(validateAppProtection({ description: null, minimumRequiredOsVersion: null, printBlocked: true }, 'update'), {
      description: null,
      printBlocked: true,
      minimumRequiredOsVersion: null,
    });
    assert.deepEqual(validateAppProtection({ minimumRequiredOsVersion: '10.0.26100', maximumRequiredOsVersion: '10.0.1' }, 'update'), {
      minimumRequiredOsVersion: '10.0.26100',
      maximumRequiredOsVersion: '10.0.1',
    });
    refuses(() => validateAppProtection({ displayName: null }, 'update'), 'displayName', /must not be null/);
    refuses(() => validateAppProtection({ mobileThreatDefenseRemediationAction: 'warn' }, 'update'), 'mobileThreatDefenseRemediationAction');
    refuses(() => validateAppProtection({ bogus: 1 }, 'update'), 'bogus');
    refuses(() => validateAppProtection([], 'update'), '$', /must be an object/);
  });
});

describe('appProtectionTemplate: the data protection framework levels', () => {
  const params = { minimumOsVersion: '10.0.22631.3155', maximumOsVersion: '10.0.26100' };

  it('level 1: basic', () => {
    const level = appProtectionTemplate(1, params);
    assert.equal(level.allowedInboundDataTransferSources, 'allApps');
    assert.equal(level.allowedOutboundDataTransferDestinations, 'allApps');
    assert.equal(level.allowedOutboundClipboardSharingLevel, 'anyDestinationAnySource');
    assert.equal(level.printBlocked, false);
    assert.equal(level.periodOfflineBeforeAccessCheck, 'PT10080M');
    assert.equal(level.periodOfflineBeforeWipeIsEnforced, 'P90D');
    assert.equal(level.appActionIfUnableToAuthenticateUser, null);
    assert.equal(level.minimumRequiredOsVersion, null, 'parameters a level does not use are ignored');
    assert.equal(level.maximumRequiredOsVersion, null);
    assert.equal(level.maximumAllowedDeviceThreatLevel, 'low');
    assert.equal(level.mobileThreatDefenseRemediationAction, 'block');
    assert.match(level.displayName, /Level 1/);
  });

  it('level 2: enhanced', () => {
    const level = appProtectionTemplate(2, params);
    assert.equal(level.allowedInboundDataTransferSources, 'none');
    assert.equal(level.allowedOutboundDataTransferDestinations, 'none');
    assert.equal(level.allowedOutboundClipboardSharingLevel, 'none');
    assert.equal(level.printBlocked, false);
    assert.equal(level.periodOfflineBeforeAccessCheck, 'PT10080M');
    assert.equal(level.periodOfflineBeforeWipeIsEnforced, 'P30D');
    assert.equal(level.appActionIfUnableToAuthenticateUser, 'block');
    assert.equal(level.minimumRequiredOsVersion, '10.0.22631.3155');
    assert.equal(level.maximumRequiredOsVersion, null);
    assert.equal(level.maximumAllowedDeviceThreatLevel, 'low');
    assert.equal(appProtectionTemplate(2, {}).minimumRequiredOsVersion, null, 'no parameter: left for the admin');
  });

  it('level 3: high', () => {
    const level = appProtectionTemplate(3, params);
    assert.equal(level.allowedOutboundClipboardSharingLevel, 'none');
    assert.equal(level.printBlocked, true);
    assert.equal(level.periodOfflineBeforeWipeIsEnforced, 'P30D');
    assert.equal(level.appActionIfUnableToAuthenticateUser, 'block');
    assert.equal(level.minimumRequiredOsVersion, '10.0.22631.3155');
    assert.equal(level.maximumRequiredOsVersion, '10.0.26100');
    assert.equal(level.maximumAllowedDeviceThreatLevel, 'secured');
    assert.equal(level.mobileThreatDefenseRemediationAction, 'block');
  });

  it('a template is a valid policy body; bad parameters are refused by name', () => {
    for (const n of [1, 2, 3] as const) assert.deepEqual(validateAppProtection(appProtectionTemplate(n, params), 'create'), appProtectionTemplate(n, params));
    refuses(() => appProtectionTemplate(2, { minimumOsVersion: 'latest' }), 'minimumOsVersion');
    refuses(() => appProtectionTemplate(1, { maximumOsVersion: 'x' }), 'maximumOsVersion');
    refuses(() => appProtectionTemplate(3, { minimumOsVersion: '10.0.26100', maximumOsVersion: '10.0.22631' }), 'maximumOsVersion', /below minimumOsVersion/);
  });
});

describe('validateAppConfiguration', () => {
  const config = (change: Record<string, unknown> = {}) => ({ displayName: 'Notes settings', ...change });

  it('defaults, every appGroupType, unmanaged or unspecified', () => {
    assert.deepEqual(validateAppConfiguration(config(), 'create'), {
      displayName: 'Notes settings',
      description: null,
      customSettings: [],
      appGroupType: 'selectedPublicApps',
      targetedAppManagementLevels: 'unmanaged',
    });
    for (const appGroupType of ['selectedPublicApps', 'allCoreMicrosoftApps', 'allMicrosoftApps', 'allApps']) {
      assert.equal(validateAppConfiguration(config({ appGroupType }), 'create').appGroupType, appGroupType);
    }
    assert.equal(validateAppConfiguration(config({ targetedAppManagementLevels: 'unspecified' }), 'create').targetedAppManagementLevels, 'unspecified');
    const settings = [{ '@odata.type': '#microsoft.graph.keyValuePair', name: 'com.contoso.server', value: 'https://{{partialupn}}.contoso.com' }, { name: 'mail', value: '{{mail}} {{PrimarySMTPAddress}}' }];
    assert.deepEqual(validateAppConfiguration(config({ customSettings: settings }), 'create').customSettings, [
      { name: 'com.contoso.server', value: 'https://{{partialupn}}.contoso.com' },
      { name: 'mail', value: '{{mail}} {{PrimarySMTPAddress}}' },
    ]);
  });

  it('refusals name the field', () => {
    const refusesConfig = (change: Record<string, unknown>, path: string, pattern?: RegExp) => refuses(() => validateAppConfiguration(config(change), 'create'), path, pattern);
    refusesConfig({ appGroupType: 'someApps' }, 'appGroupType');
    refusesConfig({ targetedAppManagementLevels: 'mdm' }, 'targetedAppManagementLevels', /unmanaged/);
    refusesConfig({ targetedAppManagementLevels: 'unmanaged,mdm' }, 'targetedAppManagementLevels');
    refusesConfig({ targetedAppManagementLevels: 'androidEnterprise' }, 'targetedAppManagementLevels');
    refusesConfig({ customSettings: [{ name: 'a', value: '1' }, { name: 'A', value: '2' }] }, 'customSettings[1].name', /already the name of customSettings\[0\]/);
    refusesConfig({ customSettings: [{ name: '', value: '1' }] }, 'customSettings[0].name', /empty/);
    refusesConfig({ customSettings: [{ name: 'a', value: 1 }] }, 'customSettings[0].value', /string/);
    refusesConfig({ customSettings: [{ name: 'a' }] }, 'customSettings[0].value', /required/);
    refusesConfig({ customSettings: [{ name: 'a', value: 'x'.repeat(4097) }] }, 'customSettings[0].value', /longer than 4096/);
    refusesConfig({ customSettings: [{ name: 'a', value: '{{UserPrincipalName}}' }] }, 'customSettings[0].value', /unknown token \{\{UserPrincipalName\}\}/);
    refusesConfig({ customSettings: [{ name: 'a', value: '1', extra: true }] }, 'customSettings[0].extra');
    refusesConfig({ customSettings: Array.from({ length: 501 }, (_, i) => ({ name: `k${i}`, value: '' })) }, 'customSettings', /more than 500/);
    refusesConfig({ apps: [] }, 'apps', /targetApps/);
    refusesConfig({ unknown: 1 }, 'unknown', /targetedManagedAppConfiguration/);
  });

  it('update: a subset', () => {
    assert.deepEqual(validateAppConfiguration({ description: null, customSettings: [] }, 'update'), { description: null, customSettings: [] });
  });
});

describe('readTargetApps', () => {
  const app = (windowsAppId: unknown, extra: Record<string, unknown> = {}) => ({ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId }, ...extra });

  it('lower-cases app ids; version optional', () => {
    assert.deepEqual(readTargetApps({ apps: [app('Com.Contoso.Notes', { version: '4.2' }), app('Microsoft.MicrosoftEdge_8wekyb3d8bbwe', { '@odata.type': '#microsoft.graph.managedMobileApp', id: 'old' })] }), [
      { appId: 'com.contoso.notes', version: '4.2' },
      { appId: 'microsoft.microsoftedge_8wekyb3d8bbwe', version: null },
    ]);
    assert.deepEqual(readTargetApps({ apps: [] }), []);
  });

  it('refusals name the field', () => {
    refuses(() => readTargetApps({}), 'apps', /required/);
    refuses(() => readTargetApps({ apps: [app('com.a'), app('COM.A')] }), 'apps[1].mobileAppIdentifier.windowsAppId', /already apps\[0\]/);
    refuses(() => readTargetApps({ apps: [app('has space')] }), 'apps[0].mobileAppIdentifier.windowsAppId');
    refuses(() => readTargetApps({ apps: [app('')] }), 'apps[0].mobileAppIdentifier.windowsAppId');
    refuses(() => readTargetApps({ apps: [app('com.a', { version: 'v1' })] }), 'apps[0].version');
    refuses(() => readTargetApps({ apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.iosMobileAppIdentifier', bundleId: 'x' } }] }), 'apps[0].mobileAppIdentifier.@odata.type');
    refuses(() => readTargetApps({ apps: [{ mobileAppIdentifier: { windowsAppId: 'x' } }] }), 'apps[0].mobileAppIdentifier.@odata.type', /required/);
    refuses(() => readTargetApps({ apps: [app('com.a')], appGroupType: 'allApps' }), 'appGroupType');
    assert.equal(readTargetAppsRequest({ apps: [], appGroupType: 'allApps' }, { withAppGroupType: true }).appGroupType, 'allApps');
  });
});

describe('readAssignmentTargets', () => {
  const group = '0b9e3c1d-2f4a-4b6c-8d7e-9f0a1b2c3d4e';

  it('group, exclusion and all licensed users, group ids lower-cased', () => {
    assert.deepEqual(
      readAssign({
        assignments: [
          { '@odata.type': '#microsoft.graph.targetedManagedAppPolicyAssignment', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group.toUpperCase(), deviceAndAppManagementAssignmentFilterType: 'none' } },
          { target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: group } },
          { id: 'old', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } },
        ],
      }),
      [
        { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group },
        { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: group },
        { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' },
      ],
    );
  });

  it('refusals name the field', () => {
    refuses(() => readAssign({}), 'assignments', /required/);
    refuses(() => readAssign({ assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'sales' } }] }), 'assignments[0].target.groupId', /GUID/);
    refuses(() => readAssign({ assignments: [{ target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }] }), 'assignments[0].target.@odata.type');
    refuses(() => readAssign({ assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group, deviceAndAppManagementAssignmentFilterId: group } }] }), 'assignments[0].target.deviceAndAppManagementAssignmentFilterType', /include or exclude/);
    const twice = { target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group } };
    refuses(() => readAssign({ assignments: [twice, twice] }), 'assignments[1].target', /same target/);
  });
});

describe('validateMtdConnector', () => {
  it('defaults and every partner state', () => {
    assert.deepEqual(validateMtdConnector({}, 'create'), {
      partnerState: 'enabled',
      windowsMobileApplicationManagementEnabled: true,
      windowsDeviceBlockedOnMissingPartnerData: false,
      partnerUnsupportedOsVersionBlocked: false,
      partnerUnresponsivenessThresholdInDays: 7,
      graphExtras: {},
    });
    for (const partnerState of PARTNER_STATES) assert.equal(validateMtdConnector({ partnerState }, 'create').partnerState, partnerState);
    assert.deepEqual(validateMtdConnector({ id: 'x', lastHeartbeatDateTime: 'x', partnerUnresponsivenessThresholdInDays: 30 }, 'update'), { partnerUnresponsivenessThresholdInDays: 30 });
  });

  it('refusals name the field', () => {
    refuses(() => validateMtdConnector({ partnerState: 'on' }, 'create'), 'partnerState');
    refuses(() => validateMtdConnector({ partnerUnresponsivenessThresholdInDays: 0 }, 'create'), 'partnerUnresponsivenessThresholdInDays', /between 1 and 365/);
    refuses(() => validateMtdConnector({ windowsEnabled: 'yes' }, 'update'), 'windowsEnabled', /must be true or false/);
    refuses(() => validateMtdConnector({ windowsEnabled: null }, 'update'), 'windowsEnabled', /must not be null/);
    refuses(() => validateMtdConnector({ windowsOn: true }, 'update'), 'windowsOn', /not a property/);
    refuses(() => validateMtdConnector({ windowsMobileApplicationManagementEnabled: null }, 'update'), 'windowsMobileApplicationManagementEnabled');
  });
});

describe('validateAccessPolicy', () => {
  const group = '0b9e3c1d-2f4a-4b6c-8d7e-9f0a1b2c3d4e';
  // Exchange Online's application id, as Entra lists it; the other an example service principal's.
  const mail = '00000002-0000-0FF1-CE00-000000000000';
  const files = '7c1d4e2a-3b5f-4a6c-9d8e-0f1a2b3c4d5e';
  const policy = (change: Record<string, unknown> = {}) => ({
    displayName: 'Mail only from approved apps',
    state: 'enabled',
    conditions: { applications: { includeApplications: [mail] }, users: { includeUsers: ['All'], excludeGroups: [group] }, clientAppTypes: ['all'] },
    grantControls: { operator: 'OR', builtInControls: ['approvedApplication', 'compliantDevice'] },
    approvedApplications: ['Com.Contoso.Mail'],
    ...change,
  });

  it('maps to the record fields, and back', () => {
    const settings = validateAccessPolicy(policy(), 'create');
    assert.deepEqual(settings, {
      displayName: 'Mail only from approved apps',
      state: 'enabled',
      resources: [mail.toLowerCase()],
      includeGroups: [],
      excludeGroups: [group],
      includeAllUsers: true,
      approvedApps: ['com.contoso.mail'],
      grantControls: ['approvedApplication', 'compliantDevice'],
      graphExtras: {},
    });
    assert.deepEqual(validateAccessPolicy(accessPolicyAsGraph(settings), 'create'), settings);
    const byGroup = validateAccessPolicy(
      policy({ conditions: { applications: { includeApplications: [files] }, users: { includeGroups: [group.toUpperCase()] } }, grantControls: { builtInControls: ['compliantApplication'] }, approvedApplications: [] }),
      'create',
    );
    assert.deepEqual([byGroup.includeAllUsers, byGroup.includeGroups, byGroup.grantControls], [false, [group], ['compliantApplication']]);
  });

  it('takes All alone as every resource', () => {
    const all = validateAccessPolicy(policy({ conditions: { applications: { includeApplications: ['All'] }, users: { includeUsers: ['All'] } } }), 'create');
    assert.deepEqual(all.resources, ['All']);
  });

  it('refusals name the field', () => {
    const refusesPolicy = (change: Record<string, unknown>, path: string, pattern?: RegExp) => refuses(() => validateAccessPolicy(policy(change), 'create'), path, pattern);
    refusesPolicy({ state: 'on' }, 'state');
    refusesPolicy({ state: 'enabledForReportingButNotEnforced' }, 'state', /report-only/);
    refusesPolicy({ conditions: { applications: { includeApplications: [] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications', /at least one/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files, files.toUpperCase()] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications[1]');
    refusesPolicy({ conditions: { applications: { includeApplications: ['mail'] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications[0]', /appId of a service principal/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files, 'All'] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications[1]', /only item/);
    refusesPolicy({ conditions: { applications: { includeApplications: ['all'] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications[0]', /"All"/);
    refusesPolicy({ conditions: { applications: { includeApplications: [42] }, users: { includeUsers: ['All'] } } }, 'conditions.applications.includeApplications[0]', /string/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: [] } } }, 'conditions.users', /targets nobody/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: ['8b4e...'] } } }, 'conditions.users.includeUsers[0]', /only "All"/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeGroups: ['sales'] } } }, 'conditions.users.includeGroups[0]', /GUID/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: ['All'] }, platforms: { includePlatforms: ['amiga'] } } }, 'conditions.platforms.includePlatforms[0]', /conditionalAccessDevicePlatform/);
    refusesPolicy({ grantControls: { operator: 'AND', builtInControls: ['compliantDevice'] } }, 'grantControls.operator', /only OR/);
    refusesPolicy({ grantControls: { builtInControls: ['mfa'] } }, 'grantControls.builtInControls[0]');
    refusesPolicy({ grantControls: { builtInControls: [] } }, 'grantControls.builtInControls', /at least one/);
    refusesPolicy({ approvedApplications: [] }, 'approvedApplications', /at least one app id/);
    refusesPolicy({ grantControls: { builtInControls: ['compliantDevice'] } }, 'approvedApplications', /only with the approvedApplication/);
    refusesPolicy({ description: 5 }, 'description', /must be a string/);
    refusesPolicy({ sessionControls: { signInFrequency: { value: 'x' } } }, 'sessionControls.signInFrequency.value', /integer/);
    refusesPolicy({ sessionControls: { lifetime: 1 } }, 'sessionControls.lifetime', /not a property of conditionalAccessSessionControls/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: ['All'], excludeUsers: 'x' } } }, 'conditions.users.excludeUsers', /must be an array/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: ['All'], excludeUser: [] } } }, 'conditions.users.excludeUser', /not a property of conditionalAccessUsers/);
    refusesPolicy({ grantControls: { builtInControls: ['compliantApplication'], termsOfUse: 'x' } }, 'grantControls.termsOfUse', /must be an array/);
    // An inclusion OpenMAM does not evaluate would let the users it names through: refused when set.
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeGroups: [group], includeRoles: [group] } } }, 'conditions.users.includeRoles', /let the others through/);
    refusesPolicy({ conditions: { applications: { includeApplications: [files] }, users: { includeGroups: [group], includeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'b2bCollaborationGuest' } } } }, 'conditions.users.includeGuestsOrExternalUsers', /let the others through/);
    refusesPolicy({ frobnicate: true }, 'frobnicate', /not a property of conditionalAccessPolicy/);
    refuses(() => validateAccessPolicy({ displayName: 'x' }, 'create'), 'state', /required/);
  });

  it('update: a subset in Graph shape', () => {
    assert.deepEqual(validateAccessPolicy({ state: 'disabled', id: 'ignored' }, 'update'), { state: 'disabled' });
    assert.deepEqual(validateAccessPolicy({ description: null, sessionControls: { disableResilienceDefaults: true } }, 'update'), { description: null, sessionControls: { disableResilienceDefaults: true } });
  });

  it('stores the Graph properties it does not act on, in Graph nesting, and gives them back', () => {
    const extras = {
      description: 'Mail needs an approved app',
      sessionControls: { signInFrequency: { value: 4, type: 'hours', isEnabled: true } },
      conditions: { platforms: { includePlatforms: ['windows'], excludePlatforms: [] }, users: { excludeUsers: [group], includeRoles: [] }, applications: { excludeApplications: [] } },
      grantControls: { customAuthenticationFactors: [] },
    };
    const body = policy({
      description: extras.description,
      sessionControls: extras.sessionControls,
      conditions: { applications: { includeApplications: [files], excludeApplications: [] }, users: { includeUsers: ['All'], excludeUsers: [group], includeRoles: [] }, platforms: extras.conditions.platforms, locations: null },
      grantControls: { operator: 'OR', builtInControls: ['approvedApplication'], customAuthenticationFactors: [] },
    });
    const settings = validateAccessPolicy(body, 'create');
    assert.deepEqual(settings.graphExtras, extras, 'null (locations) is not kept');
    const without = validateAccessPolicy(policy({ conditions: { applications: { includeApplications: [files] }, users: { includeUsers: ['All'] } }, grantControls: { builtInControls: ['approvedApplication'] } }), 'create');
    assert.deepEqual(without.graphExtras, {});
    assert.deepEqual({ ...settings, graphExtras: {} }, without, 'the extras change no acted-on setting');
    const graph = accessPolicyAsGraph(settings);
    assert.equal(graph['description'], extras.description);
    assert.deepEqual(graph.conditions.users, { includeUsers: ['All'], includeGroups: [], excludeGroups: [], excludeUsers: [group], includeRoles: [] });
    assert.deepEqual(validateAccessPolicy(graph, 'create'), settings, 'the Graph shape reads back the same');
    // Stored as given, empty collections too; listed as not applicable only where they say something.
    assert.deepEqual(accessPolicyExtrasPaths(settings.graphExtras).sort(), ['conditions.platforms', 'conditions.users.excludeUsers', 'description', 'sessionControls']);
  });
});
