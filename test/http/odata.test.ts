import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenMamError } from '../../src/errors.ts';
import { readCollectionOptions, readFilter, readOrderBy, readSystemOptions, type CollectionOptionsSpec } from '../../src/http/graph/odata.ts';
import { rewriteGraphUrl } from '../../src/http/graph/graph-url.ts';
import { SERVICE_PRINCIPALS, SIGN_INS } from '../../src/store/collections.ts';

/** The Graph layer's OData reader (src/http/graph/odata.ts) and URL forms (graph-url.ts), on the sign-in log's fields. */
const refused = (pattern: RegExp) => (e: unknown) => e instanceof OpenMamError && e.code === 'malformed_request' && pattern.test(e.message);
const T = Date.UTC(2026, 11, 1);
const fields = SIGN_INS.fields;
const eq = (field: string, value: string | number | boolean | null) => ({ kind: 'compare', field, operator: 'eq', value });

describe('$filter', () => {
  it('reads comparisons, and/or/not with not binding tightest, startswith, in, and quotes doubled inside strings', () => {
    assert.deepEqual(readFilter("userPrincipalName eq 'o''brien and co'", fields), eq('userPrincipalName', "o'brien and co"));
    assert.deepEqual(readFilter("not startswith(appDisplayName,'Out') or userId eq null", fields), {
      kind: 'or',
      operands: [{ kind: 'not', operand: { kind: 'startsWith', field: 'appDisplayName', prefix: 'Out' } }, eq('userId', null)],
    });
    assert.deepEqual(readFilter("not (appId eq 'a' or appId eq 'b')", fields), { kind: 'not', operand: { kind: 'or', operands: [eq('appId', 'a'), eq('appId', 'b')] } });
    assert.deepEqual(readFilter("conditionalAccessStatus in ('success', 'failure')", fields), { kind: 'or', operands: [eq('conditionalAccessStatus', 'success'), eq('conditionalAccessStatus', 'failure')] });
    assert.deepEqual(readFilter("appDisplayName eq 'x in (y)'", fields), eq('appDisplayName', 'x in (y)'), 'an in inside a string is text');
  });

  it('matches property names ignoring case, lower-cases what is stored lower-case, and maps stored values', () => {
    assert.deepEqual(readFilter("USERID eq 'ABC'", fields), eq('userId', 'abc'));
    assert.deepEqual(readFilter('userId eq 6D1A1B2E-0F59-4B8C-9A6B-0D3C7F1E2A11', fields), eq('userId', '6d1a1b2e-0f59-4b8c-9a6b-0d3c7f1e2a11'));
    assert.deepEqual(readFilter('status/errorCode eq 0', fields), eq('status/errorCode', 'allow'));
    assert.deepEqual(readFilter('status/errorCode ne 53003', fields), { kind: 'compare', field: 'status/errorCode', operator: 'ne', value: 'deny' });
  });

  it('reads DateTimeOffsets with offsets, and compares exactly with instants below a millisecond', () => {
    assert.deepEqual(readFilter('createdDateTime ge 2026-12-01T01:00:00+01:00', fields), { kind: 'compare', field: 'createdDateTime', operator: 'ge', value: T });
    assert.deepEqual(readFilter('createdDateTime ge 2026-12-01T00:00:00.0005Z', fields), { kind: 'compare', field: 'createdDateTime', operator: 'gt', value: T });
    assert.deepEqual(readFilter('createdDateTime lt 2026-12-01T00:00:00.1234567Z', fields), { kind: 'compare', field: 'createdDateTime', operator: 'le', value: T + 123 });
    assert.deepEqual(readFilter('createdDateTime eq 2026-12-01T00:00:00.0001Z', fields), { kind: 'in', field: 'createdDateTime', values: [] });
  });

  it('reads any over a collection field: the predicate names only the lambda variable; all, any() and the collection compared whole are refused', () => {
    const principals = SERVICE_PRINCIPALS.fields;
    assert.deepEqual(readFilter("servicePrincipalNames/any(c:c eq 'api://files')", principals), { kind: 'any', field: 'servicePrincipalNames', variable: 'c', predicate: eq('c', 'api://files') });
    assert.deepEqual(readFilter("displayName eq 'x' and servicePrincipalNames/any(n: startswith(n, 'https://') or n in ('a', 'b'))", principals), {
      kind: 'and',
      operands: [
        eq('displayName', 'x'),
        { kind: 'any', field: 'servicePrincipalNames', variable: 'n', predicate: { kind: 'or', operands: [{ kind: 'startsWith', field: 'n', prefix: 'https://' }, { kind: 'or', operands: [eq('n', 'a'), eq('n', 'b')] }] } },
      ],
    });
    assert.deepEqual(readFilter("not servicePrincipalNames/any(c:c eq 'x')", principals), { kind: 'not', operand: { kind: 'any', field: 'servicePrincipalNames', variable: 'c', predicate: eq('c', 'x') } });
    for (const [filter, message] of [
      ["servicePrincipalNames/all(c:c eq 'x')", /only any is supported over a collection, not all/],
      ['servicePrincipalNames/any()', /any takes a predicate/],
      ["servicePrincipalNames eq 'x'", /servicePrincipalNames is a collection: filter it with servicePrincipalNames\/any/],
      ["servicePrincipalNames/any(c:displayName eq 'x')", /displayName cannot be filtered on here \(c\)/],
      ["displayName/any(c:c eq 'x')", /displayName is not a collection/],
      ["servicePrincipalNames/any(c:c eq 5)", /5 is not a string/],
    ] as const) {
      assert.throws(() => readFilter(filter, principals), refused(message), filter);
    }
    assert.throws(() => readOrderBy('servicePrincipalNames', principals), refused(/cannot be sorted on here \(id, appId, displayName\)/));
  });

  for (const [filter, message] of [
    ["userId eq 'a' and", /not a valid OData expression/],
    ["userId eq 'unterminated", /not a valid OData expression/],
    ["deviceName eq 'x'", /deviceName cannot be filtered on here/],
    ["contains(userId,'a')", /is not supported/],
    ["endswith(userId,'a')", /is not supported/],
    ['userId eq 5', /5 is not a string/],
    ["createdDateTime ge '2026-12-01'", /not a DateTimeOffset/],
    ['createdDateTime ge 2026-13-01T00:00:00Z', /not a valid OData expression|not a DateTimeOffset/],
    ["conditionalAccessStatus eq 'maybe'", /not a member of the enum \(success, failure, notApplied\)/],
    ['status/errorCode eq 7', /7 is not a value here \(0 or 53003\)/],
    ['status/errorCode gt 0', /compares with eq or ne/],
    ['userId gt null', /only eq and ne compare with null/],
    ["userId in ()", /an in list holds 1 to 100 values/],
    [`userId in (${Array.from({ length: 101 }, (_, i) => `'${i}'`).join(',')})`, /an in list holds 1 to 100 values/],
    ["appliedConditionalAccessPolicies/any(p: p/result eq 'failure')", /cannot be filtered on|is not supported/],
    [`${'('.repeat(2000)}userId eq 'a'${')'.repeat(2000)}`, /parentheses nested deeper than 32/],
    ['x'.repeat(4097), /longer than 4096 characters/],
  ] as const) {
    it(`refuses ${JSON.stringify(filter.slice(0, 60))} with a 400 naming it`, () => {
      assert.throws(() => readFilter(filter, fields), refused(message));
    });
  }
});

