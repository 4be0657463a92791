import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { adminTokens } from '../support/admin-tokens.ts';
import { freePort } from '../support/free-port.ts';
import { graphClient, trustTestCa } from '../support/graph-client.ts';
import { startTestServer, type Backend, type JsonResponse, type TestServer } from '../support/server.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The Graph layer end to end, on `groups`: OData's query options compiled to SQL (filter, order, top, skip, count,
 * select, expand), keyset pages linked by signed skip tokens, OData URL forms, and Graph's errors for every refusal.
 * Run per store backend.
 */
interface Group {
  id: string;
  displayName: string;
  description: string | null;
}

const GROUPS = '/graph/v1.0/groups';

export function graphLayerEndToEnd(backend: Backend, skip?: string): void {
  skippableSuite(`admin API: the Graph layer (${backend})`, { skip: skip ?? false }, () => {
    let server: TestServer;
    let admin: string;
    let reader: string;
    let intruder: string;
    let created: Group[];

    before(async () => {
      const port = await freePort();
      server = await startTestServer(backend, { OPENMAM_PORT: String(port), OPENMAM_PUBLIC_URL: `https://127.0.0.1:${port}` });
      ({ admin, reader, intruder } = await adminTokens(server));
      // 250 groups: 'Sales 000'..'Sales 124' and 'Ops 000'..'Ops 124', every third with a description.
      created = [];
      for (let i = 0; i < 125; i++) {
        for (const team of ['Sales', 'Ops']) {
          const number = String(i).padStart(3, '0');
          const response = await post(admin, { displayName: `${team} ${number}`, mailEnabled: false, mailNickname: `${team}${number}`, securityEnabled: true, ...(i % 3 === 0 ? { description: `team ${team}` } : {}) });
          assert.equal(response.status, 201, JSON.stringify(response.body));
          created.push(response.body as unknown as Group);
        }
      }
      assert.equal((await post(intruder, { displayName: 'Sales 000' })).status, 201);
    });
    after(async () => {
      await server?.close();
    });

    const post = (token: string, body: unknown): Promise<JsonResponse> => server.json('POST', GROUPS, token, body);
    const get = (path: string, token = reader, headers?: Record<string, string>): Promise<JsonResponse> => server.json('GET', path, token, undefined, headers);
    const query = (options: string): Promise<JsonResponse> => get(`${GROUPS}?${options}`);
    const names = (response: JsonResponse): string[] => ((response.body['value'] ?? []) as Group[]).map((g) => g.displayName);
    const sorted = (list: readonly string[], descending = false): string[] => [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0) * (descending ? -1 : 1));

    it('filters with eq, ne, startswith, and, or, not and parentheses, in the database', async () => {
      const all = created.map((g) => g.displayName);
      const cases: [string, (name: string, group: Group) => boolean][] = [
        ["displayName eq 'Sales 007'", (n) => n === 'Sales 007'],
        ["startswith(displayName,'Ops 00')", (n) => n.startsWith('Ops 00')],
        ["startswith(displayName,'Ops 01') or displayName eq 'Sales 100'", (n) => n.startsWith('Ops 01') || n === 'Sales 100'],
        ["startswith(displayName,'Sales') and not (description eq null)", (n, g) => n.startsWith('Sales') && g.description !== null],
        ["description ne 'team Ops' and startswith(displayName, 'Ops')", (n, g) => n.startsWith('Ops') && g.description !== 'team Ops'],
        ["displayname EQ 'Ops 004'".replace('EQ', 'eq'), (n) => n === 'Ops 004'],
        ["displayName eq 'O''Brien'", () => false],
        // OData 4.01's in, and not binding tighter than or (Part 2 §5.1.1.15).
        ["displayName in ('Ops 001', 'Sales 002', 'nobody')", (n) => n === 'Ops 001' || n === 'Sales 002'],
        ["not startswith(displayName,'Sales') or displayName eq 'Sales 001'", (n) => !n.startsWith('Sales') || n === 'Sales 001'],
      ];
      for (const [filter, keep] of cases) {
        const expected = sorted(created.filter((g) => keep(g.displayName, g)).map((g) => g.displayName)).slice(0, 100);
        const response = await query(`$filter=${encodeURIComponent(filter)}`);
        assert.equal(response.status, 200, `${filter}: ${JSON.stringify(response.body)}`);
        assert.deepEqual(names(response), expected, filter);
      }
      // `filter` without the $ is the same option.
      assert.deepEqual(names(await query(`filter=${encodeURIComponent("displayName eq 'Ops 001'")}`)), ['Ops 001']);
      assert.ok(all.length === 250);
    });

    it('orders, pages by $top with a nextLink that neither skips nor repeats while groups are added, and counts', async () => {
      const seen: string[] = [];
      let next: string | undefined = `${GROUPS}?$orderby=displayName desc&$top=40&$count=true`;
      let pages = 0;
      while (next !== undefined) {
        const response = await get(next.replace(server.url, ''), reader, { ConsistencyLevel: 'eventual' });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        if (pages === 0) assert.equal(response.body['@odata.count'], 250);
        seen.push(...names(response));
        next = response.body['@odata.nextLink'] as string | undefined;
        if (next !== undefined) assert.ok(next.startsWith(`${server.url}/graph/v1.0/groups?`), next);
        // A group inserted behind the reading position is not seen; none already seen is repeated.
        if (pages === 1) assert.equal((await post(admin, { displayName: 'ZZZ late' })).status, 201);
        pages++;
      }
      assert.equal(pages, 7);
      assert.deepEqual(seen, sorted(created.map((g) => g.displayName), true));
      // $skip passes over rows of the first page.
      assert.deepEqual(names(await query('$orderby=displayName&$skip=3&$top=2')), sorted(['ZZZ late', ...created.map((g) => g.displayName)]).slice(3, 5));
    });

    it('keeps what a script sends that Graph requires (mailNickname), and shows it', async () => {
      const response = await get(`${GROUPS}/${created[0]!.id}`);
      assert.equal(response.body['mailNickname'], 'Sales000');
      assert.deepEqual([response.body['securityEnabled'], response.body['mailEnabled'], response.body['groupTypes']], [true, false, []]);
    });

    it('selects properties and expands members', async () => {
      const response = await query(`$filter=${encodeURIComponent("displayName eq 'Ops 003'")}&$select=displayName,ID&$expand=members`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const [group] = response.body['value'] as Record<string, unknown>[];
      assert.deepEqual(Object.keys(group!).sort(), ['@odata.type', 'displayName', 'id', 'members'].sort());
      assert.deepEqual(group!['members'], []);
    });

    it("answers OData's URL forms: keys in parentheses, any case of the path", async () => {
      const target = created[0]!;
      for (const path of [`${GROUPS}('${target.id}')`, `${GROUPS}(${target.id})`, `/GRAPH/V1.0/Groups/${target.id}`, `${GROUPS}%28%27${target.id}%27%29`]) {
        const response = await get(path);
        assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body['id'], target.id, path);
      }
    });

    it("reads every group through Microsoft's Graph client: PageIterator follows the nextLinks", async () => {
      const untrust = trustTestCa(server.ca);
      try {
        const client = graphClient(server.url, reader, 'v1.0');
        const first = (await client.api('/groups').filter("startswith(displayName,'Sales')").top(30).get()) as PageCollection;
        const seen: string[] = [];
        await new PageIterator(client, first, (group: Group) => {
          seen.push(group.displayName);
          return true;
        }).iterate();
        assert.deepEqual(seen, sorted(created.filter((g) => g.displayName.startsWith('Sales')).map((g) => g.displayName)));
      } finally {
        untrust();
      }
    });

    it("refuses what it cannot do with Graph's 400, naming the option or clause", async () => {
      const first = await query('$top=2');
      const token = new URL(String(first.body['@odata.nextLink'])).searchParams.get('$skiptoken')!;
      const [payload, mac] = token.split('.');
      const deep = `${'('.repeat(3000)}displayName eq 'x'${')'.repeat(3000)}`;
      const cases: [string, RegExp][] = [
        [`$filter=${encodeURIComponent("mailNickname eq 'x'")}`, /mailNickname cannot be filtered on/],
        [`$filter=${encodeURIComponent("displayName eq 5")}`, /5 is not a string/],
        [`$filter=${encodeURIComponent("createdDateTime gt 'yesterday'")}`, /not a DateTimeOffset/],
        [`$filter=${encodeURIComponent("displayName eq 'a\u0000b'")}`, /not a valid OData expression/],
        [`$filter=${encodeURIComponent("displayName has 'x'")}`, /not supported|not a valid/],
        [`$filter=${encodeURIComponent("contains(displayName,'x')")}`, /is not supported/],
        [`$filter=${encodeURIComponent(deep)}`, /\$filter/],
        ['$orderby=mailNickname', /cannot be sorted on/],
        ['$orderby=displayName sideways', /\$orderby/],
        ['$select=displayName,secret', /"secret" is not a property/],
        ['$expand=owners', /"owners" is not a navigation property/],
        ['$top=0', /\$top: must be an integer from 1 to 999/],
        ['$top=1000', /\$top/],
        ['$count=maybe', /\$count/],
        ['$count=true', /ConsistencyLevel/],
        ['$search=%22Sales%22', /\$search: the query option is not supported/],
        ['$skiptoken=bogus', /\$skiptoken/],
        [`$skiptoken=${payload}.${mac!.slice(1)}A`, /\$skiptoken/],
        [`$skiptoken=${Buffer.from('["Zzz","ffffffff-0000-0000-0000-000000000000"]').toString('base64url')}.${mac}`, /\$skiptoken/],
        // A token is bound to its query: another filter cannot reuse it.
        [`$filter=${encodeURIComponent("startswith(displayName,'O')")}&$skiptoken=${token}`, /\$skiptoken/],
        [`$skip=2&$skiptoken=${token}`, /\$skip/],
        ['$filter=a&$filter=b', /more than once/],
      ];
      for (const [options, message] of cases) {
        const response = await query(options);
        if (response.body['error'] === undefined) assert.fail(`${options}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
        assert.equal(response.status, 400, `${options}: ${JSON.stringify(response.body).slice(0, 300)}`);
        assert.equal((response.body['error'] as { code: string }).code, 'BadRequest', options);
        assert.match((response.body['error'] as { message: string }).message, message, options);
      }
      // The same token of another tenant is not a page of this one.
      const stolen = await server.json('GET', `${GROUPS}?$top=2&$skiptoken=${token}`, intruder);
      assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
    });

    it('refuses bodies that do not fit the schema: types, lengths, NUL, lone surrogates, deep nesting, unknown properties', async () => {
      // Sent as text: a 10,000-level array where a string belongs.
      const nested = `{"displayName":${'['.repeat(10_000)}"x"${']'.repeat(10_000)}}`;
      const cases: [unknown, RegExp][] = [
        [{ displayName: '' }, /displayName/],
        [{ displayName: 'x'.repeat(257) }, /displayName/],
        [{ displayName: 'a\u0000b' }, /displayName/],
        [{ displayName: 'lone \ud800 surrogate' }, /displayName/],
        [nested, /displayName|nested|depth/],
        [{ displayName: 'Ok', visibility: 'Public' }, /additional|visibility/],
        [{ displayName: 'Ok', mailEnabled: true }, /mailEnabled/],
        [[{ displayName: 'Ok' }], /body/],
        ['"just a string"', /body/],
      ];
      for (const [body, message] of cases) {
        const response = await post(admin, body);
        assert.equal(response.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(response.body).slice(0, 300)}`);
        assert.match((response.body['error'] as { message: string }).message, message);
      }
      // Nothing was written.
      const count = await get(`${GROUPS}?$count=true&$top=1`, reader, { ConsistencyLevel: 'eventual' });
      assert.equal(count.body['@odata.count'], 251);
    });

    it("answers unknown paths with 404 and wrong methods with 405, in Graph's error body", async () => {
      for (const path of ['/graph/v1.0/noSuchThings', '/graph/v2/groups', '/graph', `${GROUPS}/${created[0]!.id}/noSuchNavigation`]) {
        const unknown = await get(path);
        assert.equal(unknown.status, 404, path);
        assert.ok((unknown.body['error'] as { code: string; message: string }).message, `${path}: ${JSON.stringify(unknown.body)}`);
      }
      const wrong = await server.json('PUT', `${GROUPS}/${created[0]!.id}`, admin, {});
      assert.equal(wrong.status, 405, JSON.stringify(wrong.body));
      assert.match(String(wrong.headers['allow']), /GET/);
      assert.match(String(wrong.headers['allow']), /DELETE/);
      assert.ok((wrong.body['error'] as { message: string }).message.includes('PUT'));
      // Another tenant's group does not exist for this caller.
      assert.equal((await server.json('GET', `${GROUPS}/${created[0]!.id}`, intruder)).status, 404);
    });
  });
}
