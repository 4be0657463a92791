import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, MAX_VERSION_COMPONENTS, parseVersion, type Version } from '../../packages/contract/src/versions.ts';

function v(text: string): Version {
  const parsed = parseVersion(text);
  assert.ok(parsed, `${text} should parse`);
  return parsed;
}

describe('parseVersion', () => {
  it('reads 1 to 4 components and a few more', () => {
    assert.deepEqual(parseVersion('10'), [10]);
    assert.deepEqual(parseVersion('4.2'), [4, 2]);
    assert.deepEqual(parseVersion('4.2.0'), [4, 2, 0]);
    assert.deepEqual(parseVersion('10.0.22631.3155'), [10, 0, 22631, 3155]);
    assert.deepEqual(parseVersion('1.2.3.4.5.6'), [1, 2, 3, 4, 5, 6]);
  });

  it('reads zeros and leading zeros as numbers', () => {
    assert.deepEqual(parseVersion('0'), [0]);
    assert.deepEqual(parseVersion('0.0.0.0'), [0, 0, 0, 0]);
    assert.deepEqual(parseVersion('1.02'), [1, 2]);
  });

  it('accepts 9-digit components and refuses 10', () => {
    assert.deepEqual(parseVersion('999999999.20240115'), [999999999, 20240115]);
    assert.equal(parseVersion('1234567890'), undefined);
  });

  it(`accepts ${MAX_VERSION_COMPONENTS} components and refuses one more`, () => {
    assert.ok(parseVersion(Array.from({ length: MAX_VERSION_COMPONENTS }, () => '1').join('.')));
    assert.equal(parseVersion(Array.from({ length: MAX_VERSION_COMPONENTS + 1 }, () => '1').join('.')), undefined);
    assert.equal(parseVersion('1.2.3.4.5.6.7.8.9'), undefined);
  });

  for (const impossible of [
    '',
    '.',
    '1.',
    '.1',
    '1..2',
    'a.b',
    '-1',
    '+1',
    '1.-2',
    'v4.2',
    '4.2-beta',
    '4.2.0+build',
    ' 4.2',
    '4.2 ',
    '4 .2',
    '1e3',
    '0x10',
    '1,2',
    '١.٢', // Arabic-Indic digits are not ASCII digits
    '1.2\n',
    '9'.repeat(100),
  ]) {
    it(`refuses ${JSON.stringify(impossible)}`, () => {
      assert.equal(parseVersion(impossible), undefined);
    });
  }
});

describe('compareVersions', () => {
  it('treats missing components as 0', () => {
    assert.equal(compareVersions(v('10.0.22631'), v('10.0.22631.0')), 0);
    assert.equal(compareVersions(v('10.0.22631.0'), v('10.0.22631')), 0);
    assert.equal(compareVersions(v('4'), v('4.0.0.0')), 0);
    assert.equal(compareVersions(v('4'), v('4.0.0.1')), -1);
  });

  it('compares numerically, not as text', () => {
    assert.equal(compareVersions(v('4.10'), v('4.9')), 1);
    assert.equal(compareVersions(v('4.9'), v('4.10')), -1);
    assert.equal(compareVersions(v('10.0.22631.3155'), v('10.0.9200')), 1);
    assert.equal(compareVersions(v('1.02'), v('1.2')), 0);
  });

  it('decides at the first different component', () => {
    assert.equal(compareVersions(v('2.0.0'), v('1.99.99')), 1);
    assert.equal(compareVersions(v('10.0.22631.3155'), v('10.0.22631.3156')), -1);
    assert.equal(compareVersions(v('10.0.22631.3155'), v('10.0.22631.3155')), 0);
  });

  it('is antisymmetric', () => {
    const versions = ['1', '1.0.1', '1.1', '2', '10.0.22631', '10.0.22631.1'].map(v);
    for (const a of versions) {
      for (const b of versions) assert.equal(compareVersions(a, b), -compareVersions(b, a) || 0);
    }
  });
});
