import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { PageIterator, type GraphError, type PageCollection } from '@microsoft/microsoft-graph-client';
import type { SignInRecord } from '../../src/store/app-protection-records.ts';
import { signInRecord } from '../support/sign-ins.ts';
import { adminTokens } from '../support/admin-tokens.ts';
import { freePort } from '../support/free-port.ts';
import { graphClient, trustTestCa } from '../support/graph-client.ts';
import { startTestServer, type Backend, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The sign-in log end to end: records handed to the running server's SignInLog (as AccessService does per decision)
 * are read over HTTPS at Graph's `auditLogs/signIns` by an Admin or a Reader of the same tenant only: newest first,
 * paged by @odata.nextLink, filtered; unsupported query options and clauses are 400s. Run per store backend.
 */
const SIGN_INS = '/graph/beta/auditLogs/signIns';
const T = Date.UTC(2026, 11, 1);

interface GraphResponse {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string }; value?: Record<string, unknown>[] };
}

export function signInsEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: sign-in log (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    const user = randomUUID();
    const app = randomUUID();
    let records: SignInRecord[];

    before(async () => {
      // The public URL is the one the server listens on: @odata.nextLink is absolute, and Graph's client follows it.
      const port = await freePort();
      server = await startTestServer(backend, { OPENMAM_PORT: String(port), OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}` });
      const tokens = await adminTokens(server);
      ({ admin, reader, intruder } = tokens);
      const otherTenant = tokens.otherTenantId;
      // 12 decisions a second apart: even ones allowed for `user` with `app`, odd ones denied by a policy.
      records = Array.from({ length: 12 }, (_, i) =>
        signInRecord(server.tenantId, {
          createdAt: T + i * 1000,
          ...(i % 2 === 0
            ? { userId: user, appId: app }
            : { decision: 'deny', reasons: ['deviceThreatLevel'], conditionalAccessStatus: 'failure', appliedPolicies: [{ id: 'p1', displayName: 'Require app protection', enforcedGrantControls: ['compliantApplication'], result: 'failure' }] }),
        }),
      );
      const log = server.runtime.app.appProtection.signIns;
      for (const record of records) log.record(record);
      log.record(signInRecord(otherTenant, { createdAt: T }));
      await log.flush();
    });
    after(async () => {
      await server?.close();
    });

    const call = async (path: string, token: string | undefined = admin): Promise<GraphResponse> => (await server.json('GET', path, token)) as GraphResponse;
    const ids = (response: GraphResponse): unknown[] => (response.body.value ?? []).map((s) => s['id']);
    const newestFirst = (list: readonly SignInRecord[]): string[] => [...list].sort((a, b) => b.createdAt - a.createdAt).map((r) => r.id);
    const filtered = (filter: string, prefix = '$'): string => `${SIGN_INS}?${prefix}filter=${encodeURIComponent(filter)}`;

    it('is read by a Reader or an Admin, in v1.0 too; refuses no token and no role', async () => {
      const read = await call(SIGN_INS, reader);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.deepEqual(ids(read), newestFirst(records));
      assert.match(String(read.body['@odata.context']), /\/graph\/beta\/\$metadata#auditLogs\/signIns$/);
      assert.equal(read.body['@odata.nextLink'], undefined, 'one page');
      assert.deepEqual(ids(await call(SIGN_INS.replace('/beta/', '/v1.0/'))), newestFirst(records));
      assert.equal((await server.json('GET', SIGN_INS, undefined)).status, 401);
      assert.equal((await call(SIGN_INS, await server.mint({ upn: 'nobody@contoso.example' }))).status, 403);
    });

    it("shows a decision as Graph's signIn", async () => {
      const denied = records[1]!;
      const response = await call(`${SIGN_INS}/${denied.id}`, reader);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body, {
        '@odata.context': `${server.config.publicUrl}/graph/beta/$metadata#auditLogs/signIns/$entity`,
        id: denied.id,
        createdDateTime: new Date(denied.createdAt).toISOString(),
        userId: denied.userId,
        userPrincipalName: denied.userPrincipalName,
        appId: denied.appId,
        appDisplayName: denied.appDisplayName,
        ipAddress: denied.ipAddress,
        resourceId: denied.resourceId,
        resourceDisplayName: denied.resourceDisplayName,
        correlationId: denied.correlationId,
        conditionalAccessStatus: 'failure',
        appliedConditionalAccessPolicies: [{ id: 'p1', displayName: 'Require app protection', enforcedGrantControls: ['compliantApplication'], enforcedSessionControls: [], result: 'failure' }],
        status: { errorCode: 53003, failureReason: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.', additionalDetails: 'deviceThreatLevel' },
        deviceDetail: { deviceId: denied.deviceId, isCompliant: null, isManaged: null, trustType: null, deviceIdVerified: true },
        managedAppRegistrationId: denied.registrationId,
      });
      const allowed = (await call(`${SIGN_INS}/${records[0]!.id}`)).body;
      assert.deepEqual(allowed['status'], { errorCode: 0, failureReason: null, additionalDetails: 'compliantApplication' });
    });

    it("keeps tenants apart: another tenant's id is 404, its admin sees only its own", async () => {
      const foreign = await call(`${SIGN_INS}/${records[0]!.id}`, intruder);
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error?.code, 'ResourceNotFound');
      assert.equal((await call(`${SIGN_INS}/${randomUUID()}`)).status, 404);
      const theirs = await call(SIGN_INS, intruder);
      assert.equal(theirs.body.value?.length, 1);
      assert.ok(!records.some((r) => r.id === theirs.body.value?.[0]?.['id']));
    });

    it('pages with $top and follows @odata.nextLink (absolute, opaque $skiptoken, the filter kept) to the end', async () => {
      const seen: unknown[] = [];
      let next: string | undefined = `${filtered('status/errorCode eq 0')}&$top=2`;
      let pages = 0;
      while (next !== undefined) {
        const page = await call(next, reader);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok((page.body.value?.length ?? 0) <= 2);
        seen.push(...ids(page));
        pages++;
        const link = page.body['@odata.nextLink'];
        if (link === undefined) next = undefined;
        else {
          const url = new URL(String(link));
          assert.equal(url.origin, new URL(server.config.publicUrl).origin);
          assert.match(url.search, /\$skiptoken=/);
          next = `${url.pathname}${url.search}`;
        }
      }
      assert.deepEqual(seen, newestFirst(records.filter((r) => r.decision === 'allow')));
      assert.equal(pages, 3);
    });

    it("reads the whole log through Microsoft's Graph client: PageIterator follows the nextLinks, the filter kept", async () => {
      const untrust = trustTestCa(server.ca);
      try {
        const client = graphClient(server.url, reader);
        const first = (await client.api('/auditLogs/signIns').filter('status/errorCode ne 0').top(2).get()) as PageCollection;
        const seen: string[] = [];
        await new PageIterator(client, first, (signIn: { id: string }) => {
          seen.push(signIn.id);
          return true;
        }).iterate();
        assert.deepEqual(seen, newestFirst(records.filter((r) => r.decision === 'deny')), 'three pages of two, newest first, denials only');
        const one = (await client.api(`/auditLogs/signIns/${records[0]!.id}`).get()) as { id: string; status: { errorCode: number } };
        assert.deepEqual([one.id, one.status.errorCode], [records[0]!.id, 0]);
        const selected = (await client.api('/auditLogs/signIns').select('id,userId').top(1).get()) as { value: Record<string, unknown>[] };
        assert.deepEqual(Object.keys(selected.value[0]!).sort(), ['id', 'userId']);
        await assert.rejects(client.api('/auditLogs/signIns').expand('user').get(), (error: GraphError) => error.statusCode === 400, '$expand is refused, not ignored');
      } finally {
        untrust();
      }
    });

    it('filters by user, app, result, conditional access status and time; `filter` without $ on beta', async () => {
      const allowedForUser = newestFirst(records.filter((r) => r.userId === user));
      assert.deepEqual(ids(await call(filtered(`userId eq '${user}'`))), allowedForUser);
      assert.deepEqual(ids(await call(filtered(`appId eq '${app.toUpperCase()}' and status/errorCode eq 0`))), allowedForUser);
      assert.deepEqual(ids(await call(filtered('status/errorCode ne 0'))), newestFirst(records.filter((r) => r.decision === 'deny')));
      assert.deepEqual(ids(await call(filtered("conditionalAccessStatus eq 'failure'", ''))), newestFirst(records.filter((r) => r.conditionalAccessStatus === 'failure')));
      const range = filtered(`createdDateTime ge ${new Date(T + 2000).toISOString()} and createdDateTime lt ${new Date(T + 5000).toISOString()}`);
      assert.deepEqual(ids(await call(range)), newestFirst(records.slice(2, 5)));
      assert.deepEqual(ids(await call(filtered(`resourceId eq '${records[3]!.resourceId!}'`))), [records[3]!.id]);
      // The whole grammar of the Graph layer: or, not, startswith, in; and order and count.
      assert.deepEqual(ids(await call(filtered(`userId eq '${user}' or status/errorCode eq 53003`))), newestFirst(records));
      assert.deepEqual(ids(await call(filtered(`not (userId eq '${user}')`))), newestFirst(records.filter((r) => r.userId !== user)));
      assert.deepEqual(ids(await call(filtered(`id in ('${records[0]!.id}', '${records[5]!.id}')`))), [records[5]!.id, records[0]!.id]);
      const oldestFirst = await call(`${SIGN_INS}?$orderby=createdDateTime asc&$count=true&$top=3`);
      assert.deepEqual(ids(oldestFirst), records.slice(0, 3).map((r) => r.id));
      assert.equal(oldestFirst.body['@odata.count'], records.length);
    });

    it('refuses unsupported query options, clauses, pages and tokens with a Graph error', async () => {
      const cases: [string, RegExp][] = [
        [`${SIGN_INS}?$select=id,password`, /"password" is not a property/],
        [`${SIGN_INS}?$orderby=deviceName`, /cannot be sorted on/],
        [`${SIGN_INS}?$expand=x`, /not a navigation property/],
        [`${SIGN_INS}?$count=maybe`, /\$count/],
        [`${SIGN_INS}?$search=x`, /not supported/],
        [`${SIGN_INS}?$apply=x`, /not supported/],
        [`${SIGN_INS}?top=1&$top=2`, /more than once/],
        [`${SIGN_INS}?$top=0`, /\$top: must be an integer from 1 to 1000/],
        [`${SIGN_INS}?$top=1001`, /\$top/],
        [`${SIGN_INS}?$top=ten`, /\$top/],
        [`${SIGN_INS}?$skiptoken=bogus`, /\$skiptoken/],
        [filtered("deviceName eq 'PC'"), /deviceName cannot be filtered on/],
        [filtered("contains(userPrincipalName,'a')"), /is not supported/],
        [filtered("createdDateTime ge '2026-12-01'"), /not a DateTimeOffset/],
        [filtered('status/errorCode eq 5'), /5 is not a value here \(0 or 53003\)/],
        [filtered("conditionalAccessStatus eq 'maybe'"), /not a member of the enum/],
        [`${SIGN_INS}/${records[0]!.id}?$expand=appliedConditionalAccessPolicies`, /not supported/],
      ];
      for (const [path, message] of cases) {
        const response = await call(path, reader);
        assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.error?.code, 'BadRequest', path);
        assert.match(response.body.error?.message ?? '', message, path);
      }
    });
  });
}
