import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChanges } from '../../src/core/management/desired-state.ts';
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
