import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { ConfigurationSetRecord, ConfigurationTarget, DesiredSetting } from '../records.ts';
import type { ConfigurationStore } from '../roles.ts';
import type { Database } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { Undo } from '../versioned-write.ts';
import { bumpConfigVersion, upsertConfigurationSet } from './shared.ts';
import type { ConfigurationSetRow, GroupTargetColumn } from './shared.ts';

/** Configuration sets and the tenant's configuration version (ConfigurationStore): every change bumps it, O(1). */
export class KyselyConfigurationRepository implements ConfigurationStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable'>) {
    this.#db = context.db;
    this.#context = context;
  }

  putConfigurationSet(set: ConfigurationSetRecord): Promise<number> {
    return this.#context.track(() =>
      this.#context.write(async (trx) => {
        // The tenant row first, in every writer of configuration sets: concurrent changes queue on it, never deadlock.
        const version = await bumpConfigVersion(trx, set.tenantId);
        if (version === undefined) throw new OpenMamError('not_found', `tenant ${set.tenantId} does not exist`);
        await upsertConfigurationSet(trx, set);
        return version;
      }),
    );
  }

  /** The store keeps no tombstone, so it has no use for the interface's `now`. */
  deleteConfigurationSet(tenantId: string, id: string): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        const deleted = await trx.deleteFrom('configuration_sets').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  getConfigurationSet(tenantId: string, id: string): Promise<ConfigurationSetRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('configuration_sets').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : configurationSetFromRow(row);
    });
  }

  /** Every group-targeted set of the tenant comes back: which apply depends on the user's groups (the caller's job). */
  configurationSetsFor(tenantId: string, devId: string): Promise<ConfigurationSetRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('configuration_sets')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where((eb) =>
          eb.or([
            eb('target_kind', '=', ALL_DEVICES),
            eb('target_kind', '=', GROUPS),
            eb.and([eb('target_kind', '=', ONE_DEVICE), eb('target_dev_id', '=', devId)]),
          ]),
        )
        .orderBy('id', 'asc')
        .execute();
      return rows.map(configurationSetFromRow);
    });
  }

  getConfigurationVersion(tenantId: string): Promise<number> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('tenants').select('config_version').where('id', '=', tenantId).executeTakeFirst();
      return row?.config_version ?? 0;
    });
  }
}

const ALL_DEVICES = sql.lit<ConfigurationTarget['kind']>('all_devices');
const ONE_DEVICE = sql.lit<ConfigurationTarget['kind']>('device');
const GROUPS = sql.lit<ConfigurationTarget['kind']>('groups');

function configurationSetFromRow(row: ConfigurationSetRow): ConfigurationSetRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    target: targetFromColumns(row),
    settings: JSON.parse(row.settings) as DesiredSetting[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function targetFromColumns(row: Pick<ConfigurationSetRow, 'target_kind' | 'target_dev_id' | 'target_groups' | 'id'>): ConfigurationTarget {
  switch (row.target_kind) {
    case 'all_devices':
      return { kind: 'all_devices' };
    case 'device':
      if (row.target_dev_id === null) throw new OpenMamError('internal', `configuration set ${row.id} targets a device but names none`);
      return { kind: 'device', devId: row.target_dev_id };
    case 'groups':
      if (row.target_groups === null) throw new OpenMamError('internal', `configuration set ${row.id} targets groups but names none`);
      return { kind: 'groups', ...groupTargetFromColumn(row.target_groups) };
  }
}

function groupTargetFromColumn(column: string): GroupTargetColumn {
  const { include, exclude, allUsers, filters } = JSON.parse(column) as GroupTargetColumn;
  return { include, exclude, allUsers, ...(filters === undefined ? {} : { filters }) };
}
