import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import type { PolicyRecord } from '../../src/store/records.ts';
import { DeviceSimulator } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * Assignment filters end to end (docs/graph.md "Assignment filters"): the Graph collection (CRUD, refusals, another
 * tenant, in use), filters on assignments, and the devices of the simulator (over HTTPS) receiving what their filters
 * and edition allow. Run per store backend.
 */
const FILTERS = '/graph/beta/deviceManagement/assignmentFilters';
const WIP = '/graph/beta/deviceAppManagement/windowsInformationProtectionPolicies';
const APP_PROTECTION = '/graph/beta/deviceAppManagement/windowsManagedAppProtections';
const UPGRADE = (provider: string) => `./Vendor/MSFT/DMClient/Provider/${provider}/ManagementServerToUpgradeTo`;
const EDITION = './Vendor/MSFT/DeviceStatus/OS/Edition';

interface GraphResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

const deviceFilter = (rule: string, extra: Record<string, unknown> = {}) => ({ displayName: `filter-${randomUUID().slice(0, 6)}`, platform: 'windows10AndLater', rule, ...extra });
const wipPolicy = (extra: Record<string, unknown> = {}) => ({
  displayName: `WIP ${randomUUID().slice(0, 6)}`,
  enforcementLevel: 'encryptAuditAndBlock',
  enterpriseDomain: 'contoso.com',
  enterpriseProtectedDomainNames: [{ displayName: 'Contoso', resources: ['contoso.com'] }],
  ...extra,
});

