import { OpenMamError } from '../errors.ts';
import type { VerifiedIdentity } from '../identity/identity.ts';
import type { TenantRecord } from '../store/records.ts';
import type { GroupStore } from '../store/roles.ts';

/**
 * Entra's MAM user scope (Entra "Mobility (MDM and MAM)"; Graph mobileAppManagementPolicy `appliesTo`: none, all,
 * selected with `includedGroups`, learn.microsoft.com/graph/api/resources/mobileappmanagementpolicy): who may use app
 * management at all. Outside it, MAM enrollment is refused with an authorization fault and an app's registration
 * with "Account not set up" (seed 003). A tenant setting; `all` when never set (OpenMAM's behaviour before it).
 */
export type MamUserScopeKind = 'none' | 'selected' | 'all';

export const MAM_USER_SCOPES: readonly MamUserScopeKind[] = ['none', 'selected', 'all'];

export class MamUserScope {
  constructor(private readonly groups: Pick<GroupStore, 'groupsOfMember'>) {}

  /** Refuses (`account_not_set_up`) a user outside the tenant's scope: `selected` asks for one of its groups, from the token's `groups` claim or the admin-managed memberships. */
  async require(tenant: TenantRecord, user: VerifiedIdentity): Promise<void> {
    const scope = tenant.settings.mamUserScope ?? 'all';
    if (scope === 'all') return;
    if (scope === 'selected') {
      const wanted = new Set(tenant.settings.mamUserScopeGroupIds ?? []);
      if (user.groups.some((group) => wanted.has(group))) return;
      const memberOf = await this.groups.groupsOfMember(tenant.id, user.objectId);
      if (memberOf.some((group) => wanted.has(group))) return;
    }
    throw new OpenMamError('account_not_set_up', 'Your account is not set up for app protection in your organization (MAM user scope).');
  }
}
