import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DURATION_LENGTH, parseIsoDuration } from '../../packages/contract/src/duration.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseIsoDuration: the fixed-length forms Graph uses', () => {
  const cases: [string, number][] = [
    ['PT0S', 0],
    ['PT720M', 12 * HOUR],
    ['PT10080M', 7 * DAY],
    ['P90D', 90 * DAY],
    ['P30D', 30 * DAY],
    ['P1DT12H', 36 * HOUR],
    ['P0D', 0],
    ['PT1H', HOUR],
    ['PT1H30M', 90 * MINUTE],
    ['PT90S', 90 * SECOND],
    ['P1DT2H3M4S', DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND],
    ['PT0.5S', 500],
    ['PT1.25S', 1250],
    ['PT1.001S', 1001],
    ['PT36H', 36 * HOUR],
  ];
  for (const [text, milliseconds] of cases) {
    it(`${text} is ${milliseconds} ms`, () => {
      assert.equal(parseIsoDuration(text), milliseconds);
    });
  }
});

describe('parseIsoDuration: refusals', () => {
  for (const text of [
    '',
    'P',
    'PT',
    'P1DT',
    'P1Y',
    'P1M', // months, not minutes: no fixed length
    'P1Y2M',
    'P1W', // weeks are not part of Edm.Duration
    '-P1D',
    'P-1D',
    'pt720m',
    'PT720m',
    '720',
    'PT1.5M', // fractions only on seconds
    'PT1.0001S', // below a millisecond
    'PT.5S',
    'PT1.S',
    'P1H', // hours need the T
    'PT1D',
    'PT30M1H', // order matters
    ' P1D',
    'P1D ',
    'P1,5D',
    `P${'9'.repeat(20)}D`,
    `P${'1'.repeat(MAX_DURATION_LENGTH)}D`,
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseIsoDuration(text), undefined);
    });
  }

  it('refuses a duration beyond the safe integer range of milliseconds', () => {
    assert.equal(parseIsoDuration('P104249991374D'), undefined);
    assert.equal(parseIsoDuration('P104249991D'), 104249991 * DAY);
  });
});
