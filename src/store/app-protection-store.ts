import type { AppProtectionStore } from './app-protection-roles.ts';
import { KyselyAccessPolicyRepository } from './repositories/access-policies.ts';
import { KyselyAppOperationRepository } from './repositories/app-operations.ts';
import { KyselyAppPolicyRepository } from './repositories/app-policies.ts';
import { KyselyAppProtectionRetention } from './repositories/app-protection-retention.ts';
import { KyselyAppRegistrationRepository } from './repositories/app-registrations.ts';
import { KyselyBlockedUserRepository } from './repositories/blocked-users.ts';
import { KyselyCatalogueRepository } from './repositories/catalogue.ts';
import { KyselyThreatRepository } from './repositories/threat.ts';
import type { StoreContext } from './store-context.ts';

/**
 * The app protection service's storage (AppProtectionStore), assembled from its role repositories
 * (src/store/repositories/), over the same database, write path and lifecycle as KyselyStore, which exposes it as
 * `appProtection`. Each method is the repository's own, bound once here: a call allocates nothing (the check-in's
 * hot reads stay one compiled query each, in their repositories).
 * Writers that bump the tenant's app configuration version take the tenant row first, like KyselyStore's
 * configuration writers: concurrent changes of one tenant queue on it, never deadlock. A replaced policy, connector or
 * access policy keeps its stored createdAt.
 */
export function kyselyAppProtectionStore(context: StoreContext): AppProtectionStore {
  const policies = new KyselyAppPolicyRepository(context);
  const registrations = new KyselyAppRegistrationRepository(context);
  const operations = new KyselyAppOperationRepository(context);
  const blockedUsers = new KyselyBlockedUserRepository(context);
  const threat = new KyselyThreatRepository(context);
  const access = new KyselyAccessPolicyRepository(context);
  const catalogue = new KyselyCatalogueRepository(context);
  const retention = new KyselyAppProtectionRetention(context);
  // Listed, not reflected over the prototypes: a method missing here is a compile error (`satisfies`), never a
  // `not a function` at run time.
  return {
    ...bound(policies, ['getAppConfigVersion', 'createAppPolicy', 'updateAppPolicy', 'getAppPolicy', 'listAppPolicies', 'queryAppPolicies', 'deleteAppPolicy']),
    ...bound(registrations, [
      'upsertRegistration',
      'registerOnDevice',
      'getRegistration',
      'getCheckInState',
      'updateRegistration',
      'recordAppCheckins',
      'listRegistrations',
      'otherUsersOnDevice',
      'summarizeRegistrations',
      'setCompliance',
      'queryRegistrations',
    ]),
    ...bound(operations, ['addOperations', 'getOperation', 'listOperations', 'pendingOperations', 'completeOperation']),
    ...bound(blockedUsers, ['blockUser', 'unblockUser', 'isUserBlocked']),
    ...bound(threat, [
      'createConnector',
      'updateConnector',
      'recordConnectorHeartbeat',
      'getConnector',
      'listConnectors',
      'queryConnectors',
      'deleteConnector',
      'saveThreatReport',
      'threatReportsFor',
      'listThreatReports',
    ]),
    ...bound(access, ['createAccessPolicy', 'updateAccessPolicy', 'getAccessPolicy', 'listAccessPolicies', 'queryAccessPolicies', 'deleteAccessPolicy', 'saveDeviceCompliance', 'getDeviceCompliance']),
    ...bound(catalogue, [
      'createManagedApp',
      'updateManagedApp',
      'getManagedApp',
      'listManagedApps',
      'deleteManagedApp',
      'createServicePrincipal',
      'updateServicePrincipal',
      'getServicePrincipal',
      'listServicePrincipals',
      'queryServicePrincipals',
      'deleteServicePrincipal',
    ]),
    ...bound(retention, ['purgeAppProtection']),
  } satisfies AppProtectionStore;
}

/** The methods `keys` of `repository`, each bound to it once. */
function bound<R extends Record<K, (...args: never[]) => unknown>, K extends keyof R>(repository: R, keys: readonly K[]): Pick<R, K> {
  const methods: Partial<Pick<R, K>> = {};
  // bind() answers the method's own type without its `this`, which TypeScript cannot relate to R[K] generically.
  for (const key of keys) methods[key] = repository[key].bind(repository) as R[K];
  return methods as Pick<R, K>;
}