describe('$orderby, $top, $skip, $count, $select, $expand', () => {
  const spec: CollectionOptionsSpec = { fields, properties: ['id', 'userId', 'createdDateTime'], navigations: [], defaultOrder: [{ field: 'createdDateTime', descending: true }], pageSize: 100, maxPageSize: 1000 };
  const read = (query: Record<string, string>, headers: Record<string, string> = {}) => readCollectionOptions(query, headers, spec);

  it('reads them, with or without the $, names matched ignoring case', () => {
    assert.deepEqual(readOrderBy('createdDateTime desc, USERID', fields), [{ field: 'createdDateTime', descending: true }, { field: 'userId', descending: false }]);
    const options = read({ filter: "userId eq 'a'", $top: '5', $skip: '10', $count: 'true', $select: 'ID,userId' });
    assert.deepEqual([options.top, options.skip, options.count, options.select], [5, 10, true, ['id', 'userId']]);
    assert.deepEqual(read({}).orderBy, spec.defaultOrder);
    assert.equal(read({}).top, 100);
  });

  for (const [query, message, headers] of [
    [{ $orderby: 'deviceName' }, /cannot be sorted on/, {}],
    [{ $orderby: 'userId, userId desc' }, /named twice/, {}],
    [{ $top: '0' }, /\$top: must be an integer from 1 to 1000/, {}],
    [{ $top: '1001' }, /\$top/, {}],
    [{ $top: '1e3' }, /\$top/, {}],
    [{ $skip: '-1' }, /\$skip/, {}],
    [{ $count: 'yes' }, /\$count: must be true or false/, {}],
    [{ $select: 'userId,,id' }, /an empty name/, {}],
    [{ $select: 'password' }, /"password" is not a property/, {}],
    [{ $expand: 'user' }, /"user" is not a navigation property/, {}],
    [{ $search: '"x"' }, /\$search: the query option is not supported/, {}],
    [{ $skip: '1', $skiptoken: 'abc' }, /cannot be combined with \$skiptoken/, {}],
    [{ $levels: '2' }, /not supported/, {}],
  ] as const) {
    it(`refuses ${JSON.stringify(query)}`, () => {
      assert.throws(() => read(query, headers), refused(message));
    });
  }

  it('counts directory objects only with ConsistencyLevel: eventual', () => {
    const directory = { ...spec, countNeedsConsistencyLevel: true };
    assert.throws(() => readCollectionOptions({ $count: 'true' }, {}, directory), refused(/ConsistencyLevel/));
    assert.equal(readCollectionOptions({ $count: 'true' }, { consistencylevel: 'eventual' }, directory).count, true);
  });

  it('leaves custom parameters alone and refuses a system option given twice', () => {
    assert.deepEqual([...readSystemOptions({ 'api-version': '1', $top: '1' }, ['$top'])], [['$top', '1']]);
    assert.throws(() => readSystemOptions({ $top: ['1', '2'] }, ['$top']), refused(/given more than once/));
    assert.throws(() => readSystemOptions({ $top: '1', top: '2' }, ['$top']), refused(/given more than once/));
  });
});

