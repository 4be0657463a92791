import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertOneWinner, enrollmentInput, expectEnrolled, NEW_ENROLLMENT_LIFE, T0 } from '../conformance-support.ts';
import type { DeviceStore, EnrollmentRecord, EnrollmentStore, StoreFixture } from '../conformance-support.ts';

/**
 * EnrollmentStore and DeviceStore (src/store/roles.ts): one active MAM enrollment per device, the device row it
 * upserts, and (enrollmentConcurrencyConformance) the same rule under racing enrollments.
 */
export function enrollmentConformance(fixture: StoreFixture<EnrollmentStore & DeviceStore>): void {
  const { newTenant } = fixture;

  describe('enrollments', () => {
    let store: EnrollmentStore & DeviceStore;

    before(() => {
      store = fixture.store;
    });

    it('enroll inserts the first enrollment of a device', async () => {
      const tenant = await newTenant();
      const input = enrollmentInput(tenant.id);
      const outcome = await store.enroll(input, T0 + 10);
      const expected: EnrollmentRecord = {
        ...input, state: 'enrolled', enrollCount: 1, createdAt: T0 + 10, enrolledAt: T0 + 10, updatedAt: T0 + 10, unenrolledAt: null, ...NEW_ENROLLMENT_LIFE,
      };
      assert.deepEqual(outcome, { kind: 'enrolled', enrollment: expected, replaced: false });
      assert.deepEqual(await store.getEnrollment(input.id), expected);
      assert.deepEqual(await store.getActiveEnrollmentByDevId(input.devId), expected);
    });

    it('keeps null facts as null', async () => {
      const tenant = await newTenant();
      const input = enrollmentInput(tenant.id, {
        upn: null, entraDeviceId: null, applicationVersion: null, requestVersion: null, termsAcceptedAt: null,
        hwDevId: null, deviceName: null, deviceType: null, osEdition: null, osVersion: null, locale: null,
      });
      const enrolled = expectEnrolled(await store.enroll(input, T0));
      assert.deepEqual(await store.getEnrollment(input.id), enrolled);
      assert.equal(enrolled.upn, null);
      assert.equal(enrolled.termsAcceptedAt, null);
    });

    it('re-enrolling the same user replaces in place: same id and createdAt, new fields, enrollCount + 1', async () => {
      const tenant = await newTenant();
      const first = enrollmentInput(tenant.id);
      const original = expectEnrolled(await store.enroll(first, T0));
      const again = enrollmentInput(tenant.id, {
        devId: first.devId, userOid: first.userOid, upn: 'alice.new@contoso.com', entraDeviceId: null,
        applicationVersion: '10.0.26100.1', requestVersion: '5.0', termsAcceptedAt: T0 + 4000, deviceName: 'RENAMED-PC',
        osVersion: '10.0.26100.2', locale: 'de-DE',
      });
      const outcome = await store.enroll(again, T0 + 5000);
      const expected: EnrollmentRecord = {
        ...again, id: original.id, state: 'enrolled', enrollCount: 2,
        createdAt: T0, enrolledAt: T0 + 5000, updatedAt: T0 + 5000, unenrolledAt: null, ...NEW_ENROLLMENT_LIFE,
      };
      assert.deepEqual(outcome, { kind: 'enrolled', enrollment: expected, replaced: true });
      assert.deepEqual(await store.getEnrollment(original.id), expected);
      assert.equal(await store.getEnrollment(again.id), undefined, 'the replacement must not create a second record');
      assert.deepEqual(await store.listEnrollments(tenant.id, { limit: 10 }), [expected]);

      const third = expectEnrolled(await store.enroll(enrollmentInput(tenant.id, { devId: first.devId, userOid: first.userOid }), T0 + 6000));
      assert.equal(third.id, original.id);
      assert.equal(third.enrollCount, 3);
      assert.equal(third.createdAt, T0);
    });

    it('refuses another user of the same tenant with device_taken and writes nothing', async () => {
      const tenant = await newTenant();
      const first = enrollmentInput(tenant.id);
      const existing = expectEnrolled(await store.enroll(first, T0));
      const deviceBefore = await store.getDevice(first.devId);
      const intruder = enrollmentInput(tenant.id, { devId: first.devId, deviceName: 'INTRUDER', osVersion: '11' });
      const outcome = await store.enroll(intruder, T0 + 100);
      assert.deepEqual(outcome, { kind: 'device_taken', existing });
      assert.equal(await store.getEnrollment(intruder.id), undefined);
      assert.deepEqual(await store.getActiveEnrollmentByDevId(first.devId), existing);
      assert.deepEqual(await store.getDevice(first.devId), deviceBefore);
      assert.deepEqual(await store.listEnrollments(tenant.id, { limit: 10 }), [existing]);
    });

    it('refuses the same user in another tenant with device_taken and writes nothing', async () => {
      const home = await newTenant();
      const other = await newTenant();
      const first = enrollmentInput(home.id);
      const existing = expectEnrolled(await store.enroll(first, T0));
      const deviceBefore = await store.getDevice(first.devId);
      const elsewhere = enrollmentInput(other.id, { devId: first.devId, userOid: first.userOid, deviceName: 'ELSEWHERE' });
      const outcome = await store.enroll(elsewhere, T0 + 100);
      assert.deepEqual(outcome, { kind: 'device_taken', existing });
      assert.equal(await store.getEnrollment(elsewhere.id), undefined);
      assert.deepEqual(await store.listEnrollments(other.id, { limit: 10 }), []);
      assert.deepEqual(await store.getDevice(first.devId), deviceBefore);
      assert.deepEqual(await store.getActiveEnrollmentByDevId(first.devId), existing);
    });

    it('markUnenrolled ends an active enrollment once', async () => {
      const tenant = await newTenant();
      const enrolled = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
      assert.equal(await store.markUnenrolled(enrolled.id, T0 + 50), true);
      const expected: EnrollmentRecord = { ...enrolled, state: 'unenrolled', unenrolledAt: T0 + 50, updatedAt: T0 + 50, unenrollReason: 'user' };
      assert.deepEqual(await store.getEnrollment(enrolled.id), expected);
      assert.equal(await store.getActiveEnrollmentByDevId(enrolled.devId), undefined);
      assert.equal(await store.markUnenrolled(enrolled.id, T0 + 60), false, 'already unenrolled');
      assert.deepEqual(await store.getEnrollment(enrolled.id), expected, 'a second markUnenrolled must change nothing');
      assert.equal(await store.markUnenrolled(randomUUID(), T0), false, 'unknown id');
    });

    it('after markUnenrolled, another user may enroll the device; the old record stays unenrolled', async () => {
      const tenant = await newTenant();
      const first = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
      await store.markUnenrolled(first.id, T0 + 1);
      const nextInput = enrollmentInput(tenant.id, { devId: first.devId });
      const outcome = await store.enroll(nextInput, T0 + 2);
      assert.equal(outcome.kind, 'enrolled');
      assert.ok(outcome.kind === 'enrolled');
      assert.equal(outcome.replaced, false);
      assert.equal(outcome.enrollment.id, nextInput.id);
      assert.equal(outcome.enrollment.userOid, nextInput.userOid);
      assert.equal(outcome.enrollment.enrollCount, 1);
      assert.equal(outcome.enrollment.createdAt, T0 + 2);
      assert.deepEqual(await store.getActiveEnrollmentByDevId(first.devId), outcome.enrollment);
      assert.equal((await store.getEnrollment(first.id))?.state, 'unenrolled');
    });

    it('after markUnenrolled, another tenant may enroll the device', async () => {
      const home = await newTenant();
      const other = await newTenant();
      const first = expectEnrolled(await store.enroll(enrollmentInput(home.id), T0));
      await store.markUnenrolled(first.id, T0 + 1);
      const moved = expectEnrolled(await store.enroll(enrollmentInput(other.id, { devId: first.devId, userOid: first.userOid }), T0 + 2));
      assert.equal(moved.tenantId, other.id);
      assert.notEqual(moved.id, first.id);
      assert.equal((await store.getDevice(first.devId))?.tenantId, other.id);
    });

    it('after markUnenrolled, the same user enrolls afresh: a new record counting from 1', async () => {
      const tenant = await newTenant();
      const first = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
      await store.markUnenrolled(first.id, T0 + 1);
      const againInput = enrollmentInput(tenant.id, { devId: first.devId, userOid: first.userOid });
      const outcome = await store.enroll(againInput, T0 + 2);
      assert.ok(outcome.kind === 'enrolled');
      assert.equal(outcome.replaced, false);
      assert.equal(outcome.enrollment.id, againInput.id);
      assert.equal(outcome.enrollment.enrollCount, 1);
      assert.equal(outcome.enrollment.createdAt, T0 + 2);
      assert.equal((await store.listEnrollments(tenant.id, { limit: 10 })).length, 2);
    });

    it('getEnrollment and getActiveEnrollmentByDevId answer undefined for unknown ids', async () => {
      assert.equal(await store.getEnrollment(randomUUID()), undefined);
      assert.equal(await store.getActiveEnrollmentByDevId(`dev-${randomUUID()}`), undefined);
    });

    it('listEnrollments: newest enrolledAt first, at most limit, optionally one state, one tenant only', async () => {
      const tenant = await newTenant();
      const neighbour = await newTenant();
      await store.enroll(enrollmentInput(neighbour.id), T0 + 500);
      const times = [T0 + 30, T0 + 10, T0 + 40, T0 + 20];
      const enrolled: EnrollmentRecord[] = [];
      for (const at of times) enrolled.push(expectEnrolled(await store.enroll(enrollmentInput(tenant.id), at)));
      const byNewest = [...enrolled].sort((a, b) => b.enrolledAt - a.enrolledAt);

      assert.deepEqual(await store.listEnrollments(tenant.id, { limit: 10 }), byNewest);
      assert.deepEqual(await store.listEnrollments(tenant.id, { limit: 2 }), byNewest.slice(0, 2));
      assert.deepEqual(await store.listEnrollments(tenant.id, { limit: 0 }), []);

      const gone = enrolled[2]!; // T0 + 40, the newest
      await store.markUnenrolled(gone.id, T0 + 50);
      const active = await store.listEnrollments(tenant.id, { limit: 10, state: 'enrolled' });
      assert.deepEqual(active.map((e) => e.id), byNewest.filter((e) => e.id !== gone.id).map((e) => e.id));
      const ended = await store.listEnrollments(tenant.id, { limit: 10, state: 'unenrolled' });
      assert.deepEqual(ended.map((e) => [e.id, e.state]), [[gone.id, 'unenrolled']]);
      assert.deepEqual(await store.listEnrollments(randomUUID(), { limit: 10 }), []);
    });
  });

  describe('devices', () => {
    let store: EnrollmentStore & DeviceStore;

    before(() => {
      store = fixture.store;
    });

    it('getDevice answers undefined for an unknown device', async () => {
      assert.equal(await store.getDevice(`dev-${randomUUID()}`), undefined);
    });

    it('enroll upserts the device with the latest facts, keeping createdAt', async () => {
      const tenant = await newTenant();
      const first = enrollmentInput(tenant.id);
      await store.enroll(first, T0);
      assert.deepEqual(await store.getDevice(first.devId), {
        devId: first.devId, tenantId: tenant.id, entraDeviceId: first.entraDeviceId,
        hwDevId: first.hwDevId, deviceName: first.deviceName, deviceType: first.deviceType,
        osEdition: first.osEdition, osVersion: first.osVersion, locale: first.locale,
        createdAt: T0, updatedAt: T0,
      });

      const again = enrollmentInput(tenant.id, {
        devId: first.devId, userOid: first.userOid, entraDeviceId: randomUUID(), hwDevId: 'HW-2', deviceName: 'LAPTOP-2',
        deviceType: 'Virtual', osEdition: '48', osVersion: '10.0.26100.1', locale: 'fr-FR',
      });
      await store.enroll(again, T0 + 777);
      assert.deepEqual(await store.getDevice(first.devId), {
        devId: first.devId, tenantId: tenant.id, entraDeviceId: again.entraDeviceId,
        hwDevId: 'HW-2', deviceName: 'LAPTOP-2', deviceType: 'Virtual', osEdition: '48', osVersion: '10.0.26100.1', locale: 'fr-FR',
        createdAt: T0, updatedAt: T0 + 777,
      });
    });
  });
}

