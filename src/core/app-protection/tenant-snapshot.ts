import type { AccessPolicyRecord, AppPolicyRecord, MtdConnectorRecord } from '../../store/app-protection-records.ts';
import type { AccessPolicyStore, AppPolicyStore, CatalogueStore, ThreatStore } from '../../store/app-protection-roles.ts';
import type { AssignmentFilterRecord } from '../../store/records.ts';
import type { AssignmentFilterStore, ConfigurationStore, GroupStore } from '../../store/roles.ts';
import { UNOBSERVED_CACHE, type CacheObserver } from '../../identity/identity.ts';
import { AppCatalogue } from './app-catalogue.ts';

/**
 * A tenant's app protection policies, connectors and access policies, cached per node and keyed by the tenant's
 * versions: every check-in and access decision reads the two version numbers (one indexed row each) and reuses the
 * snapshot while they are unchanged, so neither pays for reading policies. The app configuration version moves with
 * policies, connectors, access policies, the managed app catalogue and service principals; the configuration version moves with group membership (and MDM policy
 * changes), which the per-user group cache depends on.
 */
export interface TenantAppSnapshot {
  tenantId: string;
  appVersion: number;
  groupVersion: number;
  policies: readonly AppPolicyRecord[];
  connectors: readonly MtdConnectorRecord[];
  accessPolicies: readonly AccessPolicyRecord[];
  /** The managed app catalogue and the protected resources (service principals), indexed. */
  catalogue: AppCatalogue;
  /** The assignment filters the policies' assignments name, by id (read only when some assignment names one). */
  appFilters: ReadonlyMap<string, AssignmentFilterRecord>;
}

export type SnapshotStore = { appProtection: Pick<AppPolicyStore, 'getAppConfigVersion' | 'listAppPolicies'> & Pick<ThreatStore, 'listConnectors'> & Pick<AccessPolicyStore, 'listAccessPolicies'> & Pick<CatalogueStore, 'listManagedApps' | 'listServicePrincipals'> } & Pick<
  ConfigurationStore,
  'getConfigurationVersion'
> &
  Pick<GroupStore, 'groupsOfMember'> & { assignmentFilters?: Pick<AssignmentFilterStore, 'getAssignmentFilters'> };

interface Entry {
  snapshot: TenantAppSnapshot;
  /** Admin-set group memberships per user, valid for this snapshot's groupVersion. */
  memberships: Map<string, Membership>;
}

interface Membership {
  memberOf: readonly string[];
  /** The last union with a token's groups (the validator caches one sorted array per token): reused while the same. */
  tokenGroups?: readonly string[];
  groups?: ReadonlySet<string>;
}

/** Bounds the per-tenant membership cache; it is rebuilt from the store on demand. */
const MAX_CACHED_USERS = 100_000;

export class TenantAppSnapshots {
  /**
   * One entry per tenant, bounded by construction: only verified callers reach it, and a token verifies only for an
   * onboarded tenant (identity/token-validator.ts), so there are as many entries as onboarded tenants at most. Each
   * holds at most `maxCachedUsers` users' memberships.
   */
  readonly #entries = new Map<string, Entry>();
  /** Loads in flight, one per tenant: removed when they settle. */
  readonly #loading = new Map<string, Promise<Entry>>();
  readonly #maxCachedUsers: number;

  constructor(
    private readonly store: SnapshotStore,
    /** Hears each look-up of a snapshot: a hit reuses it, a miss loads (or joins the load of) a newer one. */
    private readonly cacheObserver: CacheObserver = UNOBSERVED_CACHE,
    options: { maxCachedUsers?: number } = {},
  ) {
    this.#maxCachedUsers = options.maxCachedUsers ?? MAX_CACHED_USERS;
  }

