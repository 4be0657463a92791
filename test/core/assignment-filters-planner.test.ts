import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appFilterContext, intendedPolicies, memoizedIntendedPolicies } from '../../src/core/app-protection/targeting.ts';
import { deviceFacts, HOME_SKUS } from '../../src/core/devices/device-facts.ts';
import { deviceFilterJudge, deviceFilterSubject, deviceMatches } from '../../src/core/devices/device-filters.ts';
import { appliesTo, needsDeviceFacts, planChanges, targetFilterIds } from '../../src/core/management/desired-state.ts';
import { HOME_EDITION_SKUS, NOT_HOME_EDITION } from '../../src/csp/compile/wip.ts';
import type { AppPolicyRecord, AppRegistrationRecord } from '../../src/store/app-protection-records.ts';
import type { AssignmentFilterRecord, ConfigurationSetRecord, ConfigurationTarget } from '../../src/store/records.ts';

const UPGRADE = './Vendor/MSFT/DMClient/Provider/OpenMAM/ManagementServerToUpgradeTo';
const EDP = './Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel';

function filter(id: string, rule: string, managementType: 'devices' | 'apps' = 'devices'): AssignmentFilterRecord {
  return { tenantId: 't', id, displayName: id, description: null, platform: managementType === 'devices' ? 'windows10AndLater' : 'windowsMobileApplicationManagement', rule, managementType, roleScopeTags: ['0'], version: 1, createdAt: 0, updatedAt: 0 };
}

const facts = (deviceName: string, osEdition = '48') => deviceFacts({ deviceName, osVersion: '10.0.22631.4460', osEdition, manufacturer: 'Contoso', model: 'Laptop 5' }, new Map());
const kiosk = filter('f-kiosk', '(device.deviceName -startsWith "KIOSK")');
const judgeFor = (deviceName: string, filters = [kiosk]) => deviceFilterJudge(filters, deviceFilterSubject(facts(deviceName)));

describe('appliesTo with assignment filters', () => {
  const groups = new Set(['g1']);
  const target = (type: 'include' | 'exclude'): ConfigurationTarget => ({ kind: 'groups', include: ['g1'], exclude: [], allUsers: false, filters: { groups: { g1: { id: 'f-kiosk', type } } } });

  it('an include filter reaches matching devices only; an exclude filter the others', () => {
    assert.equal(appliesTo(target('include'), { devId: 'd', groups, filters: judgeFor('KIOSK-1') }), true);
    assert.equal(appliesTo(target('include'), { devId: 'd', groups, filters: judgeFor('DESK-1') }), false);
    assert.equal(appliesTo(target('exclude'), { devId: 'd', groups, filters: judgeFor('KIOSK-1') }), false);
    assert.equal(appliesTo(target('exclude'), { devId: 'd', groups, filters: judgeFor('DESK-1') }), true);
  });

  it('a filter narrows only its own assignment; an exclusion group still wins; no judge or an unknown filter reaches nothing', () => {
    const two: ConfigurationTarget = { kind: 'groups', include: ['g1', 'g2'], exclude: [], allUsers: false, filters: { groups: { g1: { id: 'f-kiosk', type: 'include' } } } };
    assert.equal(appliesTo(two, { devId: 'd', groups: new Set(['g1', 'g2']), filters: judgeFor('DESK-1') }), true, 'g2 has no filter');
    const excluded: ConfigurationTarget = { kind: 'groups', include: ['g1'], exclude: ['g1'], allUsers: false, filters: { groups: { g1: { id: 'f-kiosk', type: 'include' } } } };
    assert.equal(appliesTo(excluded, { devId: 'd', groups, filters: judgeFor('KIOSK-1') }), false);
    assert.equal(appliesTo(target('include'), { devId: 'd', groups }), false);
    assert.equal(appliesTo(target('exclude'), { devId: 'd', groups, filters: judgeFor('DESK-1', []) }), false);
    const allUsers: ConfigurationTarget = { kind: 'groups', include: [], exclude: [], allUsers: true, filters: { allUsers: { id: 'f-kiosk', type: 'include' } } };
    assert.equal(appliesTo(allUsers, { devId: 'd', groups: new Set(), filters: judgeFor('KIOSK-9') }), true);
    assert.equal(appliesTo(allUsers, { devId: 'd', groups: new Set(), filters: judgeFor('DESK-9') }), false);
  });

  it('says when the facts are needed, and which filters to read', () => {
    const set = (target: ConfigurationTarget, applicableWhen?: string): ConfigurationSetRecord => ({ tenantId: 't', id: 's', name: 's', target, settings: [{ locUri: EDP, format: 'int', value: '3', ...(applicableWhen ? { applicableWhen } : {}) }], createdAt: 0, updatedAt: 0 });
    assert.equal(needsDeviceFacts([set({ kind: 'all_devices' })]), false);
    assert.equal(needsDeviceFacts([set({ kind: 'all_devices' }, NOT_HOME_EDITION)]), true);
    assert.equal(needsDeviceFacts([set(target('include'))]), true);
    assert.deepEqual(targetFilterIds([set(target('include')), set(target('exclude'))]), ['f-kiosk']);
  });
});

