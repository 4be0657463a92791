import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHECK_IN_INTERVAL_MS,
  evaluateHealthChecks,
  offlineBlockDue,
  offlineWipeDue,
  threatFails,
  type HealthFacts,
} from '../../src/core/app-protection/health-checks.ts';
import type { WindowsManagedAppProtection } from '../../src/policy/app-protection-model.ts';
import { userMessage } from '../../src/core/app-protection/messages.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2025, 5, 1, 12);

/** Defaults filled in, no health check configured beyond the offline periods. */
function policy(change: Partial<WindowsManagedAppProtection> = {}): WindowsManagedAppProtection {
  return {
    displayName: 'Level 2',
    description: null,
    allowedInboundDataTransferSources: 'allApps',
    allowedOutboundDataTransferDestinations: 'allApps',
    allowedOutboundClipboardSharingLevel: 'anyDestinationAnySource',
    printBlocked: false,
    encryptAppData: true,
    pinRequired: false,
    minimumPinLength: 4,
    maximumPinRetries: 5,
    managedBrowserRequired: false,
    periodOfflineBeforeAccessCheck: 'PT720M',
    periodOfflineBeforeWipeIsEnforced: 'P90D',
    appActionIfUnableToAuthenticateUser: null,
    minimumWarningAppVersion: null,
    minimumRequiredAppVersion: null,
    minimumWipeAppVersion: null,
    minimumRequiredSdkVersion: null,
    minimumWipeSdkVersion: null,
    minimumWarningOsVersion: null,
    minimumRequiredOsVersion: null,
    minimumWipeOsVersion: null,
    maximumWarningOsVersion: null,
    maximumRequiredOsVersion: null,
    maximumWipeOsVersion: null,
    maximumAllowedDeviceThreatLevel: 'notConfigured',
    mobileThreatDefenseRemediationAction: 'block',
    ...change,
  };
}

function facts(change: Partial<HealthFacts> = {}): HealthFacts {
  return {
    appVersion: '4.2.0',
    sdkVersion: '1.0.0',
    osVersion: '10.0.22631.3155',
    lastCheckInAt: NOW - 30 * MINUTE,
    now: NOW,
    threat: { kind: 'notRequired' },
    reportedFailures: [],
    ...change,
  };
}

function evaluate(policyChange: Partial<WindowsManagedAppProtection>, factsChange: Partial<HealthFacts> = {}) {
  return evaluateHealthChecks(policy(policyChange), facts(factsChange));
}

describe('evaluateHealthChecks: nothing fails', () => {
  it('is compliant without actions when no check is configured', () => {
    assert.deepEqual(evaluate({}), { actions: [], compliant: true, reasons: [] });
  });

  it('is compliant when every version is exactly at its minimum and maximum', () => {
    const outcome = evaluate({
      minimumWipeSdkVersion: '1.0.0',
      minimumRequiredSdkVersion: '1.0',
      minimumWarningAppVersion: '4.2.0',
      minimumRequiredAppVersion: '4.2',
      minimumWipeAppVersion: '4.2.0.0',
      minimumWarningOsVersion: '10.0.22631.3155',
      minimumRequiredOsVersion: '10.0.22631.3155',
      minimumWipeOsVersion: '10.0.22631.3155',
      maximumWarningOsVersion: '10.0.22631.3155',
      maximumRequiredOsVersion: '10.0.22631.3155',
      maximumWipeOsVersion: '10.0.22631.3155',
    });
    assert.deepEqual(outcome, { actions: [], compliant: true, reasons: [] });
  });

  it('counts a missing component as 0: 10.0.22631 meets a minimum of 10.0.22631.0', () => {
    assert.deepEqual(evaluate({ minimumRequiredOsVersion: '10.0.22631.0' }, { osVersion: '10.0.22631' }).actions, []);
  });

  it('compares numerically: app 4.10 meets a minimum of 4.9', () => {
    assert.deepEqual(evaluate({ minimumRequiredAppVersion: '4.9' }, { appVersion: '4.10' }).actions, []);
  });
});

