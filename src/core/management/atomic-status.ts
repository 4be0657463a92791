import { STATUS } from '../../protocol/syncml/types.ts';

/**
 * What a device's answers to one Atomic say about each of its commands' nodes. An Atomic is all or nothing
 * (learn.microsoft.com/windows/client-management/oma-dm-protocol-support, "Atomic"): when one command fails, the
 * device answers 507 for the Atomic, the failing command's own code, and 216 ("Atomic roll back OK", SyncML
 * Representation Protocol 1.2 §10) for the others — Windows also gives 216 to the commands it never ran after the
 * failure. So a 216 says nothing about a node except that this Atomic left it as it was.
 *
 * Two failures are not refusals but news about the device's tree, after which the group must go again with the
 * right verbs: 418 (Already exists) for an Add, and 404 (Not found) for a Replace. They happen when the device
 * already holds what we are sending, typically because an earlier copy of this Atomic was applied and its answer
 * lost (a dropped connection, a node killed mid-session, a database outage).
 */
export type MemberVerdict =
  /** 2xx: the node holds the value. */
  | 'applied'
  /** Refused: not sent again until its desired value changes (the group stays as it was). */
  | 'failed'
  /** The node is on the device: Replace it next time. */
  | 'exists'
  /** The node is not on the device: Add it next time. */
  | 'absent'
  /** Rolled back or not run: what we knew of the node before this Atomic still holds. */
  | 'unchanged';

export interface AtomicMemberAnswer {
  verb: 'Add' | 'Replace' | 'Exec';
  /** The member's Status code, or the Atomic's own when the device sent none for it. */
  code: string;
}

export interface AtomicJudgement {
  verdicts: MemberVerdict[];
  /** The group must go again (the device is not settled). */
  again: boolean;
}

const isSuccess = (code: string): boolean => code.startsWith('2') && code !== STATUS.atomicRollbackOk;
const isFailure = (code: string): boolean => !code.startsWith('2');

/** A failure that tells where the node is rather than refusing the value. */
function existenceMismatch(member: AtomicMemberAnswer): 'exists' | 'absent' | undefined {
  if (member.verb === 'Add' && member.code === STATUS.alreadyExists) return 'exists';
  if (member.verb === 'Replace' && member.code === STATUS.notFound) return 'absent';
  return undefined;
}

/**
 * The verdict for every member, in order:
 * 1. no member failed: 2xx members are applied, rolled-back ones unchanged (and the group goes again if any was);
 * 2. every failure is an existence mismatch: those nodes are `exists` / `absent`, the rest `unchanged` — except that
 *    after a 418, the other members we sent as Add are `exists` too: the group is all-or-nothing, so a member found
 *    already there means an earlier copy of the group was applied, and with it every member (the group then
 *    converges in one more session instead of one session per member; a wrong guess is corrected by a 404);
 * 3. a real refusal: the refused and rolled-back members are `failed` with their codes, so the group is not resent
 *    until its desired values change (it would fail the same way).
 */
export function judgeAtomic(members: readonly AtomicMemberAnswer[]): AtomicJudgement {
  const failures = members.filter((m) => isFailure(m.code));
  if (failures.length === 0) {
    const verdicts = members.map((m): MemberVerdict => (isSuccess(m.code) ? 'applied' : 'unchanged'));
    return { verdicts, again: verdicts.includes('unchanged') };
  }
  if (failures.every((m) => existenceMismatch(m) !== undefined)) {
    const groupWasThere = failures.some((m) => existenceMismatch(m) === 'exists');
    const verdicts = members.map((m): MemberVerdict => existenceMismatch(m) ?? (groupWasThere && m.verb === 'Add' ? 'exists' : 'unchanged'));
    return { verdicts, again: true };
  }
  return { verdicts: members.map((m) => (isSuccess(m.code) ? 'applied' : 'failed')), again: false };
}
