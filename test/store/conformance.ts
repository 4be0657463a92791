import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isOpenMamError } from '../../src/errors.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type {
  ConfigurationSetRecord,
  EnrollmentRecord,
  GroupRecord,
  ManagementSessionRecord,
  ManagementState,
  MessageLogRecord,
  NodeStateRecord,
  PolicyRecord,
  TenantRecord,
  TenantSettings,
} from '../../src/store/records.ts';
import { NEW_ENROLLMENT_LIFE } from '../../src/store/records.ts';
import type { EnrollmentInput, EnrollOutcome, SecretStore, Store, SyncOutcome } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of src/store/roles.ts, for every backend. `open` must return a store on the same database each time
 * it is called (the suite opens a second instance to check persistence); the database may hold data of earlier runs,
 * so every test works with its own random ids.
 */
export function storeConformance(name: string, open: () => Promise<Store & SecretStore>, options: { skip?: string } = {}): void {
  skippableSuite(`store conformance: ${name}`, { skip: options.skip ?? false }, () => {
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

      it('updateTenant writes the tenant at the version it was read, one version up', async () => {
        const tenant = await newTenant();
        const settings: TenantSettings = {
          requireTermsOfUse: false,
          termsOfUseText: 'Second version.',
          pollSchedule: { ...tenant.settings.pollSchedule, numberOfFirstRetries: 3, pollOnLogin: false },
        };
        const next: TenantRecord = { ...tenant, name: 'Fabrikam', enrollmentAllowed: false, settings, updatedAt: T0 + 1000 };
        assert.deepEqual(await store.updateTenant(next), { kind: 'saved', version: tenant.version + 1 });
        assert.deepEqual(await store.getTenant(tenant.id), { ...next, version: tenant.version + 1 });
      });

      it('updateTenant is a compare-and-set: a write from a stale read is refused and writes nothing', async () => {
        const tenant = await newTenant();
        assert.equal((await store.updateTenant({ ...tenant, name: 'First', updatedAt: T0 + 1 })).kind, 'saved');
        assert.deepEqual(await store.updateTenant({ ...tenant, name: 'Lost', updatedAt: T0 + 2 }), { kind: 'stale', current: tenant.version + 1 });
        assert.equal((await store.getTenant(tenant.id))?.name, 'First');
        const racing = await Promise.all([0, 1, 2, 3].map((i) => store.updateTenant({ ...tenant, version: tenant.version + 1, name: `Racer ${i}` })));
        assert.equal(racing.filter((r) => r.kind === 'saved').length, 1, JSON.stringify(racing));
      });

      it('updateTenant puts a configuration set in the same write, and not when the write is refused', async () => {
        const tenant = await newTenant();
        const before = await store.getConfigurationVersion(tenant.id);
        const set = (name: string): ConfigurationSetRecord => ({ id: 'poll', tenantId: tenant.id, name, target: { kind: 'all_devices' }, settings: [], createdAt: T0, updatedAt: T0 });
        assert.equal((await store.updateTenant({ ...tenant, version: tenant.version + 5 }, set('stale'))).kind, 'stale');
        assert.equal(await store.getConfigurationSet(tenant.id, 'poll'), undefined);
        assert.equal((await store.updateTenant(tenant, set('saved'))).kind, 'saved');
        assert.equal((await store.getConfigurationSet(tenant.id, 'poll'))?.name, 'saved');
        assert.equal(await store.getConfigurationVersion(tenant.id), before + 1, 'devices re-plan once');
      });

      it('updateTenant of an unknown tenant is not_found and creates nothing', async () => {
        const ghost = tenantRecord();
        assert.deepEqual(await store.updateTenant(ghost), { kind: 'not_found' });
        assert.equal(await store.getTenant(ghost.id), undefined);
      });
    });

    describe('enrollments', () => {
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

      it('deleteSecretsOlderThan deletes only the prefix\'s secrets older than the age, at most `limit`', async () => {
        const prefix = `marker-${randomUUID()}:`;
        const markers = [`${prefix}a`, `${prefix}b`, `${prefix}c`];
        for (const name of markers) await store.getOrCreateSecret(name, bytes(16));
        const other = `other-${randomUUID()}`;
        const kept = await store.getOrCreateSecret(other, bytes(16));
        assert.equal(await store.deleteSecretsOlderThan(prefix, 3600_000, 10), 0, 'none is an hour old');
        await new Promise((resolve) => setTimeout(resolve, 5));
        assert.equal(await store.deleteSecretsOlderThan(prefix, 0, 2), 2, 'at most the limit');
        assert.equal(await store.deleteSecretsOlderThan(prefix, 0, 10), 1);
        const fresh = bytes(16);
        assert.deepEqual(await store.getOrCreateSecret(markers[0]!, fresh), fresh, 'deleted: a new candidate is stored');
        assert.deepEqual(await store.getOrCreateSecret(other, bytes(16)), kept, 'another name is untouched');
        await assert.rejects(store.deleteSecretsOlderThan('a%', 0, 1), /wildcards/);
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

    describe('configuration sets', () => {
      it('the version starts at 0, also for a tenant never onboarded', async () => {
        const tenant = await newTenant();
        assert.equal(await store.getConfigurationVersion(tenant.id), 0);
        assert.equal(await store.getConfigurationVersion(randomUUID()), 0);
      });

      it('putConfigurationSet creates a set, reads back exactly, and bumps the version', async () => {
        const tenant = await newTenant();
        const set = configurationSet(tenant.id, 'baseline');
        assert.equal(await store.putConfigurationSet(set), 1);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'baseline'), set);
        assert.equal(await store.getConfigurationSet(tenant.id, 'other'), undefined);
        assert.equal(await store.getConfigurationSet(randomUUID(), 'baseline'), undefined, 'sets belong to their tenant');
      });

      it('putConfigurationSet replaces a set by id, keeping createdAt, and bumps again', async () => {
        const tenant = await newTenant();
        const original = configurationSet(tenant.id, 'baseline');
        await store.putConfigurationSet(original);
        const replacement = configurationSet(tenant.id, 'baseline', {
          name: 'Renamed',
          target: { kind: 'device', devId: 'dev-1' },
          settings: [{ locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
          createdAt: T0 + 500,
          updatedAt: T0 + 600,
        });
        assert.equal(await store.putConfigurationSet(replacement), 2);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'baseline'), { ...replacement, createdAt: original.createdAt });
        assert.equal((await store.configurationSetsFor(tenant.id, 'dev-1')).length, 1, 'a replacement never duplicates the set');
      });

      it('putConfigurationSet refuses an unknown tenant with not_found', async () => {
        const tenantId = randomUUID();
        await assertRejectsWith(store.putConfigurationSet(configurationSet(tenantId, 'x')), 'not_found');
        assert.equal(await store.getConfigurationSet(tenantId, 'x'), undefined);
      });

      it('deleteConfigurationSet deletes and bumps; a missing set bumps nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        await store.putConfigurationSet(configurationSet(tenant.id, 'a'));
        await store.putConfigurationSet(configurationSet(tenant.id, 'b'));
        assert.equal(await store.deleteConfigurationSet(other.id, 'a', T0), false, 'another tenant cannot delete it');
        assert.equal(await store.getConfigurationVersion(other.id), 0);
        assert.equal(await store.deleteConfigurationSet(tenant.id, 'a', T0), true);
        assert.equal(await store.getConfigurationVersion(tenant.id), 3);
        assert.equal(await store.getConfigurationSet(tenant.id, 'a'), undefined);
        assert.ok(await store.getConfigurationSet(tenant.id, 'b'));
        assert.equal(await store.deleteConfigurationSet(tenant.id, 'a', T0), false, 'already deleted');
        assert.equal(await store.deleteConfigurationSet(tenant.id, 'never', T0), false);
        assert.equal(await store.deleteConfigurationSet(randomUUID(), 'a', T0), false, 'unknown tenant');
        assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');
      });

      it('configurationSetsFor: the tenant\'s all-devices sets and the sets targeting that device, ordered by id', async () => {
        const tenant = await newTenant();
        const neighbour = await newTenant();
        const forAll = configurationSet(tenant.id, 'b-all');
        const forDev1 = configurationSet(tenant.id, 'a-dev1', { target: { kind: 'device', devId: 'dev-1' } });
        const forDev2 = configurationSet(tenant.id, 'c-dev2', { target: { kind: 'device', devId: 'dev-2' } });
        const alsoForAll = configurationSet(tenant.id, 'd-all');
        for (const set of [alsoForAll, forDev2, forAll, forDev1]) await store.putConfigurationSet(set);
        await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour'));
        await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour-dev1', { target: { kind: 'device', devId: 'dev-1' } }));
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [forDev1, forAll, alsoForAll]);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-2'), [forAll, forDev2, alsoForAll]);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-3'), [forAll, alsoForAll]);
        assert.deepEqual(await store.configurationSetsFor(randomUUID(), 'dev-1'), []);
      });

      it('concurrent puts each get their own version', async () => {
        const tenant = await newTenant();
        const versions = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putConfigurationSet(configurationSet(tenant.id, `set-${i}`))));
        assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert.equal(await store.getConfigurationVersion(tenant.id), 10);
      });

      it('a group-targeted set reads back exactly', async () => {
        const tenant = await newTenant();
        const include = [randomUUID(), randomUUID()];
        const exclude = [randomUUID()];
        const set = configurationSet(tenant.id, 'wip', { target: { kind: 'groups', include, exclude, allUsers: false } });
        await store.putConfigurationSet(set);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'wip'), set);
        const everyone = configurationSet(tenant.id, 'everyone', { target: { kind: 'groups', include: [], exclude: [], allUsers: true } });
        await store.putConfigurationSet(everyone);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'everyone'), everyone);
      });

      it('a replacement may change the target kind: groups, device, all devices and back', async () => {
        const tenant = await newTenant();
        const targets: ConfigurationSetRecord['target'][] = [
          { kind: 'groups', include: ['g-1'], exclude: ['g-2'], allUsers: true },
          { kind: 'device', devId: 'dev-1' },
          { kind: 'all_devices' },
          { kind: 'groups', include: [], exclude: ['g-3'], allUsers: false },
        ];
        for (const target of targets) {
          const set = configurationSet(tenant.id, 'moving', { target });
          await store.putConfigurationSet(set);
          assert.deepEqual(await store.getConfigurationSet(tenant.id, 'moving'), set);
        }
        assert.equal(await store.getConfigurationVersion(tenant.id), targets.length);
      });

      it('configurationSetsFor also answers every group-targeted set of the tenant (the caller decides targeting)', async () => {
        const tenant = await newTenant();
        const neighbour = await newTenant();
        const forAll = configurationSet(tenant.id, 'b-all');
        const forDev1 = configurationSet(tenant.id, 'a-dev1', { target: { kind: 'device', devId: 'dev-1' } });
        const forDev2 = configurationSet(tenant.id, 'e-dev2', { target: { kind: 'device', devId: 'dev-2' } });
        const forSales = configurationSet(tenant.id, 'c-sales', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: false } });
        const forUsers = configurationSet(tenant.id, 'd-users', { target: { kind: 'groups', include: [], exclude: ['interns'], allUsers: true } });
        for (const set of [forUsers, forDev2, forSales, forAll, forDev1]) await store.putConfigurationSet(set);
        await store.putConfigurationSet(configurationSet(neighbour.id, 'a-neighbour', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: true } }));
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [forDev1, forAll, forSales, forUsers]);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-3'), [forAll, forSales, forUsers]);
        assert.deepEqual(await store.configurationSetsFor(neighbour.id, 'dev-1'), [
          configurationSet(neighbour.id, 'a-neighbour', { target: { kind: 'groups', include: ['sales'], exclude: [], allUsers: true } }),
        ]);
      });
    });

    describe('groups', () => {
      async function newGroup(tenantId: string, overrides: Partial<GroupRecord> = {}): Promise<GroupRecord> {
        const group = groupRecord(tenantId, overrides);
        await store.createGroup(group);
        return group;
      }

      it('createGroup reads back exactly; another tenant does not see it', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const sales = await newGroup(tenant.id, { displayName: 'Sales — Ä ✓', description: 'Everyone selling "things"' });
        const bare = await newGroup(tenant.id, { description: null });
        assert.deepEqual(await store.getGroup(tenant.id, sales.id), sales);
        assert.deepEqual(await store.getGroup(tenant.id, bare.id), bare);
        assert.equal(await store.getGroup(other.id, sales.id), undefined, 'groups belong to their tenant');
        assert.equal(await store.getGroup(tenant.id, randomUUID()), undefined);
        assert.deepEqual(await store.listGroups(other.id), []);
      });

      it('creating a group bumps nothing', async () => {
        const tenant = await newTenant();
        await newGroup(tenant.id);
        assert.equal(await store.getConfigurationVersion(tenant.id), 0);
      });

      it('createGroup refuses an existing id of the tenant with conflict and keeps the original; another tenant may use the id', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const original = await newGroup(tenant.id);
        await assertRejectsWith(store.createGroup({ ...original, displayName: 'Impostor' }), 'conflict');
        assert.deepEqual(await store.getGroup(tenant.id, original.id), original);
        const twin = await newGroup(other.id, { id: original.id, displayName: 'Twin' });
        assert.deepEqual(await store.getGroup(other.id, original.id), twin);
        assert.deepEqual(await store.getGroup(tenant.id, original.id), original);
      });

      it('createGroup refuses an unknown tenant with not_found', async () => {
        const tenantId = randomUUID();
        const group = groupRecord(tenantId);
        await assertRejectsWith(store.createGroup(group), 'not_found');
        assert.equal(await store.getGroup(tenantId, group.id), undefined);
      });

      it('listGroups: the tenant\'s groups by displayName, then id', async () => {
        const tenant = await newTenant();
        const neighbour = await newTenant();
        const [first, second] = [randomUUID(), randomUUID()].sort(compareKeys);
        const beta2 = await newGroup(tenant.id, { id: second!, displayName: 'Beta' });
        const gamma = await newGroup(tenant.id, { displayName: 'Gamma' });
        const alpha = await newGroup(tenant.id, { displayName: 'Alpha' });
        const beta1 = await newGroup(tenant.id, { id: first!, displayName: 'Beta' });
        await newGroup(neighbour.id, { displayName: 'Alpha' });
        assert.deepEqual(await store.listGroups(tenant.id), [alpha, beta1, beta2, gamma]);
        assert.deepEqual(await store.listGroups(randomUUID()), []);
      });

      it('addGroupMember: true when added (bumps), false when already a member (bumps nothing)', async () => {
        const tenant = await newTenant();
        const group = await newGroup(tenant.id);
        const alice = randomUUID();
        assert.equal(await store.addGroupMember(tenant.id, group.id, alice), true);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
        assert.equal(await store.addGroupMember(tenant.id, group.id, alice), false);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1, 'adding a member again bumps nothing');
        assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice]);
      });

      it('addGroupMember refuses an unknown group (or another tenant\'s) with not_found and bumps nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const foreign = await newGroup(other.id);
        const member = randomUUID();
        await assertRejectsWith(store.addGroupMember(tenant.id, randomUUID(), member), 'not_found');
        await assertRejectsWith(store.addGroupMember(tenant.id, foreign.id, member), 'not_found');
        await assertRejectsWith(store.addGroupMember(randomUUID(), foreign.id, member), 'not_found');
        assert.equal(await store.getConfigurationVersion(tenant.id), 0);
        assert.equal(await store.getConfigurationVersion(other.id), 0);
        assert.deepEqual(await store.listGroupMembers(other.id, foreign.id), []);
        assert.deepEqual(await store.groupsOfMember(tenant.id, member), []);
      });

      it('listGroupMembers and groupsOfMember: ordered, one group or member, one tenant', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [a, b, c] = [await newGroup(tenant.id), await newGroup(tenant.id), await newGroup(tenant.id)];
        const foreign = await newGroup(other.id, { id: a.id });
        const members = [randomUUID(), randomUUID(), randomUUID()];
        const alice = members[0]!;
        for (const member of [...members].reverse()) await store.addGroupMember(tenant.id, a.id, member);
        await store.addGroupMember(tenant.id, c.id, alice);
        await store.addGroupMember(tenant.id, b.id, alice);
        await store.addGroupMember(other.id, foreign.id, alice);
        assert.deepEqual(await store.listGroupMembers(tenant.id, a.id), [...members].sort(compareKeys));
        assert.deepEqual(await store.listGroupMembers(tenant.id, b.id), [alice]);
        assert.deepEqual(await store.listGroupMembers(other.id, a.id), [alice]);
        assert.deepEqual(await store.listGroupMembers(tenant.id, randomUUID()), []);
        assert.deepEqual(await store.groupsOfMember(tenant.id, alice), [a.id, b.id, c.id].sort(compareKeys));
        assert.deepEqual(await store.groupsOfMember(tenant.id, members[1]!), [a.id]);
        assert.deepEqual(await store.groupsOfMember(other.id, alice), [foreign.id]);
        assert.deepEqual(await store.groupsOfMember(tenant.id, randomUUID()), []);
        assert.equal(await store.getConfigurationVersion(tenant.id), 5);
        assert.equal(await store.getConfigurationVersion(other.id), 1);
      });

      it('groupsOfMembers: groupsOfMember for many members at once, one tenant, every member a key, past one chunk', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [a, b] = [await newGroup(tenant.id), await newGroup(tenant.id)];
        const foreign = await newGroup(other.id);
        const [alice, bob, nobody] = [randomUUID(), randomUUID(), randomUUID()];
        await store.addGroupMember(tenant.id, b.id, alice);
        await store.addGroupMember(tenant.id, a.id, alice);
        await store.addGroupMember(tenant.id, a.id, bob);
        await store.addGroupMember(other.id, foreign.id, bob);
        const answer = await store.groupsOfMembers(tenant.id, [bob, nobody, alice, alice]);
        assert.deepEqual([...answer.keys()].sort(compareKeys), [alice, bob, nobody].sort(compareKeys));
        assert.deepEqual(answer.get(alice), [a.id, b.id].sort(compareKeys));
        assert.deepEqual(answer.get(alice), await store.groupsOfMember(tenant.id, alice));
        assert.deepEqual(answer.get(bob), [a.id]);
        assert.deepEqual(answer.get(nobody), []);
        assert.deepEqual((await store.groupsOfMembers(other.id, [bob])).get(bob), [foreign.id]);
        assert.equal((await store.groupsOfMembers(tenant.id, [])).size, 0);
        // More members than one query carries: the answer is the same as one by one.
        const many = [...Array.from({ length: 1500 }, () => randomUUID()), alice, bob];
        const all = await store.groupsOfMembers(tenant.id, many);
        assert.equal(all.size, many.length);
        assert.deepEqual(all.get(alice), [a.id, b.id].sort(compareKeys));
        assert.deepEqual(all.get(bob), [a.id]);
        assert.equal([...all.values()].filter((groups) => groups.length > 0).length, 2);
      });

      it('removeGroupMember: true when removed (bumps), false when not a member (bumps nothing)', async () => {
        const tenant = await newTenant();
        const group = await newGroup(tenant.id);
        const [alice, bob] = [randomUUID(), randomUUID()];
        await store.addGroupMember(tenant.id, group.id, alice);
        await store.addGroupMember(tenant.id, group.id, bob);
        assert.equal(await store.removeGroupMember(tenant.id, group.id, alice), true);
        assert.equal(await store.getConfigurationVersion(tenant.id), 3);
        assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [bob]);
        assert.deepEqual(await store.groupsOfMember(tenant.id, alice), []);
        assert.equal(await store.removeGroupMember(tenant.id, group.id, alice), false, 'already removed');
        assert.equal(await store.removeGroupMember(tenant.id, randomUUID(), bob), false, 'unknown group');
        assert.equal(await store.removeGroupMember(randomUUID(), group.id, bob), false, 'unknown tenant');
        assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing removal bumps nothing');
        assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [bob]);
      });

      it('removeGroupMember of another tenant removes nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const group = await newGroup(tenant.id);
        const alice = randomUUID();
        await store.addGroupMember(tenant.id, group.id, alice);
        assert.equal(await store.removeGroupMember(other.id, group.id, alice), false);
        assert.equal(await store.getConfigurationVersion(other.id), 0);
        assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice]);
      });

      it('deleteGroup deletes the group and its memberships and bumps; a missing group bumps nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const doomed = await newGroup(tenant.id);
        const kept = await newGroup(tenant.id);
        const alice = randomUUID();
        await store.addGroupMember(tenant.id, doomed.id, alice);
        await store.addGroupMember(tenant.id, kept.id, alice);
        assert.equal(await store.deleteGroup(other.id, doomed.id), false, 'another tenant cannot delete it');
        assert.equal(await store.getConfigurationVersion(other.id), 0);
        assert.deepEqual(await store.getGroup(tenant.id, doomed.id), doomed);

        assert.equal(await store.deleteGroup(tenant.id, doomed.id), true);
        assert.equal(await store.getConfigurationVersion(tenant.id), 3);
        assert.equal(await store.getGroup(tenant.id, doomed.id), undefined);
        assert.deepEqual(await store.listGroups(tenant.id), [kept]);
        assert.deepEqual(await store.listGroupMembers(tenant.id, doomed.id), []);
        assert.deepEqual(await store.groupsOfMember(tenant.id, alice), [kept.id]);

        assert.equal(await store.deleteGroup(tenant.id, doomed.id), false, 'already deleted');
        assert.equal(await store.deleteGroup(randomUUID(), doomed.id), false, 'unknown tenant');
        assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');

        const reborn = await newGroup(tenant.id, { id: doomed.id });
        assert.deepEqual(await store.getGroup(tenant.id, doomed.id), reborn);
        assert.deepEqual(await store.listGroupMembers(tenant.id, doomed.id), [], 'a group created again starts empty');
      });

      it('concurrent adds of one member: exactly one true, one bump; of distinct members: one bump each', async () => {
        const tenant = await newTenant();
        const group = await newGroup(tenant.id);
        const alice = randomUUID();
        const answers = await Promise.all(Array.from({ length: 6 }, () => store.addGroupMember(tenant.id, group.id, alice)));
        assert.equal(answers.filter(Boolean).length, 1, `one added, got ${JSON.stringify(answers)}`);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
        const others = Array.from({ length: 8 }, () => randomUUID());
        const results = await Promise.allSettled([
          ...others.map((m) => store.addGroupMember(tenant.id, group.id, m)),
          store.addGroupMember(tenant.id, randomUUID(), alice),
        ]);
        assert.deepEqual(results.slice(0, -1).map((r) => r.status === 'fulfilled' && r.value), others.map(() => true));
        assert.equal(results.at(-1)?.status, 'rejected', 'the unknown group is refused, the others are not affected');
        assert.equal(await store.getConfigurationVersion(tenant.id), 1 + others.length);
        assert.deepEqual(await store.listGroupMembers(tenant.id, group.id), [alice, ...others].sort(compareKeys));
      });
    });

    describe('policies', () => {
      /** A policy and the set it compiles into (same tenant and id). */
      function policyPair(tenantId: string, overrides: Partial<PolicyRecord> = {}): [PolicyRecord, ConfigurationSetRecord] {
        const policy = policyRecord(tenantId, overrides);
        const set = configurationSet(tenantId, policy.id, {
          name: `Policy ${policy.id}`,
          target: { kind: 'groups', include: ['g-include'], exclude: ['g-exclude'], allUsers: false },
          createdAt: policy.createdAt,
          updatedAt: policy.updatedAt,
        });
        return [policy, set];
      }

      it('createPolicy writes the policy and its set, bumps once and answers the new version', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        assert.equal(await store.createPolicy(policy, set), 1);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
        assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [set]);
      });

      it('updatePolicy at the stored version writes the policy (version + 1) and its set, keeping both createdAt, and bumps again', async () => {
        const tenant = await newTenant();
        const [original, originalSet] = policyPair(tenant.id);
        await store.createPolicy(original, originalSet);
        const changed: PolicyRecord = {
          ...original,
          body: { displayName: 'Renamed', enforcementLevel: 'encryptAuditAndBlock', nested: { list: [1, 'two', null, true] } },
          assignments: [{ id: 'a-2', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } }],
          createdAt: T0 + 500,
          updatedAt: T0 + 600,
        };
        const changedSet = configurationSet(tenant.id, original.id, {
          name: 'Renamed',
          target: { kind: 'groups', include: [], exclude: [], allUsers: true },
          settings: [{ locUri: './Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
          createdAt: T0 + 500,
          updatedAt: T0 + 600,
        });
        assert.deepEqual(await store.updatePolicy(changed, changedSet), { kind: 'saved', version: original.version + 1 });
        assert.equal(await store.getConfigurationVersion(tenant.id), 2);
        assert.deepEqual(await store.getPolicy(tenant.id, original.id), { ...changed, version: original.version + 1, createdAt: original.createdAt });
        assert.deepEqual(await store.getConfigurationSet(tenant.id, original.id), { ...changedSet, createdAt: originalSet.createdAt });
        assert.equal((await store.listPolicies(tenant.id, original.kind)).length, 1, 'an update never duplicates the policy');
      });

      it('updatePolicy at a stale version writes neither policy nor set, bumps nothing, and answers stale', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        const first = { ...policy, body: { displayName: 'First' } };
        const firstSet = { ...set, name: 'First' };
        assert.deepEqual(await store.updatePolicy(first, firstSet), { kind: 'saved', version: policy.version + 1 });
        // A writer that read the same version as the first loses: its change is refused, never laid over the first's.
        const lost = { ...policy, body: { displayName: 'Lost' } };
        assert.deepEqual(await store.updatePolicy(lost, { ...set, name: 'Lost', settings: [] }), { kind: 'stale', current: policy.version + 1 });
        assert.deepEqual(await store.getPolicy(tenant.id, policy.id), { ...first, version: policy.version + 1 });
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), firstSet);
        assert.equal(await store.getConfigurationVersion(tenant.id), 2);
        // Of concurrent writers at one version, exactly one wins; the configuration version moves once.
        const current = (await store.getPolicy(tenant.id, policy.id))!;
        const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => store.updatePolicy({ ...current, body: { displayName: `Racer ${i}` } }, { ...set, name: `Racer ${i}` })));
        assert.equal(outcomes.filter((o) => o.kind === 'saved').length, 1);
        assert.deepEqual(outcomes.filter((o) => o.kind === 'stale'), Array.from({ length: 5 }, () => ({ kind: 'stale', current: current.version + 1 })));
        const winner = (await store.getPolicy(tenant.id, policy.id))!;
        assert.equal(winner.version, current.version + 1);
        assert.equal((await store.getConfigurationSet(tenant.id, policy.id))?.name, winner.body['displayName'], 'the set is the winner\'s');
        assert.equal(await store.getConfigurationVersion(tenant.id), 3);
      });

      it('updatePolicy of a deleted policy answers not_found and re-creates neither the policy nor its set', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        assert.deepEqual(await store.deletePolicy(tenant.id, policy.id), { kind: 'deleted' });
        assert.deepEqual(await store.updatePolicy({ ...policy, body: { displayName: 'Resurrected?' } }, set), { kind: 'not_found' });
        assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
        assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), []);
        assert.equal(await store.getConfigurationVersion(tenant.id), 2, 'the refused update bumps nothing');
        const [ghost, ghostSet] = policyPair(randomUUID());
        assert.deepEqual(await store.updatePolicy(ghost, ghostSet), { kind: 'not_found' }, 'unknown tenant');
      });

      it('an update racing a delete: either the policy is updated and then deleted, or stays deleted; never resurrected', async () => {
        const tenant = await newTenant();
        for (let i = 0; i < 10; i++) {
          const [policy, set] = policyPair(tenant.id);
          await store.createPolicy(policy, set);
          const [updated, deleted] = await Promise.all([store.updatePolicy({ ...policy, body: { displayName: 'Racing' } }, set), store.deletePolicy(tenant.id, policy.id)]);
          assert.deepEqual(deleted, { kind: 'deleted' });
          assert.ok(updated.kind === 'saved' || updated.kind === 'not_found', JSON.stringify(updated));
          assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
          assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
        }
      });

      it('createPolicy is a plain insert: a taken id is conflict, and the stored policy and set stay', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        await assertRejectsWith(store.createPolicy({ ...policy, body: { displayName: 'Replaced?' } }, { ...set, name: 'Replaced?' }), 'conflict');
        assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      });

      it('deletePolicy with an expected version deletes only at that version', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        await store.updatePolicy(policy, set);
        assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version), { kind: 'stale', current: policy.version + 1 });
        assert.equal((await store.getPolicy(tenant.id, policy.id))?.version, policy.version + 1);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
        assert.equal(await store.getConfigurationVersion(tenant.id), 2);
        assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version + 1), { kind: 'deleted' });
        assert.equal(await store.getConfigurationSet(tenant.id, policy.id), undefined);
        assert.deepEqual(await store.deletePolicy(tenant.id, policy.id, policy.version + 1), { kind: 'not_found' });
      });

      it('createPolicy replaces a configuration set of the same id written before', async () => {
        const tenant = await newTenant();
        const earlier = configurationSet(tenant.id, 'shared', { createdAt: T0 - 100 });
        await store.putConfigurationSet(earlier);
        const [policy, set] = policyPair(tenant.id, { id: 'shared' });
        assert.equal(await store.createPolicy(policy, set), 2);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, 'shared'), { ...set, createdAt: earlier.createdAt });
      });

      it('createPolicy for an unknown tenant: not_found, and neither policy nor set is written', async () => {
        const tenantId = randomUUID();
        const [policy, set] = policyPair(tenantId);
        await assertRejectsWith(store.createPolicy(policy, set), 'not_found');
        assert.equal(await store.getPolicy(tenantId, policy.id), undefined);
        assert.equal(await store.getConfigurationSet(tenantId, policy.id), undefined);
      });

      it('createPolicy failing after the policy row: neither is written, nothing bumped, the old ones kept', async () => {
        const tenant = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        // A set the store cannot write (a value JSON cannot carry): the policy written before it must be undone.
        const unwritable: ConfigurationSetRecord = { ...set, settings: [{ locUri: './Device/X', format: 'int', value: 1n as unknown as string }] };
        const changed: PolicyRecord = { ...policy, body: { displayName: 'Never' }, updatedAt: T0 + 9 };
        await assert.rejects(store.updatePolicy(changed, unwritable));
        const [fresh, freshSet] = policyPair(tenant.id);
        await assert.rejects(store.createPolicy(fresh, { ...freshSet, settings: unwritable.settings }));
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
        assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
        assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
        assert.equal(await store.getPolicy(tenant.id, fresh.id), undefined);
        assert.equal(await store.getConfigurationSet(tenant.id, fresh.id), undefined);
      });

      it('createPolicy refuses a set that is not the policy\'s (another id or tenant) and writes nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await assert.rejects(store.createPolicy(policy, { ...set, id: 'another' }));
        await assert.rejects(store.createPolicy(policy, { ...set, tenantId: other.id }));
        await assert.rejects(store.updatePolicy(policy, { ...set, id: 'another' }));
        assert.equal(await store.getPolicy(tenant.id, policy.id), undefined);
        assert.equal(await store.getConfigurationSet(tenant.id, 'another'), undefined);
        assert.equal(await store.getConfigurationSet(other.id, policy.id), undefined);
        assert.equal(await store.getConfigurationVersion(tenant.id), 0);
        assert.equal(await store.getConfigurationVersion(other.id), 0);
      });

      it('concurrent creates each get their own version; a failing one takes nothing of the others with it', async () => {
        const tenant = await newTenant();
        const pairs = Array.from({ length: 8 }, () => policyPair(tenant.id));
        const ghost = policyPair(randomUUID());
        const results = await Promise.allSettled([...pairs.map(([p, s]) => store.createPolicy(p, s)), store.createPolicy(...ghost)]);
        const versions = results.slice(0, -1).map((r) => (r.status === 'fulfilled' ? r.value : -1));
        assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.equal(results.at(-1)?.status, 'rejected');
        assert.equal(await store.getConfigurationVersion(tenant.id), 8);
        for (const [policy, set] of pairs) {
          assert.deepEqual(await store.getPolicy(tenant.id, policy.id), policy);
          assert.deepEqual(await store.getConfigurationSet(tenant.id, policy.id), set);
        }
        assert.equal(await store.getPolicy(ghost[0].tenantId, ghost[0].id), undefined);
      });

      it('getPolicy answers undefined for an unknown id and for another tenant', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [policy, set] = policyPair(tenant.id);
        await store.createPolicy(policy, set);
        assert.equal(await store.getPolicy(other.id, policy.id), undefined);
        assert.equal(await store.getPolicy(tenant.id, randomUUID()), undefined);
        assert.equal(await store.getPolicy(randomUUID(), policy.id), undefined);
      });

      it('listPolicies: one kind of one tenant, by createdAt, then id', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [first, second] = [randomUUID(), randomUUID()].sort(compareKeys);
        const saved: PolicyRecord[] = [];
        for (const overrides of [
          { createdAt: T0 + 20, id: second! },
          { createdAt: T0 + 30 },
          { createdAt: T0 + 10 },
          { createdAt: T0 + 20, id: first! },
          { createdAt: T0, kind: 'windows10CustomConfiguration' as const },
        ]) {
          const [policy, set] = policyPair(tenant.id, overrides);
          await store.createPolicy(policy, set);
          saved.push(policy);
        }
        await store.createPolicy(...policyPair(other.id));
        const [p20b, p30, p10, p20a, custom] = saved as [PolicyRecord, PolicyRecord, PolicyRecord, PolicyRecord, PolicyRecord];
        assert.deepEqual(await store.listPolicies(tenant.id, 'mdmWindowsInformationProtectionPolicy'), [p10, p20a, p20b, p30]);
        assert.deepEqual(await store.listPolicies(tenant.id, 'windows10CustomConfiguration'), [custom]);
        assert.deepEqual(await store.listPolicies(tenant.id, 'windowsInformationProtectionPolicy'), []);
        assert.deepEqual(await store.listPolicies(randomUUID(), 'mdmWindowsInformationProtectionPolicy'), []);
      });

      it('deletePolicy deletes the policy and its set and bumps; a missing one bumps nothing', async () => {
        const tenant = await newTenant();
        const other = await newTenant();
        const [doomed, doomedSet] = policyPair(tenant.id);
        const [kept, keptSet] = policyPair(tenant.id);
        await store.createPolicy(doomed, doomedSet);
        await store.createPolicy(kept, keptSet);
        assert.deepEqual(await store.deletePolicy(other.id, doomed.id), { kind: 'not_found' }, 'another tenant cannot delete it');
        assert.equal(await store.getConfigurationVersion(other.id), 0);
        assert.deepEqual(await store.getPolicy(tenant.id, doomed.id), doomed);

        assert.deepEqual(await store.deletePolicy(tenant.id, doomed.id), { kind: 'deleted' });
        assert.equal(await store.getConfigurationVersion(tenant.id), 3);
        assert.equal(await store.getPolicy(tenant.id, doomed.id), undefined);
        assert.equal(await store.getConfigurationSet(tenant.id, doomed.id), undefined);
        assert.deepEqual(await store.getPolicy(tenant.id, kept.id), kept);
        assert.deepEqual(await store.configurationSetsFor(tenant.id, 'dev-1'), [keptSet]);

        assert.deepEqual(await store.deletePolicy(tenant.id, doomed.id), { kind: 'not_found' }, 'already deleted');
        assert.deepEqual(await store.deletePolicy(tenant.id, randomUUID()), { kind: 'not_found' });
        assert.deepEqual(await store.deletePolicy(randomUUID(), kept.id), { kind: 'not_found' }, 'unknown tenant');
        assert.equal(await store.getConfigurationVersion(tenant.id), 3, 'a missing delete bumps nothing');
      });

      it('deletePolicy leaves alone a set that has no policy', async () => {
        const tenant = await newTenant();
        await store.putConfigurationSet(configurationSet(tenant.id, 'plain'));
        assert.deepEqual(await store.deletePolicy(tenant.id, 'plain'), { kind: 'not_found' });
        assert.ok(await store.getConfigurationSet(tenant.id, 'plain'));
        assert.equal(await store.getConfigurationVersion(tenant.id), 1);
      });
    });

    describe('management', () => {
      async function newEnrollment(tenantId?: string): Promise<EnrollmentRecord> {
        return expectEnrolled(await store.enroll(enrollmentInput(tenantId ?? (await newTenant()).id), T0));
      }

      function outcome(enrollmentId: string, overrides: Partial<SyncOutcome> = {}): SyncOutcome {
        return { enrollmentId, now: T0, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], ...overrides };
      }

      function session(enrollmentId: string, overrides: Partial<ManagementSessionRecord> = {}): ManagementSessionRecord {
        return { enrollmentId, sessionId: '1', lastDeviceMsgId: 1, lastServerMsgId: 1, state: '{"step":"first"}', expiresAt: T0 + 60_000, ...overrides };
      }

      function defaults(enrollmentId: string): ManagementState {
        return { enrollmentId, settledVersion: 0, waitingForUser: false, inventoryAt: null, lastCheckinAt: null, messageLogUntil: null, tokenGroups: null };
      }

      it('getManagedDevice: the active enrollment, default management state, and the tenant\'s version', async () => {
        const tenant = await newTenant();
        const enrollment = await newEnrollment(tenant.id);
        assert.deepEqual(await store.getManagedDevice(enrollment.devId), { enrollment, management: defaults(enrollment.id), configVersion: 0 });
        await store.putConfigurationSet(configurationSet(tenant.id, 'a'));
        await store.putConfigurationSet(configurationSet(tenant.id, 'b'));
        assert.equal((await store.getManagedDevice(enrollment.devId))?.configVersion, 2);
      });

      it('getManagedDevice answers undefined for an unknown device and after unenrollment; then the next enrollment', async () => {
        assert.equal(await store.getManagedDevice(`dev-${randomUUID()}`), undefined);
        const tenant = await newTenant();
        const first = await newEnrollment(tenant.id);
        await store.markUnenrolled(first.id, T0 + 1);
        assert.equal(await store.getManagedDevice(first.devId), undefined);
        const next = expectEnrolled(await store.enroll(enrollmentInput(tenant.id, { devId: first.devId }), T0 + 2));
        assert.deepEqual(await store.getManagedDevice(first.devId), { enrollment: next, management: defaults(next.id), configVersion: 0 });
      });

      it('getManagedDevice reads the management state written', async () => {
        const enrollment = await newEnrollment();
        const management = { settledVersion: 7, waitingForUser: true, inventoryAt: T0 + 5, lastCheckinAt: T0 + 6, tokenGroups: ['g-a', 'g-b'] };
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { management })), true);
        await store.setMessageLogUntil(enrollment.id, T0 + 86_400_000);
        const managed = await store.getManagedDevice(enrollment.devId);
        assert.deepEqual(managed?.management, { enrollmentId: enrollment.id, ...management, messageLogUntil: T0 + 86_400_000 });
      });

      it('tokenGroups: null until written, kept when absent from an outcome, [] distinct from null', async () => {
        const { id, devId } = await newEnrollment();
        const groups = [randomUUID(), randomUUID(), 'Ä ✓ "quoted"'].sort();
        assert.equal((await store.getManagedDevice(devId))?.management.tokenGroups, null);
        assert.equal(await store.applySyncOutcome(outcome(id, { management: { tokenGroups: groups } })), true);
        assert.deepEqual((await store.getManagedDevice(devId))?.management, { ...defaults(id), tokenGroups: groups });
        await store.applySyncOutcome(outcome(id, { management: { settledVersion: 2 } }));
        await store.recordCheckins(new Map([[id, T0 + 1]]));
        await store.setMessageLogUntil(id, T0 + 2);
        assert.deepEqual((await store.getManagedDevice(devId))?.management, {
          ...defaults(id), settledVersion: 2, lastCheckinAt: T0 + 1, messageLogUntil: T0 + 2, tokenGroups: groups,
        });
        await store.applySyncOutcome(outcome(id, { management: { tokenGroups: [] } }));
        assert.deepEqual((await store.getManagedDevice(devId))?.management.tokenGroups, []);
        await store.applySyncOutcome(outcome(id, { management: { tokenGroups: null } }));
        assert.equal((await store.getManagedDevice(devId))?.management.tokenGroups, null);
      });

      it('re-enrolling starts tokenGroups over', async () => {
        const tenant = await newTenant();
        const first = await newEnrollment(tenant.id);
        await store.applySyncOutcome(outcome(first.id, { management: { tokenGroups: ['g-1'] } }));
        await store.enroll(enrollmentInput(tenant.id, { devId: first.devId, userOid: first.userOid }), T0 + 1);
        assert.equal((await store.getManagedDevice(first.devId))?.management.tokenGroups, null);
      });

      it('applySyncOutcome upserts node states and forgets acknowledged deletes', async () => {
        const { id } = await newEnrollment();
        const camera = nodeState('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', { value: '0' });
        const lock = nodeState('./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', { status: 'failed', statusCode: '405' });
        const xml = nodeState('./User/Vendor/MSFT/Policy/Config/Browser/Home', { format: 'xml', value: '<a href="x">Ä ✓</a>', statusCode: null, status: 'conflict' });
        assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: [xml, lock, camera] })), true);
        assert.deepEqual(await store.getNodeStates(id), [camera, lock, xml]);

        const cameraAgain = { ...camera, value: '1', status: 'exists' as const, statusCode: '418', updatedAt: T0 + 10 };
        assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: [cameraAgain], forgetNodes: [lock.locUri, './Device/never/there'] })), true);
        assert.deepEqual(await store.getNodeStates(id), [cameraAgain, xml]);
        assert.deepEqual(await store.getNodeStates(randomUUID()), []);
      });

      it('applySyncOutcome: the last of two states for one node wins; many nodes at once', async () => {
        const { id } = await newEnrollment();
        const uri = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
        await store.applySyncOutcome(outcome(id, { nodeStates: [nodeState(uri, { value: '0' }), nodeState(uri, { value: '1' })] }));
        assert.deepEqual((await store.getNodeStates(id)).map((n) => n.value), ['1']);

        const many = Array.from({ length: 300 }, (_, i) => nodeState(`./Device/Vendor/OpenMAM/Node${String(i).padStart(3, '0')}`, { value: String(i) }));
        assert.equal(await store.applySyncOutcome(outcome(id, { nodeStates: many })), true);
        assert.equal((await store.getNodeStates(id)).length, 301);
        await store.applySyncOutcome(outcome(id, { forgetNodes: many.map((n) => n.locUri) }));
        assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [uri]);
      });

      it('getNodeStatesOf: the node states of many enrollments, ordered by locUri, every id a key, past one chunk', async () => {
        const tenant = await newTenant();
        const [a, b, quiet] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
        const lock = nodeState('./Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', { status: 'failed', statusCode: '405' });
        const edp = nodeState('./Device/Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', { value: '3' });
        await store.applySyncOutcome(outcome(a.id, { nodeStates: [lock, edp] }));
        await store.applySyncOutcome(outcome(b.id, { nodeStates: [{ ...edp, value: '2' }] }));
        const unknown = randomUUID();
        const answer = await store.getNodeStatesOf([b.id, quiet.id, a.id, unknown, a.id]);
        assert.deepEqual([...answer.keys()].sort(compareKeys), [a.id, b.id, quiet.id, unknown].sort(compareKeys));
        assert.deepEqual(answer.get(a.id), await store.getNodeStates(a.id));
        assert.deepEqual(answer.get(a.id), [edp, lock]);
        assert.deepEqual(answer.get(b.id), [{ ...edp, value: '2' }]);
        assert.deepEqual(answer.get(quiet.id), []);
        assert.deepEqual(answer.get(unknown), []);
        assert.equal((await store.getNodeStatesOf([])).size, 0);
        const many = [...Array.from({ length: 1500 }, () => randomUUID()), a.id, b.id];
        const all = await store.getNodeStatesOf(many);
        assert.equal(all.size, many.length);
        assert.deepEqual(all.get(a.id), [edp, lock]);
        assert.deepEqual(all.get(b.id), [{ ...edp, value: '2' }]);
      });

      it('getManagementStatesOf: like getManagedDevice for many enrollments; defaults where nothing was written', async () => {
        const tenant = await newTenant();
        const [a, b] = [await newEnrollment(tenant.id), await newEnrollment(tenant.id)];
        const management = { settledVersion: 3, waitingForUser: true, inventoryAt: T0 + 5, tokenGroups: ['g-1', 'g-2'] };
        await store.applySyncOutcome(outcome(a.id, { management }));
        await store.recordCheckins(new Map([[a.id, T0 + 9]]));
        const answer = await store.getManagementStatesOf([b.id, a.id]);
        assert.deepEqual(answer.get(a.id), (await store.getManagedDevice(a.devId))?.management);
        assert.deepEqual(answer.get(a.id), { ...defaults(a.id), ...management, lastCheckinAt: T0 + 9 });
        assert.deepEqual(answer.get(b.id), defaults(b.id));
        assert.equal((await store.getManagementStatesOf([])).size, 0);
        const many = [...Array.from({ length: 1100 }, () => randomUUID()), a.id];
        const all = await store.getManagementStatesOf(many);
        assert.equal(all.size, many.length);
        assert.deepEqual(all.get(a.id)?.tokenGroups, ['g-1', 'g-2']);
      });

      it('applySyncOutcome upserts inventory; listInventory orders by locUri', async () => {
        const { id } = await newEnrollment();
        const name = { locUri: './DevDetail/Ext/Microsoft/DeviceName', value: 'DESKTOP-ALICE', updatedAt: T0 };
        const os = { locUri: './DevDetail/SwV', value: '10.0.22631.2861', updatedAt: T0 };
        const model = { locUri: './DevInfo/Mod', value: 'Virtual Machine', updatedAt: T0 };
        await store.applySyncOutcome(outcome(id, { inventory: [model, os, name] }));
        assert.deepEqual(await store.listInventory(id), [name, os, model]);
        const osLater = { ...os, value: '10.0.26100.1', updatedAt: T0 + 100 };
        await store.applySyncOutcome(outcome(id, { inventory: [osLater] }));
        assert.deepEqual(await store.listInventory(id), [name, osLater, model]);
        assert.deepEqual(await store.listInventory(randomUUID()), []);
      });

      it('applySyncOutcome sets only the given management fields', async () => {
        const { id, devId } = await newEnrollment();
        await store.setMessageLogUntil(id, T0 + 999);
        await store.applySyncOutcome(outcome(id, { management: { settledVersion: 3, inventoryAt: T0 + 1 } }));
        await store.applySyncOutcome(outcome(id, { management: { waitingForUser: true } }));
        assert.deepEqual((await store.getManagedDevice(devId))?.management, {
          ...defaults(id), settledVersion: 3, inventoryAt: T0 + 1, waitingForUser: true, messageLogUntil: T0 + 999,
        });
        await store.applySyncOutcome(outcome(id, { management: { waitingForUser: false, lastCheckinAt: T0 + 2, inventoryAt: null } }));
        assert.deepEqual((await store.getManagedDevice(devId))?.management, {
          ...defaults(id), settledVersion: 3, lastCheckinAt: T0 + 2, messageLogUntil: T0 + 999,
        });
        await store.applySyncOutcome(outcome(id, { management: {} }));
        await store.setMessageLogUntil(id, null);
        assert.deepEqual((await store.getManagedDevice(devId))?.management, { ...defaults(id), settledVersion: 3, lastCheckinAt: T0 + 2 });
      });

      it('sessions: insert, then compare-and-set on lastDeviceMsgId', async () => {
        const { id } = await newEnrollment();
        const first = session(id);
        assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: first, expectedLastDeviceMsgId: null } })), true);
        assert.deepEqual(await store.getSession(id, '1', T0), first);
        assert.equal(await store.getSession(id, '2', T0), undefined);
        assert.equal(await store.getSession(randomUUID(), '1', T0), undefined);

        const second = session(id, { lastDeviceMsgId: 2, lastServerMsgId: 2, state: '{"step":"second"}', expiresAt: T0 + 120_000 });
        assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: second, expectedLastDeviceMsgId: 1 } })), true);
        assert.deepEqual(await store.getSession(id, '1', T0), second);
      });

      it('a stale compare-and-set answers false and writes nothing at all', async () => {
        const tenant = await newTenant();
        const enrollment = await newEnrollment(tenant.id);
        const { id, devId } = enrollment;
        const kept = nodeState('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', { value: '0' });
        const first = session(id);
        await store.applySyncOutcome(outcome(id, {
          session: { kind: 'save', record: first, expectedLastDeviceMsgId: null },
          nodeStates: [kept],
          inventory: [{ locUri: './DevInfo/Mod', value: 'A', updatedAt: T0 }],
          management: { settledVersion: 1 },
        }));
        const second = session(id, { lastDeviceMsgId: 2 });
        assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: second, expectedLastDeviceMsgId: 1 } })), true);

        const replayed = outcome(id, {
          session: { kind: 'save', record: session(id, { lastDeviceMsgId: 2, state: '{"step":"replayed"}' }), expectedLastDeviceMsgId: 1 },
          nodeStates: [{ ...kept, value: '1' }, nodeState('./Device/Vendor/OpenMAM/New')],
          forgetNodes: [kept.locUri],
          inventory: [{ locUri: './DevInfo/Mod', value: 'B', updatedAt: T0 + 1 }],
          management: { settledVersion: 9, waitingForUser: true, tokenGroups: ['g-replayed'] },
          unenrolledAt: T0 + 5,
        });
        assert.equal(await store.applySyncOutcome(replayed), false);
        assert.deepEqual(await store.getSession(id, '1', T0), second);
        assert.deepEqual(await store.getNodeStates(id), [kept]);
        assert.deepEqual(await store.listInventory(id), [{ locUri: './DevInfo/Mod', value: 'A', updatedAt: T0 }]);
        assert.deepEqual(await store.getManagedDevice(devId), { enrollment, management: { ...defaults(id), settledVersion: 1 }, configVersion: 0 });

        const unknown = session(id, { sessionId: 'never-started', lastDeviceMsgId: 2 });
        assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: unknown, expectedLastDeviceMsgId: 1 } })), false);
        assert.equal(await store.getSession(id, 'never-started', T0), undefined);
      });

      it('a new session whose id is live answers false; an expired one is replaced', async () => {
        const { id } = await newEnrollment();
        const live = session(id, { expiresAt: T0 + 1000 });
        await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: live, expectedLastDeviceMsgId: null } }));
        const again = session(id, { state: '{"step":"again"}', expiresAt: T0 + 5000 });
        const attempt = (now: number): Promise<boolean> =>
          store.applySyncOutcome(outcome(id, { now, session: { kind: 'save', record: again, expectedLastDeviceMsgId: null }, nodeStates: [nodeState('./Device/X')] }));
        assert.equal(await attempt(T0 + 999), false);
        assert.deepEqual(await store.getSession(id, '1', T0), live);
        assert.deepEqual(await store.getNodeStates(id), []);
        assert.equal(await attempt(T0 + 1000), true, 'expired at its expiresAt');
        assert.deepEqual(await store.getSession(id, '1', T0 + 1000), again);
        assert.equal((await store.getNodeStates(id)).length, 1);
      });

      it("starting a session drops the enrollment's abandoned (expired) sessions, and only those", async () => {
        const { id } = await newEnrollment();
        const abandoned = session(id, { sessionId: '1', expiresAt: T0 + 1000 });
        const live = session(id, { sessionId: '2', expiresAt: T0 + 9000 });
        for (const record of [abandoned, live]) await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record, expectedLastDeviceMsgId: null } }));
        const next = session(id, { sessionId: '3', expiresAt: T0 + 9000 });
        assert.equal(await store.applySyncOutcome(outcome(id, { now: T0 + 2000, session: { kind: 'save', record: next, expectedLastDeviceMsgId: null } })), true);
        assert.equal(await store.getSession(id, '1', T0), undefined, 'the abandoned row is gone (read at a time it was still valid)');
        assert.deepEqual(await store.getSession(id, '2', T0), live);
      });

      it('getSession ignores an expired session', async () => {
        const { id } = await newEnrollment();
        const record = session(id, { expiresAt: T0 + 1000 });
        await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record, expectedLastDeviceMsgId: null } }));
        assert.deepEqual(await store.getSession(id, '1', T0 + 999), record);
        assert.equal(await store.getSession(id, '1', T0 + 1000), undefined);
      });

      it('ending a session is a compare-and-set too: the same last message applied twice ends it once, and writes nothing the second time', async () => {
        const { id } = await newEnrollment();
        await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
        const end = (locUri: string, expected: number): Promise<boolean> =>
          store.applySyncOutcome(outcome(id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: expected }, nodeStates: [nodeState(locUri)] }));
        assert.equal(await end('./Device/Stale', 0), false, 'a stale MsgID does not end it');
        assert.notEqual(await store.getSession(id, '1', T0), undefined);
        assert.equal(await end('./Device/First', 1), true);
        assert.equal(await store.getSession(id, '1', T0), undefined);
        assert.equal(await end('./Device/Second', 1), false, 'the second node handed the same message');
        assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), ['./Device/First']);
        assert.equal(await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } })), true, 'the id is free again');
      });

      it('two nodes ending one session at once: exactly one wins', async () => {
        const { id } = await newEnrollment();
        await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
        const answers = await Promise.all(
          [0, 1, 2].map((i) => store.applySyncOutcome(outcome(id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: 1 }, nodeStates: [nodeState(`./Device/Ender${i}`)] }))),
        );
        assert.equal(answers.filter(Boolean).length, 1, `one winner, got ${JSON.stringify(answers)}`);
        assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [`./Device/Ender${answers.indexOf(true)}`]);
      });

      it('concurrent messages of one session: exactly one compare-and-set wins; other writes are unaffected', async () => {
        const { id } = await newEnrollment();
        const bystander = await newEnrollment();
        await store.applySyncOutcome(outcome(id, { session: { kind: 'save', record: session(id), expectedLastDeviceMsgId: null } }));
        const racing = Array.from({ length: 4 }, (_, i) =>
          store.applySyncOutcome(outcome(id, {
            session: { kind: 'save', record: session(id, { lastDeviceMsgId: 2, state: `{"racer":${i}}` }), expectedLastDeviceMsgId: 1 },
            nodeStates: [nodeState(`./Device/Racer${i}`)],
          })),
        );
        const other = store.applySyncOutcome(outcome(bystander.id, { nodeStates: [nodeState('./Device/Bystander')] }));
        const answers = await Promise.all(racing);
        assert.equal(await other, true);
        assert.equal(answers.filter(Boolean).length, 1, `one winner, got ${JSON.stringify(answers)}`);
        const winner = answers.indexOf(true);
        assert.equal((await store.getSession(id, '1', T0))?.state, `{"racer":${winner}}`);
        assert.deepEqual((await store.getNodeStates(id)).map((n) => n.locUri), [`./Device/Racer${winner}`]);
        assert.equal((await store.getNodeStates(bystander.id)).length, 1);
      });

      it('unenrolledAt ends the active enrollment, once', async () => {
        const enrollment = await newEnrollment();
        await store.applySyncOutcome(outcome(enrollment.id, { session: { kind: 'save', record: session(enrollment.id), expectedLastDeviceMsgId: null } }));
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { session: { kind: 'end', sessionId: '1', expectedLastDeviceMsgId: 1 }, unenrolledAt: T0 + 50 })), true);
        const ended: EnrollmentRecord = { ...enrollment, state: 'unenrolled', unenrolledAt: T0 + 50, updatedAt: T0 + 50, unenrollReason: 'user' };
        assert.deepEqual(await store.getEnrollment(enrollment.id), ended);
        assert.equal(await store.getManagedDevice(enrollment.devId), undefined);
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { unenrolledAt: T0 + 60 })), true);
        assert.deepEqual(await store.getEnrollment(enrollment.id), ended, 'an unenrolled enrollment is left alone');
      });

      it('unenrollReason says why the enrollment ended', async () => {
        const enrollment = await newEnrollment();
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { unenrolledAt: T0 + 50, unenrollReason: 'admin' })), true);
        assert.equal((await store.getEnrollment(enrollment.id))?.unenrollReason, 'admin');
      });

      it('deviceReport keeps the manufacturer and model the device reported, and only the fields given', async () => {
        const enrollment = await newEnrollment();
        assert.equal(enrollment.manufacturer, null);
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { deviceReport: { manufacturer: 'Contoso Ltd.', model: 'Surface Laptop 7' } })), true);
        assert.equal(await store.applySyncOutcome(outcome(enrollment.id, { deviceReport: { model: 'Surface Pro 11' } })), true);
        const stored = await store.getEnrollment(enrollment.id);
        assert.deepEqual([stored?.manufacturer, stored?.model], ['Contoso Ltd.', 'Surface Pro 11']);
        assert.deepEqual([(await store.getManagedDevice(enrollment.devId))?.enrollment.model], ['Surface Pro 11'], 'the check-in read carries it too');
      });

      it('recordCheckins writes in bulk and keeps the latest time', async () => {
        const tenant = await newTenant();
        const a = await newEnrollment(tenant.id);
        const b = await newEnrollment(tenant.id);
        await store.applySyncOutcome(outcome(b.id, { management: { settledVersion: 4 } }));
        await store.recordCheckins(new Map());
        await store.recordCheckins(new Map([[a.id, T0 + 10], [b.id, T0 + 5]]));
        await store.recordCheckins(new Map([[a.id, T0 + 3], [b.id, T0 + 20]]));
        assert.deepEqual((await store.getManagedDevice(a.devId))?.management, { ...defaults(a.id), lastCheckinAt: T0 + 10 });
        assert.deepEqual((await store.getManagedDevice(b.devId))?.management, { ...defaults(b.id), settledVersion: 4, lastCheckinAt: T0 + 20 });
      });

      it('recordCheckins takes many enrollments at once', async () => {
        const tenant = await newTenant();
        const many = await Promise.all(Array.from({ length: 40 }, () => newEnrollment(tenant.id)));
        await store.recordCheckins(new Map(many.map((e, i) => [e.id, T0 + i])));
        const read = await Promise.all(many.map((e) => store.getManagedDevice(e.devId)));
        assert.deepEqual(read.map((m) => m?.management.lastCheckinAt), many.map((_, i) => T0 + i));
      });

      it('message log: newest first, keeps the newest `keep` per enrollment, drops the old, bytes intact', async () => {
        const { id } = await newEnrollment();
        const neighbour = await newEnrollment();
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const entry = (at: number, direction: 'in' | 'out', body: Uint8Array, enrollmentId = id): MessageLogRecord => ({ enrollmentId, at, direction, body });
        const records = [entry(T0 + 1, 'in', bytes(10)), entry(T0 + 1, 'out', all), entry(T0 + 2, 'in', new Uint8Array(0)), entry(T0 + 1, 'in', bytes(3), neighbour.id)];
        await store.appendMessageLog(records, 10, T0);
        assert.deepEqual(await store.listMessageLog(id, 10), [records[2], records[1], records[0]], 'same `at`: the later appended is newer');
        assert.deepEqual(await store.listMessageLog(id, 1), [records[2]]);
        assert.deepEqual(await store.listMessageLog(neighbour.id, 10), [records[3]]);
        const view = bytes(64).subarray(8, 40);
        const later = [entry(T0 + 3, 'out', view), entry(T0 + 4, 'in', bytes(5)), entry(T0 + 5, 'out', bytes(5))];
        await store.appendMessageLog(later, 3, T0);
        const kept = await store.listMessageLog(id, 10);
        assert.deepEqual(kept, [later[2], later[1], later[0]]);
        assert.deepEqual(kept[2]!.body, new Uint8Array(view));
        assert.deepEqual(await store.listMessageLog(neighbour.id, 10), [records[3]], 'only the enrollments appended to are trimmed');
        await store.appendMessageLog([entry(T0 + 6, 'in', bytes(5))], 10, T0 + 5);
        assert.deepEqual((await store.listMessageLog(id, 10)).map((r) => r.at), [T0 + 6, T0 + 5], 'older than olderThan: dropped');
        await store.appendMessageLog([], 0, T0 + 100);
        assert.deepEqual(await store.listMessageLog(randomUUID(), 10), []);
      });

      it('message log: a record older than olderThan is not kept, keep 0 keeps nothing', async () => {
        const { id } = await newEnrollment();
        await store.appendMessageLog([{ enrollmentId: id, at: T0, direction: 'in', body: bytes(4) }], 5, T0 + 1);
        assert.deepEqual(await store.listMessageLog(id, 10), []);
        await store.appendMessageLog([{ enrollmentId: id, at: T0 + 2, direction: 'in', body: bytes(4) }], 0, T0);
        assert.deepEqual(await store.listMessageLog(id, 10), []);
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
    version: 1,
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

function configurationSet(tenantId: string, id: string, overrides: Partial<ConfigurationSetRecord> = {}): ConfigurationSetRecord {
  return {
    id,
    tenantId,
    name: `Set ${id}`,
    target: { kind: 'all_devices' },
    settings: [
      { locUri: './Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', format: 'int', value: '0', atomicGroup: 'DeviceLock' },
      { locUri: './User/Vendor/MSFT/Policy/Config/Browser/HomePages', format: 'chr', value: '<https://contoso.com/ä?a=1&b=2>' },
    ],
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

function groupRecord(tenantId: string, overrides: Partial<GroupRecord> = {}): GroupRecord {
  return { tenantId, id: randomUUID(), displayName: 'Sales', description: 'The sales team', mailNickname: 'sales', createdAt: T0, ...overrides };
}

function policyRecord(tenantId: string, overrides: Partial<PolicyRecord> = {}): PolicyRecord {
  return {
    tenantId,
    id: randomUUID(),
    kind: 'mdmWindowsInformationProtectionPolicy',
    body: {
      displayName: 'Protect Contoso data',
      description: 'Ä ✓ "quoted"',
      enforcementLevel: 'encryptAndAuditOnly',
      enterpriseDomain: 'contoso.com',
      protectedApps: [{ displayName: 'Edge', productName: 'Microsoft.MicrosoftEdge', denied: false }],
      revokeOnUnenrollDisabled: false,
      azureRightsManagementServicesAllowed: null,
    },
    assignments: [
      { id: 'a-1', target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'g-include' } },
      { id: 'a-2', target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: 'g-exclude' } },
    ],
    version: 1,
    createdAt: T0,
    updatedAt: T0 + 1,
    ...overrides,
  };
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nodeState(locUri: string, overrides: Partial<NodeStateRecord> = {}): NodeStateRecord {
  return { locUri, format: 'int', value: '1', status: 'applied', statusCode: '200', updatedAt: T0, ...overrides };
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
