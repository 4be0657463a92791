import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeAtomic, type AtomicMemberAnswer } from '../../src/core/management/atomic-status.ts';

const answers = (...pairs: [AtomicMemberAnswer['verb'], string][]): AtomicMemberAnswer[] => pairs.map(([verb, code]) => ({ verb, code }));

describe('judgeAtomic: what the answers to one Atomic say about its nodes', () => {
  it('an Atomic that succeeded: every member applied, nothing to resend', () => {
    assert.deepEqual(judgeAtomic(answers(['Add', '200'], ['Replace', '200'], ['Exec', '202'])), { verdicts: ['applied', 'applied', 'applied'], again: false });
  });

  it('a refusal: the cause and the rolled-back members are failed, held until the group changes', () => {
    assert.deepEqual(judgeAtomic(answers(['Add', '216'], ['Add', '500'], ['Add', '216'])), { verdicts: ['failed', 'failed', 'failed'], again: false });
    assert.deepEqual(judgeAtomic(answers(['Replace', '216'], ['Replace', '425'])).again, false);
  });

  it('418 on an Add after an unacknowledged copy: the whole group is there, Replace it all next time', () => {
    assert.deepEqual(judgeAtomic(answers(['Add', '418'], ['Add', '216'], ['Add', '216'], ['Exec', '216'])), {
      verdicts: ['exists', 'exists', 'exists', 'unchanged'],
      again: true,
    });
  });

  it('a rolled-back Replace keeps what was known of its node (the bug: it was forgotten, and the group alternated forever)', () => {
    assert.deepEqual(judgeAtomic(answers(['Replace', '216'], ['Add', '418'], ['Add', '216'])), { verdicts: ['unchanged', 'exists', 'exists'], again: true });
  });

  it('404 on a Replace: that node is absent (Add it next time); a rolled-back Add is not guessed present without a 418', () => {
    assert.deepEqual(judgeAtomic(answers(['Replace', '216'], ['Replace', '404'], ['Add', '216'])), { verdicts: ['unchanged', 'absent', 'unchanged'], again: true });
  });

  it('404 on an Add or 418 on a Replace are refusals like any other', () => {
    assert.equal(judgeAtomic(answers(['Add', '404'], ['Add', '216'])).verdicts[0], 'failed');
    assert.equal(judgeAtomic(answers(['Replace', '418'], ['Add', '216'])).verdicts[0], 'failed');
  });

  it('a mismatch beside a real refusal is a refusal: the group is not resent every session', () => {
    assert.deepEqual(judgeAtomic(answers(['Add', '418'], ['Add', '500'])), { verdicts: ['failed', 'failed'], again: false });
  });

  it('rolled back with no failure of its own (the Atomic failed elsewhere): unchanged, and sent again', () => {
    assert.deepEqual(judgeAtomic(answers(['Add', '200'], ['Add', '216'])), { verdicts: ['applied', 'unchanged'], again: true });
  });
});
