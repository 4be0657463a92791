import type { Kysely } from 'kysely';
import type { StoreContext } from '../store-context.ts';
import { batches, compareKeys } from '../row-helpers.ts';
import type { DevicePictureStore } from '../roles.ts';
import type { Database } from '../schema.ts';

/** Keys one `IN (...)` read carries at most (as repositories/management.ts reads management states). */
const MAX_READ_BATCH = 1024;

/**
 * The device picture's reads (DevicePictureStore in roles.ts) over KyselyStore's database and lifecycle, which exposes
 * it as `devicePicture`: each an `IN (...)` read per 1,024 keys on a primary key or an index.
 */
export class KyselyDevicePictureStore implements DevicePictureStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'track'>;

  constructor(db: Kysely<Database>, context: Pick<StoreContext, 'track'>) {
    this.#db = db;
    this.#context = context;
  }

  inventoryOf(enrollmentIds: readonly string[], locUris: readonly string[]): Promise<Map<string, Map<string, { value: string; updatedAt: number }>>> {
    return this.#context.track(async () => {
      const ids = [...new Set(enrollmentIds)].sort(compareKeys);
      const byEnrollment = new Map(ids.map((id) => [id, new Map<string, { value: string; updatedAt: number }>()]));
      if (locUris.length === 0) return byEnrollment;
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        // The primary key (enrollment_id, loc_uri) serves it.
        const rows = await this.#db.selectFrom('inventory').selectAll().where('enrollment_id', 'in', chunk).where('loc_uri', 'in', [...locUris]).execute();
        for (const row of rows) byEnrollment.get(row.enrollment_id)?.set(row.loc_uri, { value: row.value, updatedAt: Number(row.updated_at) });
      }
      return byEnrollment;
    });
  }

  userDisplayNamesOf(tenantId: string, userIds: readonly string[]): Promise<Map<string, string | null>> {
    return this.#context.track(async () => {
      const ids = [...new Set(userIds)].sort(compareKeys);
      const names = new Map<string, string | null>();
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        const rows = await this.#db.selectFrom('users').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute();
        for (const row of rows) names.set(row.id, row.display_name);
      }
      return names;
    });
  }

  managedDeviceIdsOf(tenantId: string, entraDeviceIds: readonly string[]): Promise<Map<string, string>> {
    return this.#context.track(async () => {
      const ids = [...new Set(entraDeviceIds.map((id) => id.toLowerCase()))].sort(compareKeys);
      const byDevice = new Map<string, string>();
      for (const chunk of batches(ids, MAX_READ_BATCH)) {
        const rows = await this.#db
          .selectFrom('enrollments')
          .select(['id', 'entra_device_id'])
          .where('tenant_id', '=', tenantId)
          .where('entra_device_id', 'in', chunk)
          .where('state', '=', 'enrolled')
          .execute();
        // At most one active MAM enrollment per device (the partial unique index on dev_id); should two DevIds claim
        // one Entra device, the smaller enrollment id is answered, the same on every read.
        for (const row of rows.sort((a, b) => compareKeys(a.id, b.id))) {
          if (row.entra_device_id !== null && !byDevice.has(row.entra_device_id)) byDevice.set(row.entra_device_id, row.id);
        }
      }
      return byDevice;
    });
  }
}
