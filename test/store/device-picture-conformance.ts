import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { DEFAULT_TENANT_SETTINGS } from '../../src/identity/tenants.ts';
import type { EnrollmentRecord } from '../../src/store/records.ts';
import type { EnrollmentInput, Store, SyncOutcome } from '../../src/store/roles.ts';
import { skippableSuite } from '../support/skippable-suite.ts';

/**
 * The contract of DevicePictureStore (src/store/roles.ts) and of SyncOutcome.entraDeviceLink, for every backend: an
 * enrollment is linked to an Entra device only while it has none (never re-linked, whatever the order of messages);
 * a page's inventory values, user names and the managed device of Entra device ids are read in bulk, scoped to the
 * tenant and to active enrollments.
 */
const T0 = Date.UTC(2026, 11, 1);
const ENCRYPTION = './Vendor/MSFT/DeviceStatus/Compliance/EncryptionCompliance';
const EDITION = './Vendor/MSFT/DeviceStatus/OS/Edition';

export function devicePictureConformance(name: string, open: () => Promise<Store>, options: { skip?: string } = {}): void {
  skippableSuite(`device picture store conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    async function newTenant(): Promise<string> {
      const id = randomUUID();
      await store.createTenant({ id, name: 'Contoso', identityProvider: 'entra', enrollmentAllowed: true, settings: DEFAULT_TENANT_SETTINGS, version: 1, createdAt: T0, updatedAt: T0 });
      return id;
    }
    async function enroll(tenantId: string, overrides: Partial<EnrollmentInput> = {}): Promise<EnrollmentRecord> {
      const input: EnrollmentInput = {
        id: randomUUID(), tenantId, devId: `dev-${randomUUID()}`, userOid: randomUUID(), upn: 'alice@contoso.example', entraDeviceId: null, enrollmentType: 'MAM',
        applicationVersion: null, requestVersion: '4.0', termsAcceptedAt: null, hwDevId: null, deviceName: 'DESKTOP', deviceType: null, osEdition: '48', osVersion: '10.0.22631.2861', locale: 'en-US',
        ...overrides,
      };
      const outcome = await store.enroll(input, T0);
      assert.equal(outcome.kind, 'enrolled');
      return (outcome as { enrollment: EnrollmentRecord }).enrollment;
    }
    const outcome = (enrollmentId: string, overrides: Partial<SyncOutcome> = {}): SyncOutcome => ({ enrollmentId, now: T0, session: { kind: 'none' }, nodeStates: [], forgetNodes: [], inventory: [], ...overrides });

    it('links an enrollment to its Entra device only while it has none', async () => {
      const tenantId = await newTenant();
      const unlinked = await enroll(tenantId);
      const first = randomUUID();
      assert.equal(await store.applySyncOutcome(outcome(unlinked.id, { entraDeviceLink: first })), true);
      assert.equal((await store.getEnrollment(unlinked.id))?.entraDeviceId, first);
      assert.equal((await store.getManagedDevice(unlinked.devId))?.enrollment.entraDeviceId, first, 'the check-in read sees it');
      // A later (or racing) message with another id writes nothing to the link, and the rest of its outcome still applies.
      assert.equal(await store.applySyncOutcome(outcome(unlinked.id, { entraDeviceLink: randomUUID(), deviceReport: { model: 'Surface Laptop 7' } })), true);
      const after = await store.getEnrollment(unlinked.id);
      assert.deepEqual([after?.entraDeviceId, after?.model], [first, 'Surface Laptop 7']);
      const linkedAtEnrollment = await enroll(tenantId, { entraDeviceId: randomUUID() });
      await store.applySyncOutcome(outcome(linkedAtEnrollment.id, { entraDeviceLink: randomUUID() }));
      assert.equal((await store.getEnrollment(linkedAtEnrollment.id))?.entraDeviceId, linkedAtEnrollment.entraDeviceId);
    });

    it('reads a page\'s inventory values at the LocURIs asked for, every enrollment a key', async () => {
      const tenantId = await newTenant();
      const [a, b] = [await enroll(tenantId), await enroll(tenantId)];
      await store.applySyncOutcome(outcome(a.id, { inventory: [{ locUri: ENCRYPTION, value: '1', updatedAt: T0 + 1 }, { locUri: EDITION, value: '48', updatedAt: T0 + 2 }, { locUri: './DevInfo/Man', value: 'Contoso', updatedAt: T0 }] }));
      const read = await store.devicePicture.inventoryOf([a.id, b.id, a.id], [ENCRYPTION, EDITION]);
      assert.deepEqual([...read.keys()].sort(), [a.id, b.id].sort());
      assert.deepEqual(Object.fromEntries(read.get(a.id)!), { [ENCRYPTION]: { value: '1', updatedAt: T0 + 1 }, [EDITION]: { value: '48', updatedAt: T0 + 2 } });
      assert.equal(read.get(b.id)!.size, 0);
      assert.equal((await store.devicePicture.inventoryOf([a.id], [])).get(a.id)!.size, 0);
    });

    it('reads user display names of one tenant', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const [alice, bob, ghost] = [randomUUID(), randomUUID(), randomUUID()];
      await store.recordUsers([
        { tenantId, id: alice, userPrincipalName: 'alice@contoso.example', displayName: 'Alice', at: T0 },
        { tenantId, id: bob, userPrincipalName: 'bob@contoso.example', displayName: null, at: T0 },
        { tenantId: other, id: ghost, userPrincipalName: 'ghost@fabrikam.example', displayName: 'Ghost', at: T0 },
      ]);
      const names = await store.devicePicture.userDisplayNamesOf(tenantId, [alice, bob, ghost]);
      assert.deepEqual(Object.fromEntries(names), { [alice]: 'Alice', [bob]: null });
    });

    it('finds the active enrollment of Entra device ids in the tenant, ignoring case; never an ended one or another tenant\'s', async () => {
      const tenantId = await newTenant();
      const other = await newTenant();
      const [d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID()];
      const e1 = await enroll(tenantId, { entraDeviceId: d1 });
      const e2 = await enroll(tenantId, { entraDeviceId: d2 });
      await store.applySyncOutcome(outcome(e2.id, { unenrolledAt: T0 + 5 }));
      await enroll(other, { entraDeviceId: d3 });
      const found = await store.devicePicture.managedDeviceIdsOf(tenantId, [d1.toUpperCase(), d2, d3, randomUUID()]);
      assert.deepEqual(Object.fromEntries(found), { [d1]: e1.id });
      assert.equal((await store.devicePicture.managedDeviceIdsOf(tenantId, [])).size, 0);
    });
  });
}
