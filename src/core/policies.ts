import { mamRefusal } from '../csp/mam-allow-list.ts';
import type { CspSetting } from '../csp/compile/setting.ts';
import { OpenMamError } from '../errors.ts';
import { readAssignmentTargets, readTargetAppsRequest, type AppAssignmentTarget } from '../policy/app-protection.ts';
import type { AppPolicyRecord, ManagedAppRef } from '../store/app-protection-records.ts';
import type { AppPolicyStore } from '../store/app-protection-roles.ts';
import type { CompliancePolicyRecord, ComplianceStore } from '../store/compliance-records.ts';
import type { CollectionPage, CollectionQuery } from '../store/collection-query.ts';
import type { ConfigurationSetRecord, ConfigurationTarget, PolicyKind, PolicyRecord, TargetFilter, TargetFilters } from '../store/records.ts';
import type { PolicyStore, VersionedDelete, VersionedWrite } from '../store/roles.ts';
import { kindsOf, policyKind, type DevicePolicyKind, type PolicyCollection, type PolicyKindDeclaration } from './policy-kinds/index.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from './versioned-write.ts';
import { pascal, type AuditActivity, type AuditArea, type AuditContext, type AuditTrail } from './audit/audit-trail.ts';

/**
 * Policies as admins author them (Graph-shaped), every kind declared once in policy-kinds/ and served by this one
 * service: create, read, PATCH (one merge rule), delete, `assign` (one assignment rule) and `targetApps`.
 *
 * Every write validates the whole policy with its kind's validator and is one compare-and-set on the policy's version
 * (versioned-write.ts: retried on a lost race unless conditioned on `expected` versions). Where it goes depends on the
 * kind's delivery:
 * - OMA-DM kinds are compiled, and the policy and its configuration set (same id) stored together with one bump of
 *   the tenant's configuration version: O(1) whatever the number of devices it targets;
 * - check-in kinds are stored with their target apps, bumping the tenant's app configuration version, which managed
 *   apps pick up at their next check-in;
 * - compliance kinds are stored with no version of what devices or apps download moved, and owe the tenant a
 *   re-evaluation of its devices in the same transaction (core/compliance/).
 */