describe('conditional settings: the MDM upgrade and Home edition', () => {
  const sets: ConfigurationSetRecord[] = [{ tenantId: 't', id: 's', name: 's', target: { kind: 'all_devices' }, settings: [{ locUri: EDP, format: 'int', value: '3' }, { locUri: UPGRADE, format: 'chr', value: 'https://mdm', applicableWhen: NOT_HOME_EDITION }], createdAt: 0, updatedAt: 0 }];
  const applicableOn = (osEdition: string) => (rule: string) => deviceMatches(rule, deviceFilterSubject(facts('PC', osEdition)));

  it('a Home device records the node not_applicable and never receives it; a Pro device gets it', () => {
    const home = planChanges({ sets, nodeStates: [], userSignedIn: true, now: 1, applicable: applicableOn('101') });
    assert.deepEqual(home.commands.map((c) => c.verb !== 'Atomic' && c.item.locUri), [EDP]);
    assert.deepEqual(home.decided.map((d) => [d.locUri, d.status]), [[UPGRADE, 'not_applicable']]);
    const pro = planChanges({ sets, nodeStates: [], userSignedIn: true, now: 1, applicable: applicableOn('48') });
    assert.deepEqual(pro.commands.map((c) => c.verb !== 'Atomic' && [c.verb, c.item.locUri]), [['Add', EDP], ['Add', UPGRADE]]);
  });

  it('an edition not known yet holds it back; a device that became Home has it removed; a not_applicable node goes once it applies', () => {
    const unknown = planChanges({ sets, nodeStates: [], userSignedIn: true, now: 1, applicable: (rule) => deviceMatches(rule, deviceFilterSubject(facts('PC', ''))) });
    assert.deepEqual(unknown.decided.map((d) => d.status), ['not_applicable']);
    const applied = [{ locUri: EDP, format: 'int', value: '3', status: 'applied' as const, statusCode: '200', updatedAt: 0 }, { locUri: UPGRADE, format: 'chr', value: 'https://mdm', status: 'applied' as const, statusCode: '200', updatedAt: 0 }];
    const nowHome = planChanges({ sets, nodeStates: applied, userSignedIn: true, now: 1, applicable: applicableOn('101') });
    assert.deepEqual(nowHome.commands.map((c) => c.verb !== 'Atomic' && [c.verb, c.item.locUri]), [['Delete', UPGRADE]]);
    const held = [applied[0]!, { ...applied[1]!, status: 'not_applicable' as const, statusCode: null }];
    const nowPro = planChanges({ sets, nodeStates: held, userSignedIn: true, now: 1, applicable: applicableOn('48') });
    assert.deepEqual(nowPro.commands.map((c) => c.verb !== 'Atomic' && [c.verb, c.item.locUri]), [['Add', UPGRADE]]);
    assert.deepEqual(planChanges({ sets, nodeStates: held, userSignedIn: true, now: 1, applicable: applicableOn('101') }).commands, [], 'steady on Home');
  });

  it('a node one set wants unconditionally applies whatever the other set says', () => {
    const both = [...sets, { ...sets[0]!, id: 's2', settings: [{ locUri: UPGRADE, format: 'chr', value: 'https://mdm' }] }];
    const home = planChanges({ sets: both, nodeStates: [], userSignedIn: true, now: 1, applicable: applicableOn('101') });
    assert.ok(home.commands.some((c) => c.verb === 'Add' && c.item.locUri === UPGRADE));
  });

  it("the compiler's Home editions are device-facts' HOME_SKUS", () => {
    assert.deepEqual([...HOME_EDITION_SKUS].sort(), [...HOME_SKUS].sort());
  });
});

