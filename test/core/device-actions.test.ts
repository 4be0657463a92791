import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerDeviceAction, checkWipeParameters, deviceActionResults, planDeviceActions, REVOKE_ON_UNENROLL, unenrollUri, type WipeParameters } from '../../src/core/management/device-actions.ts';
import type { DeviceActionPurpose } from '../../src/core/management/desired-state.ts';
import { ManagementService, type ManagementServiceOptions } from '../../src/core/management/session.ts';
import type { VerifiedIdentity } from '../../src/identity/identity.ts';
import { ALERT, type Command, type ItemCommand, type SyncMLMessage } from '../../src/protocol/syncml/types.ts';
import { commandSize, envelopeSize, writeCommand } from '../../src/protocol/syncml/writer.ts';
import { NEW_ENROLLMENT_LIFE, type DeviceActionRecord, type DeviceManagementState, type EnrollmentRecord } from '../../src/store/records.ts';
import type { ManagedDevice, SyncOutcome } from '../../src/store/roles.ts';

/**
 * Retire, wipe and syncDevice in the session engine, without a store or HTTP: the pure planner of a device's pending
 * actions, how the device's answers move them on, the wipe parameters a MAM wipe can honour, and ManagementService
 * over a fake store (the steady check-in reads nothing more; a pending retire is all a session sends).
 */
const PROVIDER = 'OpenMAM';
const NOW = Date.UTC(2026, 11, 7, 9, 0, 0);

function action(change: Partial<DeviceActionRecord> = {}): DeviceActionRecord {
  return { tenantId: 't', id: 'a1', enrollmentId: 'e1', action: 'retire', state: 'pending', statusCode: null, reason: 'admin', requestedAt: NOW - 60_000, updatedAt: NOW - 60_000, ...change };
}

describe('device actions: the planner', () => {
  it('a retire is one Exec of DMClient Unenroll with the ProviderID as chr Data', () => {
    const plan = planDeviceActions([action()], PROVIDER);
    assert.equal(plan.retiring?.id, 'a1');
    assert.deepEqual(plan.commands, [
      { verb: 'Exec', item: { locUri: `./Vendor/MSFT/DMClient/Provider/${PROVIDER}/Unenroll`, format: 'chr', value: PROVIDER }, purpose: { deviceAction: { id: 'a1', action: 'retire', reason: 'admin', step: 'unenroll' } } },
    ]);
    assert.equal(unenrollUri('Contoso MDM'), './Vendor/MSFT/DMClient/Provider/Contoso MDM/Unenroll');
  });

  it('a wipe starts with Replace RevokeOnUnenroll 1 only: Unenroll waits for its acceptance', () => {
    const plan = planDeviceActions([action({ action: 'wipe', reason: 'stale' })], PROVIDER);
    assert.deepEqual(plan.commands, [{ verb: 'Replace', item: { locUri: REVOKE_ON_UNENROLL, format: 'int', value: '1' }, purpose: { deviceAction: { id: 'a1', action: 'wipe', reason: 'stale', step: 'revoke' } } }]);
  });

  it('syncDevice plans no command (the session itself re-plans); the oldest retire or wipe goes first', () => {
    const plan = planDeviceActions([action({ id: 's1', action: 'syncDevice' }), action({ id: 'w1', action: 'wipe' }), action({ id: 's2', action: 'syncDevice' })], PROVIDER);
    assert.deepEqual(plan.syncDevices, ['s1', 's2']);
    assert.equal(plan.retiring?.id, 'w1');
    assert.deepEqual(planDeviceActions([action({ action: 'syncDevice' })], PROVIDER).commands, []);
    assert.equal(planDeviceActions([], PROVIDER).retiring, undefined);
  });

  it("moves on with the device's answers: 2xx revoke then Unenroll; 2xx Unenroll ends the enrollment for the action's reason; anything else fails with the code", () => {
    const revoke: DeviceActionPurpose = { id: 'a1', action: 'wipe', reason: 'admin', step: 'revoke' };
    const next = answerDeviceAction(revoke, '200', PROVIDER);
    assert.equal(next.result, undefined);
    assert.equal(next.next?.verb, 'Exec');
    assert.deepEqual(next.next?.verb === 'Exec' ? next.next.purpose : undefined, { deviceAction: { ...revoke, step: 'unenroll' } });
    assert.deepEqual(answerDeviceAction(revoke, '405', PROVIDER), { result: { id: 'a1', action: 'wipe', state: 'failed', statusCode: '405' } });
    const unenroll: DeviceActionPurpose = { id: 'a2', action: 'retire', reason: 'stale', step: 'unenroll' };
    assert.deepEqual(answerDeviceAction(unenroll, '200', PROVIDER), { result: { id: 'a2', action: 'retire', state: 'done', statusCode: '200' }, unenrolled: 'stale' });
    assert.deepEqual(answerDeviceAction(unenroll, '500', PROVIDER), { result: { id: 'a2', action: 'retire', state: 'failed', statusCode: '500' } });
  });

  it('refuses the wipe parameters a MAM wipe cannot honour, naming each; accepts the rest', () => {
    const refused: [WipeParameters, RegExp][] = [
      [{ keepEnrollmentData: true }, /^keepEnrollmentData: /],
      [{ keepUserData: true }, /^keepUserData: .*retire/],
      [{ macOsUnlockCode: '1234' }, /^macOsUnlockCode: /],
      [{ useProtectedWipe: true }, /^useProtectedWipe: /],
    ];
    for (const [body, pattern] of refused) assert.throws(() => checkWipeParameters(body), (error: Error & { code?: string }) => error.code === 'malformed_request' && pattern.test(error.message));
    for (const body of [{}, { keepEnrollmentData: false, keepUserData: false, useProtectedWipe: false, macOsUnlockCode: null }, { persistEsimDataPlan: true }, { persistEsimDataPlan: false }]) checkWipeParameters(body);
  });

  it("shows actions as Graph's deviceActionResults", () => {
    assert.deepEqual(deviceActionResults([action({ state: 'failed', statusCode: '500', updatedAt: NOW })]), [
      { actionName: 'retire', actionState: 'failed', startDateTime: new Date(NOW - 60_000).toISOString(), lastUpdatedDateTime: new Date(NOW).toISOString(), '@openmam.reason': 'admin', '@openmam.statusCode': '500' },
    ]);
    assert.deepEqual(deviceActionResults([action({ state: 'canceled' })]).map((r) => r.actionState), ['canceled']);
  });
});

