import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXEC_FORMAT, planChanges, resolveExecVersions } from '../../src/core/management/desired-state.ts';
import type { ConfigurationSetRecord, DesiredSetting, NodeStateRecord } from '../../src/store/records.ts';

const EDP = './Vendor/MSFT/EnterpriseDataProtection/Settings';
const LOCK = './Vendor/MSFT/Policy/Config/DeviceLock';

function set(id: string, settings: DesiredSetting[]): ConfigurationSetRecord {
  return { id, tenantId: 't', name: id, target: { kind: 'all_devices' }, settings, createdAt: 0, updatedAt: 0 };
}

function state(locUri: string, value: string, status: NodeStateRecord['status'] = 'applied', format = 'int'): NodeStateRecord {
  return { locUri, format, value, status, statusCode: status === 'applied' ? '200' : null, updatedAt: 0 };
}

const plan = (sets: ConfigurationSetRecord[], nodeStates: NodeStateRecord[] = [], userSignedIn = true) => planChanges({ sets, nodeStates, userSignedIn, now: 1 });
const summary = (p: ReturnType<typeof plan>) =>
  p.commands.map((c) => (c.verb === 'Atomic' ? `Atomic(${c.commands.map((i) => `${i.verb} ${i.item.locUri}`).join(', ')})` : `${c.verb} ${c.item.locUri}`));

describe('planChanges: the difference between desired and acknowledged state', () => {
  it('adds what the device never had, replaces what changed, leaves what matches', () => {
    const p = plan([set('a', [
      { locUri: `${EDP}/A`, format: 'int', value: '1' },
      { locUri: `${EDP}/B`, format: 'int', value: '2' },
      { locUri: `${EDP}/C`, format: 'int', value: '3' },
    ])], [state(`${EDP}/B`, '9'), state(`${EDP}/C`, '3')]);
    assert.deepEqual(summary(p), [`Add ${EDP}/A`, `Replace ${EDP}/B`]);
  });

  it('compares ./Device/Vendor/... and ./Vendor/... as one node', () => {
    const p = plan([set('a', [{ locUri: './Device/Vendor/MSFT/EnterpriseDataProtection/Settings/A', format: 'int', value: '1' }])], [state(`${EDP}/A`, '1')]);
    assert.deepEqual(summary(p), []);
  });

  it('deletes what no set wants any more, unless another set still wants it', () => {
    const wanted = { locUri: `${EDP}/Kept`, format: 'int', value: '1' };
    const p = plan([set('b', [wanted])], [state(`${EDP}/Kept`, '1'), state(`${EDP}/Gone`, '1'), state(`${EDP}/NeverApplied`, '1', 'failed')]);
    assert.deepEqual(summary(p), [`Delete ${EDP}/Gone`]);
    assert.deepEqual(p.forget, [`${EDP}/NeverApplied`]);
  });

  it('does not resend a value the device refused, but sends a changed one', () => {
    const failed = state(`${EDP}/A`, '3', 'failed');
    assert.deepEqual(summary(plan([set('a', [{ locUri: `${EDP}/A`, format: 'int', value: '3' }])], [failed])), []);
    assert.deepEqual(summary(plan([set('a', [{ locUri: `${EDP}/A`, format: 'int', value: '2' }])], [failed])), [`Add ${EDP}/A`]);
  });

  it('writes over a node that already existed (418) with Replace', () => {
    assert.deepEqual(summary(plan([set('a', [{ locUri: `${EDP}/A`, format: 'int', value: '1' }])], [state(`${EDP}/A`, '1', 'exists')])), [`Replace ${EDP}/A`]);
  });

  it('groups atomic settings into one Atomic and sends only changed members', () => {
    const p = plan(
      [set('lock', [
        { locUri: `${LOCK}/X`, format: 'int', value: '1', atomicGroup: 'DeviceLock' },
        { locUri: `${LOCK}/Y`, format: 'int', value: '2', atomicGroup: 'DeviceLock' },
        { locUri: `${LOCK}/Z`, format: 'int', value: '3', atomicGroup: 'DeviceLock' },
      ])],
      [state(`${LOCK}/Z`, '3')],
    );
    assert.deepEqual(summary(p), [`Atomic(Add ${LOCK}/X, Add ${LOCK}/Y)`]);
  });

  it('never plans a node outside the MAM allow-list; reports it once as not applicable', () => {
    const refused = { locUri: './Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' };
    const first = plan([set('a', [refused])]);
    assert.deepEqual(summary(first), []);
    assert.deepEqual(first.decided.map((d) => [d.locUri, d.status]), [[refused.locUri, 'not_applicable']]);
    assert.deepEqual(plan([set('a', [refused])], [first.decided[0]!]).decided, [], 'not reported again');
  });

  it('reports two different values for one node as a conflict and sends neither', () => {
    const p = plan([set('a', [{ locUri: `${EDP}/A`, format: 'int', value: '1' }]), set('b', [{ locUri: `${EDP}/A`, format: 'int', value: '2' }])]);
    assert.deepEqual(summary(p), []);
    assert.equal(p.decided[0]?.status, 'conflict');
    const removed = plan([set('a', [{ locUri: `${EDP}/A`, format: 'int', value: '1' }]), set('b', [{ locUri: `${EDP}/A`, format: 'int', value: '2' }])], [state(`${EDP}/A`, '1')]);
    assert.deepEqual(summary(removed), [`Delete ${EDP}/A`], 'a value set before the conflict is removed');
  });

  it('resolves two WIP enforcement levels to the stricter one instead of a conflict', () => {
    const level = `${EDP}/EDPEnforcementLevel`;
    const p = plan([set('a', [{ locUri: level, format: 'int', value: '2' }]), set('b', [{ locUri: level, format: 'int', value: '3' }]), set('c', [{ locUri: level, format: 'int', value: '1' }])]);
    assert.deepEqual(p.decided, []);
    assert.equal(p.commands.length, 1);
    const command = p.commands[0]!;
    assert.ok(command.verb === 'Add' && command.item.value === '3', 'block (3) wins');
  });

  it('holds ./User settings while no user is signed in', () => {
    const user = { locUri: './User/Vendor/MSFT/PassportForWork/x/Policies/UsePassportForWork', format: 'bool', value: 'true' };
    const waiting = plan([set('a', [user])], [], false);
    assert.deepEqual(summary(waiting), []);
    assert.equal(waiting.waitingForUser, true);
    assert.deepEqual(summary(plan([set('a', [user])], [], true)), [`Add ${user.locUri}`]);
  });
});