describe('app protection targeting with app filters', () => {
  const appFilter = filter('f-app', '(app.appVersion -ge "2.0") and (app.operatingSystemVersion -ge "10.0.22000")', 'apps');
  // -ge takes versions for operatingSystemVersion only: appVersion compares as text, so the rule above is refused by the parser.
  const validFilter = filter('f-app', '(app.appVersion -startsWith "2.") and (app.operatingSystemVersion -ge "10.0.22000")', 'apps');
  const policy = (type: 'include' | 'exclude'): AppPolicyRecord => ({
    tenantId: 't',
    id: 'p1',
    kind: 'windowsManagedAppProtection',
    body: {},
    apps: [{ id: 'a', appId: 'com.microsoft.edge', version: null }],
    assignments: [{ id: 'x', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: 'f-app', deviceAndAppManagementAssignmentFilterType: type } }],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
  });
  const registration = (appVersion: string, osVersion = '10.0.22631.1'): Pick<AppRegistrationRecord, 'appVersion' | 'deviceManufacturer' | 'deviceModel' | 'osVersion'> => ({ appVersion, osVersion, deviceManufacturer: null, deviceModel: null });
  const filters = new Map([[validFilter.id, validFilter]]);

  it('include and exclude against the registration; a filter that no longer parses reaches nothing', () => {
    const groups = new Set<string>();
    assert.equal(intendedPolicies([policy('include')], groups, 'com.microsoft.edge', appFilterContext(filters, registration('2.4.1'))).protection?.id, 'p1');
    assert.equal(intendedPolicies([policy('include')], groups, 'com.microsoft.edge', appFilterContext(filters, registration('1.9'))).protection, undefined);
    assert.equal(intendedPolicies([policy('include')], groups, 'com.microsoft.edge', appFilterContext(filters, registration('2.4.1', '10.0.19045.1'))).protection, undefined);
    assert.equal(intendedPolicies([policy('exclude')], groups, 'com.microsoft.edge', appFilterContext(filters, registration('1.9'))).protection?.id, 'p1');
    assert.equal(intendedPolicies([policy('include')], groups, 'com.microsoft.edge', undefined).protection, undefined, 'no context: no filter judged, nothing reached');
    assert.equal(intendedPolicies([policy('include')], groups, 'com.microsoft.edge', appFilterContext(new Map([[appFilter.id, appFilter]]), registration('2.4.1'))).protection, undefined);
  });

  it('memoized per registration facts: two registrations of one user get their own answers', () => {
    const policies = [policy('include')];
    const groups = new Set<string>();
    const a = memoizedIntendedPolicies(policies, groups, 'com.microsoft.edge', appFilterContext(filters, registration('2.4.1')));
    const b = memoizedIntendedPolicies(policies, groups, 'com.microsoft.edge', appFilterContext(filters, registration('1.0')));
    assert.equal(a.protection?.id, 'p1');
    assert.equal(b.protection, undefined);
    assert.equal(memoizedIntendedPolicies(policies, groups, 'com.microsoft.edge', appFilterContext(filters, registration('2.4.1'))), a);
    assert.equal(appFilterContext(new Map(), registration('2.4.1')), undefined, 'no filters named: nothing to build on a check-in');
  });
});
