import type { CollectionPage, CollectionQuery } from '../../store/collection-query.ts';
import { randomUUID } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import { MAX_SERVICE_PRINCIPAL_NAMES, servicePrincipalExtrasPaths, validateServicePrincipal, withAppId } from '../../policy/app-catalogue.ts';
import type { ServicePrincipalRecord } from '../../store/app-protection-records.ts';
import type { CatalogueStore } from '../../store/app-protection-roles.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from '../versioned-write.ts';
import { recordChange, type AuditActivity, type AuditContext, type AuditTrail } from '../audit/audit-trail.ts';

/**
 * The admin side of protected resources (Graph `servicePrincipal`, reduced: policy/app-catalogue.ts). Conditional
 * access policies name a resource by its appId, gateways by an audience (a servicePrincipalName), so within a tenant
 * an appId is one service principal and a name (ignoring case) one audience: checked here before the write and again
 * by the store under the tenant's lock. The appId never changes after create (Entra's appId is read-only:
 * learn.microsoft.com/graph/api/resources/serviceprincipal), and a service principal a policy names cannot be deleted
 * (the store refuses it inside the delete).
 */
export interface ServicePrincipalServiceOptions {
  store: Pick<CatalogueStore, 'createServicePrincipal' | 'updateServicePrincipal' | 'getServicePrincipal' | 'listServicePrincipals' | 'queryServicePrincipals' | 'deleteServicePrincipal'>;
  /** Every change is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
  /** Application ids generated on create when none is given: GUIDs. */
  newAppId?: () => string;
  /** OpenMAM's own audiences (App ID URI, client id): no resource may claim them, or a token for OpenMAM would pass as one for it. */
  ownAudiences?: readonly string[];
}

/** 400 when the service principal would accept tokens issued for OpenMAM itself. */
function refuseOwnAudience(principal: ServicePrincipalRecord, own: readonly string[]): void {
  const reserved = new Set(own.map((audience) => audience.replace(/\/+$/, '').toLowerCase()));
  const index = principal.servicePrincipalNames.findIndex((audience) => reserved.has(audience.replace(/\/+$/, '').toLowerCase()));
  if (index >= 0) throw new OpenMamError('malformed_request', `servicePrincipalNames[${index}]: ${principal.servicePrincipalNames[index]!} is OpenMAM's own audience; a token for OpenMAM is never one for a protected resource`);
}

/** 409 naming what `principal` shares with another service principal of the tenant, by the field's JSON path. */
function refuseClash(principal: ServicePrincipalRecord, others: readonly ServicePrincipalRecord[]): void {
  for (const other of others) {
    if (other.id === principal.id) continue;
    const name = `the service principal ${other.displayName} (${other.id})`;
    if (other.appId === principal.appId) throw new OpenMamError('conflict', `appId: ${principal.appId} is already ${name}`);
    const taken = new Set([other.appId, ...other.servicePrincipalNames].map((audience) => audience.toLowerCase()));
    const index = principal.servicePrincipalNames.findIndex((audience) => taken.has(audience.toLowerCase()));
    if (index >= 0) throw new OpenMamError('conflict', `servicePrincipalNames[${index}]: ${principal.servicePrincipalNames[index]!} is already an audience of ${name}`);
  }
}

function namesWithAppId(appId: string, names: readonly string[]): string[] {
  const all = withAppId(appId, names);
  if (all.length > MAX_SERVICE_PRINCIPAL_NAMES) {
    throw new OpenMamError('malformed_request', `servicePrincipalNames: has more than ${MAX_SERVICE_PRINCIPAL_NAMES} items with the appId, which is always one of them`);
  }
  return all;
}

/** The audit trail's subject of its changes. */
export const SERVICE_PRINCIPAL_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'servicePrincipals', entity: 'ServicePrincipal' };

export class ServicePrincipalService {
  constructor(private readonly options: ServicePrincipalServiceOptions) {}

