import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenMamError } from '../../src/errors.ts';
import { parseFilter, readQueryOptions } from '../../src/http/admin/odata.ts';
import { readSignInFilter } from '../../src/http/admin/sign-in-routes.ts';

const refused = (pattern: RegExp) => (e: unknown) => e instanceof OpenMamError && e.code === 'malformed_request' && pattern.test(e.message);
const T = Date.UTC(2026, 11, 1);

describe('OData $filter: comparisons joined by and', () => {
  it('reads strings (with doubled quotes and an "and" inside), integers and DateTimeOffsets', () => {
    const clauses = parseFilter("userPrincipalName eq 'o''brien and co' and status/errorCode ne 0 AND createdDateTime ge 2026-12-01T00:00:00Z", 'x');
    assert.deepEqual(
      clauses.map(({ property, operator, literal }) => ({ property, operator, literal })),
      [
        { property: 'userPrincipalName', operator: 'eq', literal: { kind: 'string', value: "o'brien and co" } },
        { property: 'status/errorCode', operator: 'ne', literal: { kind: 'integer', value: 0 } },
        { property: 'createdDateTime', operator: 'ge', literal: { kind: 'dateTime', ms: T, exact: true } },
      ],
    );
    assert.deepEqual(parseFilter('  ', 'x'), []);
    assert.deepEqual(parseFilter(undefined, 'x'), []);
  });

  it('reads offsets, minutes-only times and fractions below a millisecond', () => {
    const [a, b, c] = parseFilter('createdDateTime ge 2026-12-01T01:00:00+01:00 and createdDateTime lt 2026-12-01T00:00Z and createdDateTime gt 2026-12-01T00:00:00.1234567Z', 'x');
    assert.deepEqual(a!.literal, { kind: 'dateTime', ms: T, exact: true });
    assert.deepEqual(b!.literal, { kind: 'dateTime', ms: T, exact: true });
    assert.deepEqual(c!.literal, { kind: 'dateTime', ms: T + 123, exact: false });
  });

  for (const filter of [
    "userId eq 'a' or appId eq 'b'",
    "startswith(userPrincipalName, 'a')",
    "not userId eq 'a'",
    "(userId eq 'a')",
    "userId eq 'unterminated",
    'userId eq a',
    "userId has 'a'",
    'createdDateTime ge 2026-13-01T00:00:00Z',
    'createdDateTime ge 2026-12-01',
    "userId eq 'a' and",
  ]) {
    it(`refuses ${JSON.stringify(filter)}, naming the clause`, () => {
      assert.throws(() => parseFilter(filter, 'use x'), refused(/^\$filter: ".+" is not supported; use x$/));
    });
  }
});

describe('signIns $filter', () => {
  it('maps every supported clause', () => {
    assert.deepEqual(
      readSignInFilter(
        "userId eq 'AB-1' and userPrincipalName eq 'Adele@Contoso.example' and appId eq 'C' and resourceId eq 'D' and status/errorCode eq 0 and conditionalAccessStatus eq 'notApplied' and createdDateTime ge 2026-12-01T00:00:00Z and createdDateTime lt 2026-12-02T00:00:00Z",
      ),
      { userId: 'ab-1', userPrincipalName: 'Adele@Contoso.example', appId: 'c', resourceId: 'd', decision: 'allow', conditionalAccessStatus: 'notApplied', from: T, to: T + 86_400_000 },
    );
    assert.deepEqual(readSignInFilter('status/errorCode ne 0'), { decision: 'deny' });
    assert.deepEqual(readSignInFilter('status/errorCode eq 53003'), { decision: 'deny' });
    assert.deepEqual(readSignInFilter('status/errorCode ne 53003'), { decision: 'allow' });
    assert.deepEqual(readSignInFilter(undefined), {});
  });

  it('turns gt and le into whole-millisecond bounds, and keeps the narrowest of several', () => {
    assert.deepEqual(readSignInFilter('createdDateTime gt 2026-12-01T00:00:00Z and createdDateTime le 2026-12-01T00:00:01Z'), { from: T + 1, to: T + 1001 });
    assert.deepEqual(readSignInFilter('createdDateTime ge 2026-12-01T00:00:00.0005Z and createdDateTime lt 2026-12-01T00:00:00.0005Z'), { from: T + 1, to: T + 1 });
    assert.deepEqual(readSignInFilter('createdDateTime ge 2026-12-01T00:00:00Z and createdDateTime ge 2026-12-01T00:00:05Z'), { from: T + 5000 });
  });

  for (const [filter, pattern] of [
    ["appDisplayName eq 'Mail'", /"appDisplayName eq 'Mail'" is not supported/],
    ["userId ne 'a'", /"userId ne 'a'" is not supported/],
    ['userId eq 5', /"userId eq 5" is not supported/],
    ["status/errorCode eq '0'", /is not supported/],
    ['status/errorCode gt 0', /is not supported/],
    ['status/errorCode eq 50126', /errorCode 0 \(allowed\) or 53003/],
    ['status/errorCode eq 0 and status/errorCode ne 0', /compared twice/],
    ["conditionalAccessStatus eq 'unknown'", /is not supported/],
    ["conditionalAccessStatus ne 'success'", /is not supported/],
    ["createdDateTime ge '2026-12-01T00:00:00Z'", /is not supported/],
    ['createdDateTime eq 2026-12-01T00:00:00Z', /is not supported/],
    ["userId eq 'a' and userId eq 'b'", /userId is compared twice/],
    ["userId eq 'a' or userId eq 'b'", /is not supported/],
  ] as const) {
    it(`refuses ${filter}`, () => assert.throws(() => readSignInFilter(filter), refused(pattern)));
  }
});

describe('query options', () => {
  it('answers the supported ones given, with or without $ where allowed', () => {
    const given = readQueryOptions({ filter: 'x', $top: '5', other: 'y' }, ['$filter', '$top'], { dollarOptional: true });
    assert.deepEqual([...given], [['$filter', 'x'], ['$top', '5']]);
  });

  it('refuses unsupported, repeated, and (on v1.0) bare options', () => {
    for (const option of ['$select', '$orderby', '$expand', '$count', '$search', '$skip', 'select', 'count']) {
      assert.throws(() => readQueryOptions({ [option]: 'x' }, ['$filter', '$top'], { dollarOptional: true }), refused(/not supported here/), option);
    }
    assert.throws(() => readQueryOptions({ $top: ['1', '2'] }, ['$top'], { dollarOptional: true }), refused(/more than once/));
    assert.throws(() => readQueryOptions({ filter: 'x' }, ['$filter'], { dollarOptional: false }), refused(/\$ prefix/));
  });
});