  async get(tenantId: string): Promise<TenantAppSnapshot> {
    return (await this.#entry(tenantId)).snapshot;
  }

  /** The snapshot at versions the caller already read (a check-in reads them with its registration, in one query). */
  async at(tenantId: string, appVersion: number, groupVersion: number): Promise<TenantAppSnapshot> {
    return (await this.#entryAt(tenantId, appVersion, groupVersion)).snapshot;
  }

  /** The user's groups: those an admin added them to, and those of the `groups` claim of their verified token. */
  async groupsOf(tenantId: string, userId: string, tokenGroups: readonly string[]): Promise<ReadonlySet<string>> {
    const entry = this.#entries.get(tenantId) ?? (await this.#entry(tenantId));
    let membership = entry.memberships.get(userId);
    if (membership === undefined) {
      membership = { memberOf: await this.store.groupsOfMember(tenantId, userId) };
      if (entry.memberships.size >= this.#maxCachedUsers) entry.memberships.clear();
      entry.memberships.set(userId, membership);
    }
    // The same set object for the same inputs: targeting memoizes on it (memoizedIntendedPolicies).
    if (membership.groups === undefined || membership.tokenGroups !== tokenGroups) {
      membership.tokenGroups = tokenGroups;
      membership.groups = new Set([...membership.memberOf, ...tokenGroups]);
    }
    return membership.groups;
  }

  async #entry(tenantId: string): Promise<Entry> {
    const [appVersion, groupVersion] = await Promise.all([this.store.appProtection.getAppConfigVersion(tenantId), this.store.getConfigurationVersion(tenantId)]);
    return this.#entryAt(tenantId, appVersion, groupVersion);
  }

  #entryAt(tenantId: string, appVersion: number, groupVersion: number): Promise<Entry> | Entry {
    const cached = this.#entries.get(tenantId);
    if (cached && cached.snapshot.appVersion === appVersion && cached.snapshot.groupVersion === groupVersion) {
      this.cacheObserver.hit();
      return cached;
    }
    this.cacheObserver.miss();
    // One load per tenant at a time: a burst of check-ins after a change shares it.
    let loading = this.#loading.get(tenantId);
    if (!loading) {
      loading = this.#load(tenantId, appVersion, groupVersion, cached).finally(() => this.#loading.delete(tenantId));
      this.#loading.set(tenantId, loading);
    }
    return loading;
  }

  async #load(tenantId: string, appVersion: number, groupVersion: number, previous: Entry | undefined): Promise<Entry> {
    const sameApp = previous?.snapshot.appVersion === appVersion;
    const { policies, connectors, accessPolicies, catalogue, appFilters } = sameApp ? previous.snapshot : await this.#loadApp(tenantId);
    const memberships = previous?.snapshot.groupVersion === groupVersion ? previous.memberships : new Map<string, Membership>();
    const entry: Entry = { snapshot: { tenantId, appVersion, groupVersion, policies, connectors, accessPolicies, catalogue, appFilters }, memberships };
    this.#entries.set(tenantId, entry);
    return entry;
  }

  async #loadApp(tenantId: string): Promise<Pick<TenantAppSnapshot, 'policies' | 'connectors' | 'accessPolicies' | 'catalogue' | 'appFilters'>> {
    const store = this.store.appProtection;
    const [policies, connectors, accessPolicies, apps, principals] = await Promise.all([
      store.listAppPolicies(tenantId),
      store.listConnectors(tenantId),
      store.listAccessPolicies(tenantId),
      store.listManagedApps(tenantId),
      store.listServicePrincipals(tenantId),
    ]);
    // An app filter's rule change bumps the app configuration version too, so the filters are as fresh as the policies.
    const filterIds = [...new Set(policies.flatMap((p) => p.assignments.flatMap(({ target }) => ('deviceAndAppManagementAssignmentFilterId' in target && target.deviceAndAppManagementAssignmentFilterId !== undefined ? [target.deviceAndAppManagementAssignmentFilterId] : []))))];
    const filters = filterIds.length === 0 || this.store.assignmentFilters === undefined ? [] : await this.store.assignmentFilters.getAssignmentFilters(tenantId, filterIds);
    return { policies, connectors, accessPolicies, catalogue: new AppCatalogue(tenantId, apps, principals), appFilters: new Map(filters.map((f) => [f.id, f])) };
  }
}
