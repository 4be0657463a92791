import type { Kysely, Migration } from 'kysely';

/**
 * One device, one picture (issue 15): the Entra device id of an enrollment is what joins it to the app registrations
 * made on the same device (Graph managedAppRegistration `managedDeviceId`, answered at read time with one batched
 * read per page: store/repositories/device-picture-store.ts `managedDeviceIdsOf`) and what an admin filters `managedDevices` by
 * (`azureADDeviceId eq '...'`). `enrollments_entra_device` serves both: (tenant, device id, state) finds a device's
 * active enrollment without reading the tenant's rows. It costs a write when an enrollment is recorded or linked to
 * its Entra device (once), never on a check-in.
 */
export const devicePicture: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('enrollments_entra_device').on('enrollments').columns(['tenant_id', 'entra_device_id', 'state']).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('enrollments_entra_device').execute();
  },
};
