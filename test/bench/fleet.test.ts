import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longestRetryDelayMs, nextSlot, resumeSlot, retryAfterOf, retryDelayMs } from '../../bench/fleet.ts';
import { seededRandom, type Random } from '../../src/simulator/random.ts';

/** A Random whose `next()` is always `value`. */
const fixed = (value: number): Random => ({ ...seededRandom(0), next: () => value });

describe('bench:overload fleet', () => {
  it('reads Retry-After from a reply head, whatever its case', () => {
    assert.equal(retryAfterOf('HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nRetry-After: 12 \r\ncontent-length: 2'), '12');
    assert.equal(retryAfterOf('HTTP/1.1 503 Service Unavailable\r\nretry-after: Wed, 21 Oct 2026 07:28:00 GMT'), 'Wed, 21 Oct 2026 07:28:00 GMT');
    assert.equal(retryAfterOf('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2'), undefined);
  });

  it('waits no sooner than Retry-After in seconds, spread over up to half as long again', () => {
    assert.equal(retryDelayMs(503, '10', fixed(0)), 10_000);
    assert.equal(retryDelayMs(503, '10', fixed(0.5)), 12_500);
    const latest = retryDelayMs(503, '19', fixed(0.999_999))!;
    assert.ok(latest > 28_499 && latest < 28_500, `${latest}`);
    assert.equal(retryDelayMs(429, '4', fixed(0)), 4_000);
    assert.equal(longestRetryDelayMs(19), 28_500);
  });

  it('reads Retry-After as an HTTP-date, counted from now', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    assert.equal(retryDelayMs(503, 'Mon, 07 Dec 2026 10:00:15 GMT', fixed(0), now), 15_000);
    // A date already past still waits a second: never at once.
    assert.equal(retryDelayMs(503, 'Mon, 07 Dec 2026 09:59:00 GMT', fixed(0), now), 1_000);
  });

  it('does not retry what is not a "try later": another status, no Retry-After, an unreadable one', () => {
    assert.equal(retryDelayMs(200, '10', fixed(0)), undefined);
    assert.equal(retryDelayMs(500, '10', fixed(0)), undefined);
    assert.equal(retryDelayMs(503, undefined, fixed(0)), undefined);
    assert.equal(retryDelayMs(503, 'soon', fixed(0)), undefined);
  });

  it('resumes a client at its next slot after a check-in, skipping the slots it was busy for', () => {
    // Phase 250 ms, every 1,000 ms: slots at 250, 1,250, 2,250, ...
    assert.equal(nextSlot(250, 1000, 300), 1);
    assert.equal(nextSlot(250, 1000, 1249), 1);
    assert.equal(nextSlot(250, 1000, 1250), 2, 'a slot due now has begun: the next one is later');
    // A check-in begun at slot 1 that ended 12.5 s later (a refusal's back-off), at 13,750: slots 2 to 13 were skipped.
    assert.equal(nextSlot(250, 1000, 1250 + 12_500), 14);
    assert.equal(nextSlot(250, 1000, 0), 0, 'before its phase, a client starts at its first slot');
    assert.equal(resumeSlot(1, 250, 1000, 13_750), 14, 'resumed at the next slot after the check-in ended');
    assert.equal(resumeSlot(1, 250, 1000, 1249), 2, 'never the slot just run again, if the check-in ended before its time');
  });
});