/** EnrollmentStore's rule of one active enrollment per device, under racing enrollments. */
export function enrollmentConcurrencyConformance(fixture: StoreFixture<EnrollmentStore>): void {
  const { newTenant } = fixture;

  describe('concurrency', () => {
    let store: EnrollmentStore;

    before(() => {
      store = fixture.store;
    });

    it('two users enrolling one device at once: exactly one enrolled, the other device_taken', async () => {
      const tenant = await newTenant();
      const devices = Array.from({ length: 10 }, () => `dev-${randomUUID()}`);
      const rounds = await Promise.all(
        devices.map((devId) =>
          Promise.all([
            store.enroll(enrollmentInput(tenant.id, { devId }), T0 + 1),
            store.enroll(enrollmentInput(tenant.id, { devId }), T0 + 2),
          ]),
        ),
      );
      for (const [i, outcomes] of rounds.entries()) assertOneWinner(outcomes, await store.getActiveEnrollmentByDevId(devices[i]!));
      const rows = await store.listEnrollments(tenant.id, { limit: 100 });
      assert.equal(rows.length, devices.length, 'exactly one enrollment per device was written');
    });

    it('many tenants and users racing for one device: exactly one winner', async () => {
      const tenants = await Promise.all([newTenant(), newTenant(), newTenant()]);
      const devId = `dev-${randomUUID()}`;
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.enroll(enrollmentInput(tenants[i % tenants.length]!.id, { devId }), T0 + i)),
      );
      assertOneWinner(outcomes, await store.getActiveEnrollmentByDevId(devId));
      const written = (await Promise.all(tenants.map((t) => store.listEnrollments(t.id, { limit: 100 })))).flat();
      assert.equal(written.length, 1);
    });

    it('the same user enrolling one device twice at once: one record, enrollCount 2', async () => {
      const tenant = await newTenant();
      const base = enrollmentInput(tenant.id);
      const outcomes = await Promise.all([store.enroll(base, T0 + 1), store.enroll({ ...base, id: randomUUID() }, T0 + 1)]);
      assert.deepEqual(outcomes.map((o) => o.kind), ['enrolled', 'enrolled']);
      assert.deepEqual(outcomes.map((o) => o.kind === 'enrolled' && o.replaced).sort(), [false, true]);
      const rows = await store.listEnrollments(tenant.id, { limit: 10 });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.enrollCount, 2);
      assert.equal(rows[0]!.state, 'enrolled');
    });
  });
}