describe('evaluateHealthChecks: SDK version (required and wipe, no warning)', () => {
  it('blocks below minimumRequiredSdkVersion', () => {
    assert.deepEqual(evaluate({ minimumRequiredSdkVersion: '1.0.1' }), {
      actions: [{ type: 'block', reason: 'minimumRequiredSdkVersion' }],
      compliant: false,
      reasons: ['minimumRequiredSdkVersion'],
    });
  });

  it('wipes below minimumWipeSdkVersion, and still lists the block', () => {
    const outcome = evaluate({ minimumRequiredSdkVersion: '2.0', minimumWipeSdkVersion: '1.5' });
    assert.deepEqual(outcome.actions, [
      { type: 'wipe', reason: 'minimumWipeSdkVersion' },
      { type: 'block', reason: 'minimumRequiredSdkVersion' },
    ]);
  });

  it('blocks only, between the wipe and the required minimum', () => {
    const outcome = evaluate({ minimumRequiredSdkVersion: '2.0', minimumWipeSdkVersion: '1.0' }, { sdkVersion: '1.5' });
    assert.deepEqual(outcome.actions, [{ type: 'block', reason: 'minimumRequiredSdkVersion' }]);
  });
});

describe('evaluateHealthChecks: app version', () => {
  it('warns below minimumWarningAppVersion and stays compliant', () => {
    assert.deepEqual(evaluate({ minimumWarningAppVersion: '4.10' }, { appVersion: '4.9.9' }), {
      actions: [{ type: 'warn', reason: 'minimumWarningAppVersion' }],
      compliant: true,
      reasons: ['minimumWarningAppVersion'],
    });
  });

  it('blocks below minimumRequiredAppVersion', () => {
    const outcome = evaluate({ minimumWarningAppVersion: '5.0', minimumRequiredAppVersion: '4.3' });
    assert.deepEqual(outcome.actions, [
      { type: 'block', reason: 'minimumRequiredAppVersion' },
      { type: 'warn', reason: 'minimumWarningAppVersion' },
    ]);
    assert.equal(outcome.compliant, false);
  });

  it('wipes below minimumWipeAppVersion, with every level that fails', () => {
    const outcome = evaluate({ minimumWarningAppVersion: '6', minimumRequiredAppVersion: '5', minimumWipeAppVersion: '4.2.1' });
    assert.deepEqual(
      outcome.actions.map((a) => a.type),
      ['wipe', 'block', 'warn'],
    );
    assert.deepEqual(outcome.reasons, ['minimumWipeAppVersion', 'minimumRequiredAppVersion', 'minimumWarningAppVersion']);
  });
});

describe('evaluateHealthChecks: OS version', () => {
  it('applies the three minimums', () => {
    assert.deepEqual(evaluate({ minimumWarningOsVersion: '10.0.22631.3156' }).actions, [{ type: 'warn', reason: 'minimumWarningOsVersion' }]);
    assert.deepEqual(evaluate({ minimumRequiredOsVersion: '10.0.26100' }).actions, [{ type: 'block', reason: 'minimumRequiredOsVersion' }]);
    assert.deepEqual(evaluate({ minimumWipeOsVersion: '11' }).actions, [{ type: 'wipe', reason: 'minimumWipeOsVersion' }]);
  });

  it('fails a maximum only above it', () => {
    assert.deepEqual(evaluate({ maximumRequiredOsVersion: '10.0.22631.3154' }).actions, [{ type: 'block', reason: 'maximumRequiredOsVersion' }]);
    assert.deepEqual(evaluate({ maximumRequiredOsVersion: '10.0.22631' }).actions, [{ type: 'block', reason: 'maximumRequiredOsVersion' }]);
    assert.deepEqual(evaluate({ maximumRequiredOsVersion: '10.0.22631.3155' }).actions, []);
    assert.deepEqual(evaluate({ maximumRequiredOsVersion: '10.0.26100' }).actions, []);
  });

  it('applies the three maximums', () => {
    const outcome = evaluate({ maximumWarningOsVersion: '10.0.22000', maximumRequiredOsVersion: '10.0.22000', maximumWipeOsVersion: '10.0.22000' });
    assert.deepEqual(outcome.actions, [
      { type: 'wipe', reason: 'maximumWipeOsVersion' },
      { type: 'block', reason: 'maximumRequiredOsVersion' },
      { type: 'warn', reason: 'maximumWarningOsVersion' },
    ]);
  });

  it('lists minimum before maximum within a type', () => {
    // An impossible window (max below min) fails both.
    const outcome = evaluate({ minimumWarningOsVersion: '11', maximumWarningOsVersion: '10.0.1' });
    assert.deepEqual(outcome.actions, [
      { type: 'warn', reason: 'minimumWarningOsVersion' },
      { type: 'warn', reason: 'maximumWarningOsVersion' },
    ]);
  });
});

