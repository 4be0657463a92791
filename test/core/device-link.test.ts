import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceLinkOf } from '../../src/core/management/device-link.ts';

/** Linking an enrollment to its Entra device from a session's verified token (core/management/device-link.ts). */
describe('device link', () => {
  const user = '11111111-1111-1111-1111-111111111111';
  const device = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
  const other = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';

  it('links an unlinked enrollment to the deviceid of its own user\'s token, lower-case', () => {
    assert.deepEqual(deviceLinkOf({ userOid: user, entraDeviceId: null }, { objectId: user, deviceId: device.toUpperCase() }), { kind: 'link', entraDeviceId: device });
  });

  it('records nothing without a deviceid, for the device already linked, or for another user\'s token', () => {
    assert.deepEqual(deviceLinkOf({ userOid: user, entraDeviceId: null }, { objectId: user, deviceId: undefined }), { kind: 'none' });
    assert.deepEqual(deviceLinkOf({ userOid: user, entraDeviceId: device }, { objectId: user, deviceId: device.toUpperCase() }), { kind: 'none' });
    assert.deepEqual(deviceLinkOf({ userOid: user, entraDeviceId: null }, { objectId: other, deviceId: device }), { kind: 'none' });
  });

  it('never re-links: another deviceid of the user is a mismatch to report', () => {
    assert.deepEqual(deviceLinkOf({ userOid: user, entraDeviceId: device }, { objectId: user, deviceId: other }), { kind: 'mismatch', tokenDeviceId: other, enrollmentDeviceId: device });
  });
});
