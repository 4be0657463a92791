import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countsForWindowsMam, isUnresponsive, newestReport, threatAllowed, threatVerdict, type ThreatInput } from '../../src/core/app-protection/threat.ts';
import type { DeviceThreatLevel } from '../../src/policy/app-protection-model.ts';
import type { MtdConnectorRecord, ThreatLevel, ThreatReportRecord } from '../../src/store/app-protection-records.ts';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2025, 5, 1, 12);
/** Windows 11 23H2, the oldest the Windows Security Center connector supports; 22H2 is one below. */
const SUPPORTED = '10.0.22631.3155';
const UNSUPPORTED = '10.0.22621.2506';
const blocksOnMissing = { windowsDeviceBlockedOnMissingPartnerData: true };

function connector(id: string, change: Partial<MtdConnectorRecord> = {}): MtdConnectorRecord {
  return {
    tenantId: 't1',
    id,
    partnerState: 'enabled',
    lastHeartbeatAt: NOW - 60_000,
    windowsMobileApplicationManagementEnabled: true,
    windowsDeviceBlockedOnMissingPartnerData: false,
    partnerUnsupportedOsVersionBlocked: false,
    partnerUnresponsivenessThresholdInDays: 7,
    graphExtras: {},
    version: 1,
    createdAt: NOW - 100 * DAY,
    updatedAt: NOW - 100 * DAY,
    ...change,
  };
}

function report(connectorId: string, healthState: ThreatLevel, reportedAt: number, receivedAt = reportedAt): ThreatReportRecord {
  return { tenantId: 't1', connectorId, userId: 'u1', appId: 'com.contoso.notes', azureAdDeviceId: 'd1', healthState, reportedAt, receivedAt };
}

function verdict(change: Partial<ThreatInput>) {
  return threatVerdict({ policyLevel: 'low', connectors: [connector('c1')], reports: [], osVersion: SUPPORTED, now: NOW, ...change });
}

describe('threatVerdict', () => {
  it('is notRequired when the policy does not configure a level, whatever the reports say', () => {
    assert.deepEqual(verdict({ policyLevel: 'notConfigured', reports: [report('c1', 'high', NOW)] }), { kind: 'notRequired' });
  });

  it('is ignored without any connector', () => {
    assert.deepEqual(verdict({ connectors: [], reports: [report('c1', 'high', NOW)] }), { kind: 'ignored', why: 'noConnector' });
  });

  it('is ignored when no connector is on for Windows MAM or set up, and drops their reports', () => {
    const connectors = [connector('c1', { windowsMobileApplicationManagementEnabled: false }), connector('c2', { partnerState: 'notSetUp' })];
    assert.deepEqual(verdict({ connectors, reports: [report('c1', 'high', NOW), report('c2', 'high', NOW)] }), { kind: 'ignored', why: 'noConnector' });
  });

  it('without a report for the device: missing only when the connector blocks on missing partner data', () => {
    assert.deepEqual(verdict({ reports: [] }), { kind: 'ignored', why: 'noReport' }, 'adding a connector blocks nothing until reports come');
    assert.deepEqual(verdict({ connectors: [connector('c1', blocksOnMissing)], reports: [] }), { kind: 'missing' });
  });

  it('a device below the partner\'s supported Windows without a report: blocked only when the connector says so', () => {
    assert.deepEqual(verdict({ osVersion: UNSUPPORTED }), { kind: 'ignored', why: 'unsupportedOs' });
    assert.deepEqual(verdict({ osVersion: UNSUPPORTED, connectors: [connector('c1', blocksOnMissing)] }), { kind: 'ignored', why: 'unsupportedOs' }, 'not "missing": the partner cannot report');
    assert.deepEqual(verdict({ osVersion: UNSUPPORTED, connectors: [connector('c1', { partnerUnsupportedOsVersionBlocked: true })] }), { kind: 'unsupportedOs' });
    assert.equal(verdict({ osVersion: UNSUPPORTED, reports: [report('c1', 'high', NOW)] }).kind, 'reported', 'a report it has is judged');
    assert.deepEqual(verdict({ osVersion: 'not a version', connectors: [connector('c1', { partnerUnsupportedOsVersionBlocked: true })] }), { kind: 'ignored', why: 'noReport' });
  });

  it('takes the report of a counting connector', () => {
    assert.deepEqual(verdict({ reports: [report('c1', 'medium', NOW - 5000)] }), { kind: 'reported', level: 'medium', connectorId: 'c1', reportedAt: NOW - 5000 });
  });

  it('does not use the reports of a removed connector', () => {
    assert.deepEqual(verdict({ connectors: [connector('c1', blocksOnMissing)], reports: [report('removed', 'secured', NOW)] }), { kind: 'missing' });
  });

  it('does not use the reports of a connector that does not count, even when another one counts', () => {
    const connectors = [connector('c1'), connector('c2', { windowsMobileApplicationManagementEnabled: false })];
    const result = verdict({ connectors, reports: [report('c1', 'high', NOW - 10_000), report('c2', 'secured', NOW)] });
    assert.deepEqual(result, { kind: 'reported', level: 'high', connectorId: 'c1', reportedAt: NOW - 10_000 });
  });

  it('lets the newest report win across connectors, whatever its level', () => {
    const connectors = [connector('c1'), connector('c2')];
    const reports = [report('c1', 'secured', NOW - 3 * DAY), report('c2', 'high', NOW - DAY), report('c1', 'low', NOW - 2 * DAY)];
    assert.deepEqual(verdict({ connectors, reports }), { kind: 'reported', level: 'high', connectorId: 'c2', reportedAt: NOW - DAY });
  });

  describe('an unresponsive connector', () => {
    const silent = (change: Partial<MtdConnectorRecord> = {}) => connector('c1', { lastHeartbeatAt: NOW - 7 * DAY - 1, ...change });

    it('is ignored past its threshold, with its reports', () => {
      assert.deepEqual(verdict({ connectors: [silent()], reports: [report('c1', 'high', NOW - 8 * DAY)] }), { kind: 'ignored', why: 'unresponsive' });
    });

    it('still counts at exactly its threshold', () => {
      const result = verdict({ connectors: [connector('c1', { lastHeartbeatAt: NOW - 7 * DAY })], reports: [report('c1', 'high', NOW - 7 * DAY)] });
      assert.equal(result.kind, 'reported');
    });

    it('is missing data when the connector blocks on missing partner data', () => {
      assert.deepEqual(verdict({ connectors: [silent({ windowsDeviceBlockedOnMissingPartnerData: true })], reports: [report('c1', 'secured', NOW - 8 * DAY)] }), {
        kind: 'missing',
      });
    });

    it('does not hide a responsive connector: its report decides', () => {
      const connectors = [silent({ windowsDeviceBlockedOnMissingPartnerData: true }), connector('c2')];
      const result = verdict({ connectors, reports: [report('c1', 'high', NOW), report('c2', 'low', NOW - DAY)] });
      assert.deepEqual(result, { kind: 'reported', level: 'low', connectorId: 'c2', reportedAt: NOW - DAY });
    });

    it('is missing when the responsive connector has no report, even though the silent one did', () => {
      const result = verdict({ connectors: [silent(), connector('c2', blocksOnMissing)], reports: [report('c1', 'secured', NOW - 8 * DAY)] });
      assert.deepEqual(result, { kind: 'missing' });
    });
  });
});