describe('evaluateHealthChecks: order and precedence', () => {
  it('sorts wipe > block > warn, and SDK, app, OS, threat, offline, reported within a type', () => {
    const outcome = evaluate(
      {
        minimumRequiredSdkVersion: '2',
        minimumWarningAppVersion: '9',
        minimumRequiredAppVersion: '9',
        minimumWipeOsVersion: '11',
        minimumWarningOsVersion: '11',
        maximumAllowedDeviceThreatLevel: 'low',
        mobileThreatDefenseRemediationAction: 'block',
        periodOfflineBeforeAccessCheck: 'PT720M',
        periodOfflineBeforeWipeIsEnforced: 'P1D',
      },
      {
        lastCheckInAt: NOW - 2 * DAY,
        threat: { kind: 'missing' },
        reportedFailures: [
          { setting: 'appActionIfUnableToAuthenticateUser', action: 'wipe' },
          { setting: 'maximumPinRetries', action: 'warn' },
        ],
      },
    );
    assert.deepEqual(outcome.actions, [
      { type: 'wipe', reason: 'minimumWipeOsVersion' },
      { type: 'wipe', reason: 'offlineWipe' },
      { type: 'wipe', reason: 'appActionIfUnableToAuthenticateUser' },
      { type: 'block', reason: 'minimumRequiredSdkVersion' },
      { type: 'block', reason: 'minimumRequiredAppVersion' },
      { type: 'block', reason: 'deviceThreatLevel' },
      { type: 'block', reason: 'offlineBlock' },
      { type: 'warn', reason: 'minimumWarningAppVersion' },
      { type: 'warn', reason: 'minimumWarningOsVersion' },
      { type: 'warn', reason: 'maximumPinRetries' },
    ]);
    assert.deepEqual(
      outcome.reasons,
      outcome.actions.map((a) => a.reason),
    );
    assert.equal(outcome.compliant, false);
  });

  it('stays compliant with warnings only', () => {
    const outcome = evaluate({ minimumWarningAppVersion: '9', minimumWarningOsVersion: '11' }, { reportedFailures: [{ setting: 'x', action: 'warn' }] });
    assert.equal(outcome.compliant, true);
    assert.equal(outcome.actions.length, 3);
  });
});

describe('evaluateHealthChecks: versions the rules cannot read', () => {
  it('blocks (never wipes) a reported app version that cannot be read, when any app minimum is set', () => {
    const outcome = evaluate({ minimumWipeAppVersion: '1.0' }, { appVersion: '4.2-beta' });
    assert.deepEqual(outcome, { actions: [{ type: 'block', reason: 'minimumRequiredAppVersion' }], compliant: false, reasons: ['minimumRequiredAppVersion'] });
  });

  it('blocks rather than warns for an unreadable version under a warning-only minimum', () => {
    assert.deepEqual(evaluate({ minimumWarningAppVersion: '1.0' }, { appVersion: '' }).actions, [{ type: 'block', reason: 'minimumRequiredAppVersion' }]);
  });

  it('blocks an unreadable SDK version', () => {
    assert.deepEqual(evaluate({ minimumRequiredSdkVersion: '1.0' }, { sdkVersion: 'a.b' }).actions, [{ type: 'block', reason: 'minimumRequiredSdkVersion' }]);
  });

  it('fails the OS minimum and maximum of an unreadable OS version once each, as blocks', () => {
    const outcome = evaluate({ minimumWarningOsVersion: '10', minimumWipeOsVersion: '10', maximumWipeOsVersion: '11' }, { osVersion: '1..2' });
    assert.deepEqual(outcome.actions, [
      { type: 'block', reason: 'minimumRequiredOsVersion' },
      { type: 'block', reason: 'maximumRequiredOsVersion' },
    ]);
  });

  it('does not fail on an unreadable version when no check of its kind is set', () => {
    assert.deepEqual(evaluate({ minimumRequiredAppVersion: '1.0' }, { osVersion: 'garbage', sdkVersion: '-1' }).actions, []);
  });

  it('treats a threshold it cannot read as not configured', () => {
    assert.deepEqual(evaluate({ minimumRequiredAppVersion: 'latest', maximumRequiredOsVersion: '' }).actions, []);
  });
});

