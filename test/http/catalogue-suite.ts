import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { GraphError } from '@microsoft/microsoft-graph-client';
import { graphClient, trustTestCa } from '../support/graph-client.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { patchedThenRead as patchedThenReadWith } from '../support/graph-calls.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The managed app catalogue (`deviceAppManagement/openMamManagedApps`) and service principals (`servicePrincipals`)
 * end to end (docs/app-protection.md "Managed app catalogue", "Protected resources"), with the conditional access
 * policies that name service principals by appId, over real HTTPS with tokens of the built-in identity provider.
 * Run per store backend.
 */
const APPS = '/graph/beta/deviceAppManagement/openMamManagedApps';
const SP_V1 = '/graph/v1.0/servicePrincipals';
const SP_BETA = '/graph/beta/servicePrincipals';
const CA = '/graph/v1.0/identity/conditionalAccess/policies';
const EDGE_ID = 'builtin-microsoft-edge';
const EDGE_CLIENT = 'ecd6b820-32c2-49b6-98a6-444530e5a77a';

/** An entity without its `@odata.context` (which names the version it was read from). */
function withoutContext(entity: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entity).filter(([name]) => name !== '@odata.context'));
}

interface GraphResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
}

export function catalogueEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`managed app catalogue and service principals (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let nobody: string;
    let intruder: string;
    let gateway: string;
    before(async () => {
      server = await startTestServer(backend);
      admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
      reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
      nobody = await server.mint({ upn: 'user@contoso.example' });
      gateway = await server.mint({ upn: 'gateway@contoso.example', roles: ['OpenMAM.Gateway'] });
      const otherTenant = randomUUID();
      await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
      intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
    });
    after(async () => {
      await server?.close();
    });

    const call = async (method: string, path: string, body?: unknown, token = admin, headers: Record<string, string> = {}): Promise<GraphResponse> =>
      (await server.json(method, path, token, body, headers)) as GraphResponse;
    const patchedThenRead = (url: string, body: unknown): Promise<GraphResponse> => patchedThenReadWith(call, url, body);
    async function created(path: string, body: unknown): Promise<Record<string, unknown>> {
      const response = await call('POST', path, body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body;
    }
    function assertRefused(response: GraphResponse, status: number, message: RegExp): void {
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.equal(response.body.error?.code, { 400: 'BadRequest', 403: 'Authorization_RequestDenied', 404: 'ResourceNotFound', 409: 'Conflict', 412: 'preconditionFailed' }[status]);
      assert.match(response.body.error?.message ?? '', message);
    }
    const appVersion = () => server.runtime.app.store.appProtection.getAppConfigVersion(server.tenantId);
    const caPolicy = (includeApplications: unknown[], displayName = 'Files from compliant apps') => ({
      displayName,
      state: 'enabled',
      conditions: { applications: { includeApplications }, users: { includeUsers: ['All'] } },
      grantControls: { operator: 'OR', builtInControls: ['compliantApplication'] },
    });

    describe('openMamManagedApps', () => {
      it('lists Microsoft Edge first, built in, to readers; gets it by id', async () => {
        const listed = await call('GET', APPS, undefined, reader);
        assert.equal(listed.status, 200);
        assert.match(String(listed.body['@odata.context']), /\$metadata#deviceAppManagement\/openMamManagedApps$/);
        const edge = listed.body.value?.[0];
        assert.deepEqual(
          { ...edge, createdDateTime: undefined, lastModifiedDateTime: undefined },
          {
            '@odata.type': '#microsoft.graph.openMamManagedApp',
            '@odata.etag': 'W/"1"',
            id: EDGE_ID,
            displayName: 'Microsoft Edge',
            windowsAppId: 'com.microsoft.edge',
            clientIds: [EDGE_CLIENT, 'e9c51622-460d-4d3d-952d-966a5b1da34c'],
            isBuiltIn: true,
            createdDateTime: undefined,
            lastModifiedDateTime: undefined,
          },
        );
        const read = await call('GET', `${APPS}/${EDGE_ID}`, undefined, reader);
        assert.equal(read.status, 200);
        assert.match(String(read.body['@odata.context']), /\$metadata#deviceAppManagement\/openMamManagedApps\/\$entity$/);
        assert.deepEqual(withoutContext(read.body), edge);
        assert.equal(read.headers['etag'], 'W/"1"');
      });

      it('keeps built-in entries read-only (PATCH and DELETE are 403)', async () => {
        assertRefused(await call('PATCH', `${APPS}/${EDGE_ID}`, { displayName: 'Edgy' }), 403, /Microsoft Edge .*read-only/);
        assertRefused(await call('DELETE', `${APPS}/${EDGE_ID}`), 403, /read-only/);
        assert.equal((await call('GET', `${APPS}/${EDGE_ID}`)).body['displayName'], 'Microsoft Edge');
      });

      it('creates (ids lower-cased), reads, PATCHes (merged, validated whole), deletes; every write moves the tenant version', async () => {
        const before = await appVersion();
        const clientId = randomUUID();
        const app = await created(APPS, { displayName: 'Contoso Notes', windowsAppId: 'Com.Contoso.Notes', clientIds: [clientId.toUpperCase()] });
        const id = String(app['id']);
        assert.equal(app['@odata.type'], '#microsoft.graph.openMamManagedApp');
        assert.equal(app['@odata.etag'], 'W/"1"');
        assert.equal(app['windowsAppId'], 'com.contoso.notes');
        assert.deepEqual(app['clientIds'], [clientId]);
        assert.equal(app['isBuiltIn'], false);
        assert.equal(typeof app['createdDateTime'], 'string');
        assert.ok((await appVersion()) > before, 'create bumps the app configuration version');

        const listed = await call('GET', APPS, undefined, reader);
        assert.deepEqual(listed.body.value?.map((a) => a['id']).slice(0, 1), [EDGE_ID], 'built-in entries first');
        assert.ok(listed.body.value?.some((a) => a['id'] === id));
        assert.deepEqual(withoutContext((await call('GET', `${APPS}/${id}`, undefined, reader)).body), withoutContext(app));

        const second = randomUUID();
        const patched = await call('PATCH', `${APPS}/${id}`, { clientIds: [clientId, second], isBuiltIn: true });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        assert.deepEqual(patched.body['clientIds'], [clientId, second]);
        assert.equal(patched.body['displayName'], 'Contoso Notes', 'untouched');
        assert.equal(patched.body['isBuiltIn'], false, 'read-only: dropped');
        assert.equal(patched.body['@odata.etag'], 'W/"2"');
        assertRefused(await call('PATCH', `${APPS}/${id}`, { clientIds: [] }), 400, /^clientIds: needs at least 1/);

        const version = await appVersion();
        assert.equal((await call('DELETE', `${APPS}/${id}`)).status, 204);
        assert.ok((await appVersion()) > version, 'delete bumps the app configuration version');
        assertRefused(await call('GET', `${APPS}/${id}`), 404, /openMamManagedApp/);
      });

      it("refuses with 409 a windowsAppId or a client id that is a built-in entry's or another entry's, naming it", async () => {
        assertRefused(await call('POST', APPS, { displayName: 'Fake Edge', windowsAppId: 'COM.MICROSOFT.EDGE', clientIds: [randomUUID()] }), 409, /^windowsAppId: com\.microsoft\.edge is already the managed app Microsoft Edge \(builtin-microsoft-edge, built in\)/);
        assertRefused(await call('POST', APPS, { displayName: 'Edge client', windowsAppId: 'com.contoso.sneaky', clientIds: [randomUUID(), EDGE_CLIENT] }), 409, new RegExp(`^clientIds\\[1\\]: ${EDGE_CLIENT} already speaks for the managed app Microsoft Edge`));
        const clientId = randomUUID();
        const first = await created(APPS, { displayName: 'Contoso Mail', windowsAppId: 'com.contoso.mail', clientIds: [clientId] });
        assertRefused(await call('POST', APPS, { displayName: 'Mail again', windowsAppId: 'com.contoso.mail', clientIds: [randomUUID()] }), 409, /^windowsAppId: com\.contoso\.mail is already the managed app Contoso Mail/);
        assertRefused(await call('POST', APPS, { displayName: 'Shared client', windowsAppId: 'com.contoso.other', clientIds: [clientId] }), 409, new RegExp(`^clientIds\\[0\\]: ${clientId} already speaks for the managed app Contoso Mail`));
        const other = await created(APPS, { displayName: 'Contoso Chat', windowsAppId: 'com.contoso.chat', clientIds: [randomUUID()] });
        assertRefused(await call('PATCH', `${APPS}/${String(other['id'])}`, { windowsAppId: 'com.contoso.mail' }), 409, /^windowsAppId: /);
        assertRefused(await call('PATCH', `${APPS}/${String(other['id'])}`, { clientIds: [EDGE_CLIENT] }), 409, /^clientIds\[0\]: .*Microsoft Edge/);
        await call('DELETE', `${APPS}/${String(first['id'])}`);
        await call('DELETE', `${APPS}/${String(other['id'])}`);
      });

      it('names the field of every refused value', async () => {
        const valid = { displayName: 'Valid', windowsAppId: 'com.contoso.valid', clientIds: [randomUUID()] };
        const cases: [unknown, RegExp][] = [
          [{ ...valid, displayName: undefined }, /^displayName: is required/],
          [{ ...valid, displayName: '' }, /^displayName: must not be empty/],
          [{ ...valid, windowsAppId: 'com contoso' }, /^windowsAppId: "com contoso" is not an app id/],
          [{ ...valid, clientIds: undefined }, /^clientIds: is required/],
          [{ ...valid, clientIds: [] }, /^clientIds: needs at least 1/],
          [{ ...valid, clientIds: ['outlook'] }, /^clientIds\[0\]: must be a GUID/],
          [{ ...valid, clientIds: [valid.clientIds[0], valid.clientIds[0]!.toUpperCase()] }, /^clientIds\[1\]: .* is already clientIds\[0\]/],
          [{ ...valid, clientIds: Array.from({ length: 51 }, () => randomUUID()) }, /^clientIds: has more than 50 items/],
          [{ ...valid, '@odata.type': '#microsoft.graph.managedMobileApp' }, /^@odata\.type: /],
          [{ ...valid, appId: 'x' }, /^appId: is not a property of openMamManagedApp/],
        ];
        for (const [body, message] of cases) assertRefused(await call('POST', APPS, body), 400, message);
      });
    });

    describe('servicePrincipals', () => {
      it('creates in v1.0 and beta: appId generated or given (lower-cased), always among servicePrincipalNames', async () => {
        const before = await appVersion();
        const generated = await created(SP_V1, { displayName: 'Contoso Files', servicePrincipalNames: ['https://files.contoso.example', 'contoso-files'] });
        const appId = String(generated['appId']);
        assert.match(appId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.deepEqual(generated, {
          '@odata.context': 'https://127.0.0.1/graph/v1.0/$metadata#servicePrincipals/$entity',
          '@odata.type': '#microsoft.graph.servicePrincipal',
          '@odata.etag': 'W/"1"',
          id: generated['id'],
          appId,
          displayName: 'Contoso Files',
          servicePrincipalNames: [appId, 'https://files.contoso.example', 'contoso-files'],
        });
        assert.ok((await appVersion()) > before);
        const given = randomUUID();
        const named = await created(SP_BETA, { appId: given.toUpperCase(), displayName: 'Named', servicePrincipalNames: [given] });
        assert.equal(named['appId'], given);
        assert.deepEqual(named['servicePrincipalNames'], [given], 'the appId once');
        const listed = await call('GET', SP_BETA, undefined, reader);
        assert.match(String(listed.body['@odata.context']), /\$metadata#servicePrincipals$/);
        assert.deepEqual(listed.body.value?.map((p) => p['id']), [generated['id'], named['id']]);
        assert.deepEqual(withoutContext((await call('GET', `${SP_V1}/${String(named['id'])}`, undefined, reader)).body), withoutContext(named), 'the same entity in v1.0 and beta');
        for (const p of [generated, named]) assert.equal((await call('DELETE', `${SP_V1}/${String(p['id'])}`)).status, 204);
      });

      it('lists on the Graph layer: $filter by appId (any case), name or servicePrincipalNames/any, $orderby, keyset pages, $count with ConsistencyLevel', async () => {
        const made = [];
        for (const displayName of ['Paging A', 'Paging B', 'Paging C']) made.push(await created(SP_V1, { displayName, servicePrincipalNames: [`https://${displayName.replace(' ', '-').toLowerCase()}.contoso.example`] }));
        const names = (response: GraphResponse): unknown[] => (response.body.value ?? []).map((p) => p['displayName']);
        const byAppId = await call('GET', `${SP_V1}?$filter=${encodeURIComponent(`appId eq '${String(made[1]!['appId']).toUpperCase()}'`)}`, undefined, reader);
        assert.deepEqual(names(byAppId), ['Paging B']);
        const first = await call('GET', `${SP_V1}?$filter=${encodeURIComponent("startswith(displayName,'Paging')")}&$orderby=displayName desc&$top=2`, undefined, reader);
        assert.deepEqual(names(first), ['Paging C', 'Paging B']);
        const next = String(first.body['@odata.nextLink']);
        assert.deepEqual(names(await call('GET', next.slice(next.indexOf('/graph/')), undefined, reader)), ['Paging A']);
        assert.equal((await call('GET', `${SP_V1}?$count=true`, undefined, reader)).status, 400, 'a directory collection counts with ConsistencyLevel only');
        const counted = await call('GET', `${SP_V1}?$count=true&$filter=${encodeURIComponent("startswith(displayName,'Paging')")}`, undefined, reader, { ConsistencyLevel: 'eventual' });
        assert.equal(counted.body['@odata.count'], 3);
        // servicePrincipalNames/any, as Graph's example finds a service principal by one of its names (any case).
        const byName = (predicate: string) => call('GET', `${SP_V1}?$filter=${encodeURIComponent(`servicePrincipalNames/any(c:${predicate})`)}`, undefined, reader);
        assert.deepEqual(names(await byName("c eq 'HTTPS://paging-b.contoso.example'")), ['Paging B']);
        assert.deepEqual(names(await byName(`c eq '${String(made[2]!['appId'])}'`)), ['Paging C'], 'the appId is among the names');
        assert.deepEqual(names(await byName("startswith(c, 'https://paging-') and not (c eq 'https://paging-a.contoso.example')")).sort(), ['Paging B', 'Paging C']);
        assert.deepEqual(names(await byName("c eq 'https://nothing.contoso.example'")), []);
        assert.equal((await call('GET', `${SP_V1}?$filter=${encodeURIComponent("servicePrincipalNames/all(c:c eq 'x')")}`, undefined, reader)).status, 400);
        for (const p of made) assert.equal((await call('DELETE', `${SP_V1}/${String(p['id'])}`)).status, 204);
      });

      it('PATCHes displayName and servicePrincipalNames (replaced, appId kept); the appId cannot change', async () => {
        const principal = await created(SP_V1, { displayName: 'Contoso CRM', servicePrincipalNames: ['crm'] });
        const id = String(principal['id']);
        const appId = String(principal['appId']);
        const patched = await patchedThenRead(`${SP_V1}/${id}`, { servicePrincipalNames: ['https://crm.contoso.example'] });
        assert.deepEqual(patched.body['servicePrincipalNames'], [appId, 'https://crm.contoso.example']);
        assert.equal(patched.body['displayName'], 'Contoso CRM');
        assert.equal(patched.body['@odata.etag'], 'W/"2"');
        // A GET body, appId unchanged and @odata.context naming the other version, may be sent back.
        assert.equal((await patchedThenRead(`${SP_BETA}/${id}`, { ...patched.body, displayName: 'CRM' })).body['displayName'], 'CRM');
        assertRefused(await call('PATCH', `${SP_V1}/${id}`, { appId: randomUUID() }), 400, /^appId: is read-only after create/);
        assert.equal((await call('GET', `${SP_V1}/${id}`)).body['appId'], appId);
        await call('DELETE', `${SP_V1}/${id}`);
      });

      it('stores the Graph properties it does not act on (tags, notes, ...), answers them back and names them as not applicable', async () => {
        const principal = await created(SP_V1, { displayName: 'Contoso HR', servicePrincipalNames: ['hr'], tags: ['WindowsAzureActiveDirectoryIntegratedApp'], notes: 'Owned by HR IT', accountEnabled: true });
        const id = String(principal['id']);
        for (const answer of [principal, (await call('GET', `${SP_BETA}/${id}`)).body]) {
          assert.deepEqual([answer['tags'], answer['notes'], answer['accountEnabled'], answer['displayName']], [['WindowsAzureActiveDirectoryIntegratedApp'], 'Owned by HR IT', true, 'Contoso HR']);
          assert.deepEqual(answer['@openmam.notApplicableProperties'], ['tags', 'notes', 'accountEnabled']);
        }
        const patched = await patchedThenRead(`${SP_V1}/${id}`, { notes: null, homepage: 'https://hr.contoso.example' });
        assert.deepEqual([patched.body['tags'], patched.body['notes'], patched.body['homepage']], [['WindowsAzureActiveDirectoryIntegratedApp'], undefined, 'https://hr.contoso.example']);
        const sentBack = await patchedThenRead(`${SP_V1}/${id}`, { ...patched.body, displayName: 'HR' });
        assert.deepEqual(sentBack.body['@openmam.notApplicableProperties'], ['tags', 'accountEnabled', 'homepage']);
        const listed = (await call('GET', `${SP_V1}?$select=id,tags`)).body.value?.find((p) => p['id'] === id);
        assert.deepEqual(listed?.['tags'], ['WindowsAzureActiveDirectoryIntegratedApp'], '$select names a stored-only property');
        await call('DELETE', `${SP_V1}/${id}`);
      });

      it('refuses with 409 an appId or an audience another service principal of the tenant has', async () => {
        const first = await created(SP_V1, { displayName: 'Exchange', servicePrincipalNames: ['exchange'] });
        const appId = String(first['appId']);
        assertRefused(await call('POST', SP_V1, { appId, displayName: 'Again' }), 409, new RegExp(`^appId: ${appId} is already the service principal Exchange`));
        assertRefused(await call('POST', SP_V1, { displayName: 'Shadow', servicePrincipalNames: ['other', 'EXCHANGE'] }), 409, /^servicePrincipalNames\[2\]: EXCHANGE is already an audience of the service principal Exchange/);
        assertRefused(await call('POST', SP_V1, { displayName: 'By appId', servicePrincipalNames: [appId] }), 409, /^servicePrincipalNames\[1\]: /);
        const second = await created(SP_V1, { displayName: 'SharePoint', servicePrincipalNames: ['sharepoint'] });
        assertRefused(await call('PATCH', `${SP_V1}/${String(second['id'])}`, { servicePrincipalNames: ['exchange'] }), 409, /^servicePrincipalNames\[1\]: exchange is already an audience/);
        assert.equal((await call('POST', SP_V1, { displayName: 'Other tenant', servicePrincipalNames: ['exchange'] }, intruder)).status, 201, 'audiences are per tenant');
        for (const p of [first, second]) await call('DELETE', `${SP_V1}/${String(p['id'])}`);
      });

      it('names the field of every refused value', async () => {
        const cases: [unknown, RegExp][] = [
          [{ servicePrincipalNames: ['x'] }, /^displayName: is required/],
          [{ displayName: 'x', appId: 'exchange' }, /^appId: must be a GUID/],
          [{ displayName: 'x', servicePrincipalNames: 'exchange' }, /^servicePrincipalNames: must be an array/],
          [{ displayName: 'x', servicePrincipalNames: ['a', 'A'] }, /^servicePrincipalNames\[1\]: "A" is already servicePrincipalNames\[0\]/],
          [{ displayName: 'x', servicePrincipalNames: [''] }, /^servicePrincipalNames\[0\]: must not be empty/],
          [{ displayName: 'x', servicePrincipalNames: Array.from({ length: 101 }, (_, i) => `n${i}`) }, /^servicePrincipalNames: has more than 100 items/],
          [{ displayName: 'x', servicePrincipalNames: Array.from({ length: 100 }, (_, i) => `n${i}`) }, /^servicePrincipalNames: has more than 100 items with the appId/],
          [{ displayName: 'x', tags: 'mail' }, /^tags: must be an array/],
          [{ displayName: 'x', notes: 5 }, /^notes: must be a string/],
          [{ displayName: 'x', passwordCredentials: [{ secretText: 'hunter2' }] }, /^passwordCredentials: OpenMAM keeps no credentials/],
          [{ displayName: 'x', appRolesList: [] }, /^appRolesList: is not a property of servicePrincipal/],
        ];
        for (const [body, message] of cases) assertRefused(await call('POST', SP_V1, body), 400, message);
      });
    });

    describe('conditional access policies name service principals', () => {
      it('takes appIds (lower-cased) or All alone, and refuses names', async () => {
        const principal = await created(SP_V1, { displayName: 'Contoso Files', servicePrincipalNames: ['contoso-files'] });
        const appId = String(principal['appId']);
        const policy = await created(CA, caPolicy([appId.toUpperCase()]));
        assert.deepEqual((policy['conditions'] as { applications: unknown }).applications, { includeApplications: [appId] });
        assertRefused(await call('POST', CA, caPolicy(['exchange'])), 400, /^conditions\.applications\.includeApplications\[0\]: must be the appId of a service principal \(a GUID, see servicePrincipals\) or "All", not "exchange"/);
        assertRefused(await call('POST', CA, caPolicy([appId, 'All'])), 400, /^conditions\.applications\.includeApplications\[1\]: "All" covers every resource/);
        assertRefused(await call('POST', CA, caPolicy(['all'])), 400, /^conditions\.applications\.includeApplications\[0\]: write "All"/);
        assertRefused(await call('PATCH', `${CA}/${String(policy['id'])}`, { conditions: { applications: { includeApplications: ['contoso-files'] }, users: { includeUsers: ['All'] } } }), 400, /^conditions\.applications\.includeApplications\[0\]: /);
        const all = await created(CA, { ...caPolicy(['All'], 'Everything'), state: 'disabled' });
        assert.deepEqual((all['conditions'] as { applications: unknown }).applications, { includeApplications: ['All'] });
        await call('DELETE', `${CA}/${String(all['id'])}`);
        await call('DELETE', `${CA}/${String(policy['id'])}`);
        await call('DELETE', `${SP_V1}/${String(principal['id'])}`);
      });

      it('applies a policy to a resource the gateway names by appId or by audience, and All to every resource', async () => {
        const principal = await created(SP_V1, { displayName: 'Contoso Payroll', servicePrincipalNames: ['https://payroll.contoso.example', 'payroll'] });
        const other = await created(SP_V1, { displayName: 'Contoso Wiki', servicePrincipalNames: ['api://wiki'] });
        const appId = String(principal['appId']);
        // The user's token is for the resource, as the app sends it there; no app of the catalogue obtained it.
        const forPayroll = await server.mint({ upn: 'payroll-user@contoso.example', audience: 'payroll' });
        const forWiki = await server.mint({ upn: 'payroll-user@contoso.example', audience: 'api://wiki' });
        const evaluate = async (resource: string, userToken = forPayroll) => {
          const response = await call('POST', '/access/v1/evaluate', { userToken, resource }, gateway);
          assert.equal(response.status, 200, JSON.stringify(response.body));
          return response.body['decision'];
        };
        assert.equal(await evaluate('payroll'), 'allow', 'no policy yet');
        const policy = await created(CA, caPolicy([appId], 'Payroll from compliant apps'));
        for (const resource of ['payroll', 'PAYROLL', 'https://payroll.contoso.example', appId, appId.toUpperCase()]) assert.equal(await evaluate(resource), 'deny', resource);
        assert.equal(await evaluate('api://wiki', forWiki), 'allow');
        const all = await created(CA, caPolicy(['All'], 'Everything from compliant apps'));
        assert.equal(await evaluate(String(other['appId']), forWiki), 'deny', 'All protects every resource');
        await call('DELETE', `${CA}/${String(all['id'])}`);
        await call('DELETE', `${CA}/${String(policy['id'])}`);
        await call('DELETE', `${SP_V1}/${String(principal['id'])}`);
        await call('DELETE', `${SP_V1}/${String(other['id'])}`);
      });

      it("works through Microsoft's Graph client: create, get, PATCH, list and delete a service principal and a catalogue entry", async () => {
        const untrust = trustTestCa(server.ca);
        try {
          const v1 = graphClient(server.url, admin, 'v1.0');
          const created = (await v1.api('/servicePrincipals').post({ displayName: 'Contoso Intranet', servicePrincipalNames: ['https://intranet.contoso.example'] })) as { id: string; appId: string };
          const read = (await v1.api(`/servicePrincipals/${created.id}`).get()) as { servicePrincipalNames: string[] };
          assert.deepEqual(read.servicePrincipalNames, [created.appId, 'https://intranet.contoso.example']);
          await v1.api(`/servicePrincipals/${created.id}`).patch({ displayName: 'Intranet' });
          const listed = (await v1.api('/servicePrincipals').get()) as { value: { id: string; displayName: string }[] };
          assert.equal(listed.value.find((p) => p.id === created.id)?.displayName, 'Intranet');
          await v1.api(`/servicePrincipals/${created.id}`).delete();
          await assert.rejects(v1.api(`/servicePrincipals/${created.id}`).get(), (error: GraphError) => error.statusCode === 404);

          const beta = graphClient(server.url, admin);
          const app = (await beta.api('/deviceAppManagement/openMamManagedApps').post({ displayName: 'Contoso Mail', windowsAppId: 'com.contoso.mail', clientIds: [randomUUID()] })) as { id: string };
          const apps = (await beta.api('/deviceAppManagement/openMamManagedApps').get()) as { value: { id: string; isBuiltIn: boolean }[] };
          assert.deepEqual(apps.value.map((a) => a.isBuiltIn).slice(0, 1), [true], 'Microsoft Edge first');
          assert.ok(apps.value.some((a) => a.id === app.id));
          await assert.rejects(beta.api(`/deviceAppManagement/openMamManagedApps/${String(apps.value[0]!.id)}`).delete(), (error: GraphError) => error.statusCode === 403);
          await beta.api(`/deviceAppManagement/openMamManagedApps/${app.id}`).delete();
        } finally {
          untrust();
        }
      });

      it("refuses a service principal that claims OpenMAM's own audience: a token for OpenMAM is never one for a resource", async () => {
        const own = String(decodeJwt(admin).aud);
        for (const name of [own, `${own}/`, own.toUpperCase()]) {
          assertRefused(await call('POST', SP_V1, { displayName: 'Sneaky', servicePrincipalNames: [name] }), 400, /servicePrincipalNames\[1\]: .* is OpenMAM's own audience/);
        }
        const principal = await created(SP_V1, { displayName: 'Plain' });
        assertRefused(await call('PATCH', `${SP_V1}/${String(principal['id'])}`, { servicePrincipalNames: [own] }), 400, /OpenMAM's own audience/);
        await call('DELETE', `${SP_V1}/${String(principal['id'])}`);
      });

      it('refuses to delete a service principal while a policy names it, with the policy name', async () => {
        const principal = await created(SP_V1, { displayName: 'Contoso HR', servicePrincipalNames: ['hr'] });
        const id = String(principal['id']);
        const policy = await created(CA, caPolicy([String(principal['appId'])], 'HR only from compliant apps'));
        assertRefused(await call('DELETE', `${SP_BETA}/${id}`), 409, /conditional access policy "HR only from compliant apps"/);
        assert.equal((await call('GET', `${SP_V1}/${id}`)).status, 200, 'still there');
        const unrelated = await created(SP_V1, { displayName: 'Unrelated' });
        await patchedThenRead(`${CA}/${String(policy['id'])}`, { conditions: { applications: { includeApplications: [String(unrelated['appId'])] }, users: { includeUsers: ['All'] } } });
        assert.equal((await call('DELETE', `${SP_BETA}/${id}`)).status, 204, 'no policy names it any more');
        await call('DELETE', `${CA}/${String(policy['id'])}`);
        await call('DELETE', `${SP_V1}/${String(unrelated['id'])}`);
      });
    });

    describe('roles, tenants and entity tags', () => {
      it('needs OpenMAM.Admin to write, OpenMAM.Reader to read; others are 403, no token 401', async () => {
        const app = await created(APPS, { displayName: 'Roles', windowsAppId: 'com.contoso.roles', clientIds: [randomUUID()] });
        const principal = await created(SP_V1, { displayName: 'Roles' });
        const writes: [string, string, unknown][] = [
          ['POST', APPS, { displayName: 'x', windowsAppId: 'com.contoso.x', clientIds: [randomUUID()] }],
          ['PATCH', `${APPS}/${String(app['id'])}`, { displayName: 'x' }],
          ['DELETE', `${APPS}/${String(app['id'])}`, undefined],
          ['POST', SP_V1, { displayName: 'x' }],
          ['PATCH', `${SP_BETA}/${String(principal['id'])}`, { displayName: 'x' }],
          ['DELETE', `${SP_V1}/${String(principal['id'])}`, undefined],
        ];
        for (const [method, path, body] of writes) {
          for (const token of [reader, nobody]) assertRefused(await call(method, path, body, token), 403, /OpenMAM\.Admin/);
        }
        for (const path of [APPS, `${APPS}/${String(app['id'])}`, SP_V1, `${SP_BETA}/${String(principal['id'])}`]) {
          assert.equal((await call('GET', path, undefined, reader)).status, 200, path);
          assertRefused(await call('GET', path, undefined, nobody), 403, /OpenMAM\.Reader/);
          assert.equal((await server.request(path)).status, 401, path);
        }
        assert.equal((await call('GET', `${APPS}/${String(app['id'])}`)).body['displayName'], 'Roles', 'untouched');
        assert.equal((await call('GET', APPS.replace('/beta/', '/v1.0/'))).status, 404, 'the catalogue is beta only');
        await call('DELETE', `${APPS}/${String(app['id'])}`);
        await call('DELETE', `${SP_V1}/${String(principal['id'])}`);
      });

      it("another tenant's ids are 404 and stay untouched; it sees only the built-in entries", async () => {
        const app = await created(APPS, { displayName: 'Mine', windowsAppId: 'com.contoso.mine', clientIds: [randomUUID()] });
        const principal = await created(SP_V1, { displayName: 'Mine', servicePrincipalNames: ['mine'] });
        const attempts: [string, string, unknown][] = [
          ['GET', `${APPS}/${String(app['id'])}`, undefined],
          ['PATCH', `${APPS}/${String(app['id'])}`, { displayName: 'pwned' }],
          ['DELETE', `${APPS}/${String(app['id'])}`, undefined],
          ['GET', `${SP_V1}/${String(principal['id'])}`, undefined],
          ['PATCH', `${SP_BETA}/${String(principal['id'])}`, { displayName: 'pwned' }],
          ['DELETE', `${SP_V1}/${String(principal['id'])}`, undefined],
        ];
        for (const [method, path, body] of attempts) assert.equal((await call(method, path, body, intruder)).status, 404, `${method} ${path}`);
        assert.deepEqual((await call('GET', APPS, undefined, intruder)).body.value?.map((a) => a['id']), [EDGE_ID]);
        assert.ok(!(await call('GET', SP_V1, undefined, intruder)).body.value?.some((p) => p['id'] === principal['id']));
        assert.equal((await call('GET', `${APPS}/${String(app['id'])}`)).body['displayName'], 'Mine');
        assert.equal((await call('GET', `${SP_V1}/${String(principal['id'])}`)).body['displayName'], 'Mine');
        await call('DELETE', `${APPS}/${String(app['id'])}`);
        await call('DELETE', `${SP_V1}/${String(principal['id'])}`);
      });

      for (const resource of [
        { name: 'openMamManagedApp', path: APPS, create: () => ({ displayName: 'Tagged', windowsAppId: `com.contoso.t${randomUUID().slice(0, 8)}`, clientIds: [randomUUID()] }) },
        // A service principal's PATCH answers 204 (learn.microsoft.com/graph/api/serviceprincipal-update).
        { name: 'servicePrincipal', path: SP_V1, create: () => ({ displayName: 'Tagged' }), patchStatus: 204 },
      ]) {
        it(`${resource.name}: ETag on every entity, If-Match current writes, stale is 412 (PATCH and DELETE), malformed 400`, async () => {
          const posted = await call('POST', resource.path, resource.create());
          assert.equal(posted.status, 201, JSON.stringify(posted.body));
          assert.equal(posted.headers['etag'], 'W/"1"');
          const url = `${resource.path}/${String(posted.body['id'])}`;
          const patchStatus = 'patchStatus' in resource ? resource.patchStatus : 200;
          const first = await call('PATCH', url, { displayName: 'First' }, admin, { 'if-match': 'W/"1"' });
          assert.equal(first.status, patchStatus, JSON.stringify(first.body));
          assert.equal(first.headers['etag'], 'W/"2"');
          assertRefused(await call('PATCH', url, { displayName: 'Lost' }, admin, { 'if-match': 'W/"1"' }), 412, /has changed/);
          assertRefused(await call('DELETE', url, undefined, admin, { 'if-match': 'W/"1"' }), 412, /has changed/);
          assert.equal((await call('GET', url)).body['displayName'], 'First', 'nothing written');
          assert.equal((await call('PATCH', url, { displayName: 'Star' }, admin, { 'if-match': '*' })).status, patchStatus);
          assertRefused(await call('PATCH', url, { displayName: 'x' }, admin, { 'if-match': 'W/3' }), 400, /If-Match/);
          assert.equal((await call('DELETE', url, undefined, admin, { 'if-match': 'W/"3"' })).status, 204);
          assertRefused(await call('GET', url), 404, /./);
        });
      }
    });
  });
}