describe('countsForWindowsMam', () => {
  it('needs Windows MAM on and a partner that is enabled (or went unresponsive since)', () => {
    assert.equal(countsForWindowsMam(connector('c')), true);
    assert.equal(countsForWindowsMam(connector('c', { partnerState: 'unresponsive' })), true);
    for (const partnerState of ['available', 'unavailable', 'notSetUp', 'error'] as const) assert.equal(countsForWindowsMam(connector('c', { partnerState })), false, partnerState);
    assert.equal(countsForWindowsMam(connector('c', { windowsMobileApplicationManagementEnabled: false })), false);
  });
});

describe('isUnresponsive', () => {
  it('measures from the last heartbeat, strictly past the threshold', () => {
    assert.equal(isUnresponsive(connector('c', { lastHeartbeatAt: NOW - 7 * DAY }), NOW), false);
    assert.equal(isUnresponsive(connector('c', { lastHeartbeatAt: NOW - 7 * DAY - 1 }), NOW), true);
    assert.equal(isUnresponsive(connector('c', { lastHeartbeatAt: NOW - 2 * DAY, partnerUnresponsivenessThresholdInDays: 1 }), NOW), true);
  });

  it('gives a connector that never reported its threshold from creation', () => {
    assert.equal(isUnresponsive(connector('c', { lastHeartbeatAt: null, createdAt: NOW - DAY }), NOW), false);
    assert.equal(isUnresponsive(connector('c', { lastHeartbeatAt: null, createdAt: NOW - 8 * DAY }), NOW), true);
  });

  it('trusts a partner state of unresponsive', () => {
    assert.equal(isUnresponsive(connector('c', { partnerState: 'unresponsive' }), NOW), true);
  });
});

describe('newestReport', () => {
  it('breaks a tie on the connector time by arrival', () => {
    const first = report('c1', 'low', NOW, NOW + 1);
    const second = report('c1', 'high', NOW, NOW + 2);
    assert.equal(newestReport([second, first], new Set(['c1'])), second);
    assert.equal(newestReport([first, second], new Set(['c1'])), second);
  });

  it('finds nothing for connectors not in the set', () => {
    assert.equal(newestReport([report('c1', 'low', NOW)], new Set(['c2'])), undefined);
  });
});

describe('threatAllowed: secured < low < medium < high', () => {
  const levels: ThreatLevel[] = ['secured', 'low', 'medium', 'high'];
  for (const [maxIndex, maximum] of levels.entries()) {
    for (const [levelIndex, level] of levels.entries()) {
      it(`${level} under a maximum of ${maximum}: ${levelIndex <= maxIndex ? 'allowed' : 'refused'}`, () => {
        assert.equal(threatAllowed(level, maximum), levelIndex <= maxIndex);
      });
    }
  }

  it('allows everything without a maximum', () => {
    const none: DeviceThreatLevel = 'notConfigured';
    assert.equal(threatAllowed('high', none), true);
  });
});
