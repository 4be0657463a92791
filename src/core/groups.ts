import { OpenMamError } from '../errors.ts';
import type { GroupRecord } from '../store/records.ts';
import type { GroupStore } from '../store/roles.ts';
import type { AuditActivity, AuditChange, AuditContext, AuditTrail } from './audit/audit-trail.ts';

/**
 * The admin's changes of groups and their members (Graph `groups`, `/groups/{id}/members/$ref`), each recorded in the
 * audit trail in its own transaction. Groups have no version: a change is one statement after the tenant row.
 */

/** The audit trail's subject of every group change. */
export const GROUP_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'groups', entity: 'Group' };

type GroupChange = Partial<Pick<GroupRecord, 'displayName' | 'description' | 'mailNickname'>>;

/** A group's properties as the trail compares them. */
function audited(group: GroupRecord): Record<string, unknown> {
  return { displayName: group.displayName, description: group.description, mailNickname: group.mailNickname };
}

export class GroupService {
  constructor(
    private readonly store: Pick<GroupStore, 'createGroup' | 'getGroup' | 'updateGroup' | 'deleteGroup' | 'addGroupMember' | 'removeGroupMember'>,
    private readonly audit: AuditTrail,
  ) {}

  async create(caller: AuditContext, group: GroupRecord): Promise<GroupRecord> {
    const change = { activity: { ...GROUP_AUDIT, verb: 'Create' }, resourceId: group.id, resourceDisplayName: group.displayName, after: audited(group) };
    await this.audit.attach(caller, change, () => this.store.createGroup(group));
    return group;
  }

  /** `not_found` when the group is not the tenant's (or was deleted meanwhile: nothing written, no event). */
  async update(caller: AuditContext, id: string, change: GroupChange): Promise<GroupRecord> {
    const before = await this.require(caller.tenantId, id);
    const after = { ...before, ...change };
    const updated = await this.audit.attach(caller, { activity: { ...GROUP_AUDIT, verb: 'Patch' }, resourceId: id, resourceDisplayName: after.displayName, before: audited(before), after: audited(after) }, () =>
      this.store.updateGroup(caller.tenantId, id, change),
    );
    if (updated === undefined) throw new OpenMamError('not_found', `group ${id} does not exist`);
    return updated;
  }

  async delete(caller: AuditContext, id: string): Promise<void> {
    const before = await this.require(caller.tenantId, id);
    const deleted = await this.audit.attach(caller, { activity: { ...GROUP_AUDIT, verb: 'Delete' }, resourceId: id, resourceDisplayName: before.displayName, before: audited(before) }, () =>
      this.store.deleteGroup(caller.tenantId, id),
    );
    if (!deleted) throw new OpenMamError('not_found', `group ${id} does not exist`);
  }

  /** False when the member was already in the group (nothing written, no event). */
  addMember(caller: AuditContext, group: GroupRecord, memberId: string): Promise<boolean> {
    return this.audit.attach(caller, this.memberChange('AddMember', group, undefined, memberId), () => this.store.addGroupMember(caller.tenantId, group.id, memberId));
  }

  /** False when the member was not in the group. */
  removeMember(caller: AuditContext, group: GroupRecord, memberId: string): Promise<boolean> {
    return this.audit.attach(caller, this.memberChange('RemoveMember', group, memberId, undefined), () => this.store.removeGroupMember(caller.tenantId, group.id, memberId));
  }

  /** A membership change: the member's object id as `members[0]`, old for a removal, new for an addition. */
  private memberChange(verb: string, group: GroupRecord, before: string | undefined, after: string | undefined): AuditChange {
    return {
      activity: { ...GROUP_AUDIT, verb },
      resourceId: group.id,
      resourceDisplayName: group.displayName,
      ...(before === undefined ? {} : { before: { members: [before] } }),
      ...(after === undefined ? {} : { after: { members: [after] } }),
    };
  }

  private async require(tenantId: string, id: string): Promise<GroupRecord> {
    const group = await this.store.getGroup(tenantId, id);
    if (group === undefined) throw new OpenMamError('not_found', `group ${id} does not exist`);
    return group;
  }
}
