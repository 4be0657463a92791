import { OpenMamError } from '../../errors.ts';
import { validateManagedApp, type ManagedAppSettings } from '../../policy/app-catalogue.ts';
import type { ManagedAppCatalogueRecord } from '../../store/app-protection-records.ts';
import type { CatalogueStore } from '../../store/app-protection-roles.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from '../versioned-write.ts';
import { BUILT_IN_MANAGED_APPS, builtInManagedApps, isBuiltInManagedApp } from './app-catalogue.ts';
import { recordChange, type AuditActivity, type AuditContext, type AuditTrail } from '../audit/audit-trail.ts';

/**
 * The admin side of the managed app catalogue (`deviceAppManagement/openMamManagedApps`): the built-in entries
 * (app-catalogue.ts, read-only) and the tenant's own. A client id speaks for one app of a tenant and a windowsAppId is
 * one entry, built-in ones included: checked here before the write (built-in entries are only known here), and again
 * by the store inside the write, under the tenant's lock (the tenant's entries).
 */
export interface ManagedAppCatalogueServiceOptions {
  store: Pick<CatalogueStore, 'createManagedApp' | 'updateManagedApp' | 'getManagedApp' | 'listManagedApps' | 'deleteManagedApp'>;
  /** Every change is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
}

function settingsOf(app: ManagedAppCatalogueRecord): ManagedAppSettings {
  return { displayName: app.displayName, windowsAppId: app.windowsAppId, clientIds: [...app.clientIds] };
}

/** 409 naming what `app` shares with another entry of `entries` (built-in or the tenant's), by the field's JSON path. */
function refuseClash(app: ManagedAppCatalogueRecord, entries: readonly ManagedAppCatalogueRecord[]): void {
  for (const other of entries) {
    if (other.id === app.id) continue;
    const name = `the managed app ${other.displayName} (${other.id}${isBuiltInManagedApp(other.id) ? ', built in' : ''})`;
    if (other.windowsAppId === app.windowsAppId) throw new OpenMamError('conflict', `windowsAppId: ${app.windowsAppId} is already ${name}`);
    const index = app.clientIds.findIndex((clientId) => other.clientIds.includes(clientId));
    if (index >= 0) throw new OpenMamError('conflict', `clientIds[${index}]: ${app.clientIds[index]!} already speaks for ${name}`);
  }
}

function refuseBuiltIn(id: string): void {
  const builtIn = BUILT_IN_MANAGED_APPS.find((app) => app.id === id);
  if (builtIn !== undefined) {
    throw new OpenMamError('not_authorized', `${builtIn.displayName} (${id}) is a built-in entry of the managed app catalogue: it is read-only`);
  }
}

/** The audit trail's subject of its changes. */
export const MANAGED_APP_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'appCatalogue', entity: 'OpenMamManagedApp' };

export class ManagedAppCatalogueService {
  constructor(private readonly options: ManagedAppCatalogueServiceOptions) {}

  /** Built-in entries first, then the tenant's by creation. */
  async list(tenantId: string): Promise<ManagedAppCatalogueRecord[]> {
    return [...builtInManagedApps(tenantId), ...(await this.options.store.listManagedApps(tenantId))];
  }

  async get(tenantId: string, id: string): Promise<ManagedAppCatalogueRecord> {
    const builtIn = builtInManagedApps(tenantId).find((app) => app.id === id);
    if (builtIn !== undefined) return builtIn;
    const app = await this.options.store.getManagedApp(tenantId, id);
    if (!app) throw new OpenMamError('not_found', `no openMamManagedApp with id ${id}`);
    return app;
  }

  async create(caller: AuditContext, input: unknown): Promise<ManagedAppCatalogueRecord> {
    const { tenantId } = caller;
    const settings = validateManagedApp(input, 'create');
    const now = this.options.clock();
    const app: ManagedAppCatalogueRecord = { tenantId, id: this.options.newId(), ...settings, version: 1, createdAt: now, updatedAt: now };
    refuseClash(app, await this.list(tenantId));
    await this.options.audit.attach(caller, recordChange(MANAGED_APP_AUDIT, 'Create', undefined, app, app.displayName), () => this.options.store.createManagedApp(app));
    return app;
  }

  /** PATCH: the given properties replace the stored ones, then the whole is validated; a compare-and-set on the version. */
  async update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<ManagedAppCatalogueRecord> {
    const { tenantId } = caller;
    let current: ManagedAppCatalogueRecord | undefined;
    refuseBuiltIn(id);
    const changes = validateManagedApp(patch, 'update');
    return writeVersioned({
      what: `openMamManagedApp ${id}`,
      expected,
      read: async () => (current = await this.get(tenantId, id)),
      change: async (current) => {
        const next = { ...current, ...validateManagedApp({ ...settingsOf(current), ...changes }, 'create'), updatedAt: this.options.clock() };
        refuseClash(next, await this.list(tenantId));
        return next;
      },
      write: (next) => this.options.audit.attach(caller, recordChange(MANAGED_APP_AUDIT, 'Patch', current, next, next.displayName), () => this.options.store.updateManagedApp(next)),
    });
  }

  async delete(caller: AuditContext, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let current: ManagedAppCatalogueRecord | undefined;
    refuseBuiltIn(id);
    await deleteVersioned({
      what: `openMamManagedApp ${id}`,
      expected,
      // Read first: what it was goes to the trail.
      readFirst: true,
      read: async () => (current = await this.get(tenantId, id)),
      remove: (version) => this.options.audit.attach(caller, recordChange(MANAGED_APP_AUDIT, 'Delete', current, undefined, current === undefined ? null : current.displayName), () => this.options.store.deleteManagedApp(tenantId, id, version)),
    });
  }
}
