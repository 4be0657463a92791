import type { Kysely, Selectable } from 'kysely';
import { OpenMamError } from '../../errors.ts';
import type { CollectionPage, CollectionQuery } from '../collection-query.ts';
import * as collections from '../collections.ts';
import type { GroupRecord } from '../records.ts';
import { compareKeys } from '../row-helpers.ts';
import type { GroupStore } from '../roles.ts';
import type { Database, GroupsTable } from '../schema.ts';
import type { StoreContext } from '../store-context.ts';
import { recordUsersWithin } from '../user-sightings.ts';
import { Undo } from '../versioned-write.ts';
import { batches, bumpConfigVersion, MAX_READ_BATCH } from './shared.ts';

type GroupRow = Selectable<GroupsTable>;

/**
 * Groups of the admin API and their admin-set memberships (GroupStore). Every writer of memberships takes the tenant
 * row first (the version bump), like the configuration set writers: concurrent changes of one tenant queue on it,
 * never deadlock. A write that turns out to change nothing is undone.
 */
export class KyselyGroupRepository implements GroupStore {
  readonly #db: Kysely<Database>;
  readonly #context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'queryCollection' | 'isUniqueViolation'>;

  constructor(context: Pick<StoreContext, 'db' | 'track' | 'write' | 'undoable' | 'queryCollection' | 'isUniqueViolation'>) {
    this.#db = context.db;
    this.#context = context;
  }

  /** Creating a group changes no device's targeting: no bump. `not_found` when the tenant does not exist. */
  createGroup(group: GroupRecord): Promise<void> {
    return this.#context.track(async () => {
      try {
        // Through the write path, so that an audit event attached to it rides on this insert.
        await this.#context.write((trx) => trx.insertInto('groups').values(groupToRow(group)).execute());
      } catch (err) {
        if (this.#context.isUniqueViolation(err)) {
          throw new OpenMamError('conflict', `group ${group.id} already exists`, { cause: err });
        }
        if ((await this.#db.selectFrom('tenants').select('id').where('id', '=', group.tenantId).executeTakeFirst()) === undefined) {
          throw new OpenMamError('not_found', `tenant ${group.tenantId} does not exist`, { cause: err });
        }
        throw err;
      }
    });
  }

  getGroup(tenantId: string, id: string): Promise<GroupRecord | undefined> {
    return this.#context.track(async () => {
      const row = await this.#db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : groupFromRow(row);
    });
  }

  async queryGroups(tenantId: string, query: CollectionQuery): Promise<CollectionPage<GroupRecord>> {
    const page = await this.#context.queryCollection<GroupRow>(collections.GROUPS, tenantId, query);
    return { ...page, rows: page.rows.map(groupFromRow) };
  }

  listGroups(tenantId: string): Promise<GroupRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('groups')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('display_name', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(groupFromRow);
    });
  }

  updateGroup(tenantId: string, id: string, change: Partial<Pick<GroupRecord, 'displayName' | 'description' | 'mailNickname'>>): Promise<GroupRecord | undefined> {
    return this.#context.track(async () => {
      const set = {
        ...(change.displayName === undefined ? {} : { display_name: change.displayName }),
        ...(change.description === undefined ? {} : { description: change.description }),
        ...(change.mailNickname === undefined ? {} : { mail_nickname: change.mailNickname }),
      };
      if (Object.keys(set).length > 0) {
        const found = await this.#context.undoable<boolean>(async (trx) => {
          const updated = await trx.updateTable('groups').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
          // No such group: undone, so that nothing (an attached audit event) is written for it.
          if (updated.numUpdatedRows === 0n) throw new Undo(false);
          return true;
        });
        if (!found) return undefined;
      }
      return this.getGroup(tenantId, id);
    });
  }

  deleteGroup(tenantId: string, id: string): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        await trx.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('group_id', '=', id).execute();
        const deleted = await trx.deleteFrom('groups').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  addGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        const unknownGroup = (): OpenMamError => new OpenMamError('not_found', `group ${groupId} does not exist`);
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) throw unknownGroup();
        const group = await trx.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', groupId).executeTakeFirst();
        if (group === undefined) throw unknownGroup(); // undoes the bump
        const added = await trx
          .insertInto('group_members')
          .values({ tenant_id: tenantId, group_id: groupId, member_id: memberId })
          .onConflict((oc) => oc.columns(['tenant_id', 'group_id', 'member_id']).doNothing())
          .returning('member_id')
          .executeTakeFirst();
        if (added === undefined) throw new Undo(false); // already a member: undoes the bump
        // A reference proves the id only (no claims, no time).
        await recordUsersWithin(trx, [{ tenantId, id: memberId, userPrincipalName: null, displayName: null, at: null }]);
        return true;
      }),
    );
  }

  removeGroupMember(tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    return this.#context.track(() =>
      this.#context.undoable<boolean>(async (trx) => {
        if ((await bumpConfigVersion(trx, tenantId)) === undefined) return false;
        const removed = await trx
          .deleteFrom('group_members')
          .where('tenant_id', '=', tenantId)
          .where('group_id', '=', groupId)
          .where('member_id', '=', memberId)
          .executeTakeFirst();
        if (removed.numDeletedRows === 0n) throw new Undo(false); // undoes the bump
        return true;
      }),
    );
  }

  listGroupMembers(tenantId: string, groupId: string): Promise<string[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .select('member_id')
        .where('tenant_id', '=', tenantId)
        .where('group_id', '=', groupId)
        .orderBy('member_id', 'asc')
        .execute();
      return rows.map((r) => r.member_id);
    });
  }

  groupsOfMember(tenantId: string, memberId: string): Promise<string[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .select('group_id')
        .where('tenant_id', '=', tenantId)
        .where('member_id', '=', memberId)
        .orderBy('group_id', 'asc')
        .execute();
      return rows.map((r) => r.group_id);
    });
  }

  listGroupsOfMember(tenantId: string, memberId: string): Promise<GroupRecord[]> {
    return this.#context.track(async () => {
      const rows = await this.#db
        .selectFrom('group_members')
        .innerJoin('groups', (join) => join.onRef('groups.tenant_id', '=', 'group_members.tenant_id').onRef('groups.id', '=', 'group_members.group_id'))
        .selectAll('groups')
        .where('group_members.tenant_id', '=', tenantId)
        .where('group_members.member_id', '=', memberId)
        .orderBy('groups.display_name', 'asc')
        .orderBy('groups.id', 'asc')
        .execute();
      return rows.map(groupFromRow);
    });
  }

  groupsOfMembers(tenantId: string, memberIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.#context.track(async () => {
      const members = [...new Set(memberIds)].sort(compareKeys);
      const byMember = new Map(members.map((id) => [id, [] as string[]]));
      for (const chunk of batches(members, MAX_READ_BATCH)) {
        const rows = await this.#db
          .selectFrom('group_members')
          .select(['member_id', 'group_id'])
          .where('tenant_id', '=', tenantId)
          .where('member_id', 'in', chunk)
          .orderBy('member_id', 'asc')
          .orderBy('group_id', 'asc')
          .execute();
        for (const row of rows) byMember.get(row.member_id)!.push(row.group_id);
      }
      return byMember;
    });
  }
}

function groupToRow(group: GroupRecord): GroupRow {
  return { tenant_id: group.tenantId, id: group.id, display_name: group.displayName, description: group.description, mail_nickname: group.mailNickname, created_at: group.createdAt };
}

function groupFromRow(row: GroupRow): GroupRecord {
  return { tenantId: row.tenant_id, id: row.id, displayName: row.display_name, description: row.description, mailNickname: row.mail_nickname, createdAt: row.created_at };
}
