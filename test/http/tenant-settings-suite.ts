import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { POLL_SCHEDULE_SET_ID } from '../../src/core/tenant-settings.ts';
import { stableObjectId } from '../../src/identity/dev-idp.ts';
import { DeviceSimulator, EnrollmentRefusedError } from '../support/device-simulator.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { MICROSOFT_EDGE_CLIENT_ID } from '../../src/core/app-protection/app-catalogue.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The tenant settings resource of the admin API (`deviceManagement/openMamTenantSettings`) end to end: an admin reads
 * and changes their own tenant's settings over HTTPS; the changes take effect for enrollments and (poll schedule)
 * reach enrolled devices. Run per store backend.
 */
const SETTINGS = '/graph/beta/deviceManagement/openMamTenantSettings';
const POLL_NODE = './Vendor/MSFT/DMClient/Provider/OpenMAM/Poll/IntervalForRemainingScheduledRetries';

interface GraphResponse {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

export function tenantSettingsEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: tenant settings (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    const devices: DeviceSimulator[] = [];
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
    });
    after(async () => {
      for (const device of devices) device.close();
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin): Promise<GraphResponse> => (await server.json(method, path, token, body)) as GraphResponse;
    async function device(): Promise<DeviceSimulator> {
      const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token: await server.mint({ upn: `u-${randomUUID().slice(0, 6)}@contoso.example`, deviceId: randomUUID() }) });
      devices.push(simulator);
      return simulator;
    }

    it("shows the caller's own tenant to a Reader, in v1.0 too; refuses no token and no role", async () => {
      const read = await call('GET', SETTINGS, undefined, reader);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body['id'], server.tenantId);
      assert.equal(read.body['enrollmentAllowed'], true);
      assert.equal(read.body['requireTermsOfUse'], false);
      assert.equal(typeof read.body['termsOfUseText'], 'string');
      assert.equal(read.body['identityProvider'], 'builtin');
      assert.deepEqual(read.body['pollSchedule'], (await server.runtime.app.tenants.get(server.tenantId))?.settings.pollSchedule);
      assert.match(String(read.body['@odata.context']), /\/graph\/beta\/\$metadata#deviceManagement\/openMamTenantSettings\/\$entity$/);
      assert.equal((await call('GET', SETTINGS.replace('/beta/', '/v1.0/'), undefined, reader)).body['id'], server.tenantId);
      assert.equal((await server.request(SETTINGS)).status, 401);
      const nobody = await server.mint({ upn: 'nobody@contoso.example' });
      assert.equal((await call('GET', SETTINGS, undefined, nobody)).status, 403);
    });

    it('lets an Admin change enrollment and Terms of Use settings, not a Reader; the change takes effect', async () => {
      const refused = await call('PATCH', SETTINGS, { enrollmentAllowed: false }, reader);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error?.code, 'Authorization_RequestDenied');

      const before = await call('GET', SETTINGS);
      const changed = await call('PATCH', SETTINGS, { ...before.body, enrollmentAllowed: false, requireTermsOfUse: true, termsOfUseText: 'Contoso terms.\n\nSecond paragraph.', displayName: ' Contoso Ltd ' });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body['enrollmentAllowed'], false);
      assert.equal(changed.body['requireTermsOfUse'], true);
      assert.equal(changed.body['termsOfUseText'], 'Contoso terms.\n\nSecond paragraph.');
      assert.equal(changed.body['displayName'], 'Contoso Ltd');
      assert.equal(changed.body['createdDateTime'], before.body['createdDateTime'], 'read-only properties of a GET body are ignored');
      assert.deepEqual((await call('GET', SETTINGS, undefined, reader)).body, changed.body);

      await assert.rejects((await device()).enroll(), (error: unknown) => error instanceof EnrollmentRefusedError, 'enrollment blocked');
      const restored = await call('PATCH', SETTINGS, { enrollmentAllowed: true, requireTermsOfUse: false });
      assert.equal(restored.status, 200);
      await (await device()).enroll();
      assert.equal(restored.body['termsOfUseText'], 'Contoso terms.\n\nSecond paragraph.', 'what the PATCH leaves out is kept');
    });

    it('sends a changed poll schedule to enrolled devices once; the same schedule again changes nothing on them', async () => {
      const simulator = await device();
      await simulator.enroll();
      await simulator.sync();
      const versionBefore = await server.runtime.app.store.getConfigurationVersion(server.tenantId);
      const changed = await call('PATCH', SETTINGS, { pollSchedule: { intervalForRemainingScheduledRetries: 2880, pollOnLogin: false } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const poll = changed.body['pollSchedule'] as Record<string, unknown>;
      assert.equal(poll['intervalForRemainingScheduledRetries'], 2880);
      assert.equal(poll['pollOnLogin'], false);
      assert.equal(poll['numberOfFirstRetries'], 8, 'the rest of the schedule is kept');
      const transcript = await simulator.sync();
      assert.ok(transcript.commands.some((c) => c.locUri === POLL_NODE && c.statusSent === '200'), transcript.commands.map((c) => `${c.verb} ${c.locUri}`).join(', '));
      assert.equal(simulator.nodes.get(POLL_NODE)?.value, '2880');
      assert.equal(simulator.nodes.get('./Vendor/MSFT/DMClient/Provider/OpenMAM/Poll/PollOnLogin')?.value, 'false');

      const version = await server.runtime.app.store.getConfigurationVersion(server.tenantId);
      assert.equal(version, versionBefore + 1);
      assert.equal((await call('PATCH', SETTINGS, { pollSchedule: { intervalForRemainingScheduledRetries: 2880 } })).status, 200);
      assert.equal(await server.runtime.app.store.getConfigurationVersion(server.tenantId), version, 'unchanged schedule: devices are not re-planned');
      assert.equal((await simulator.sync()).commands.length, 0);
    });

    it('refuses bad input with 400 naming the field, and writes nothing', async () => {
      const before = (await call('GET', SETTINGS)).body;
      const versionBefore = await server.runtime.app.store.getConfigurationVersion(server.tenantId);
      const cases: [unknown, RegExp][] = [
        [{ pollSchedule: { intervalForRemainingScheduledRetries: 60 } }, /^pollSchedule\.intervalForRemainingScheduledRetries: must be at least 1440/],
        [{ pollSchedule: { numberOfFirstRetries: 'ten' } }, /^pollSchedule\.numberOfFirstRetries: must be an integer/],
        [{ pollSchedule: { intervalForFirstSetOfRetries: -1 } }, /^pollSchedule\.intervalForFirstSetOfRetries: must be between 0 and/],
        [{ pollSchedule: { pollOnLogin: 'yes' } }, /^pollSchedule\.pollOnLogin: must be true or false/],
        [{ pollSchedule: { everyMinute: true } }, /^pollSchedule\.everyMinute: is not a property/],
        [{ pollSchedule: [] }, /^pollSchedule: must be an object/],
        [{ enrollmentAllowed: 'yes', requireTermsOfUse: true }, /^enrollmentAllowed: must be true or false/],
        [{ requireTermsOfUse: null }, /^requireTermsOfUse: must not be null/],
        [{ termsOfUseText: '  ' }, /^termsOfUseText: must not be empty/],
        [{ displayName: 'a\nb' }, /^displayName: must be one line/],
        [{ surprise: true }, /^surprise: is not a property of openMamTenantSettings/],
        // The route's schema refuses a body that is not an object before the model reads it.
        [[], /^body must be object/],
      ];
      for (const [body, message] of cases) {
        const response = await call('PATCH', SETTINGS, body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.body.error?.code, 'BadRequest');
        assert.match(response.body.error?.message ?? '', message, JSON.stringify(body));
      }
      const broken = await call('PATCH', SETTINGS, '{"enrollmentAllowed": ');
      assert.equal(broken.status, 400);
      assert.deepEqual((await call('GET', SETTINGS)).body, before, 'nothing written');
      assert.equal(await server.runtime.app.store.getConfigurationVersion(server.tenantId), versionBefore, 'no device re-planned');
    });

    it('carries an entity tag; a stale If-Match is 412 and writes nothing; concurrent PATCHes of different fields all land', async () => {
      // A tenant of its own: the races below change its poll schedule.
      const tenantId = randomUUID();
      await server.runtime.app.tenants.onboard({ id: tenantId, name: 'Northwind', identityProvider: 'builtin' });
      const owner = await server.mint({ upn: 'admin@northwind.example', tenantId, roles: ['OpenMAM.Admin'] });
      const read = await server.json('GET', SETTINGS, owner);
      const tag = String(read.body['@odata.etag']);
      assert.match(tag, /^W\/"\d+"$/);
      assert.equal(read.headers['etag'], tag);
      const patchIf = (ifMatch: string, body: unknown) => server.json('PATCH', SETTINGS, owner, body, { 'if-match': ifMatch });
      const matched = await patchIf(tag, { displayName: 'Northwind Traders' });
      assert.equal(matched.status, 200, JSON.stringify(matched.body));
      assert.notEqual(matched.headers['etag'], tag, 'a new tag');
      const stale = await patchIf(tag, { displayName: 'Lost update' });
      assert.equal(stale.status, 412);
      assert.equal((stale.body['error'] as { code: string }).code, 'preconditionFailed');
      assert.equal((await server.json('GET', SETTINGS, owner)).body['displayName'], 'Northwind Traders', 'nothing written');
      assert.equal((await patchIf('not a tag', { displayName: 'x' })).status, 400);

      const changes: Record<string, unknown>[] = [
        { displayName: 'Northwind (raced)' },
        { termsOfUseText: 'Raced terms.' },
        { requireTermsOfUse: true },
        { pollSchedule: { numberOfFirstRetries: 9 } },
        { pollSchedule: { intervalForFirstSetOfRetries: 16 } },
        { pollSchedule: { numberOfSecondRetries: 6 } },
        { pollSchedule: { intervalForSecondSetOfRetries: 61 } },
        { pollSchedule: { intervalForRemainingScheduledRetries: 2000 } },
      ];
      const answers = await Promise.all(changes.map((change) => server.json('PATCH', SETTINGS, owner, change)));
      assert.deepEqual(answers.map((a) => a.status), changes.map(() => 200), JSON.stringify(answers.map((a) => a.body)));
      assert.equal(new Set(answers.map((a) => a.body['@odata.etag'])).size, changes.length, 'each at its own version');
      const final = (await server.json('GET', SETTINGS, owner)).body;
      assert.equal(final['displayName'], 'Northwind (raced)');
      assert.equal(final['termsOfUseText'], 'Raced terms.');
      assert.equal(final['requireTermsOfUse'], true);
      assert.deepEqual(final['pollSchedule'], {
        ...(read.body['pollSchedule'] as Record<string, unknown>),
        numberOfFirstRetries: 9,
        intervalForFirstSetOfRetries: 16,
        numberOfSecondRetries: 6,
        intervalForSecondSetOfRetries: 61,
        intervalForRemainingScheduledRetries: 2000,
      });
      // What devices get is the schedule the tenant row holds, not one of the racers' intermediate ones.
      const sent = await server.runtime.app.store.getConfigurationSet(tenantId, POLL_SCHEDULE_SET_ID);
      const valueOf = (node: string) => sent?.settings.find((s) => s.locUri.endsWith(`/Poll/${node}`))?.value;
      assert.deepEqual(
        ['NumberOfFirstRetries', 'IntervalForFirstSetOfRetries', 'NumberOfSecondRetries', 'IntervalForSecondSetOfRetries', 'IntervalForRemainingScheduledRetries'].map(valueOf),
        ['9', '16', '6', '61', '2000'],
      );
    });

    it('MAM user scope: none refuses enrollment and registration ("Account not set up"); selected admits members of its groups only', async () => {
      const tenantId = randomUUID();
      await server.runtime.app.tenants.onboard({ id: tenantId, name: 'Scoped', identityProvider: 'builtin' });
      const owner = await server.mint({ upn: 'admin@scoped.example', tenantId, roles: ['OpenMAM.Admin'] });
      const mamGroup = randomUUID();
      // Microsoft Edge's tokens (a built-in catalogue entry): the app is the token's client.
      const user = (upn: string, groups: string[] = []) => server.mint({ upn, tenantId, deviceId: randomUUID(), groups, clientId: MICROSOFT_EDGE_CLIENT_ID });
      const enrollAs = async (token: string) => {
        const simulator = new DeviceSimulator({ baseUrl: server.url, ca: server.ca, token });
        devices.push(simulator);
        return simulator.enroll().then(() => 'enrolled', (error: unknown) => (error instanceof EnrollmentRefusedError ? error.subcode : String(error)));
      };
      const registerAs = async (token: string) => {
        const body = { appId: 'com.microsoft.edge', appVersion: '120.0.2210.91', sdkVersion: '1.0.0', osVersion: '10.0.22631.3155', deviceTag: randomUUID(), azureAdDeviceId: null };
        return server.json('POST', '/mam/v1/registrations', token, body);
      };
      assert.equal((await call('GET', SETTINGS, undefined, owner)).body['mamUserScope'], 'all', 'all until an admin says otherwise');

      assert.equal((await call('PATCH', SETTINGS, { mamUserScope: 'none' }, owner)).status, 200);
      const outsider = await user('outsider@scoped.example');
      assert.equal(await enrollAs(outsider), 's:Authorization');
      const refused = await registerAs(outsider);
      assert.equal(refused.status, 403);
      const error = refused.body['error'] as { code: string; userMessage: { title: string } };
      assert.equal(error.code, 'accountNotSetUp');
      assert.equal(error.userMessage.title, 'Account not set up');

      const noGroups = await call('PATCH', SETTINGS, { mamUserScope: 'selected' }, owner);
      assert.equal(noGroups.status, 400);
      assert.match(String(noGroups.body.error?.message), /^mamUserScopeGroupIds/);
      assert.equal((await call('PATCH', SETTINGS, { mamUserScope: 'some' }, owner)).status, 400);
      assert.equal((await call('PATCH', SETTINGS, { mamUserScope: 'selected', mamUserScopeGroupIds: [mamGroup] }, owner)).status, 200);
      const member = await user('member@scoped.example', [mamGroup]);
      assert.equal(await enrollAs(member), 'enrolled');
      assert.equal((await registerAs(member)).status, 201);
      assert.equal(await enrollAs(outsider), 's:Authorization');
      assert.equal((await registerAs(outsider)).status, 403);
      // A membership the admin keeps in OpenMAM counts as much as the token's groups claim.
      const listed = await user('listed@scoped.example');
      assert.equal((await registerAs(listed)).status, 403);
      await server.runtime.app.store.createGroup({ tenantId, id: mamGroup, displayName: 'MAM users', description: null, mailNickname: null, createdAt: Date.now() });
      await server.runtime.app.store.addGroupMember(tenantId, mamGroup, stableObjectId(tenantId, 'listed@scoped.example'));
      assert.equal((await registerAs(listed)).status, 201);
    });

    it("reaches only the caller's tenant: another tenant's admin sees and changes their own", async () => {
      const otherTenant = randomUUID();
      await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
      const intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
      const theirs = await call('GET', SETTINGS, undefined, intruder);
      assert.equal(theirs.body['id'], otherTenant);
      assert.equal(theirs.body['displayName'], 'Fabrikam');
      const mine = (await call('GET', SETTINGS)).body;
      assert.equal((await call('PATCH', SETTINGS, { enrollmentAllowed: false, displayName: 'Fabrikam blocked' }, intruder)).status, 200);
      assert.deepEqual((await call('GET', SETTINGS)).body, mine, 'ours untouched');
      assert.equal((await server.runtime.app.tenants.get(otherTenant))?.enrollmentAllowed, false);
    });
  });
}