describe('evaluateHealthChecks: device threat level', () => {
  it('passes when the policy does not configure a level, even with a failing verdict', () => {
    assert.deepEqual(evaluate({ maximumAllowedDeviceThreatLevel: 'notConfigured' }, { threat: { kind: 'missing' } }).actions, []);
  });

  it('fails a missing report with the policy action', () => {
    assert.deepEqual(evaluate({ maximumAllowedDeviceThreatLevel: 'secured', mobileThreatDefenseRemediationAction: 'wipe' }, { threat: { kind: 'missing' } }).actions, [
      { type: 'wipe', reason: 'deviceThreatLevel' },
    ]);
  });

  it('fails a device below the partner\'s Windows with its own reason: the user is told to update Windows', () => {
    const actions = evaluate({ maximumAllowedDeviceThreatLevel: 'secured' }, { threat: { kind: 'unsupportedOs' } }).actions;
    assert.deepEqual(actions, [{ type: 'block', reason: 'threatDefenseUnsupportedOs' }]);
    assert.match(userMessage('threatDefenseUnsupportedOs').remediation, /Windows/);
    assert.notEqual(userMessage('threatDefenseUnsupportedOs').remediation, userMessage('deviceThreatLevel').remediation);
  });

  it('passes an ignored connector', () => {
    assert.deepEqual(evaluate({ maximumAllowedDeviceThreatLevel: 'secured' }, { threat: { kind: 'ignored', why: 'unresponsive' } }).actions, []);
  });

  it('passes a report at the maximum and fails one above it', () => {
    const reported = (level: 'secured' | 'low' | 'medium' | 'high') => ({ kind: 'reported' as const, level, connectorId: 'c1', reportedAt: NOW });
    assert.deepEqual(evaluate({ maximumAllowedDeviceThreatLevel: 'low' }, { threat: reported('low') }).actions, []);
    assert.deepEqual(evaluate({ maximumAllowedDeviceThreatLevel: 'low' }, { threat: reported('medium') }).actions, [{ type: 'block', reason: 'deviceThreatLevel' }]);
  });

  it('threatFails follows the verdict kinds', () => {
    const p = { maximumAllowedDeviceThreatLevel: 'medium' as const };
    assert.equal(threatFails({ kind: 'notRequired' }, p), false);
    assert.equal(threatFails({ kind: 'ignored', why: 'noConnector' }, p), false);
    assert.equal(threatFails({ kind: 'missing' }, p), true);
    assert.equal(threatFails({ kind: 'unsupportedOs' }, p), true);
    assert.equal(threatFails({ kind: 'ignored', why: 'unsupportedOs' }, p), false);
    assert.equal(threatFails({ kind: 'reported', level: 'high', connectorId: 'c', reportedAt: 0 }, p), true);
  });
});