describe('planChanges: exec settings (actions such as SCEP Enroll)', () => {
  const SCEP = './User/Vendor/MSFT/ClientCertificateInstall/SCEP/OpenMAM-p';
  const GROUP = 'scep:p';
  const scep = (serverUrl = 'https://scep.example/a', node = SCEP): DesiredSetting[] => [
    { locUri: node, format: 'node', value: '', atomicGroup: GROUP },
    { locUri: `${node}/Install/ServerURL`, format: 'chr', value: serverUrl, atomicGroup: GROUP },
    { locUri: `${node}/Install/KeyUsage`, format: 'int', value: '160', atomicGroup: GROUP },
    { locUri: `${node}/Install/Enroll`, format: 'null', value: '', atomicGroup: GROUP, exec: true },
  ];
  /** The node states a device has once the whole Atomic was applied: Exec recorded with its version. */
  const appliedAll = (settings: DesiredSetting[]): NodeStateRecord[] =>
    resolveExecVersions(settings).map((s) => ({ locUri: s.locUri, format: s.format, value: s.value, status: 'applied', statusCode: '200', updatedAt: 0 }));
  const execState = (settings: DesiredSetting[]) => appliedAll(settings).find((s) => s.format === EXEC_FORMAT)!;

  it('sends the group in one Atomic with Exec last, after the values it depends on', () => {
    const p = plan([set('scep', scep())]);
    assert.deepEqual(summary(p), [`Atomic(Add ${SCEP}, Add ${SCEP}/Install/ServerURL, Add ${SCEP}/Install/KeyUsage, Exec ${SCEP}/Install/Enroll)`]);
    const atomic = p.commands[0]!;
    assert.ok(atomic.verb === 'Atomic');
    const exec = atomic.commands.at(-1)!;
    assert.equal(exec.item.format, 'null');
    assert.match(exec.item.value, /^[0-9a-f]{64}$/, 'the Exec is recorded against the version of its group');
  });

  it('orders Exec last even when the compiler listed it first', () => {
    const [enroll, ...rest] = [...scep()].reverse();
    assert.deepEqual(summary(plan([set('scep', [enroll!, ...rest])])).at(0)?.endsWith(`Exec ${SCEP}/Install/Enroll)`), true);
  });

  it('sends nothing on a steady check-in: every value applied, Exec applied for this version', () => {
    assert.deepEqual(summary(plan([set('scep', scep())], appliedAll(scep()))), []);
  });

  it('sends Exec again, with only the changed values, when the group changes; the version follows the group', () => {
    const p = plan([set('scep', scep('https://scep.example/b'))], appliedAll(scep()));
    assert.deepEqual(summary(p), [`Atomic(Replace ${SCEP}/Install/ServerURL, Exec ${SCEP}/Install/Enroll)`]);
    const [before] = resolveExecVersions(scep()).filter((s) => s.exec);
    const [after] = resolveExecVersions(scep('https://scep.example/b')).filter((s) => s.exec);
    assert.notEqual(before!.value, after!.value);
    assert.deepEqual(resolveExecVersions(scep()), resolveExecVersions(scep()), 'deterministic');
  });

  it('sends Exec alone (in its Atomic) when only the action is missing: never answered, or its version changed', () => {
    const states = appliedAll(scep()).filter((s) => s.format !== EXEC_FORMAT);
    assert.deepEqual(summary(plan([set('scep', scep())], states)), [`Atomic(Exec ${SCEP}/Install/Enroll)`]);
    const older = { ...execState(scep()), value: 'an older version' };
    assert.deepEqual(summary(plan([set('scep', scep())], [...states, older])), [`Atomic(Exec ${SCEP}/Install/Enroll)`]);
  });

  it('does not resend an Exec the device refused until the group changes', () => {
    const refused = { ...execState(scep()), status: 'failed' as const, statusCode: '500' };
    const states = [...appliedAll(scep()).filter((s) => s.format !== EXEC_FORMAT), refused];
    assert.deepEqual(summary(plan([set('scep', scep())], states)), []);
    assert.deepEqual(summary(plan([set('scep', scep('https://scep.example/b'))], states)), [`Atomic(Replace ${SCEP}/Install/ServerURL, Exec ${SCEP}/Install/Enroll)`]);
  });

  it('resends the members a rolled-back Atomic left failed together with a changed one', () => {
    const rolledBack = appliedAll(scep()).map((s) => ({ ...s, status: 'failed' as const, statusCode: s.locUri.endsWith('/KeyUsage') ? '500' : '216' }));
    assert.deepEqual(summary(plan([set('scep', scep())], rolledBack)), [], 'unchanged: not resent every session');
    const changed = scep().map((s) => (s.locUri.endsWith('/KeyUsage') ? { ...s, value: '128' } : s));
    assert.deepEqual(summary(plan([set('scep', changed)], rolledBack)), [
      `Atomic(Add ${SCEP}, Add ${SCEP}/Install/ServerURL, Add ${SCEP}/Install/KeyUsage, Exec ${SCEP}/Install/Enroll)`,
    ]);
  });

  it('holds a user-scoped group, its Exec included, until a user is signed in', () => {
    const p = plan([set('scep', scep())], [], false);
    assert.deepEqual(summary(p), []);
    assert.equal(p.waitingForUser, true);
  });

  it('sends an exec setting without a group after the other commands, once per value', () => {
    const unenroll = { locUri: './Vendor/MSFT/DMClient/Unenroll', format: 'chr', value: 'OpenMAM', exec: true };
    const other = { locUri: `${EDP}/A`, format: 'int', value: '1' };
    const p = plan([set('a', [unenroll, other])]);
    assert.deepEqual(summary(p), [`Add ${EDP}/A`, 'Exec ./Vendor/MSFT/DMClient/Unenroll']);
    const done = resolveExecVersions([unenroll])[0]!;
    assert.deepEqual(summary(plan([set('a', [unenroll])], [state(done.locUri, done.value, 'applied', EXEC_FORMAT)])), []);
  });

  it('deletes a removed profile with one Delete of its interior node, covering everything under it; never deletes an Exec node', () => {
    const states = appliedAll(scep());
    const p = plan([], states);
    assert.deepEqual(summary(p), [`Delete ${SCEP}`]);
    const del = p.commands[0]!;
    assert.ok(del.verb === 'Delete');
    assert.deepEqual([...(del.covers ?? [])].sort(), [`${SCEP}/Install/Enroll`, `${SCEP}/Install/KeyUsage`, `${SCEP}/Install/ServerURL`]);
    assert.deepEqual(p.forget, []);
  });

  it('replaces a changed profile under a new UniqueID: Atomic for the new node first, then Delete of the old one', () => {
    const next = `${SCEP}-v2`;
    const p = plan([set('scep', scep('https://scep.example/b', next))], appliedAll(scep()));
    assert.deepEqual(summary(p), [
      `Atomic(Add ${next}, Add ${next}/Install/ServerURL, Add ${next}/Install/KeyUsage, Exec ${next}/Install/Enroll)`,
      `Delete ${SCEP}`,
    ]);
  });

  it('forgets an Exec node no set wants when nothing above it is deleted', () => {
    const lone = state('./Vendor/MSFT/DMClient/Unenroll', 'v', 'applied', EXEC_FORMAT);
    const p = plan([], [lone]);
    assert.deepEqual(summary(p), []);
    assert.deepEqual(p.forget, [lone.locUri]);
  });
});