describe('device actions: the session engine', () => {
  const enrollment = (managementState: DeviceManagementState): EnrollmentRecord => ({
    id: 'e1', tenantId: 't', devId: 'DEV1', userOid: 'u1', upn: 'u@contoso.example', entraDeviceId: null, enrollmentType: 'MAM', state: 'enrolled',
    applicationVersion: null, requestVersion: null, termsAcceptedAt: null, enrollCount: 1, createdAt: NOW - 1e6, enrolledAt: NOW - 1e6, updatedAt: NOW - 1e6, unenrolledAt: null,
    hwDevId: null, deviceName: 'Laptop', deviceType: null, osEdition: null, osVersion: null, locale: null,
    ...NEW_ENROLLMENT_LIFE, managementState,
  });

  /** A ManagementService over fakes that count what the engine reads and keep what it writes. */
  function engine(managed: ManagedDevice, pending: DeviceActionRecord[]) {
    const reads: string[] = [];
    const outcomes: SyncOutcome[] = [];
    let session: { state: string; lastDeviceMsgId: number; lastServerMsgId: number } | undefined;
    const identity: VerifiedIdentity = { tenantId: 't', objectId: 'u1', upn: 'u@contoso.example', deviceId: undefined, clientId: undefined, audiences: [], groups: [], roles: [], issuer: 'x', expiresAt: NOW + 3_600_000 };
    const options: ManagementServiceOptions = {
      store: {
        getManagedDevice: async () => (reads.push('getManagedDevice'), managed),
        getNodeStates: async () => (reads.push('getNodeStates'), []),
        getSession: async (enrollmentId, sessionId) => (reads.push('getSession'), session && { enrollmentId, sessionId, ...session, expiresAt: NOW + 60_000 }),
        applySyncOutcome: async (outcome) => {
          outcomes.push(outcome);
          session = outcome.session.kind === 'save' ? outcome.session.record : undefined;
          return true;
        },
        configurationSetsFor: async () => (reads.push('configurationSetsFor'), []),
        groupsOfMember: async () => (reads.push('groupsOfMember'), []),
        pendingWipLogRequests: async () => (reads.push('pendingWipLogRequests'), []),
        listInventory: async () => (reads.push('listInventory'), []),
      },
      deviceActions: { pendingDeviceActions: async () => (reads.push('pendingDeviceActions'), pending) },
      providerId: PROVIDER,
      verifier: { verify: async () => identity },
      checkins: { record: () => undefined },
      activity: { count: () => undefined },
      measure: { command: commandSize, envelope: envelopeSize },
      clock: () => NOW,
      serverUrl: 'https://mam.contoso.example/ManagementServer/MDM.svc',
    };
    return { service: new ManagementService(options), reads, outcomes };
  }

  const header = (msgId: number) => ({ verDtd: '1.2', verProto: 'DM/1.2', sessionId: '1A', msgId: String(msgId), target: 'https://mam.contoso.example/ManagementServer/MDM.svc', source: 'DEV1' });
  /** Package 1 as Windows sends it: Alert 1201 and LoginStatus. */
  const first: SyncMLMessage = {
    header: header(1),
    body: [
      { kind: 'Alert', cmdId: '1', data: ALERT.clientInitiatedSession, items: [] },
      { kind: 'Alert', cmdId: '2', data: '1224', items: [{ meta: { type: 'com.microsoft/MDM/LoginStatus' }, data: 'user' }] },
    ],
    final: true,
  };
  const sent = (body: readonly Command[]) => body.filter((c): c is ItemCommand => c.kind !== 'Status' && c.kind !== 'Alert' && c.kind !== 'Atomic' && c.kind !== 'Sequence' && c.kind !== 'Results');
  const settled = (state: DeviceManagementState): ManagedDevice => ({
    enrollment: enrollment(state),
    management: { enrollmentId: 'e1', settledVersion: 7, waitingForUser: false, inventoryAt: NOW - 60_000, lastCheckinAt: NOW - 60_000, messageLogUntil: null, tokenGroups: [] },
    configVersion: 7,
  });

  it('a steady check-in reads one row and never the pending actions', async () => {
    const { service, reads, outcomes } = engine(settled('managed'), []);
    const reply = await service.handle(first, 'token');
    assert.deepEqual(reads, ['getManagedDevice']);
    assert.deepEqual(sent(reply.response.body), []);
    assert.equal(outcomes.length, 0, 'nothing written');
  });

  it("a pending retire is all the session sends: Exec Unenroll with Data; the device's 200 ends the enrollment as admin, the action done", async () => {
    const { service, reads, outcomes } = engine(settled('retirePending'), [action()]);
    const reply = await service.handle(first, 'token');
    assert.ok(reads.includes('pendingDeviceActions'));
    assert.ok(!reads.includes('configurationSetsFor'), 'no configuration planned for a device being retired');
    const [exec, ...rest] = sent(reply.response.body);
    assert.deepEqual(rest, []);
    assert.equal(exec?.kind, 'Exec');
    assert.match(writeCommand(exec!), /<Exec><CmdID>\d+<\/CmdID><Item><Target><LocURI>\.\/Vendor\/MSFT\/DMClient\/Provider\/OpenMAM\/Unenroll<\/LocURI><\/Target><Meta><Format xmlns="syncml:metinf">chr<\/Format><Type xmlns="syncml:metinf">text\/plain<\/Type><\/Meta><Data>OpenMAM<\/Data><\/Item><\/Exec>/);
    assert.equal(reply.sessionEnded, false);

    const answer: SyncMLMessage = { header: header(2), body: [{ kind: 'Status', cmdId: '1', msgRef: reply.response.header.msgId, cmdRef: '0', cmd: 'SyncHdr', data: '200' }, { kind: 'Status', cmdId: '2', msgRef: reply.response.header.msgId, cmdRef: exec!.cmdId, cmd: 'Exec', data: '200' }], final: true };
    const end = await service.handle(answer, 'token');
    assert.equal(end.sessionEnded, true);
    assert.deepEqual(sent(end.response.body), []);
    const last = outcomes.at(-1)!;
    assert.equal(last.unenrolledAt, NOW);
    assert.equal(last.unenrollReason, 'admin');
    assert.deepEqual(last.deviceActions, [{ id: 'a1', action: 'retire', state: 'done', statusCode: '200' }]);
    assert.equal(last.management?.settledVersion, undefined, 'never settled');
  });

  it('a refused Unenroll fails the action with the code; the device stays enrolled and unsettled', async () => {
    const { service, outcomes } = engine(settled('retirePending'), [action()]);
    const reply = await service.handle(first, 'token');
    const [exec] = sent(reply.response.body);
    const answer: SyncMLMessage = { header: header(2), body: [{ kind: 'Status', cmdId: '1', msgRef: reply.response.header.msgId, cmdRef: '0', cmd: 'SyncHdr', data: '200' }, { kind: 'Status', cmdId: '2', msgRef: reply.response.header.msgId, cmdRef: exec!.cmdId, cmd: 'Exec', data: '405' }], final: true };
    await service.handle(answer, 'token');
    const last = outcomes.at(-1)!;
    assert.equal(last.unenrolledAt, undefined);
    assert.deepEqual(last.deviceActions, [{ id: 'a1', action: 'retire', state: 'failed', statusCode: '405' }]);
    assert.equal(last.management?.settledVersion, undefined);
  });

  it('a wipe sends the revoke, and Unenroll only in answer to its 2xx', async () => {
    const { service, outcomes } = engine(settled('wipePending'), [action({ action: 'wipe' })]);
    const reply = await service.handle(first, 'token');
    const [replace, ...others] = sent(reply.response.body);
    assert.deepEqual(others, []);
    assert.equal(replace?.kind, 'Replace');
    assert.equal(replace?.items[0]?.target, REVOKE_ON_UNENROLL);
    assert.equal(replace?.items[0]?.data, '1');
    const accepted: SyncMLMessage = { header: header(2), body: [{ kind: 'Status', cmdId: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', data: '200' }, { kind: 'Status', cmdId: '2', msgRef: '1', cmdRef: replace!.cmdId, cmd: 'Replace', data: '200' }], final: true };
    const second = await service.handle(accepted, 'token');
    const [exec] = sent(second.response.body);
    assert.equal(exec?.kind, 'Exec');
    assert.equal(exec?.items[0]?.data, PROVIDER);
    assert.equal(outcomes.at(-1)?.deviceActions, undefined, 'not over yet');
  });
});