describe("OData's URL forms", () => {
  for (const [url, expected] of [
    ["/graph/beta/groups('abc')", '/graph/beta/groups/abc'],
    ['/graph/beta/groups(abc)/members', '/graph/beta/groups/abc/members'],
    ['/graph/beta/groups%28%27abc%27%29?$select=id', '/graph/beta/groups/abc?$select=id'],
    ["/graph/v1.0/users('o''brien%40contoso.example')", "/graph/v1.0/users/o'brien%40contoso.example"],
    ["/graph/beta/users('x')/isManagedAppUserBlocked()", '/graph/beta/users/x/isManagedAppUserBlocked'],
    ["/graph/beta/groups?$filter=startswith(displayName,'a')", "/graph/beta/groups?$filter=startswith(displayName,'a')"],
    ["/mam/v1/registrations('x')", "/mam/v1/registrations('x')"],
    ["/graph/beta/deviceManagement/auditEvents/getAuditActivityTypes(category='Conditional Access')", '/graph/beta/deviceManagement/auditEvents/getAuditActivityTypes/Conditional%20Access'],
    ["/graph/beta/deviceManagement/auditEvents/getAuditActivityTypes(category=%27Device%27)", '/graph/beta/deviceManagement/auditEvents/getAuditActivityTypes/Device'],
  ] as const) {
    it(`${url} -> ${expected}`, () => assert.equal(rewriteGraphUrl(url), expected));
  }
});
