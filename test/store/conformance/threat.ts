import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, connectorRecord, T0, threatReportRecord } from '../conformance-support.ts';
import type { AppPolicyStore, AppProtectionFixture, MtdConnectorRecord, ThreatStore } from '../conformance-support.ts';

/** Mobile threat defense (ThreatStore): connectors, their heartbeats, threat reports. */
export function threatConformance(fixture: AppProtectionFixture<ThreatStore & AppPolicyStore>): void {
  const { newTenant, newConnector } = fixture;

  describe('threat defense', () => {
    let ap: ThreatStore & AppPolicyStore;

    before(() => {
      ap = fixture.ap;
    });

    it('createConnector stores it exactly and bumps; updateConnector writes the settings at version + 1 (createdAt and heartbeat kept) and bumps', async () => {
      const tenantId = await newTenant();
      const connector = await newConnector(tenantId);
      assert.equal(await ap.getAppConfigVersion(tenantId), 1);
      assert.deepEqual(await ap.getConnector(tenantId, connector.id), connector);
      const changed: MtdConnectorRecord = {
        ...connector,
        partnerState: 'unresponsive',
        lastHeartbeatAt: T0 + 5,
        windowsMobileApplicationManagementEnabled: false,
        windowsDeviceBlockedOnMissingPartnerData: true,
        partnerUnsupportedOsVersionBlocked: true,
        partnerUnresponsivenessThresholdInDays: 3,
        graphExtras: { windowsEnabled: true, androidEnabled: false },
        createdAt: T0 + 100,
        updatedAt: T0 + 101,
      };
      assert.deepEqual(await ap.updateConnector(changed), { kind: 'saved', version: 2 });
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      // The heartbeat is the connector's own: an admin's update never writes it.
      assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...changed, version: 2, lastHeartbeatAt: connector.lastHeartbeatAt, createdAt: connector.createdAt });
      // Stale, deleted: nothing written.
      assert.deepEqual(await ap.updateConnector({ ...changed, partnerUnresponsivenessThresholdInDays: 9 }), { kind: 'stale', current: 2 });
      assert.deepEqual(await ap.deleteConnector(tenantId, connector.id, 1), { kind: 'stale', current: 2 });
      assert.equal((await ap.getConnector(tenantId, connector.id))?.partnerUnresponsivenessThresholdInDays, 3);
      assert.equal(await ap.getAppConfigVersion(tenantId), 2);
      assert.deepEqual(await ap.deleteConnector(tenantId, connector.id, 2), { kind: 'deleted' });
      assert.deepEqual(await ap.updateConnector({ ...changed, version: 2 }), { kind: 'not_found' });
      assert.equal(await ap.getConnector(tenantId, connector.id), undefined);
      await assertRejectsWith(ap.createConnector(connectorRecord(randomUUID())), 'not_found');
    });

    it('recordConnectorHeartbeat writes the heartbeat over an admin change; enabling bumps the connector version once', async () => {
      const tenantId = await newTenant();
      // A heartbeat writes the heartbeat (and the partner state) only: the stored-only properties stay as they are.
      const connector = await newConnector(tenantId, { partnerState: 'available', graphExtras: { iosEnabled: true } });
      assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 10, false), true);
      assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...connector, lastHeartbeatAt: T0 + 10 });
      assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 20, true), true);
      assert.deepEqual(await ap.getConnector(tenantId, connector.id), { ...connector, partnerState: 'enabled', lastHeartbeatAt: T0 + 20, version: 2, updatedAt: T0 + 20 });
      assert.equal(await ap.recordConnectorHeartbeat(tenantId, connector.id, T0 + 30, true), true);
      assert.equal((await ap.getConnector(tenantId, connector.id))?.version, 2);
      assert.equal(await ap.recordConnectorHeartbeat(tenantId, randomUUID(), T0, true), false);
      assert.equal(await ap.getAppConfigVersion(tenantId), 4);
    });

    it('getConnector and listConnectors stay in their tenant; list ordered by createdAt then id', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const late = await newConnector(tenantId, { createdAt: T0 + 9 });
      const early = await newConnector(tenantId, { createdAt: T0 - 9 });
      const foreign = await newConnector(other);
      assert.deepEqual(await ap.listConnectors(tenantId), [early, late]);
      assert.deepEqual(await ap.listConnectors(other), [foreign]);
      assert.equal(await ap.getConnector(tenantId, foreign.id), undefined);
      assert.deepEqual(await ap.listConnectors(randomUUID()), []);
    });

    it('saveThreatReport upserts the latest report per user, app and device, and records the heartbeat', async () => {
      const tenantId = await newTenant();
      const connector = await newConnector(tenantId);
      const versionBefore = await ap.getAppConfigVersion(tenantId);
      const report = threatReportRecord(connector, { healthState: 'medium', reportedAt: T0 + 10, receivedAt: T0 + 11 });
      await ap.saveThreatReport(report);
      assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [report]);
      assert.equal((await ap.getConnector(tenantId, connector.id))?.lastHeartbeatAt, T0 + 11);
      const newer = { ...report, healthState: 'secured' as const, reportedAt: T0 + 20, receivedAt: T0 + 21 };
      await ap.saveThreatReport(newer);
      assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [newer]);
      // A late report (older lastUpdatedDateTime) does not replace the latest one, but counts as a heartbeat.
      await ap.saveThreatReport({ ...report, healthState: 'high', reportedAt: T0 + 15, receivedAt: T0 + 30 });
      assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), [newer]);
      assert.equal((await ap.getConnector(tenantId, connector.id))?.lastHeartbeatAt, T0 + 30);
      // Reports are read per device: they do not bump the version.
      assert.equal(await ap.getAppConfigVersion(tenantId), versionBefore);
    });

    it('saveThreatReport refuses an unknown connector with not_found and writes nothing', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const foreign = await newConnector(other);
      const report = { ...threatReportRecord(foreign), tenantId };
      await assertRejectsWith(ap.saveThreatReport(report), 'not_found');
      await assertRejectsWith(ap.saveThreatReport({ ...report, connectorId: randomUUID() }), 'not_found');
      assert.deepEqual(await ap.threatReportsFor(tenantId, report.userId, report.azureAdDeviceId), []);
      assert.equal((await ap.getConnector(other, foreign.id))?.lastHeartbeatAt, foreign.lastHeartbeatAt);
    });

    it('listThreatReports lists the tenant’s latest reports, newest first, at most limit, and no other tenant’s', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const connector = await newConnector(tenantId);
      const older = threatReportRecord(connector, { reportedAt: T0 + 1 });
      const newest = threatReportRecord(connector, { reportedAt: T0 + 3, healthState: 'high' });
      const middle = threatReportRecord(connector, { reportedAt: T0 + 2 });
      for (const report of [older, newest, middle]) await ap.saveThreatReport(report);
      await ap.saveThreatReport(threatReportRecord(await newConnector(other), { reportedAt: T0 + 9 }));
      assert.deepEqual(await ap.listThreatReports(tenantId, 10), [newest, middle, older]);
      assert.deepEqual(await ap.listThreatReports(tenantId, 2), [newest, middle]);
    });

    it('threatReportsFor lists every app and connector of the user’s device, newest first, and nothing else', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const [c1, c2] = [await newConnector(tenantId), await newConnector(tenantId)];
      const userId = randomUUID();
      const azureAdDeviceId = randomUUID();
      const edge = threatReportRecord(c1!, { userId, azureAdDeviceId, appId: 'com.microsoft.edge', reportedAt: T0 + 1 });
      const word = threatReportRecord(c1!, { userId, azureAdDeviceId, appId: 'com.microsoft.word', reportedAt: T0 + 3 });
      const fromC2 = threatReportRecord(c2!, { userId, azureAdDeviceId, appId: 'com.microsoft.edge', reportedAt: T0 + 2 });
      for (const report of [edge, word, fromC2]) await ap.saveThreatReport(report);
      await ap.saveThreatReport(threatReportRecord(c1!, { azureAdDeviceId })); // another user on the device
      await ap.saveThreatReport(threatReportRecord(c1!, { userId })); // the user's other device
      const foreignConnector = await newConnector(other);
      await ap.saveThreatReport(threatReportRecord(foreignConnector, { userId, azureAdDeviceId }));
      assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [word, fromC2, edge]);
      assert.equal((await ap.threatReportsFor(other, userId, azureAdDeviceId)).length, 1);
      assert.deepEqual(await ap.threatReportsFor(tenantId, userId, randomUUID()), []);
    });

    it('deleteConnector deletes the connector and every report it made, and bumps; false (no bump) when absent', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const [gone, kept] = [await newConnector(tenantId), await newConnector(tenantId)];
      const userId = randomUUID();
      const azureAdDeviceId = randomUUID();
      await ap.saveThreatReport(threatReportRecord(gone!, { userId, azureAdDeviceId, appId: 'a' }));
      await ap.saveThreatReport(threatReportRecord(gone!, { userId, azureAdDeviceId, appId: 'b' }));
      const keptReport = threatReportRecord(kept!, { userId, azureAdDeviceId });
      await ap.saveThreatReport(keptReport);
      const version = await ap.getAppConfigVersion(tenantId);
      assert.deepEqual(await ap.deleteConnector(other, gone!.id), { kind: 'not_found' });
      assert.deepEqual(await ap.deleteConnector(tenantId, gone!.id), { kind: 'deleted' });
      assert.equal(await ap.getAppConfigVersion(tenantId), version + 1);
      assert.equal(await ap.getConnector(tenantId, gone!.id), undefined);
      assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [keptReport]);
      assert.deepEqual(await ap.deleteConnector(tenantId, gone!.id), { kind: 'not_found' });
      assert.equal(await ap.getAppConfigVersion(tenantId), version + 1);
      // Saved again under the same id, it starts with no reports.
      await newConnector(tenantId, { id: gone!.id });
      assert.deepEqual(await ap.threatReportsFor(tenantId, userId, azureAdDeviceId), [keptReport]);
    });
  });
}
