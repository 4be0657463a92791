import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isReasonCode, REASON_CODES, userMessage, type ReasonCode } from '../../src/core/app-protection/messages.ts';

/** docs/app-protection.md "Action" and the brief: every reason the service produces. */
const PRODUCED: ReasonCode[] = [
  'minimumWipeSdkVersion',
  'minimumRequiredSdkVersion',
  'minimumWarningAppVersion',
  'minimumRequiredAppVersion',
  'minimumWipeAppVersion',
  'minimumWarningOsVersion',
  'minimumRequiredOsVersion',
  'minimumWipeOsVersion',
  'maximumWarningOsVersion',
  'maximumRequiredOsVersion',
  'maximumWipeOsVersion',
  'deviceThreatLevel',
  'offlineBlock',
  'offlineWipe',
  'adminWipe',
  'wrongAccount',
  'appNotSetUp',
  'accountNotSetUp',
  'unableToRegister',
  'protectionPolicyRequired',
  'approvedAppRequired',
  'deviceNotCompliant',
];

describe('userMessage', () => {
  it('has a title, a text and a remediation sentence for every reason code', () => {
    for (const reason of REASON_CODES) {
      const message = userMessage(reason);
      assert.ok(message.title.length > 0, reason);
      assert.match(message.text, /[.!]$/, `${reason}: text is a sentence`);
      assert.match(message.remediation, /^[A-Z].*\.$/, `${reason}: remediation is a sentence`);
      assert.notEqual(message.remediation, message.text, reason);
    }
  });

  it('covers every reason the service produces', () => {
    for (const reason of PRODUCED) assert.ok(isReasonCode(reason), reason);
  });

  it('titles the health check actions as docs/app-protection.md does', () => {
    for (const reason of ['minimumWipeSdkVersion', 'minimumWipeAppVersion', 'minimumWipeOsVersion', 'maximumWipeOsVersion'] as const) {
      assert.equal(userMessage(reason).title, 'App can no longer be used', reason);
    }
    for (const reason of ['minimumRequiredSdkVersion', 'minimumRequiredAppVersion', 'minimumRequiredOsVersion', 'maximumRequiredOsVersion'] as const) {
      assert.equal(userMessage(reason).title, 'App can no longer be used', reason);
    }
    for (const reason of ['minimumWarningAppVersion', 'minimumWarningOsVersion', 'maximumWarningOsVersion'] as const) {
      assert.equal(userMessage(reason).title, 'Update recommended', reason);
    }
    assert.equal(userMessage('deviceThreatLevel').title, 'Device non-compliant');
    assert.equal(userMessage('offlineWipe').title, 'Internet connection required');
    assert.equal(userMessage('adminWipe').title, 'Your organization has removed its data');
  });

  it('uses the seed 003 dialogs', () => {
    assert.deepEqual(
      { title: userMessage('appNotSetUp').title, text: userMessage('appNotSetUp').text },
      { title: 'App not set up', text: 'This app has not been set up for you to use. Contact your IT administrator for help.' },
    );
    assert.equal(userMessage('offlineBlock').title, 'Internet connection required');
    assert.equal(userMessage('offlineBlock').text, 'You must be connected to the Internet to verify that you can use this app.');
    assert.equal(userMessage('wrongAccount').title, "Accessing your organization's data");
    assert.match(userMessage('wrongAccount').text, /^The work or school account you specified does not have access to this app\./);
    assert.equal(userMessage('accountNotSetUp').title, 'Account not set up');
    assert.equal(userMessage('unableToRegister').title, 'Unable to register the app');
    assert.match(userMessage('unableToRegister').text, /we were unable to register this app at this time/);
    assert.equal(userMessage('deviceNotCompliant').title, 'Device non-compliant');
    assert.equal(userMessage('appActionIfUnableToAuthenticateUser').title, 'Sign-in failed');
  });

  it('words conditional access refusals as Entra does', () => {
    assert.match(userMessage('protectionPolicyRequired').text, /^Application needs to enforce Intune protection policies/);
    assert.match(userMessage('approvedAppRequired').text, /approved apps/);
  });

  it('names what to update: the app, its app protection component, or Windows', () => {
    for (const reason of ['minimumWarningAppVersion', 'minimumRequiredAppVersion', 'minimumWipeAppVersion'] as const) {
      assert.match(userMessage(reason).remediation, /^Update the app/, reason);
      assert.doesNotMatch(userMessage(reason).text, /Windows/, reason);
    }
    for (const reason of ['minimumRequiredSdkVersion', 'minimumWipeSdkVersion'] as const) {
      assert.match(userMessage(reason).text, /app protection component/, reason);
      assert.match(userMessage(reason).remediation, /^Update the app/, reason);
    }
    for (const reason of ['minimumWarningOsVersion', 'minimumRequiredOsVersion', 'minimumWipeOsVersion'] as const) {
      assert.match(userMessage(reason).text, /Windows/, reason);
      assert.match(userMessage(reason).remediation, /Windows Update/, reason);
    }
    for (const reason of ['maximumWarningOsVersion', 'maximumRequiredOsVersion', 'maximumWipeOsVersion'] as const) {
      assert.match(userMessage(reason).text, /newer than your organization/, reason);
      assert.doesNotMatch(userMessage(reason).remediation, /Windows Update/, reason);
    }
  });

  it('tells the user their personal data stays after every wipe', () => {
    for (const reason of ['minimumWipeSdkVersion', 'minimumWipeAppVersion', 'minimumWipeOsVersion', 'maximumWipeOsVersion', 'offlineWipe', 'adminWipe', 'userBlocked'] as const) {
      assert.match(userMessage(reason).text, /personal data was not affected/, reason);
    }
  });

  it('answers the seed 003 "Unknown failure" for a reason outside the table', () => {
    assert.equal(isReasonCode('maximumPinRetries'), false);
    assert.deepEqual(userMessage('maximumPinRetries'), userMessage('unknownFailure'));
    assert.equal(userMessage('').title, 'Unknown failure');
    assert.equal(userMessage('toString').title, 'Unknown failure');
    assert.equal(userMessage('__proto__').title, 'Unknown failure');
  });

  it('lists each reason code once', () => {
    assert.equal(new Set(REASON_CODES).size, REASON_CODES.length);
  });
});