describe('evaluateHealthChecks: offline periods', () => {
  it('is never offline at the first check-in', () => {
    assert.deepEqual(evaluate({ periodOfflineBeforeAccessCheck: 'PT0S' }, { lastCheckInAt: null }).actions, []);
  });

  it('blocks strictly past periodOfflineBeforeAccessCheck', () => {
    assert.deepEqual(evaluate({}, { lastCheckInAt: NOW - 12 * HOUR }).actions, []);
    assert.deepEqual(evaluate({}, { lastCheckInAt: NOW - 12 * HOUR - 1 }).actions, [{ type: 'block', reason: 'offlineBlock' }]);
  });

  it('wipes strictly past periodOfflineBeforeWipeIsEnforced, listing the block after the wipe', () => {
    assert.deepEqual(evaluate({}, { lastCheckInAt: NOW - 90 * DAY }).actions, [{ type: 'block', reason: 'offlineBlock' }]);
    assert.deepEqual(evaluate({}, { lastCheckInAt: NOW - 90 * DAY - 1 }).actions, [
      { type: 'wipe', reason: 'offlineWipe' },
      { type: 'block', reason: 'offlineBlock' },
    ]);
  });

  it('never wipes with a wipe period of PT0S', () => {
    assert.deepEqual(evaluate({ periodOfflineBeforeWipeIsEnforced: 'PT0S' }, { lastCheckInAt: NOW - 3650 * DAY }).actions, [{ type: 'block', reason: 'offlineBlock' }]);
  });

  it('reads PT0S for access as offline after one missed check-in (30 minutes)', () => {
    assert.deepEqual(evaluate({ periodOfflineBeforeAccessCheck: 'PT0S' }, { lastCheckInAt: NOW - CHECK_IN_INTERVAL_MS }).actions, []);
    assert.deepEqual(evaluate({ periodOfflineBeforeAccessCheck: 'PT0S' }, { lastCheckInAt: NOW - CHECK_IN_INTERVAL_MS - 1 }).actions, [
      { type: 'block', reason: 'offlineBlock' },
    ]);
  });

  it('offlineBlockDue: a period shorter than the check-in interval is the check-in interval', () => {
    assert.equal(offlineBlockDue('PT1M', 29 * MINUTE), false);
    assert.equal(offlineBlockDue('PT1M', 31 * MINUTE), true);
    assert.equal(offlineBlockDue('PT10080M', 7 * DAY), false);
    assert.equal(offlineBlockDue('PT10080M', 7 * DAY + 1), true);
  });

  it('falls back to the documented defaults for periods it cannot read', () => {
    assert.equal(offlineBlockDue('12 hours', 12 * HOUR), false);
    assert.equal(offlineBlockDue('12 hours', 12 * HOUR + 1), true);
    assert.equal(offlineWipeDue('P3M', 90 * DAY), false);
    assert.equal(offlineWipeDue('P3M', 90 * DAY + 1), true);
  });

  it('offlineWipeDue uses the framework periods', () => {
    assert.equal(offlineWipeDue('P30D', 30 * DAY), false);
    assert.equal(offlineWipeDue('P30D', 30 * DAY + 1), true);
    assert.equal(offlineWipeDue('PT0S', Number.MAX_SAFE_INTEGER), false);
  });
});

describe('evaluateHealthChecks: failures the app reported', () => {
  it('counts them with their own action', () => {
    const outcome = evaluate({}, { reportedFailures: [{ setting: 'minimumRequiredOsVersion', action: 'block' }] });
    assert.deepEqual(outcome, { actions: [{ type: 'block', reason: 'minimumRequiredOsVersion' }], compliant: false, reasons: ['minimumRequiredOsVersion'] });
  });

  it('merges a failure the service found too', () => {
    const outcome = evaluate({ minimumRequiredOsVersion: '11' }, { reportedFailures: [{ setting: 'minimumRequiredOsVersion', action: 'block' }] });
    assert.deepEqual(outcome.actions, [{ type: 'block', reason: 'minimumRequiredOsVersion' }]);
  });

  it('keeps one reason when the app took a stronger action than the service', () => {
    const outcome = evaluate({ minimumRequiredOsVersion: '11' }, { reportedFailures: [{ setting: 'minimumRequiredOsVersion', action: 'wipe' }] });
    assert.deepEqual(outcome.actions, [
      { type: 'wipe', reason: 'minimumRequiredOsVersion' },
      { type: 'block', reason: 'minimumRequiredOsVersion' },
    ]);
    assert.deepEqual(outcome.reasons, ['minimumRequiredOsVersion']);
  });

  it('drops a failure without a setting and a repeated one', () => {
    const outcome = evaluate(
      {},
      {
        reportedFailures: [
          { setting: '', action: 'wipe' },
          { setting: 'maximumPinRetries', action: 'wipe' },
          { setting: 'maximumPinRetries', action: 'wipe' },
        ],
      },
    );
    assert.deepEqual(outcome.actions, [{ type: 'wipe', reason: 'maximumPinRetries' }]);
  });
});
