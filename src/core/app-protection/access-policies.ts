import { OpenMamError } from '../../errors.ts';
import { accessPolicyAsGraph, accessPolicyExtrasPaths, validateAccessPolicy, type AccessPolicySettings, type ConditionalAccessPolicy } from '../../policy/app-protection.ts';
import type { GraphExtras, WithGraphExtras } from '../../policy/graph-extras.ts';
import type { AccessPolicyRecord } from '../../store/app-protection-records.ts';
import type { AccessPolicyStore } from '../../store/app-protection-roles.ts';
import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from '../versioned-write.ts';
import { recordChange, type AuditActivity, type AuditContext, type AuditTrail } from '../audit/audit-trail.ts';

/**
 * The admin side of access policies (Entra `conditionalAccessPolicy`, reduced: policy/app-protection.ts): create,
 * read, PATCH, delete. Decisions are access.ts's.
 */
export interface AccessPolicyServiceOptions {
  store: Pick<AccessPolicyStore, 'createAccessPolicy' | 'updateAccessPolicy' | 'getAccessPolicy' | 'listAccessPolicies' | 'queryAccessPolicies' | 'deleteAccessPolicy'>;
  /** Every change is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
}

function settingsOf(policy: AccessPolicyRecord): WithGraphExtras<AccessPolicySettings> {
  return {
    displayName: policy.displayName,
    state: policy.state,
    resources: policy.resources,
    includeGroups: policy.includeGroups,
    excludeGroups: policy.excludeGroups,
    includeAllUsers: policy.includeAllUsers,
    approvedApps: policy.approvedApps,
    grantControls: policy.grantControls,
    graphExtras: policy.graphExtras,
  };
}

/** The audit trail's subject of its changes. */
export const ACCESS_POLICY_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'conditionalAccess', entity: 'ConditionalAccessPolicy' };

export class AccessPolicyService {
  constructor(private readonly options: AccessPolicyServiceOptions) {}

  query(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AccessPolicyRecord>> {
    return this.options.store.queryAccessPolicies(tenantId, query);
  }

  list(tenantId: string): Promise<AccessPolicyRecord[]> {
    return this.options.store.listAccessPolicies(tenantId);
  }

  async get(tenantId: string, id: string): Promise<AccessPolicyRecord> {
    const policy = await this.options.store.getAccessPolicy(tenantId, id);
    if (!policy) throw new OpenMamError('not_found', `no conditionalAccessPolicy with id ${id}`);
    return policy;
  }

  async create(caller: AuditContext, input: unknown): Promise<AccessPolicyRecord> {
    const { tenantId } = caller;
    const settings = validateAccessPolicy(input, 'create');
    const now = this.options.clock();
    const policy: AccessPolicyRecord = { tenantId, id: this.options.newId(), ...settings, version: 1, createdAt: now, updatedAt: now };
    await this.options.audit.attach(caller, recordChange(ACCESS_POLICY_AUDIT, 'Create', undefined, policy, policy.displayName), () => this.options.store.createAccessPolicy(policy));
    return policy;
  }

  /**
   * PATCH in Graph's shape: top-level properties replace the stored ones (`conditions` as a whole), then all is
   * validated. A compare-and-set on the policy's version (versioned-write.ts).
   */
  async update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AccessPolicyRecord> {
    const { tenantId } = caller;
    let current: AccessPolicyRecord | undefined;
    const changes = validateAccessPolicy(patch, 'update');
    return writeVersioned({
      what: `conditionalAccessPolicy ${id}`,
      expected,
      read: async () => (current = await this.get(tenantId, id)),
      change: (current) => ({ ...current, ...validateAccessPolicy({ ...accessPolicyAsGraph(settingsOf(current)), ...changes }, 'create'), updatedAt: this.options.clock() }),
      write: (next) => this.options.audit.attach(caller, recordChange(ACCESS_POLICY_AUDIT, 'Patch', current, next, next.displayName), () => this.options.store.updateAccessPolicy(next)),
    });
  }

  async delete(caller: AuditContext, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let current: AccessPolicyRecord | undefined;
    await deleteVersioned({
      what: `conditionalAccessPolicy ${id}`,
      expected,
      // Read first: what it was goes to the trail.
      readFirst: true,
      read: async () => (current = await this.get(tenantId, id)),
      remove: (version) => this.options.audit.attach(caller, recordChange(ACCESS_POLICY_AUDIT, 'Delete', current, undefined, current === undefined ? null : current.displayName), () => this.options.store.deleteAccessPolicy(tenantId, id, version)),
    });
  }

  /** The Graph shape of a stored policy (without id and times), its stored-only properties included. */
  asGraph(policy: AccessPolicyRecord): ConditionalAccessPolicy & GraphExtras {
    return accessPolicyAsGraph(settingsOf(policy));
  }

  /** The paths of the stored-only properties the policy has set (OpenMAM's `@openmam.notApplicableProperties`). */
  notApplicableProperties(policy: AccessPolicyRecord): string[] {
    return accessPolicyExtrasPaths(policy.graphExtras);
  }
}