export interface PolicyServiceOptions {
  store: PolicyStore;
  appStore: Pick<AppPolicyStore, 'createAppPolicy' | 'updateAppPolicy' | 'getAppPolicy' | 'queryAppPolicies' | 'deleteAppPolicy'>;
  /** The tenant's assignment filters, which `assign` checks (absent: a filter on an assignment is refused). */
  filters?: { find(tenantId: string, ids: readonly string[]): Promise<readonly { id: string; managementType: 'devices' | 'apps' }[]> };
  /** Compliance kinds' table (store.compliance); without it their collection answers `internal`. */
  complianceStore?: Pick<ComplianceStore, 'createCompliancePolicy' | 'updateCompliancePolicy' | 'getCompliancePolicy' | 'queryCompliancePolicies' | 'deleteCompliancePolicy'>;
  /**
   * Told after a compliance policy was written (the store owes the tenant a re-evaluation from that transaction on):
   * the node's evaluator starts on it at once instead of at its next poll.
   */
  complianceChanged?: (tenantId: string) => void;
  /** Every write is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
  providerId: string;
}

/** A stored policy of any kind. */
export type StoredPolicy = PolicyRecord | AppPolicyRecord | CompliancePolicyRecord;

/** A policy delivered over OMA-DM (its kind's collection says so). */
export function isDevicePolicy(policy: StoredPolicy): policy is PolicyRecord {
  return policyKind(policy.kind).collection.delivery === 'omaDm';
}

/**
 * Graph computes these (or they are the request's own annotations): a body sent back as it was read may carry them,
 * so they are dropped before validation, as Graph ignores them.
 */
const COMPUTED: ReadonlySet<string> = new Set(['@odata.context', '@odata.etag', 'id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'deployedAppCount']);

/**
 * Navigation properties have their own actions. An empty one (a policy read with `$expand` before it had any) is
 * dropped; a non-empty one is refused, never accepted and forgotten: the policy would not reach who the body says.
 */
const NAVIGATIONS: Readonly<Record<string, string>> = { assignments: 'set them with {id}/assign', apps: 'set them with {id}/targetApps' };

/** The store operations of one delivery, over records of any kind. */
interface PolicyTable {
  query(tenantId: string, kinds: readonly string[], query: CollectionQuery): Promise<CollectionPage<StoredPolicy>>;
  get(tenantId: string, id: string): Promise<StoredPolicy | undefined>;
  create(policy: StoredPolicy): Promise<unknown>;
  update(policy: StoredPolicy): Promise<VersionedWrite>;
  delete(tenantId: string, id: string, expectedVersion: number | undefined): Promise<VersionedDelete>;
}

export class PolicyService {
  private readonly tables: Readonly<Record<PolicyCollection['delivery'], PolicyTable>>;

  constructor(private readonly options: PolicyServiceOptions) {
    const { store, appStore } = options;
    this.tables = {
      omaDm: {
        query: (tenantId, kinds, query) => store.queryPolicies(tenantId, kinds as readonly PolicyKind[], query),
        get: (tenantId, id) => store.getPolicy(tenantId, id),
        create: (policy) => store.createPolicy(policy as PolicyRecord, this.setOf(policy as PolicyRecord)),
        update: (policy) => store.updatePolicy(policy as PolicyRecord, this.setOf(policy as PolicyRecord)),
        delete: (tenantId, id, version) => store.deletePolicy(tenantId, id, version),
      },
      checkIn: {
        query: (tenantId, kinds, query) => {
          // Each check-in collection holds one kind (index.ts); the store's query takes it by name.
          if (kinds.length !== 1) throw new Error('a check-in policy collection holds one kind');
          return appStore.queryAppPolicies(tenantId, kinds[0] as AppPolicyRecord['kind'], query);
        },
        get: (tenantId, id) => appStore.getAppPolicy(tenantId, id),
        create: (policy) => appStore.createAppPolicy(policy as AppPolicyRecord),
        update: (policy) => appStore.updateAppPolicy(policy as AppPolicyRecord),
        delete: (tenantId, id, version) => appStore.deleteAppPolicy(tenantId, id, version),
      },
      compliance: {
        query: (tenantId, kinds, query) => this.complianceStore().queryCompliancePolicies(tenantId, kinds, query),
        get: (tenantId, id) => this.complianceStore().getCompliancePolicy(tenantId, id),
        create: async (policy) => {
          await this.complianceStore().createCompliancePolicy(policy as CompliancePolicyRecord);
          options.complianceChanged?.(policy.tenantId);
        },
        update: async (policy) => {
          const written = await this.complianceStore().updateCompliancePolicy(policy as CompliancePolicyRecord);
          if (written.kind === 'saved') options.complianceChanged?.(policy.tenantId);
          return written;
        },
        delete: async (tenantId, id, version) => {
          const deleted = await this.complianceStore().deleteCompliancePolicy(tenantId, id, version);
          if (deleted.kind === 'deleted') options.complianceChanged?.(tenantId);
          return deleted;
        },
      },
    };
  }

  private complianceStore(): NonNullable<PolicyServiceOptions['complianceStore']> {
    if (this.options.complianceStore === undefined) throw new OpenMamError('internal', 'no compliance store configured');
    return this.options.complianceStore;
  }

  /** One page of the tenant's policies of a collection. */
  query(tenantId: string, collection: PolicyCollection, query: CollectionQuery): Promise<CollectionPage<StoredPolicy>> {
    return this.tables[collection.delivery].query(tenantId, kindsOf(collection).map((k) => k.kind), query);
  }

  /** Every OMA-DM policy of one kind (the WIP tools read the tenant's MDM WIP policies whole). */
  list(tenantId: string, kind: PolicyKind): Promise<PolicyRecord[]> {
    return this.options.store.listPolicies(tenantId, kind);
  }

  /**
   * `not_found` for an unknown id, another tenant's, or one of another collection: the caller cannot tell them
   * apart. A collection may hold several kinds (deviceConfigurations).
   */
  async get(tenantId: string, collection: PolicyCollection, id: string): Promise<StoredPolicy> {
    const policy = await this.tables[collection.delivery].get(tenantId, id);
    if (policy === undefined || policyKind(policy.kind).collection !== collection) throw new OpenMamError('not_found', `no ${collection.entityType} with id ${id}`);
    return policy;
  }

  /**
   * One page of the policies of several collections (Graph's `managedAppPolicies`: WIP and app policies alike), read
   * from both stores in one statement.
   */
  queryAcross(tenantId: string, collections: readonly PolicyCollection[], query: CollectionQuery): Promise<CollectionPage<StoredPolicy>> {
    return this.options.store.queryManagedAppPolicies(tenantId, collections.flatMap((c) => kindsOf(c).map((k) => k.kind)), query);
  }

  /** A policy of any of `collections` by id (either store); `not_found` otherwise. */
  async getAcross(tenantId: string, collections: readonly PolicyCollection[], id: string): Promise<StoredPolicy> {
    const found = (await this.options.store.getPolicy(tenantId, id)) ?? (await this.options.appStore.getAppPolicy(tenantId, id));
    if (found === undefined || !collections.includes(policyKind(found.kind).collection)) throw new OpenMamError('not_found', `no policy with id ${id}`);
    return found;
  }

  /** One OMA-DM policy of one kind; `not_found` as get's. */
  async devicePolicy(tenantId: string, kind: PolicyKind, id: string): Promise<PolicyRecord> {
    const policy = await this.options.store.getPolicy(tenantId, id);
    if (policy === undefined || policy.kind !== kind) throw new OpenMamError('not_found', `no ${kind} with id ${id}`);
    return policy;
  }

  /** POST: the kind its `@odata.type` names (the collection's first kind without one), validated whole. */
  async create(caller: AuditContext, collection: PolicyCollection, input: unknown): Promise<StoredPolicy> {
    const { tenantId } = caller;
    const declaration = kindOfBody(collection, input);
    const body = declaration.validate(writable(input), 'create');
    const now = this.options.clock();
    const common = { tenantId, id: this.options.newId(), body, assignments: [], version: 1, createdAt: now, updatedAt: now };
    const delivery = declaration.collection.delivery;
    const policy: StoredPolicy =
      delivery === 'checkIn'
        ? { ...common, kind: declaration.kind as AppPolicyRecord['kind'], apps: [] }
        : delivery === 'compliance'
          ? { ...common, kind: declaration.kind as CompliancePolicyRecord['kind'] }
          : { ...common, kind: declaration.kind as PolicyKind };
    await this.options.audit.attach(caller, this.change(collection, 'Create', undefined, policy), () => this.tables[collection.delivery].create(policy));
    return policy;
  }

  /**
   * PATCH, one rule for every kind: each given property checked by the kind's validator, laid over the stored ones
   * (null removes one), then the whole policy validated again. A different `@odata.type` is refused (a policy keeps
   * its kind).
   */
  async update(caller: AuditContext, collection: PolicyCollection, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<StoredPolicy> {
    const input = writable(patch);
    return this.write(caller, collection, id, expected, 'Patch', (current) => {
      const declaration = policyKind(current.kind);
      const changes = declaration.validate(input, 'update');
      const kept = Object.entries(current.body).filter(([name]) => !(Object.hasOwn(changes, name) && changes[name] === null));
      const merged = { ...Object.fromEntries(kept), ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null)) };
      return { ...current, body: declaration.validate(merged, 'create') };
    });
  }

  async delete(caller: AuditContext, collection: PolicyCollection, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let read: StoredPolicy | undefined;
    await deleteVersioned({
      what: `${collection.entityType} ${id}`,
      expected,
      // The collection is checked first: another collection's policy is not found here. What it was goes to the trail.
      readFirst: true,
      read: async () => (read = await this.get(tenantId, collection, id)),
      remove: (version) => this.options.audit.attach(caller, this.change(collection, 'Delete', read, undefined), () => this.tables[collection.delivery].delete(tenantId, id, version)),
    });
  }

  /**
   * Graph `assign`, one rule for every kind: replaces the policy's assignments with the targets given (groups
   * included or excluded, all licensed users; the same target twice and assignment filters refused).
   */
  async assign(caller: AuditContext, collection: PolicyCollection, id: string, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<StoredPolicy> {
    const targets = readAssignmentTargets(input, `#microsoft.graph.${collection.assignment.entityType}` as const);
    await this.checkFilters(caller.tenantId, collection, targets);
    return this.write(caller, collection, id, expected, 'Assign', (current) => ({ ...current, assignments: targets.map((target) => ({ id: this.options.newId(), target })) }));
  }

  /**
   * Every filter the targets name must be the tenant's, of the management type the collection's policies are judged
   * by: app filters for check-in kinds (judged against the app registration), device filters for the others (judged
   * against the device). 400 naming the target's field otherwise. The store checks again, inside the policy's write,
   * that they still exist (a filter deleted meanwhile).
   */
  private async checkFilters(tenantId: string, collection: PolicyCollection, targets: readonly AppAssignmentTarget[]): Promise<void> {
    const named = targets.flatMap((target, i) => ('deviceAndAppManagementAssignmentFilterId' in target && target.deviceAndAppManagementAssignmentFilterId !== undefined ? [{ i, id: target.deviceAndAppManagementAssignmentFilterId }] : []));
    if (named.length === 0) return;
    const field = (i: number): string => `assignments[${i}].target.deviceAndAppManagementAssignmentFilterId`;
    if (this.options.filters === undefined) throw new OpenMamError('malformed_request', `${field(named[0]!.i)}: assignment filters are not available`);
    const found = new Map((await this.options.filters.find(tenantId, named.map((n) => n.id))).map((f) => [f.id, f]));
    const wanted = collection.delivery === 'checkIn' ? 'apps' : 'devices';
    for (const { i, id } of named) {
      const filter = found.get(id);
      if (filter === undefined) throw new OpenMamError('malformed_request', `${field(i)}: no assignment filter with id ${id}`);
      if (filter.managementType !== wanted) {
        throw new OpenMamError(
          'malformed_request',
          `${field(i)}: ${id} is a filter of ${filter.managementType}, and ${collection.entityType} assignments take filters of ${wanted} (assignmentFilterManagementType)`,
        );
      }
    }
  }

  /**
   * Graph `targetApps` (managed app policies): replaces the policy's apps; an app already targeted keeps its entry
   * id. Where the collection allows it, the request sets the policy's `appGroupType` too.
   */
  async targetApps(caller: AuditContext, collection: PolicyCollection, id: string, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AppPolicyRecord> {
    const targetApps = collection.targetApps;
    if (targetApps === undefined) throw new OpenMamError('not_found', `${collection.entityType} has no targetApps action`);
    const request = readTargetAppsRequest(input, { withAppGroupType: targetApps.withAppGroupType });
    const written = await this.write(caller, collection, id, expected, 'TargetApps', (current) => {
      const existing = new Map(('apps' in current ? current.apps : []).map((app) => [app.appId, app.id]));
      const apps: ManagedAppRef[] = request.apps.map((app) => ({ id: existing.get(app.appId) ?? this.options.newId(), appId: app.appId, version: app.version }));
      const body = request.appGroupType === undefined ? current.body : policyKind(current.kind).validate({ ...current.body, appGroupType: request.appGroupType }, 'create');
      return { ...current, apps, body };
    });
    return written as AppPolicyRecord;
  }

  /** The CSP settings an OMA-DM policy compiles to, and which of them a MAM device may never receive. */
  compile(policy: PolicyRecord): { settings: CspSetting[]; refused: { locUri: string; reason: string }[] } {
    const settings = deviceKind(policy).compile(policy, { providerId: this.options.providerId });
    const refused = settings.flatMap((s) => {
      const reason = mamRefusal(s.locUri);
      return reason === undefined ? [] : [{ locUri: s.locUri, reason }];
    });
    return { settings, refused };
  }

  /**
   * Read, change, compare-and-set (with the compiled set for OMA-DM kinds, in one store transaction), its audit event
   * in that transaction: each attempt of a retried write carries the event of what it changed, and a lost attempt
   * (stale, undone) writes none.
   */
  private write(caller: AuditContext, collection: PolicyCollection, id: string, expected: ExpectedVersion, verb: string, change: (current: StoredPolicy) => StoredPolicy): Promise<StoredPolicy> {
    let current: StoredPolicy | undefined;
    return writeVersioned({
      what: `${collection.entityType} ${id}`,
      expected,
      read: async () => (current = await this.get(caller.tenantId, collection, id)),
      change: (read) => ({ ...change(read), updatedAt: this.options.clock() }),
      write: (next) => this.options.audit.attach(caller, this.change(collection, verb, current, next), () => this.tables[collection.delivery].update(next)),
    });
  }

  /**
   * The trail's view of a policy change: the Graph body with its assignments (and target apps), before and after;
   * the kind's write-only properties masked.
   */
  private change(collection: PolicyCollection, verb: string, before: StoredPolicy | undefined, after: StoredPolicy | undefined): Parameters<AuditTrail['attach']>[1] {
    const policy = (after ?? before)!;
    const declaration = policyKind(policy.kind);
    const activity: AuditActivity = { ...policyAuditSubject(collection), verb };
    return {
      activity,
      resourceId: policy.id,
      resourceDisplayName: typeof policy.body['displayName'] === 'string' ? policy.body['displayName'] : null,
      resourceType: declaration.typeName,
      ...(before === undefined ? {} : { before: auditedBody(before) }),
      ...(after === undefined ? {} : { after: auditedBody(after) }),
      writeOnly: declaration.writeOnly ?? [],
    };
  }

  private setOf(policy: PolicyRecord): ConfigurationSetRecord {
    return {
      tenantId: policy.tenantId,
      id: policy.id,
      name: String(policy.body['displayName'] ?? policy.id),
      target: targetOf(policy),
      settings: deviceKind(policy).compile(policy, { providerId: this.options.providerId }),
      createdAt: policy.createdAt,
      updatedAt: policy.updatedAt,
    };
  }
}

/** Where a policy's changes are filed in the trail, by how it is delivered. */
const AREA_OF_DELIVERY: Readonly<Record<PolicyCollection['delivery'], AuditArea>> = { omaDm: 'deviceConfiguration', checkIn: 'appProtection', compliance: 'compliance' };

/** The area and entity of a collection's audit events ("Create DeviceConfiguration"); routes declare the same. */
export function policyAuditSubject(collection: PolicyCollection): Omit<AuditActivity, 'verb'> {
  // WIP without enrollment is app protection, whatever its delivery.
  const area = collection.entityType === 'windowsInformationProtectionPolicy' ? 'appProtection' : AREA_OF_DELIVERY[collection.delivery];
  return { area, entity: pascal(collection.entityType) };
}

/** What of a policy the trail compares: its Graph properties, assignments and target apps (ids left out: new at every assign). */
function auditedBody(policy: StoredPolicy): Record<string, unknown> {
  return {
    ...policy.body,
    assignments: policy.assignments.map((a) => ({ target: a.target })),
    ...('apps' in policy ? { apps: policy.apps.map((app) => ({ appId: app.appId, version: app.version })) } : {}),
  };
}

function deviceKind(policy: PolicyRecord): DevicePolicyKind {
  const declaration = policyKind(policy.kind);
  if (declaration.collection.delivery !== 'omaDm') throw new Error(`${policy.kind} is not delivered over OMA-DM`);
  return declaration as DevicePolicyKind;
}

/** The kind a POST creates: the one its `@odata.type` names (with or without `#`), the collection's first without. */
function kindOfBody(collection: PolicyCollection, input: unknown): PolicyKindDeclaration {
  const kinds = kindsOf(collection);
  const type = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>)['@odata.type'] : undefined;
  if (type === undefined) return kinds[0]!;
  const normalized = typeof type === 'string' && !type.startsWith('#') ? `#${type}` : type;
  const found = kinds.find((k) => k.odataType === normalized);
  if (found === undefined) throw new OpenMamError('malformed_request', `@odata.type: must be ${kinds.map((k) => k.odataType).join(' or ')}, not ${JSON.stringify(type)}`);
  return found;
}

/** The body without what Graph computes; navigation properties refused unless empty (see NAVIGATIONS). */
function writable(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new OpenMamError('malformed_request', '$: the body must be a JSON object');
  // No prototype: a JSON `__proto__` key stays an own property (and the validator refuses it as unknown).
  const out = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (COMPUTED.has(name)) continue;
    if (Object.hasOwn(NAVIGATIONS, name)) {
      if (Array.isArray(value) && value.length === 0) continue;
      throw new OpenMamError('malformed_request', `${name}: is a navigation property: ${NAVIGATIONS[name]!}`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * Graph assignments -> the configuration set's target, with the filter of each include assignment. A kind that
 * reaches no MAM device (MDM WIP) targets none.
 */
export function targetOf(policy: PolicyRecord): ConfigurationTarget {
  if (!deviceKind(policy).reachesMamDevices) return { kind: 'groups', include: [], exclude: [], allUsers: false };
  const include: string[] = [];
  const exclude: string[] = [];
  let allUsers = false;
  const filters: TargetFilters = {};
  for (const { target } of policy.assignments) {
    if (target['@odata.type'] === '#microsoft.graph.exclusionGroupAssignmentTarget') {
      exclude.push(target.groupId);
      continue;
    }
    const id = target.deviceAndAppManagementAssignmentFilterId;
    const filter: TargetFilter | undefined = id === undefined ? undefined : { id, type: target.deviceAndAppManagementAssignmentFilterType ?? 'include' };
    if (target['@odata.type'] === '#microsoft.graph.groupAssignmentTarget') {
      include.push(target.groupId);
      if (filter !== undefined) (filters.groups ??= {})[target.groupId] = filter;
    } else {
      allUsers = true;
      if (filter !== undefined) filters.allUsers = filter;
    }
  }
  return { kind: 'groups', include, exclude, allUsers, ...(filters.groups !== undefined || filters.allUsers !== undefined ? { filters } : {}) };
}