export function assignmentFiltersEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`assignment filters (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
      const otherTenant = randomUUID();
      await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
      intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin, headers: Record<string, string> = {}): Promise<GraphResponse> =>
      (await server.json(method, path, token, body, headers)) as GraphResponse;
    async function created(path: string, body: unknown): Promise<Record<string, unknown>> {
      const response = await call('POST', path, body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body;
    }
    function assertRefused(response: GraphResponse, status: number, message: RegExp): void {
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.match(response.body.error?.message ?? '', message);
    }
    async function groupWith(upn: string): Promise<string> {
      const group = await created('/graph/v1.0/groups', { displayName: `group-${randomUUID().slice(0, 6)}` });
      const member = await call('POST', `/graph/v1.0/groups/${String(group['id'])}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, upn)}`,
      });
      assert.equal(member.status, 204);
      return String(group['id']);
    }
    async function enrolledDevice(upn: string, context: Record<string, string> = {}): Promise<DeviceSimulator> {
      const token = await server.mint({ upn, deviceId: randomUUID() });
      const device = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token });
      devices.push(device);
      await device.enroll(context);
      return device;
    }
    const assign = (policyId: string, target: Record<string, unknown>, path = WIP) => call('POST', `${path}/${policyId}/assign`, { assignments: [{ target }] });
    const configVersion = () => server.runtime.app.store.getConfigurationVersion(server.tenantId);
    const appVersion = () => server.runtime.app.store.appProtection.getAppConfigVersion(server.tenantId);

    describe('deviceManagement/assignmentFilters', () => {
      it('creates, reads, lists, filters, patches and deletes a filter as Graph answers it', async () => {
        const made = await call('POST', FILTERS, deviceFilter('(device.manufacturer -eq "Contoso") and (device.operatingSystemSKU -in ["Enterprise", "Professional"])', { description: 'Contoso business PCs' }));
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const id = String(made.body['id']);
        assert.ok(String(made.headers['location']).endsWith(`/graph/beta/deviceManagement/assignmentFilters/${id}`));
        assert.equal(made.body['@odata.type'], '#microsoft.graph.deviceAndAppManagementAssignmentFilter');
        assert.equal(made.body['assignmentFilterManagementType'], 'devices');
        assert.deepEqual(made.body['roleScopeTags'], ['0']);
        assert.equal(made.body['@odata.etag'], 'W/"1"');

        const read = await call('GET', `${FILTERS}/${id}`, undefined, reader);
        assert.equal(read.status, 200);
        assert.equal(read.body['rule'], made.body['rule']);
        const listed = await call('GET', `${FILTERS}?$filter=displayName eq '${String(made.body['displayName'])}'&$select=id,platform`, undefined, reader);
        assert.equal(listed.status, 200);
        assert.deepEqual(listed.body.value?.map((f) => [f['id'], f['platform']]), [[id, 'windows10AndLater']]);

        const patched = await call('PATCH', `${FILTERS}/${id}`, { description: null, rule: '(device.model -startsWith "Surface")' }, admin, { 'If-Match': 'W/"1"' });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.equal(patched.body['description'], null);
        assert.equal(patched.body['@odata.etag'], 'W/"2"');
        assertRefused(await call('PATCH', `${FILTERS}/${id}`, { displayName: 'stale' }, admin, { 'If-Match': 'W/"1"' }), 412, /./);
        assertRefused(await call('PATCH', `${FILTERS}/${id}`, { displayName: 'x' }, reader), 403, /./);

        assert.equal((await call('DELETE', `${FILTERS}/${id}`)).status, 204);
        assert.equal((await call('GET', `${FILTERS}/${id}`)).status, 404);
      });

      it('pages with a nextLink', async () => {
        for (let i = 0; i < 3; i++) await created(FILTERS, deviceFilter('(device.deviceOwnership -eq "Personal")', { displayName: `paged-${i}` }));
        const first = await call('GET', `${FILTERS}?$filter=startswith(displayName,'paged-')&$top=2&$orderby=displayName`);
        assert.deepEqual(first.body.value?.map((f) => f['displayName']), ['paged-0', 'paged-1']);
        const next = String(first.body['@odata.nextLink']);
        const nextUrl = new URL(next);
        const second = await call('GET', `${nextUrl.pathname}${nextUrl.search}`);
        assert.deepEqual(second.body.value?.map((f) => f['displayName']), ['paged-2']);
      });

      it('refuses a rule with the position of what is wrong, properties of another platform, a wrong platform', async () => {
        assertRefused(await call('POST', FILTERS, deviceFilter('(device.model -eq "x"')), 400, /^rule: expected "\)", found the end of the rule at position 21$/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(device.foo -eq "x")')), 400, /^rule: device\.foo is not a property of windows10AndLater filters at position 1$/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(device.operatingSystemSKU -contains "Pro")')), 400, /^rule: -contains is not an operator of device\.operatingSystemSKU .* at position 27$/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(app.appVersion -eq "1")')), 400, /^rule: app\.appVersion is not a property of windows10AndLater filters/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(app.appVersion -eq "1")', { assignmentFilterManagementType: 'apps' })), 400, /^platform: a filter of assignmentFilterManagementType apps is for windowsMobileApplicationManagement/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(device.model -eq "x")', { platform: 'iOS' })), 400, /^platform: OpenMAM serves Windows MAM/);
        assertRefused(await call('POST', FILTERS, { platform: 'windows10AndLater', rule: '(device.model -eq "x")' }), 400, /^displayName: is required/);
        assertRefused(await call('POST', FILTERS, deviceFilter('(device.model -eq "x")', { surprise: 1 })), 400, /^surprise: is not a property/);
        const made = await created(FILTERS, deviceFilter('(device.model -eq "x")'));
        assertRefused(await call('PATCH', `${FILTERS}/${String(made['id'])}`, { rule: '(device.model -eq' }), 400, /^rule: expected a quoted value, found the end of the rule at position 17$/);
        assertRefused(await call('PATCH', `${FILTERS}/${String(made['id'])}`, { assignmentFilterManagementType: 'apps', platform: 'windowsMobileApplicationManagement', rule: '(app.deviceModel -eq "x")' }), 400, /^assignmentFilterManagementType: a filter's management type cannot change/);
      });

      it('validateFilter answers isValidRule, with the reason when not valid', async () => {
        const valid = await call('POST', `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { rule: '(device.deviceName -startsWith "KIOSK")' } });
        assert.equal(valid.status, 200, JSON.stringify(valid.body));
        assert.equal(valid.body['isValidRule'], true);
        const invalid = await call('POST', `${FILTERS}/validateFilter`, { deviceAndAppManagementAssignmentFilter: { rule: '(app.appVersion -eq "1") or', assignmentFilterManagementType: 'apps' } });
        assert.equal(invalid.body['isValidRule'], false);
        assert.match(String(invalid.body['@openmam.reason']), /^rule: expected a property .* at position 27$/);
        assertRefused(await call('POST', `${FILTERS}/validateFilter`, { rule: '(device.model -eq "x")' }), 400, /^rule: is not a parameter of validateFilter/);
      });

      it("another tenant's filter is not found, and cannot be named in an assignment", async () => {
        const theirs = await call('POST', FILTERS, deviceFilter('(device.model -eq "x")'), intruder);
        assert.equal(theirs.status, 201);
        const id = String(theirs.body['id']);
        assert.equal((await call('GET', `${FILTERS}/${id}`)).status, 404);
        assert.equal((await call('PATCH', `${FILTERS}/${id}`, { displayName: 'mine' })).status, 404);
        assert.equal((await call('DELETE', `${FILTERS}/${id}`)).status, 404);
        const policy = await created(WIP, wipPolicy());
        assertRefused(
          await assign(String(policy['id']), { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: id, deviceAndAppManagementAssignmentFilterType: 'include' }),
          400,
          new RegExp(`^assignments\\[0\\]\\.target\\.deviceAndAppManagementAssignmentFilterId: no assignment filter with id ${id}`),
        );
      });

      it('a device filter on an app policy and an app filter on a device policy are refused', async () => {
        const devicesFilter = await created(FILTERS, deviceFilter('(device.model -eq "x")'));
        const appsFilter = await created(FILTERS, { displayName: 'app filter', platform: 'windowsMobileApplicationManagement', assignmentFilterManagementType: 'apps', rule: '(app.appVersion -startsWith "2.")' });
        const protection = await created(APP_PROTECTION, { displayName: `APP ${randomUUID().slice(0, 6)}` });
        assertRefused(
          await assign(String(protection['id']), { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: String(devicesFilter['id']), deviceAndAppManagementAssignmentFilterType: 'include' }, APP_PROTECTION),
          400,
          /^assignments\[0\]\.target\.deviceAndAppManagementAssignmentFilterId: .* is a filter of devices, and windowsManagedAppProtection assignments take filters of apps/,
        );
        const wip = await created(WIP, wipPolicy());
        assertRefused(
          await assign(String(wip['id']), { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: String(appsFilter['id']), deviceAndAppManagementAssignmentFilterType: 'include' }),
          400,
          /is a filter of apps, and windowsInformationProtectionPolicy assignments take filters of devices/,
        );
        const before = await appVersion();
        const ok = await assign(String(protection['id']), { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: String(appsFilter['id']), deviceAndAppManagementAssignmentFilterType: 'exclude' }, APP_PROTECTION);
        assert.equal(ok.status, 204, JSON.stringify(ok.body));
        const assignments = await call('GET', `${APP_PROTECTION}/${String(protection['id'])}/assignments`);
        assert.equal((assignments.body.value?.[0]?.['target'] as Record<string, unknown>)['deviceAndAppManagementAssignmentFilterType'], 'exclude');
        // Changing an app filter's rule re-targets the apps: the app configuration version moves, in the same write.
        const changed = await call('PATCH', `${FILTERS}/${String(appsFilter['id'])}`, { rule: '(app.appVersion -startsWith "3.")' });
        assert.equal(changed.status, 200);
        assert.ok((await appVersion()) > before);
        assertRefused(await call('DELETE', `${FILTERS}/${String(appsFilter['id'])}`), 409, /is used by an assignment of policy/);
      });

      it('a filter in use cannot be deleted (409); a rule change bumps the configuration version once, a rename does not', async () => {
        const filter = await created(FILTERS, deviceFilter('(device.model -eq "x")'));
        const id = String(filter['id']);
        const policy = await created(WIP, wipPolicy());
        const assigned = await assign(String(policy['id']), { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: id, deviceAndAppManagementAssignmentFilterType: 'include' });
        assert.equal(assigned.status, 204, JSON.stringify(assigned.body));
        const listed = await call('GET', `${WIP}/${String(policy['id'])}/assignments`);
        assert.equal((listed.body.value?.[0]?.['target'] as Record<string, unknown>)['deviceAndAppManagementAssignmentFilterId'], id);
        const v1 = await call('GET', `/graph/v1.0/deviceAppManagement/windowsInformationProtectionPolicies/${String(policy['id'])}/assignments`);
        assert.equal(v1.status, 200);
        assert.equal(Object.hasOwn(v1.body.value?.[0]?.['target'] as object, 'deviceAndAppManagementAssignmentFilterId'), false, 'v1.0 has no filter properties');
        assertRefused(await call('DELETE', `${FILTERS}/${id}`), 409, new RegExp(`policy "${String(policy['displayName'])}"`));

        const before = await configVersion();
        assert.equal((await call('PATCH', `${FILTERS}/${id}`, { displayName: 'renamed' })).status, 200);
        assert.equal(await configVersion(), before, 'a rename re-plans nobody');
        assert.equal((await call('PATCH', `${FILTERS}/${id}`, { rule: '(device.model -eq "y")' })).status, 200);
        assert.equal(await configVersion(), before + 1, 'a rule change re-plans the tenant once');

        assert.equal((await call('POST', `${WIP}/${String(policy['id'])}/assign`, { assignments: [] })).status, 204);
        assert.equal((await call('DELETE', `${FILTERS}/${id}`)).status, 204);
      });

      it('a filter a compliance policy assigns through cannot be deleted (409); a compliance assignment naming a deleted filter is refused', async () => {
        const COMPLIANCE = '/graph/beta/deviceManagement/deviceCompliancePolicies';
        const filter = await created(FILTERS, deviceFilter('(device.model -eq "x")'));
        const id = String(filter['id']);
        const policy = await created(COMPLIANCE, { '@odata.type': '#microsoft.graph.windows10CompliancePolicy', displayName: 'firewall on', activeFirewallRequired: true });
        const target = { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: id, deviceAndAppManagementAssignmentFilterType: 'include' };
        const assigned = await call('POST', `${COMPLIANCE}/${String(policy['id'])}/assign`, { assignments: [{ target }] });
        assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
        assertRefused(await call('DELETE', `${FILTERS}/${id}`), 409, /firewall on/);
        assert.equal((await call('POST', `${COMPLIANCE}/${String(policy['id'])}/assign`, { assignments: [] })).status, 200);
        assert.equal((await call('DELETE', `${FILTERS}/${id}`)).status, 204);
        assertRefused(await call('POST', `${COMPLIANCE}/${String(policy['id'])}/assign`, { assignments: [{ target }] }), 400, /deviceAndAppManagementAssignmentFilterId|does not exist/);
      });

      it('refuses a filter on an excluded group, an id without a type', async () => {
        const filter = await created(FILTERS, deviceFilter('(device.model -eq "x")'));
        const policy = await created(WIP, wipPolicy());
        const group = await groupWith('someone@contoso.example');
        assertRefused(
          await assign(String(policy['id']), { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: group, deviceAndAppManagementAssignmentFilterId: String(filter['id']), deviceAndAppManagementAssignmentFilterType: 'include' }),
          400,
          /^assignments\[0\]\.target\.deviceAndAppManagementAssignmentFilterId: an excluded group takes no assignment filter/,
        );
        assertRefused(
          await assign(String(policy['id']), { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group, deviceAndAppManagementAssignmentFilterId: String(filter['id']) }),
          400,
          /^assignments\[0\]\.target\.deviceAndAppManagementAssignmentFilterType: must be include or exclude/,
        );
      });
    });

    describe('apps receive what their filters allow', () => {
      it('an app filter on an app protection policy reaches the registrations that match it, judged at check-in', async () => {
        const EDGE = 'com.microsoft.edge';
        const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';
        const appFilter = await created(FILTERS, { displayName: 'Surface apps', platform: 'windowsMobileApplicationManagement', assignmentFilterManagementType: 'apps', rule: '(app.deviceModel -contains "surface")' });
        const protection = await created(APP_PROTECTION, { displayName: `Surface APP ${randomUUID().slice(0, 6)}` });
        const id = String(protection['id']);
        assert.equal((await call('POST', `${APP_PROTECTION}/${id}/targetApps`, { apps: [{ mobileAppIdentifier: { '@odata.type': '#microsoft.graph.windowsAppIdentifier', windowsAppId: EDGE } }] })).status, 204);
        const assigned = await assign(id, { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget', deviceAndAppManagementAssignmentFilterId: String(appFilter['id']), deviceAndAppManagementAssignmentFilterType: 'include' }, APP_PROTECTION);
        assert.equal(assigned.status, 204, JSON.stringify(assigned.body));
        const register = async (upn: string, deviceModel: string) => {
          const token = await server.mint({ upn, clientId: EDGE_CLIENT });
          const response = await call('POST', '/mam/v1/registrations', { appId: EDGE, appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', deviceName: 'PC', deviceModel, deviceManufacturer: 'Contoso', deviceTag: randomUUID(), azureAdDeviceId: null }, token);
          assert.equal(response.status, 201, JSON.stringify(response.body));
          return response.body as { policy?: { id: string } | null };
        };
        assert.equal((await register('surface-user@contoso.example', 'Surface Laptop 5')).policy?.id, id);
        assert.equal((await register('thinkpad-user@contoso.example', 'ThinkPad X1')).policy ?? null, null);
      });
    });

    describe('devices receive what their filters and edition allow', () => {
      it('the WIP MDM upgrade goes to a Pro device, not to a Home one, unless the admin forces it (with a warning)', async () => {
        const home = 'home-user@contoso.example';
        const pro = 'pro-user@contoso.example';
        const group = await groupWith(home);
        const addPro = await call('POST', `/graph/v1.0/groups/${group}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${stableObjectId(server.tenantId, pro)}` });
        assert.equal(addPro.status, 204);
        const policy = await created(WIP, wipPolicy({ mdmEnrollmentUrl: 'https://mdm.contoso.com/EnrollmentServer/Discovery.svc' }));
        const homeWarning = /Home edition devices too; users who upgrade from MAM to MDM on Home edition lose access to WIP/;
        assert.ok(!((policy['@openmam.warnings'] as string[] | undefined) ?? []).some((w) => homeWarning.test(w)));
        assert.equal((await assign(String(policy['id']), { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group })).status, 204);

        const homeDevice = await enrolledDevice(home, { OSEdition: '101' });
        homeDevice.nodes.set(EDITION, { format: 'int', value: '101' });
        const proDevice = await enrolledDevice(pro, { OSEdition: '48' });
        const upgrade = UPGRADE(server.config.providerId);

        const homeSession = await homeDevice.sync();
        const proSession = await proDevice.sync();
        assert.ok(proSession.commands.some((c) => c.locUri === upgrade && c.verb === 'Add'), 'Pro gets the MDM upgrade');
        assert.ok(!homeSession.commands.some((c) => c.locUri === upgrade), 'Home never receives it');
        assert.ok(homeSession.commands.some((c) => c.locUri.startsWith('./Vendor/MSFT/EnterpriseDataProtection/')), 'Home gets the rest of WIP');
        const homeEnrollment = (await server.runtime.app.store.getActiveEnrollmentByDevId(homeDevice.devId))!;
        const homeStates = new Map((await server.runtime.app.store.getNodeStates(homeEnrollment.id)).map((s) => [s.locUri, s]));
        assert.equal(homeStates.get(upgrade)?.status, 'not_applicable');
        assert.equal((await homeDevice.sync()).commands.length, 0, 'settled');
        const statuses = await call('GET', `${WIP}/${String(policy['id'])}/deviceStatuses`);
        assert.deepEqual(statuses.body.value?.map((v) => v['@openmam.status']), ['applied', 'applied'], 'the held-back upgrade does not leave the Home device pending');

        // The admin forces it: the answer warns, and the Home device gets it at its next session.
        const forced = await call('PATCH', `${WIP}/${String(policy['id'])}`, { openMamMdmUpgradeOnHomeEdition: true });
        assert.equal(forced.status, 200, JSON.stringify(forced.body));
        assert.ok(((forced.body['@openmam.warnings'] as string[] | undefined) ?? []).some((w) => homeWarning.test(w)), JSON.stringify(forced.body['@openmam.warnings']));
        const homeAgain = await homeDevice.sync();
        assert.deepEqual(homeAgain.commands.filter((c) => c.verb !== 'Get').map((c) => [c.verb, c.locUri]), [['Add', upgrade]]);
      });

      it('an exclude filter keeps a device out of a WIP policy; including it later plans exactly the missing settings', async () => {
        const upn = 'kiosk-user@contoso.example';
        const group = await groupWith(upn);
        const device = await enrolledDevice(upn, { DeviceName: 'KIOSK-7' });
        await device.sync(); // inventory, nothing assigned yet
        assert.equal((await device.sync()).commands.length, 0);

        const filter = await created(FILTERS, deviceFilter('(device.deviceName -startsWith "kiosk")'));
        const policy = await created(WIP, wipPolicy());
        const excluded = await assign(String(policy['id']), {
          '@odata.type': '#microsoft.graph.groupAssignmentTarget',
          groupId: group,
          deviceAndAppManagementAssignmentFilterId: String(filter['id']),
          deviceAndAppManagementAssignmentFilterType: 'exclude',
        });
        assert.equal(excluded.status, 204, JSON.stringify(excluded.body));
        assert.equal((await device.sync()).commands.length, 0, 'filtered out: nothing sent');
        const statusOf = async () => (await call('GET', `${WIP}/${String(policy['id'])}/deviceStatuses`)).body.value?.find((v) => v['deviceDisplayName'] === 'KIOSK-7')?.['@openmam.status'];
        assert.equal(await statusOf(), 'notApplicable', 'the report lists the filtered-out device as not applicable');

        const included = await assign(String(policy['id']), {
          '@odata.type': '#microsoft.graph.groupAssignmentTarget',
          groupId: group,
          deviceAndAppManagementAssignmentFilterId: String(filter['id']),
          deviceAndAppManagementAssignmentFilterType: 'include',
        });
        assert.equal(included.status, 204);
        const stored = (await server.runtime.app.store.getPolicy(server.tenantId, String(policy['id']))) as PolicyRecord;
        const compiled = server.runtime.app.policies.compile(stored);
        const refused = new Set(compiled.refused.map((r) => r.locUri));
        const expected = compiled.settings.filter((s) => !refused.has(s.locUri)).map((s) => ['Add', s.locUri]);
        const session = await device.sync();
        assert.deepEqual(
          session.commands.map((c) => [c.verb, c.locUri]).sort(),
          expected.sort(),
          'exactly the policy settings, each added once',
        );
        assert.equal((await device.sync()).commands.length, 0, 'settled');
        assert.equal(await statusOf(), 'applied');

        // A rule change that no longer matches removes what the policy set.
        assert.equal((await call('PATCH', `${FILTERS}/${String(filter['id'])}`, { rule: '(device.deviceName -startsWith "desk")' })).status, 200);
        const removal = await device.sync();
        assert.ok(removal.commands.length > 0 && removal.commands.every((c) => c.verb === 'Delete'), JSON.stringify(removal.commands.map((c) => [c.verb, c.locUri])));
      });
    });
  });
}
