import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { EnrollmentRecord, TenantRecord, TenantSettings } from '../../src/store/records.ts';
import type { EnrollmentInput, EnrollOutcome, SecretStore, Store } from '../../src/store/roles.ts';

/**
 * The contract of src/store/roles.ts, for every backend. `open` must return a store on the same database each time
 * it is called (the suite opens a second instance to check persistence); the database may hold data of earlier runs,
 * so every test works with its own random ids.
 */
export function storeConformance(name: string, open: () => Promise<Store & SecretStore>, options: { skip?: string } = {}): void {
  describe(`store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store & SecretStore;

    before(async () => {
      store = await open();
    });

    after(async () => {
      await store?.close();
    });

    async function newTenant(overrides: Partial<TenantRecord> = {}): Promise<TenantRecord> {
      const tenant = tenantRecord(overrides);
      await store.createTenant(tenant);
      return tenant;
    }

    describe('lifecycle', () => {
      it('names its backend', () => {
        assert.ok(store.backend === 'sqlite' || store.backend === 'postgres', `backend ${String(store.backend)}`);
      });

      it('ping() answers', async () => {
        await store.ping();
      });

      it('migrate() is idempotent and keeps the data', async () => {
        const tenant = await newTenant();
        const enrolled = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.getTenant(tenant.id), tenant);
        assert.deepEqual(await store.getEnrollment(enrolled.id), enrolled);
      });

      it('a second store on the same database sees the same data', async () => {
        const tenant = await newTenant();
        const enrolled = expectEnrolled(await store.enroll(enrollmentInput(tenant.id), T0));
        const second = await open();
        try {
          await second.migrate();
          assert.deepEqual(await second.getTenant(tenant.id), tenant);
          assert.deepEqual(await second.getActiveEnrollmentByDevId(enrolled.devId), enrolled);
          const secretName = `shared-${randomUUID()}`;
          const stored = await store.getOrCreateSecret(secretName, bytes(32));
          assert.deepEqual(await second.getOrCreateSecret(secretName, bytes(32)), stored);
        } finally {
          await second.close();
        }
      });

      it('close() waits for running work, then refuses new work', async () => {
        const tenant = await newTenant();
        const second = await open();
        const input = enrollmentInput(tenant.id);
        const running = second.enroll(input, T0);
        const closing = second.close();
        expectEnrolled(await running);
        await closing;
        await second.close(); // idempotent
        await assert.rejects(second.ping());
        assert.equal((await store.getEnrollment(input.id))?.state, 'enrolled');
      });
    });

    describe('tenants', () => {
      it('creates a tenant and reads it back exactly', async () => {
        const entra = await newTenant();
        const builtin = await newTenant({ identityProvider: 'builtin', enrollmentAllowed: false, createdAt: T0 + 1, updatedAt: T0 + 2 });
        assert.deepEqual(await store.getTenant(entra.id), entra);
        assert.deepEqual(await store.getTenant(builtin.id), builtin);
        const read = await store.getTenant(builtin.id);
        assert.equal(typeof read?.createdAt, 'number');
        assert.equal(read?.enrollmentAllowed, false);
      });

      it('getTenant answers undefined for a tenant never onboarded', async () => {
        assert.equal(await store.getTenant(randomUUID()), undefined);
      });

      it('createTenant refuses an existing id with conflict and keeps the original', async () => {
        const original = await newTenant();
        await assertRejectsWith(store.createTenant({ ...original, name: 'Impostor', createdAt: T0 + 9 }), 'conflict');
        assert.deepEqual(await store.getTenant(original.id), original);
      });

      it('listTenants orders by creation time, oldest first', async () => {
        const late = await newTenant({ createdAt: T0 + 300 });
        const early = await newTenant({ createdAt: T0 - 300 });
        const middle = await newTenant({ createdAt: T0 });
        const all = await store.listTenants();
        const ours = all.filter((t) => [late.id, early.id, middle.id].includes(t.id));
        assert.deepEqual(ours, [early, middle, late]);
        for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.createdAt <= all[i]!.createdAt, 'listTenants is not ordered by createdAt');
      });

      it('updateTenant replaces the given fields, keeps the others, and answers the new record', async () => {
        const tenant = await newTenant();
        const settings: TenantSettings = {
          requireTermsOfUse: false,
          termsOfUseText: 'Second version.',
          pollSchedule: { ...tenant.settings.pollSchedule, numberOfFirstRetries: 3, pollOnLogin: false },
        };
        const updated = await store.updateTenant(tenant.id, { name: 'Fabrikam', enrollmentAllowed: false, settings, updatedAt: T0 + 1000 });
        const expected: TenantRecord = { ...tenant, name: 'Fabrikam', enrollmentAllowed: false, settings, updatedAt: T0 + 1000 };
        assert.deepEqual(updated, expected);
        assert.deepEqual(await store.getTenant(tenant.id), expected);
      });

      it('updateTenant with only some fields leaves the rest alone', async () => {
        const tenant = await newTenant({ enrollmentAllowed: false });
        const renamed = await store.updateTenant(tenant.id, { name: 'Renamed', updatedAt: T0 + 1 });
        assert.deepEqual(renamed, { ...tenant, name: 'Renamed', updatedAt: T0 + 1 });
        const reopened = await store.updateTenant(tenant.id, { enrollmentAllowed: true, updatedAt: T0 + 2 });
        assert.deepEqual(reopened, { ...tenant, name: 'Renamed', enrollmentAllowed: true, updatedAt: T0 + 2 });
        const touched = await store.updateTenant(tenant.id, { updatedAt: T0 + 3 });
        assert.deepEqual(touched, { ...reopened, updatedAt: T0 + 3 });
      });

      it('updateTenant refuses an unknown tenant with not_found and creates nothing', async () => {
        const id = randomUUID();
        await assertRejectsWith(store.updateTenant(id, { name: 'Ghost', updatedAt: T0 }), 'not_found');
        assert.equal(await store.getTenant(id), undefined);
      });
    });

    describe('enrollments', () => {
      it('enroll inserts the first enrollment of a device', async () => {
        const tenant = await newTenant();
        const input = enrollmentInput(tenant.id);
        const outcome = await store.enroll(input, T0 + 10);
        const expected: EnrollmentRecord = {
          ...input, state: 'enrolled', enrollCount: 1, createdAt: T0 + 10, enrolledAt: T0 + 10, updatedAt: T0 + 10, unenrolledAt: null,
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
          createdAt: T0, enrolledAt: T0 + 5000, updatedAt: T0 + 5000, unenrolledAt: null,
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
        const expected: EnrollmentRecord = { ...enrolled, state: 'unenrolled', unenrolledAt: T0 + 50, updatedAt: T0 + 50 };
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

    describe('secrets', () => {
      it('getOrCreateSecret stores the first candidate and answers it to every later caller', async () => {
        const name = `secret-${randomUUID()}`;
        const first = bytes(32);
        assert.deepEqual(await store.getOrCreateSecret(name, first), first);
        assert.deepEqual(await store.getOrCreateSecret(name, bytes(32)), first);
        const other = bytes(16);
        assert.deepEqual(await store.getOrCreateSecret(`${name}-other`, other), other, 'names are independent');
      });

      it('keeps every byte value, including zeros and 0xff', async () => {
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        assert.deepEqual(await store.getOrCreateSecret(`bytes-${randomUUID()}`, all), all);
      });

      it('concurrent first callers all get the same secret', async () => {
        const name = `race-${randomUUID()}`;
        const candidates = Array.from({ length: 6 }, () => bytes(32));
        const answers = await Promise.all(candidates.map((c) => store.getOrCreateSecret(name, c)));
        assert.ok(candidates.some((c) => isDeepStrictEqual(c, answers[0])), 'the answer is one of the candidates');
        for (const answer of answers) assert.deepEqual(answer, answers[0]);
      });
    });

    describe('concurrency', () => {
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
  });
}

/** 2025-06-15: well past 2^32, so a backend that loses bigint precision or returns strings fails. */
const T0 = 1_750_000_000_000;

function tenantRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id: randomUUID(),
    name: 'Contoso',
    identityProvider: 'entra',
    enrollmentAllowed: true,
    settings: {
      requireTermsOfUse: true,
      termsOfUseText: 'Company data stays protected.\n\nÄnderungen vorbehalten — “quotes” ✓',
      pollSchedule: {
        numberOfFirstRetries: 8,
        intervalForFirstSetOfRetries: 15,
        numberOfSecondRetries: 5,
        intervalForSecondSetOfRetries: 60,
        numberOfRemainingScheduledRetries: 0,
        intervalForRemainingScheduledRetries: 480,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: false,
      },
    },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function enrollmentInput(tenantId: string, overrides: Partial<EnrollmentInput> = {}): EnrollmentInput {
  return {
    id: randomUUID(),
    tenantId,
    devId: `dev-${randomUUID()}`,
    userOid: randomUUID(),
    upn: 'alice@contoso.com',
    entraDeviceId: randomUUID(),
    enrollmentType: 'MAM',
    applicationVersion: '10.0.22631.2861',
    requestVersion: '4.0',
    termsAcceptedAt: T0 - 60_000,
    hwDevId: `HW-${randomUUID()}`,
    deviceName: 'DESKTOP-ALICE',
    deviceType: 'CloudPC',
    osEdition: '4',
    osVersion: '10.0.22631.2861',
    locale: 'en-US',
    ...overrides,
  };
}

function bytes(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}

function expectEnrolled(outcome: EnrollOutcome): EnrollmentRecord {
  assert.equal(outcome.kind, 'enrolled', `expected enrolled, got ${JSON.stringify(outcome)}`);
  assert.ok(outcome.kind === 'enrolled');
  return outcome.enrollment;
}

function assertOneWinner(outcomes: EnrollOutcome[], active: EnrollmentRecord | undefined): void {
  const winners = outcomes.filter((o) => o.kind === 'enrolled');
  const losers = outcomes.filter((o) => o.kind === 'device_taken');
  assert.equal(winners.length, 1, `exactly one enroll must win, got ${JSON.stringify(outcomes.map((o) => o.kind))}`);
  assert.equal(losers.length, outcomes.length - 1);
  const winner = winners[0]!;
  assert.ok(winner.kind === 'enrolled');
  assert.equal(winner.replaced, false);
  assert.deepEqual(active, winner.enrollment);
  for (const loser of losers) {
    assert.ok(loser.kind === 'device_taken');
    assert.deepEqual(loser.existing, winner.enrollment);
  }
}

async function assertRejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isOpenMamError(err), `expected an OpenMamError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}
