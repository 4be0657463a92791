import { isGuid } from '../config.ts';
import { isOpenMamError, OpenMamError } from '../errors.ts';
import type { ConfigurationSetRecord, IdentityProviderKind, PollSchedule, TenantRecord, TenantSettings } from '../store/records.ts';
import type { SecretStore, TenantStore, VersionedWrite } from '../store/roles.ts';
import { UNOBSERVED_CACHE, type CacheObserver, type Clock } from './identity.ts';

/**
 * Default poll schedule: every 15 minutes for the first 2 hours after enrollment (policies arrive quickly), then
 * hourly for 5 hours, then once a day forever. Microsoft's guidance for the long-term interval is >= 1440 minutes;
 * polling more often floods the client's event log and the server.
 */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  numberOfFirstRetries: 8,
  intervalForFirstSetOfRetries: 15,
  numberOfSecondRetries: 5,
  intervalForSecondSetOfRetries: 60,
  numberOfRemainingScheduledRetries: 0,
  intervalForRemainingScheduledRetries: 1440,
  pollOnLogin: true,
  allUsersPollOnFirstLogin: true,
};

export const MIN_LONG_TERM_POLL_MINUTES = 1440;

/** The store secret that holds the default tenant's id, agreed by the nodes of a first start. */
export const DEFAULT_TENANT_SECRET = 'default-tenant-id';

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  requireTermsOfUse: false,
  termsOfUseText:
    'By adding your work account, you allow your organisation to protect its data in apps on this device.\n\n' +
    'Your organisation can remove its data from this device, but cannot see or remove your personal data.',
  pollSchedule: DEFAULT_POLL_SCHEDULE,
};

/** Checks an admin's poll schedule against the rules the DMClient CSP and Microsoft's guidance set. */
export function validatePollSchedule(poll: PollSchedule): void {
  const counts = [poll.numberOfFirstRetries, poll.numberOfSecondRetries, poll.numberOfRemainingScheduledRetries];
  const intervals = [poll.intervalForFirstSetOfRetries, poll.intervalForSecondSetOfRetries, poll.intervalForRemainingScheduledRetries];
  for (const n of [...counts, ...intervals]) {
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new OpenMamError('invalid_configuration', 'poll counts and intervals must be whole numbers from 0 to 1000000');
  }
  if (intervals.every((n) => n === 0)) throw new OpenMamError('invalid_configuration', 'poll intervals must not all be 0');
  if (poll.intervalForRemainingScheduledRetries < MIN_LONG_TERM_POLL_MINUTES) {
    throw new OpenMamError(
      'invalid_configuration',
      `intervalForRemainingScheduledRetries must be at least ${MIN_LONG_TERM_POLL_MINUTES} minutes (Microsoft's guidance for MAM long-term polling)`,
    );
  }
}

export interface OnboardRequest {
  id: string;
  name: string;
  identityProvider: IdentityProviderKind;
  settings?: Partial<TenantSettings>;
}

/** How long a node trusts its cached copy of a tenant: a change made on another node is seen within this. */
export const TENANT_CACHE_TTL_MS = 30_000;

/**
 * The onboarded tenants, read through a short cache: every token verification asks "is this tenant onboarded?", and
 * with many stateless nodes a change made on one node is seen by the others within `cacheTtlMs`.
 */
export class TenantDirectory {
  /**
   * Unknown tenants are cached too (any token names a `tid` of its choosing, and each would be a read otherwise), so
   * the cache is bounded: past `maxCached` entries it starts again empty, and is refilled one read per tenant.
   */
  private readonly cache = new Map<string, { tenant: TenantRecord | undefined; until: number }>();

  constructor(
    private readonly store: TenantStore,
    private readonly clock: Clock,
    private readonly cacheTtlMs = TENANT_CACHE_TTL_MS,
    /** Hears each look-up of the cache by `get` (absent: nobody counts). */
    private readonly cacheObserver: CacheObserver = UNOBSERVED_CACHE,
    private readonly maxCached = 10_000,
  ) {}

  async get(id: string): Promise<TenantRecord | undefined> {
    const key = id.toLowerCase();
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      this.cacheObserver.hit();
      return hit.tenant;
    }
    this.cacheObserver.miss();
    const tenant = await this.store.getTenant(key);
    if (this.cache.size >= this.maxCached) this.cache.clear();
    this.cache.set(key, { tenant, until: now + this.cacheTtlMs });
    return tenant;
  }

  list(): Promise<TenantRecord[]> {
    return this.store.listTenants();
  }

  async onboard(request: OnboardRequest): Promise<TenantRecord> {
    if (!isGuid(request.id)) throw new OpenMamError('invalid_configuration', `tenant id must be a GUID (the Entra tenant id), got "${request.id}"`);
    const name = request.name.trim();
    if (name === '' || name.length > 256) throw new OpenMamError('invalid_configuration', 'tenant name must have 1 to 256 characters');
    const settings: TenantSettings = { ...DEFAULT_TENANT_SETTINGS, ...request.settings };
    validatePollSchedule(settings.pollSchedule);
    const now = this.clock();
    const tenant: TenantRecord = {
      id: request.id.toLowerCase(),
      name,
      identityProvider: request.identityProvider,
      enrollmentAllowed: true,
      settings,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createTenant(tenant);
    this.cache.delete(tenant.id);
    return tenant;
  }

  /** The tenant as stored now, not through the cache: what a write starts from. `not_found` when not onboarded. */
  async read(id: string): Promise<TenantRecord> {
    const tenant = await this.store.getTenant(id.toLowerCase());
    if (!tenant) throw new OpenMamError('not_found', `tenant ${id} is not onboarded`);
    return tenant;
  }

  /**
   * Writes `next` (a changed copy of what `read` gave, still at the version read) if nobody wrote in between: a
   * compare-and-set on the version (TenantStore.updateTenant), with `set` (and a compliance run owed, when asked) in
   * the same transaction. The poll schedule
   * is validated first (Microsoft's >= 1440-minute long-term guidance included); this node's cache forgets the tenant.
   */
  async write(next: TenantRecord, set?: ConfigurationSetRecord, options?: { complianceRun?: boolean }): Promise<VersionedWrite> {
    validatePollSchedule(next.settings.pollSchedule);
    const outcome = await this.store.updateTenant(next, set, options);
    this.cache.delete(next.id);
    return outcome;
  }

  /**
   * The tenant a fresh installation starts with: the oldest one, created (with the built-in identity provider) on
   * the first start. The CLI uses it as the default `--tenant`. An installation that has tenants keeps answering its
   * oldest and creates nothing.
   *
   * Several nodes (and `openmam token`) may start at once on an empty database: each would create a tenant of its
   * own. They agree through the store instead: the default tenant's id is a store secret, and the first candidate id
   * inserted is the one every node reads back (`getOrCreateSecret`, an insert that ignores a conflict on its unique
   * name, then a read). Then each creates that one tenant; "already exists" means another node got there first.
   */
  async ensureDefaultTenant(newId: () => string, agreement: SecretStore): Promise<TenantRecord> {
    const [oldest] = await this.store.listTenants();
    if (oldest) return oldest;
    const agreed = await agreement.getOrCreateSecret(DEFAULT_TENANT_SECRET, new TextEncoder().encode(newId()));
    const id = new TextDecoder().decode(agreed);
    try {
      return await this.onboard({ id, name: 'Default tenant', identityProvider: 'builtin' });
    } catch (error) {
      if (!isOpenMamError(error) || error.code !== 'conflict') throw error;
      const created = await this.store.getTenant(id.toLowerCase());
      if (!created) throw error;
      return created;
    }
  }
}
