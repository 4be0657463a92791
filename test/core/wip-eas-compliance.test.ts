import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareStrictness,
  easRequirements,
  evaluateEasCompliance,
  mamDeviceLock,
  stricter,
  validateEasPolicy,
  type EasPolicy,
  type MamDeviceLockPolicy,
} from '../../src/core/wip/eas-compliance.ts';
import { isOpenMamError } from '../../src/errors.ts';

/** The validator refuses `input` with a malformed_request whose message starts with `path: `. */
function refuses(input: unknown, path: string, pattern?: RegExp): void {
  assert.throws(
    () => validateEasPolicy(input, 'easPolicy'),
    (error: unknown) => {
      assert.ok(isOpenMamError(error), `expected OpenMamError, got ${String(error)}`);
      assert.equal(error.code, 'malformed_request');
      assert.ok(error.message.startsWith(`${path}: `), `message "${error.message}" does not start with "${path}: "`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
  );
}

const withPassword = (change: Record<string, unknown>): Record<string, unknown> => ({ devicePasswordEnabled: true, ...change });

/** A MAM policy whose device lock is as strict as the typical EAS policy below. */
const strongMam: MamDeviceLockPolicy = {
  windowsHelloForBusinessBlocked: false,
  pinMinimumLength: 8,
  pinUppercaseLetters: 'requireAtLeastOne',
  pinLowercaseLetters: 'requireAtLeastOne',
  pinSpecialCharacters: 'allow',
  pinExpirationDays: 60,
  numberOfPastPinsRemembered: 5,
  passwordMaximumAttemptCount: 8,
  minutesOfInactivityBeforeDeviceLock: 5,
};

const typicalEas: EasPolicy = {
  devicePasswordEnabled: true,
  minDevicePasswordLength: 6,
  alphanumericDevicePasswordRequired: true,
  minDevicePasswordComplexCharacters: 2,
  maxInactivityTimeDeviceLock: 15,
  maxDevicePasswordFailedAttempts: 10,
  devicePasswordExpiration: 90,
  devicePasswordHistory: 3,
};

describe('validateEasPolicy', () => {
  it('accepts the mandatory settings at the ends of their ranges, 0 = none where EAS/DeviceLock use it', () => {
    const low = validateEasPolicy(
      withPassword({ minDevicePasswordLength: 1, minDevicePasswordComplexCharacters: 1, maxInactivityTimeDeviceLock: 0, maxDevicePasswordFailedAttempts: 0, devicePasswordExpiration: 0, devicePasswordHistory: 0, requireDeviceEncryption: false }),
    );
    assert.equal(low.maxDevicePasswordFailedAttempts, 0);
    const high = validateEasPolicy(
      withPassword({ minDevicePasswordLength: 16, minDevicePasswordComplexCharacters: 4, maxInactivityTimeDeviceLock: 999, maxDevicePasswordFailedAttempts: 16, devicePasswordExpiration: 730, devicePasswordHistory: 50, requireDeviceEncryption: true }),
    );
    assert.equal(high.devicePasswordHistory, 50);
    assert.equal(validateEasPolicy(withPassword({ maxDevicePasswordFailedAttempts: 4 })).maxDevicePasswordFailedAttempts, 4);
  });

  it('defaults devicePasswordEnabled to false and accepts null for "not set"', () => {
    assert.deepEqual(validateEasPolicy({}), { devicePasswordEnabled: false });
    assert.equal(validateEasPolicy({ requireDeviceEncryption: true }).requireDeviceEncryption, true);
    assert.equal(validateEasPolicy({ minDevicePasswordLength: null }).minDevicePasswordLength, null);
  });

  it('refuses values outside the DeviceLock CSP / MS-ASPROV ranges, naming the field', () => {
    refuses(withPassword({ minDevicePasswordLength: 0 }), 'easPolicy.minDevicePasswordLength', /between 1 and 16/);
    refuses(withPassword({ minDevicePasswordLength: 17 }), 'easPolicy.minDevicePasswordLength');
    refuses(withPassword({ minDevicePasswordComplexCharacters: 5 }), 'easPolicy.minDevicePasswordComplexCharacters', /between 1 and 4/);
    refuses(withPassword({ maxInactivityTimeDeviceLock: 1000 }), 'easPolicy.maxInactivityTimeDeviceLock', /between 0 and 999/);
    refuses(withPassword({ maxInactivityTimeDeviceLock: -1 }), 'easPolicy.maxInactivityTimeDeviceLock');
    refuses(withPassword({ maxDevicePasswordFailedAttempts: 3 }), 'easPolicy.maxDevicePasswordFailedAttempts', /0 or between 4 and 16, not 3/);
    refuses(withPassword({ maxDevicePasswordFailedAttempts: 17 }), 'easPolicy.maxDevicePasswordFailedAttempts');
    refuses(withPassword({ devicePasswordExpiration: 731 }), 'easPolicy.devicePasswordExpiration', /between 0 and 730/);
    refuses(withPassword({ devicePasswordHistory: 51 }), 'easPolicy.devicePasswordHistory', /between 0 and 50/);
  });

  it('refuses wrong types', () => {
    refuses(withPassword({ minDevicePasswordLength: 6.5 }), 'easPolicy.minDevicePasswordLength', /integer/);
    refuses(withPassword({ minDevicePasswordLength: '6' }), 'easPolicy.minDevicePasswordLength', /integer/);
    refuses({ devicePasswordEnabled: 'yes' }, 'easPolicy.devicePasswordEnabled', /true or false/);
    refuses(withPassword({ requireDeviceEncryption: 1 }), 'easPolicy.requireDeviceEncryption');
    refuses([], 'easPolicy', /must be an object/);
    refuses('policy', 'easPolicy', /must be an object/);
  });

  it('refuses non-mandatory EAS settings by name: MAM supports mandatory EAS policies only', () => {
    refuses(withPassword({ allowSimpleDevicePassword: true }), 'easPolicy.allowSimpleDevicePassword', /mandatory EAS policies only/);
    refuses({ allowCamera: false }, 'easPolicy.allowCamera', /not a mandatory EAS device-lock policy/);
  });

  it('refuses unknown properties', () => {
    refuses(withPassword({ passwordLength: 6 }), 'easPolicy.passwordLength', /is not a property of easPolicy/);
  });

  it('refuses password settings without devicePasswordEnabled (EAS ignores them then)', () => {
    refuses({ minDevicePasswordLength: 8 }, 'easPolicy.minDevicePasswordLength', /requires devicePasswordEnabled: true/);
    refuses({ devicePasswordEnabled: false, maxInactivityTimeDeviceLock: 5 }, 'easPolicy.maxInactivityTimeDeviceLock');
  });

  it('refuses an alphanumeric password with fewer than 2 complex character groups', () => {
    refuses(withPassword({ alphanumericDevicePasswordRequired: true, minDevicePasswordComplexCharacters: 1 }), 'easPolicy.minDevicePasswordComplexCharacters', /at least 2/);
  });
});

describe('what is stricter (DeviceLock CSP "most secure value")', () => {
  it('longer minimum length; 1 (MS-ASPROV: no minimum) and unset are the least strict', () => {
    assert.ok(compareStrictness('minDevicePasswordLength', 8, 6) > 0);
    assert.ok(compareStrictness('minDevicePasswordLength', 6, 8) < 0);
    assert.equal(compareStrictness('minDevicePasswordLength', 1, null), 0);
    assert.equal(stricter('minDevicePasswordLength', null, 4), 4);
  });

  it('smaller inactivity timeout; 0 (no timeout) is the least strict', () => {
    assert.ok(compareStrictness('maxInactivityTimeDeviceLock', 5, 15) > 0);
    assert.equal(stricter('maxInactivityTimeDeviceLock', 15, 5), 5);
    assert.equal(stricter('maxInactivityTimeDeviceLock', 0, 15), 15);
    assert.equal(stricter('maxInactivityTimeDeviceLock', 0, null), null);
  });

  it('fewer failed attempts; 0 (never wipe) is the least strict', () => {
    assert.equal(stricter('maxDevicePasswordFailedAttempts', 10, 4), 4);
    assert.equal(stricter('maxDevicePasswordFailedAttempts', 0, 16), 16);
    assert.ok(compareStrictness('maxDevicePasswordFailedAttempts', 0, 999) < 0);
  });

  it('shorter expiration; 0 (never expires) is the least strict', () => {
    assert.equal(stricter('devicePasswordExpiration', 90, 30), 30);
    assert.equal(stricter('devicePasswordExpiration', 0, 730), 730);
    assert.ok(compareStrictness('devicePasswordExpiration', 730, 0) > 0);
  });

  it('longer history', () => {
    assert.equal(stricter('devicePasswordHistory', 3, 5), 5);
    assert.equal(stricter('devicePasswordHistory', 0, null), null);
    assert.ok(compareStrictness('devicePasswordHistory', 1, 0) > 0);
  });

  it('alphanumeric over numeric, more complex character groups over fewer', () => {
    assert.equal(stricter('alphanumericDevicePasswordRequired', false, true), true);
    assert.equal(stricter('minDevicePasswordComplexCharacters', 2, 3), 3);
    assert.equal(stricter('minDevicePasswordComplexCharacters', 1, null), null, '1 group: any password has one');
  });

  it('a required password and required encryption over none', () => {
    assert.equal(stricter('devicePasswordEnabled', false, true), true);
    assert.equal(stricter('requireDeviceEncryption', true, false), true);
    assert.equal(compareStrictness('requireDeviceEncryption', false, false), 0);
  });

  it('an alphanumeric EAS password counts as at least 2 complex character groups', () => {
    assert.equal(easRequirements({ devicePasswordEnabled: true, alphanumericDevicePasswordRequired: true }).minDevicePasswordComplexCharacters, 2);
    assert.equal(easRequirements({ devicePasswordEnabled: true, alphanumericDevicePasswordRequired: true, minDevicePasswordComplexCharacters: 3 }).minDevicePasswordComplexCharacters, 3);
  });
});

describe('mamDeviceLock: the device lock a MAM policy enforces', () => {
  it('reads the PassportForWork PIN and the DeviceLock settings', () => {
    const { requirements } = mamDeviceLock(strongMam);
    assert.deepEqual(requirements, {
      devicePasswordEnabled: true,
      minDevicePasswordLength: 8,
      alphanumericDevicePasswordRequired: true,
      minDevicePasswordComplexCharacters: 3,
      maxInactivityTimeDeviceLock: 5,
      maxDevicePasswordFailedAttempts: 8,
      devicePasswordExpiration: 60,
      devicePasswordHistory: 5,
      requireDeviceEncryption: false,
    });
  });

  it('counts the digit group (PINComplexity/Digits default) plus each required letter/special group', () => {
    assert.equal(mamDeviceLock({ pinMinimumLength: 6 }).requirements.minDevicePasswordComplexCharacters, null, 'digits only: 1 group');
    assert.equal(mamDeviceLock({ pinSpecialCharacters: 'requireAtLeastOne' }).requirements.minDevicePasswordComplexCharacters, 2);
    assert.equal(mamDeviceLock({ pinSpecialCharacters: 'requireAtLeastOne' }).requirements.alphanumericDevicePasswordRequired, false, 'a special character is not a letter');
    assert.equal(mamDeviceLock({ pinLowercaseLetters: 'requireAtLeastOne', pinUppercaseLetters: 'allow' }).requirements.alphanumericDevicePasswordRequired, true);
  });

  it('requires a password when DeviceLock settings are sent (DevicePasswordEnabled = 0) or Windows Hello is on', () => {
    assert.equal(mamDeviceLock({}).requirements.devicePasswordEnabled, false);
    assert.equal(mamDeviceLock({ pinMinimumLength: 6 }).requirements.devicePasswordEnabled, false, 'PIN rules alone require no PIN');
    assert.equal(mamDeviceLock({ minutesOfInactivityBeforeDeviceLock: 5 }).requirements.devicePasswordEnabled, true);
    assert.equal(mamDeviceLock({ passwordMaximumAttemptCount: 10 }).requirements.devicePasswordEnabled, true);
    assert.equal(mamDeviceLock({ windowsHelloForBusinessBlocked: false }).requirements.devicePasswordEnabled, true);
  });

  it('drops the PIN settings when Windows Hello for Business is blocked, and says so', () => {
    const lock = mamDeviceLock({ ...strongMam, windowsHelloForBusinessBlocked: true });
    assert.equal(lock.requirements.minDevicePasswordLength, null);
    assert.equal(lock.requirements.alphanumericDevicePasswordRequired, false);
    assert.equal(lock.requirements.devicePasswordExpiration, null);
    assert.equal(lock.requirements.devicePasswordHistory, null);
    assert.equal(lock.requirements.maxInactivityTimeDeviceLock, 5, 'DeviceLock settings stay');
    assert.equal(lock.requirements.devicePasswordEnabled, true);
    assert.match(lock.notes.join(' '), /windowsHelloForBusinessBlocked/);
  });

  it('treats 0 as "none" like the CSPs do', () => {
    const { requirements } = mamDeviceLock({ minutesOfInactivityBeforeDeviceLock: 0, passwordMaximumAttemptCount: 0, pinExpirationDays: 0, numberOfPastPinsRemembered: 0 });
    assert.equal(requirements.maxInactivityTimeDeviceLock, null);
    assert.equal(requirements.maxDevicePasswordFailedAttempts, null);
    assert.equal(requirements.devicePasswordExpiration, null);
    assert.equal(requirements.devicePasswordHistory, null);
  });
});

describe('evaluateEasCompliance', () => {
  it('is compliant when the MAM policy is at least as strict on every setting; the resultant is then MAM', () => {
    const result = evaluateEasCompliance(typicalEas, mamDeviceLock(strongMam));
    assert.equal(result.compliant, true);
    assert.deepEqual(result.gaps, []);
    assert.deepEqual(result.resultant, mamDeviceLock(strongMam).requirements);
    assert.match(result.notes[0]!, /MAM supports mandatory EAS policies only/);
  });

  it('is compliant with an EAS policy that requires nothing', () => {
    assert.equal(evaluateEasCompliance({ devicePasswordEnabled: false }, mamDeviceLock({})).compliant, true);
  });

  it('lists a gap per weaker setting with the MAM property to change, and the superset as resultant', () => {
    const weakMam: MamDeviceLockPolicy = { pinMinimumLength: 4, minutesOfInactivityBeforeDeviceLock: 30, passwordMaximumAttemptCount: 0, pinExpirationDays: 0, numberOfPastPinsRemembered: 1 };
    const result = evaluateEasCompliance(typicalEas, mamDeviceLock(weakMam));
    assert.equal(result.compliant, false);
    assert.deepEqual(
      result.gaps.map((g) => [g.setting, g.eas, g.mam]),
      [
        ['minDevicePasswordLength', 6, 4],
        ['alphanumericDevicePasswordRequired', true, false],
        ['minDevicePasswordComplexCharacters', 2, null],
        ['maxInactivityTimeDeviceLock', 15, 30],
        ['maxDevicePasswordFailedAttempts', 10, null],
        ['devicePasswordExpiration', 90, null],
        ['devicePasswordHistory', 3, 1],
      ],
    );
    assert.deepEqual(result.gaps.find((g) => g.setting === 'maxInactivityTimeDeviceLock')?.mamProperties, ['minutesOfInactivityBeforeDeviceLock']);
    assert.deepEqual(result.resultant, {
      devicePasswordEnabled: true,
      minDevicePasswordLength: 6,
      alphanumericDevicePasswordRequired: true,
      minDevicePasswordComplexCharacters: 2,
      maxInactivityTimeDeviceLock: 15,
      maxDevicePasswordFailedAttempts: 10,
      devicePasswordExpiration: 90,
      devicePasswordHistory: 3,
      requireDeviceEncryption: false,
    });
    assert.ok(result.notes.some((n) => /admin rights/.test(n)));
  });

  it('takes the stricter value per setting when each side is stricter somewhere', () => {
    const result = evaluateEasCompliance(
      { devicePasswordEnabled: true, minDevicePasswordLength: 10, maxInactivityTimeDeviceLock: 30 },
      mamDeviceLock({ pinMinimumLength: 6, minutesOfInactivityBeforeDeviceLock: 5, numberOfPastPinsRemembered: 4 }),
    );
    assert.deepEqual(result.gaps.map((g) => g.setting), ['minDevicePasswordLength']);
    assert.equal(result.resultant.minDevicePasswordLength, 10);
    assert.equal(result.resultant.maxInactivityTimeDeviceLock, 5);
    assert.equal(result.resultant.devicePasswordHistory, 4);
  });

  it('is a gap when EAS requires a password and the MAM policy requires no lock at all', () => {
    const result = evaluateEasCompliance({ devicePasswordEnabled: true }, mamDeviceLock({ windowsHelloForBusinessBlocked: true }));
    assert.deepEqual(result.gaps, [
      { setting: 'devicePasswordEnabled', eas: true, mam: false, mamProperties: ['windowsHelloForBusinessBlocked', 'passwordMaximumAttemptCount', 'minutesOfInactivityBeforeDeviceLock'] },
    ]);
  });

  it('never meets requireDeviceEncryption: MAM has no device encryption; the resultant keeps it', () => {
    const result = evaluateEasCompliance({ devicePasswordEnabled: false, requireDeviceEncryption: true }, mamDeviceLock(strongMam));
    assert.equal(result.compliant, false);
    assert.deepEqual(result.gaps, [{ setting: 'requireDeviceEncryption', eas: true, mam: false, mamProperties: [] }]);
    assert.equal(result.resultant.requireDeviceEncryption, true);
    assert.ok(result.notes.some((n) => /BitLocker/.test(n)));
  });

  it('a 0 ("none") on the EAS side requires nothing, whatever MAM has', () => {
    const eas = validateEasPolicy(withPassword({ maxInactivityTimeDeviceLock: 0, maxDevicePasswordFailedAttempts: 0, devicePasswordExpiration: 0, devicePasswordHistory: 0 }));
    const result = evaluateEasCompliance(eas, mamDeviceLock({ minutesOfInactivityBeforeDeviceLock: 0 }));
    assert.equal(result.compliant, true);
    assert.equal(result.resultant.maxInactivityTimeDeviceLock, null);
  });
});