  query(tenantId: string, query: CollectionQuery): Promise<CollectionPage<ServicePrincipalRecord>> {
    return this.options.store.queryServicePrincipals(tenantId, query);
  }

  list(tenantId: string): Promise<ServicePrincipalRecord[]> {
    return this.options.store.listServicePrincipals(tenantId);
  }

  async get(tenantId: string, id: string): Promise<ServicePrincipalRecord> {
    const principal = await this.options.store.getServicePrincipal(tenantId, id);
    if (!principal) throw new OpenMamError('not_found', `no servicePrincipal with id ${id}`);
    return principal;
  }

  async create(caller: AuditContext, input: unknown): Promise<ServicePrincipalRecord> {
    const { tenantId } = caller;
    const settings = validateServicePrincipal(input, 'create');
    const appId = settings.appId ?? (this.options.newAppId ?? randomUUID)();
    const now = this.options.clock();
    const principal: ServicePrincipalRecord = {
      tenantId,
      id: this.options.newId(),
      appId,
      displayName: settings.displayName,
      servicePrincipalNames: namesWithAppId(appId, settings.servicePrincipalNames),
      graphExtras: settings.graphExtras,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    refuseOwnAudience(principal, this.options.ownAudiences ?? []);
    refuseClash(principal, await this.list(tenantId));
    await this.options.audit.attach(caller, recordChange(SERVICE_PRINCIPAL_AUDIT, 'Create', undefined, principal, principal.displayName), () => this.options.store.createServicePrincipal(principal));
    return principal;
  }

  /**
   * PATCH: displayName, servicePrincipalNames (replaced whole) and the stored-only properties merged, then validated whole; the appId may be sent
   * back unchanged (a GET body PATCHed back) but not changed. A compare-and-set on the version.
   */
  async update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<ServicePrincipalRecord> {
    const { tenantId } = caller;
    let current: ServicePrincipalRecord | undefined;
    const changes = validateServicePrincipal(patch, 'update');
    return writeVersioned({
      what: `servicePrincipal ${id}`,
      expected,
      read: async () => (current = await this.get(tenantId, id)),
      change: async (current) => {
        if (changes.appId !== undefined && changes.appId !== current.appId) {
          throw new OpenMamError('malformed_request', `appId: is read-only after create (it is ${current.appId}); create another service principal for another application id`);
        }
        const merged = validateServicePrincipal({ ...current.graphExtras, displayName: current.displayName, servicePrincipalNames: current.servicePrincipalNames, ...changes, appId: current.appId }, 'create');
        const next: ServicePrincipalRecord = {
          ...current,
          displayName: merged.displayName,
          servicePrincipalNames: namesWithAppId(current.appId, merged.servicePrincipalNames),
          graphExtras: merged.graphExtras,
          updatedAt: this.options.clock(),
        };
        refuseOwnAudience(next, this.options.ownAudiences ?? []);
        refuseClash(next, await this.list(tenantId));
        return next;
      },
      write: (next) => this.options.audit.attach(caller, recordChange(SERVICE_PRINCIPAL_AUDIT, 'Patch', current, next, next.displayName), () => this.options.store.updateServicePrincipal(next)),
    });
  }

  /** The paths of the stored-only properties the service principal has set (OpenMAM's `@openmam.notApplicableProperties`). */
  notApplicableProperties(principal: ServicePrincipalRecord): string[] {
    return servicePrincipalExtrasPaths(principal.graphExtras);
  }

  async delete(caller: AuditContext, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let current: ServicePrincipalRecord | undefined;
    await deleteVersioned({
      what: `servicePrincipal ${id}`,
      expected,
      // Read first: what it was goes to the trail.
      readFirst: true,
      read: async () => (current = await this.get(tenantId, id)),
      remove: (version) => this.options.audit.attach(caller, recordChange(SERVICE_PRINCIPAL_AUDIT, 'Delete', current, undefined, current === undefined ? null : current.displayName), () => this.options.store.deleteServicePrincipal(tenantId, id, version)),
    });
  }
}
