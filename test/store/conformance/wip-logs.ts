import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertRejectsWith, compareKeys, MAX_WIP_LOG_REQUESTS_PER_DEVICE, T0 } from '../conformance-support.ts';
import type { ManagementStore, StoreFixture, SyncOutcome, WipLogRequestRecord, WipLogStore } from '../conformance-support.ts';

/**
 * WipLogStore (src/store/roles.ts): a device's WIP log requests, bounded to its newest MAX_WIP_LOG_REQUESTS_PER_DEVICE,
 * listed in a tenant newest first; pending until a check-in answers them (ManagementStore's applySyncOutcome), and a
 * request unsettles the device so that its next check-in plans the retrieval.
 */
export function wipLogConformance(fixture: StoreFixture<WipLogStore & ManagementStore>): void {
  const { newTenant, newEnrollment } = fixture;

  describe('WIP log requests', () => {
    let store: WipLogStore & ManagementStore;

    before(() => {
      store = fixture.store;
    });

    function request(enrollment: { tenantId: string; id: string }, overrides: Partial<WipLogRequestRecord> = {}): WipLogRequestRecord {
      return {
        id: randomUUID(),
        tenantId: enrollment.tenantId,
        enrollmentId: enrollment.id,
        mode: 'timeRange',
        startTime: '2025-06-01T00:00:00Z',
        stopTime: null,
        logCount: null,
        logType: 0,
        status: 'pending',
        statusCode: null,
        requestedAt: T0,
        completedAt: null,
        logs: null,
        entries: null,
        ...overrides,
      };
    }

    function answered(enrollmentId: string, wipLogResults: NonNullable<SyncOutcome['wipLogResults']>): SyncOutcome {
      return { enrollmentId, now: T0 + 1000, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], wipLogResults };
    }

    /** Newest first, the id (descending) between equal times: listWipLogRequests' order. */
    function newestFirst(requests: readonly WipLogRequestRecord[]): WipLogRequestRecord[] {
      return [...requests].sort((a, b) => b.requestedAt - a.requestedAt || compareKeys(b.id, a.id));
    }

    it('requestWipLogs keeps every field; listWipLogRequests answers newest first, pendingWipLogRequests oldest first', async () => {
      const enrollment = await newEnrollment();
      const timeRange = request(enrollment, { requestedAt: T0 + 20, stopTime: '2025-06-02T12:30:00Z', logType: 1 });
      const count = request(enrollment, { requestedAt: T0 + 10, mode: 'count', startTime: null, logCount: 250 });
      const [tieA, tieB] = [request(enrollment, { requestedAt: T0 + 30 }), request(enrollment, { requestedAt: T0 + 30 })];
      // Recorded out of time order: the order is the requests' times, not the order of writing.
      for (const r of [timeRange, tieA, count, tieB]) await store.requestWipLogs(r);
      const expected = newestFirst([timeRange, count, tieA, tieB]);
      assert.deepEqual(await store.listWipLogRequests(enrollment.tenantId, enrollment.id, 10), expected);
      assert.deepEqual(await store.pendingWipLogRequests(enrollment.id), [...expected].reverse());
      assert.deepEqual(await store.listWipLogRequests(enrollment.tenantId, enrollment.id, 2), expected.slice(0, 2), 'at most limit, the newest');
      assert.deepEqual(await store.listWipLogRequests(enrollment.tenantId, enrollment.id, 0), []);
    });

    it('requestWipLogs refuses an unknown enrollment, and one of another tenant, with not_found; nothing is recorded', async () => {
      const enrollment = await newEnrollment();
      const other = await newTenant();
      await assertRejectsWith(store.requestWipLogs(request({ tenantId: enrollment.tenantId, id: randomUUID() })), 'not_found');
      await assertRejectsWith(store.requestWipLogs(request({ tenantId: other.id, id: enrollment.id })), 'not_found');
      assert.deepEqual(await store.pendingWipLogRequests(enrollment.id), []);
      assert.deepEqual(await store.listWipLogRequests(enrollment.tenantId, enrollment.id, 10), []);
      assert.deepEqual(await store.listWipLogRequests(other.id, enrollment.id, 10), []);
      assert.equal((await store.getManagedDevice(enrollment.devId))?.management.settledVersion, 0, 'a refused request unsettles nothing');
    });

    it('a request unsettles its device only: the next check-in plans, where it had nothing new to receive', async () => {
      const tenant = await newTenant();
      const [device, neighbour] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      for (const e of [device, neighbour]) assert.equal(await store.applySyncOutcome({ ...answered(e.id, []), management: { settledVersion: 0 } }), true);
      const settled = await store.getManagedDevice(device.devId);
      assert.equal(settled?.management.settledVersion, settled?.configVersion, 'settled before the request');
      await store.requestWipLogs(request(device));
      const managed = await store.getManagedDevice(device.devId);
      assert.notEqual(managed?.management.settledVersion, managed?.configVersion, 'unsettled');
      assert.deepEqual(managed?.enrollment, settled?.enrollment, 'the enrollment itself is unchanged');
      const other = await store.getManagedDevice(neighbour.devId);
      assert.equal(other?.management.settledVersion, other?.configVersion, 'another device of the tenant stays settled');
    });

    it('pending means unanswered: a completed or failed request leaves the pending list and keeps its answer', async () => {
      const enrollment = await newEnrollment();
      const [done, failed, waiting] = [T0 + 1, T0 + 2, T0 + 3].map((requestedAt) => request(enrollment, { requestedAt }));
      for (const r of [done!, failed!, waiting!]) await store.requestWipLogs(r);
      const entries: Record<string, string>[] = [{ Timestamp: '2025-06-01T10:00:00Z', Action: 'Copy', Path: 'C:\\Ä ✓\\"quoted".docx' }, { Timestamp: '2025-06-01T10:00:01Z' }];
      const logs = '<Logs><Log Timestamp="2025-06-01T10:00:00Z">…</Log></Logs>';
      assert.equal(
        await store.applySyncOutcome(
          answered(enrollment.id, [
            { id: done!.id, status: 'completed', statusCode: null, logs, entries, completedAt: T0 + 100 },
            { id: failed!.id, status: 'failed', statusCode: '404', logs: null, entries: null, completedAt: T0 + 101 },
          ]),
        ),
        true,
      );
      assert.deepEqual(await store.pendingWipLogRequests(enrollment.id), [waiting]);
      assert.deepEqual(await store.listWipLogRequests(enrollment.tenantId, enrollment.id, 10), [
        waiting,
        { ...failed!, status: 'failed', statusCode: '404', completedAt: T0 + 101 },
        { ...done!, status: 'completed', logs, entries, completedAt: T0 + 100 },
      ]);
    });

    it('an answer in another device\'s check-in does not complete the request', async () => {
      const tenant = await newTenant();
      const [device, intruder] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      const pending = request(device);
      await store.requestWipLogs(pending);
      await store.applySyncOutcome(answered(intruder.id, [{ id: pending.id, status: 'completed', statusCode: null, logs: '<Logs/>', entries: [], completedAt: T0 + 100 }]));
      assert.deepEqual(await store.pendingWipLogRequests(device.id), [pending]);
      assert.deepEqual(await store.listWipLogRequests(tenant.id, device.id, 10), [pending]);
    });

    it('each device\'s requests are its own; a tenant lists only its own devices\' requests', async () => {
      const tenant = await newTenant();
      const [a, b] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      const foreign = await newEnrollment();
      const ofA = request(a, { requestedAt: T0 + 1 });
      const ofB = request(b, { requestedAt: T0 + 2 });
      const ofForeign = request(foreign, { requestedAt: T0 + 3 });
      for (const r of [ofA, ofB, ofForeign]) await store.requestWipLogs(r);
      assert.deepEqual(await store.pendingWipLogRequests(a.id), [ofA]);
      assert.deepEqual(await store.listWipLogRequests(tenant.id, a.id, 10), [ofA]);
      assert.deepEqual(await store.listWipLogRequests(tenant.id, foreign.id, 10), [], 'another tenant\'s device, named by its id');
      assert.deepEqual(await store.listWipLogRequests(foreign.tenantId, a.id, 10), []);
      assert.deepEqual(await store.listWipLogRequests(foreign.tenantId, foreign.id, 10), [ofForeign]);
      assert.deepEqual(await store.pendingWipLogRequests(randomUUID()), []);
    });

    it(`a device keeps its newest ${MAX_WIP_LOG_REQUESTS_PER_DEVICE} requests, answered or not; another device's are not counted`, async () => {
      const tenant = await newTenant();
      const [device, neighbour] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
      const neighbours = [1, 2, 3].map((i) => request(neighbour, { requestedAt: T0 + i }));
      for (const r of neighbours) await store.requestWipLogs(r);
      // More than the bound, in an order that is not their time order.
      const total = MAX_WIP_LOG_REQUESTS_PER_DEVICE + 5;
      const times = Array.from({ length: total }, (_, i) => T0 + 100 + ((i * 7) % total));
      const requests = times.map((requestedAt) => request(device, { requestedAt }));
      for (const [i, r] of requests.entries()) {
        await store.requestWipLogs(r);
        // The oldest three are answered early: answered requests count against the bound too.
        if (i < 3) await store.applySyncOutcome(answered(device.id, [{ id: r.id, status: 'failed', statusCode: '500', logs: null, entries: null, completedAt: T0 + 1000 }]));
        const kept = await store.listWipLogRequests(tenant.id, device.id, 100);
        assert.equal(kept.length, Math.min(i + 1, MAX_WIP_LOG_REQUESTS_PER_DEVICE), `after ${i + 1} requests`);
      }
      const answeredIds = new Set(requests.slice(0, 3).map((r) => r.id));
      const stored = (r: WipLogRequestRecord): WipLogRequestRecord => (answeredIds.has(r.id) ? { ...r, status: 'failed', statusCode: '500', completedAt: T0 + 1000 } : r);
      const newest = newestFirst(requests).slice(0, MAX_WIP_LOG_REQUESTS_PER_DEVICE);
      assert.deepEqual(await store.listWipLogRequests(tenant.id, device.id, 100), newest.map(stored));
      assert.deepEqual(await store.pendingWipLogRequests(device.id), newest.filter((r) => !answeredIds.has(r.id)).reverse());
      assert.deepEqual(await store.listWipLogRequests(tenant.id, neighbour.id, 100), newestFirst(neighbours), 'the neighbour keeps all of its own');
      // A request older than every kept one is itself the oldest: it goes at once.
      const late = request(device, { requestedAt: T0 });
      await store.requestWipLogs(late);
      assert.deepEqual(await store.listWipLogRequests(tenant.id, device.id, 100), newest.map(stored));
    });

    it(`concurrent requests of one device: the bound of ${MAX_WIP_LOG_REQUESTS_PER_DEVICE} holds`, async () => {
      const device = await newEnrollment();
      const first = Array.from({ length: MAX_WIP_LOG_REQUESTS_PER_DEVICE }, (_, i) => request(device, { requestedAt: T0 + i }));
      for (const r of first) await store.requestWipLogs(r);
      const racing = Array.from({ length: 6 }, (_, i) => request(device, { requestedAt: T0 + 100 + i }));
      await Promise.all(racing.map((r) => store.requestWipLogs(r)));
      const kept = await store.listWipLogRequests(device.tenantId, device.id, 100);
      assert.equal(kept.length, MAX_WIP_LOG_REQUESTS_PER_DEVICE, 'the bound holds');
      assert.deepEqual(kept, newestFirst([...first, ...racing]).slice(0, MAX_WIP_LOG_REQUESTS_PER_DEVICE));
    });
  });
}
