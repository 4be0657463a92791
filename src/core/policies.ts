import { isGuid } from '../config.ts';
import { compilePfxCertificate, compileScepCertificate, compileTrustedCertificate } from '../csp/compile/certificates.ts';
import { compileCustomConfiguration } from '../csp/compile/custom.ts';
import type { CspSetting } from '../csp/compile/setting.ts';
import { compileWipPolicy } from '../csp/compile/wip.ts';
import { mamRefusal } from '../csp/mam-allow-list.ts';
import { OpenMamError } from '../errors.ts';
import {
  validatePfxCertificate,
  validateScepCertificate,
  validateTrustedRootCertificate,
  type Windows81TrustedRootCertificate,
  type WindowsPfxCertificate,
  type WindowsScepCertificate,
} from '../policy/certificates.ts';
import { checkNoAssignmentFilter } from '../policy/app-protection.ts';
import { validateCustomConfiguration, type Windows10CustomConfiguration } from '../policy/custom.ts';
import { validateWipPolicy, type WipPolicy } from '../policy/wip.ts';
import type { AssignmentTarget, ConfigurationSetRecord, ConfigurationTarget, PolicyAssignment, PolicyKind, PolicyRecord } from '../store/records.ts';
import type { CollectionPage, CollectionQuery } from '../store/collection-query.ts';
import type { PolicyStore } from '../store/roles.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from './versioned-write.ts';

/**
 * Policies as admins author them (Graph-shaped), compiled into configuration sets that the management engine
 * delivers. Every write validates the whole policy, compiles it, and stores policy and set together with one bump
 * of the tenant's configuration version: O(1) whatever the number of devices it targets.
 */
export interface PolicyServiceOptions {
  store: PolicyStore;
  clock: () => number;
  newId: () => string;
  providerId: string;
}

/** Properties Graph returns but a client may not set; dropped from request bodies before validation. */
const READ_ONLY = ['id', 'createdDateTime', 'lastModifiedDateTime', 'version', 'isAssigned', 'assignments', '@odata.context', '@odata.etag'] as const;

/** One kind, or the kinds that share a Graph collection. */
export type PolicyKinds = PolicyKind | readonly PolicyKind[];

const TARGET_TYPES: ReadonlySet<string> = new Set([
  '#microsoft.graph.groupAssignmentTarget',
  '#microsoft.graph.exclusionGroupAssignmentTarget',
  '#microsoft.graph.allLicensedUsersAssignmentTarget',
]);

export class PolicyService {
  constructor(private readonly options: PolicyServiceOptions) {}

  /** One page of the tenant's policies of `kinds`. */
  query(tenantId: string, kinds: readonly PolicyKind[], query: CollectionQuery): Promise<CollectionPage<PolicyRecord>> {
    return this.options.store.queryPolicies(tenantId, kinds, query);
  }

  list(tenantId: string, kind: PolicyKind): Promise<PolicyRecord[]> {
    return this.options.store.listPolicies(tenantId, kind);
  }

  /**
   * `not_found` for an unknown id, another tenant's, or another kind's: they are indistinguishable to the caller.
   * Several kinds share one Graph collection (deviceConfigurations): `kind` may then name them all.
   */
  async get(tenantId: string, kind: PolicyKinds, id: string): Promise<PolicyRecord> {
    const kinds: readonly PolicyKind[] = typeof kind === 'string' ? [kind] : kind;
    const policy = await this.options.store.getPolicy(tenantId, id);
    if (!policy || !kinds.includes(policy.kind)) throw new OpenMamError('not_found', `no ${kinds.join(' or ')} with id ${id}`);
    return policy;
  }

  async create(tenantId: string, kind: PolicyKind, input: unknown): Promise<PolicyRecord> {
    const body = validateComplete(kind, withoutReadOnly(input));
    const now = this.options.clock();
    const policy: PolicyRecord = { tenantId, id: this.options.newId(), kind, body, assignments: [], version: 1, createdAt: now, updatedAt: now };
    await this.options.store.createPolicy(policy, this.setOf(policy));
    return policy;
  }

  /**
   * PATCH: the given properties over the stored ones, then the whole policy validated again. Concurrency as in
   * versioned-write.ts: retried on a lost race unless conditioned on `expected` versions.
   */
  async update(tenantId: string, kind: PolicyKinds, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<PolicyRecord> {
    const changes = withoutReadOnly(patch);
    return this.write(tenantId, kind, id, expected, (current) => {
      validatePatch(current.kind, changes);
      // null clears a property: drop it from the stored ones, then lay the other changes over them.
      const kept = Object.entries(current.body).filter(([name]) => !(name in changes && changes[name] === null));
      const merged = { ...Object.fromEntries(kept), ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null)) };
      return { ...current, body: validateComplete(current.kind, merged) };
    });
  }

  async delete(tenantId: string, kind: PolicyKinds, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    await deleteVersioned({
      what: `policy ${id}`,
      expected,
      // The kind is checked first: another collection's policy is not found here.
      readFirst: true,
      read: () => this.get(tenantId, kind, id),
      remove: (version) => this.options.store.deletePolicy(tenantId, id, version),
    });
  }

  /** Graph `assign`: replaces the policy's assignments (concurrency as update's). */
  async assign(tenantId: string, kind: PolicyKinds, id: string, input: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<PolicyRecord> {
    const assignments = readAssignments(input, this.options.newId);
    return this.write(tenantId, kind, id, expected, (current) => ({ ...current, assignments }));
  }

  /** The CSP settings a policy compiles to, and which of them a MAM device may never receive. */
  compile(policy: PolicyRecord): { settings: CspSetting[]; refused: { locUri: string; reason: string }[] } {
    const settings = compilePolicy(policy, this.options.providerId);
    const refused = settings.flatMap((s) => {
      const reason = mamRefusal(s.locUri);
      return reason === undefined ? [] : [{ locUri: s.locUri, reason }];
    });
    return { settings, refused };
  }

  /** Read, change, compile, compare-and-set (with the compiled set, in one store transaction); see versioned-write.ts. */
  private write(tenantId: string, kind: PolicyKinds, id: string, expected: ExpectedVersion, change: (current: PolicyRecord) => PolicyRecord): Promise<PolicyRecord> {
    return writeVersioned({
      what: `policy ${id}`,
      expected,
      read: () => this.get(tenantId, kind, id),
      change: (current) => ({ ...change(current), updatedAt: this.options.clock() }),
      write: (next) => this.options.store.updatePolicy(next, this.setOf(next)),
    });
  }

  private setOf(policy: PolicyRecord): ConfigurationSetRecord {
    return {
      tenantId: policy.tenantId,
      id: policy.id,
      name: String(policy.body['displayName'] ?? policy.id),
      target: targetOf(policy),
      settings: compilePolicy(policy, this.options.providerId),
      createdAt: policy.createdAt,
      updatedAt: policy.updatedAt,
    };
  }
}

function withoutReadOnly(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new OpenMamError('malformed_request', '$: the body must be a JSON object');
  const readOnly: ReadonlySet<string> = new Set(READ_ONLY);
  return Object.fromEntries(Object.entries(input as Record<string, unknown>).filter(([name]) => !readOnly.has(name)));
}

function validateComplete(kind: PolicyKind, input: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'windowsInformationProtectionPolicy':
      return { ...validateWipPolicy(input, 'mam', 'create') };
    case 'mdmWindowsInformationProtectionPolicy':
      return { ...validateWipPolicy(input, 'mdm', 'create') };
    case 'windows10CustomConfiguration':
      return { ...validateCustomConfiguration(input, 'create') };
    case 'windows81TrustedRootCertificate':
      return { ...validateTrustedRootCertificate(input, 'create') };
    case 'windowsPfxCertificate':
      return { ...validatePfxCertificate(input, 'create') };
    case 'windowsScepCertificate':
      return { ...validateScepCertificate(input, 'create') };
  }
}

function validatePatch(kind: PolicyKind, input: Record<string, unknown>): void {
  switch (kind) {
    case 'windowsInformationProtectionPolicy':
      validateWipPolicy(input, 'mam', 'update');
      return;
    case 'mdmWindowsInformationProtectionPolicy':
      validateWipPolicy(input, 'mdm', 'update');
      return;
    case 'windows10CustomConfiguration':
      validateCustomConfiguration(input, 'update');
      return;
    case 'windows81TrustedRootCertificate':
      validateTrustedRootCertificate(input, 'update');
      return;
    case 'windowsPfxCertificate':
      validatePfxCertificate(input, 'update');
      return;
    case 'windowsScepCertificate':
      validateScepCertificate(input, 'update');
      return;
  }
}

function compilePolicy(policy: PolicyRecord, providerId: string): CspSetting[] {
  switch (policy.kind) {
    case 'windowsInformationProtectionPolicy':
      return compileWipPolicy({ ...(policy.body as unknown as WipPolicy), id: policy.id }, { tenantId: policy.tenantId, providerId });
    case 'mdmWindowsInformationProtectionPolicy':
      // MDM WIP is for MDM-enrolled devices: compiled (for the MAM-to-MDM handoff check) but delivered to none.
      return compileWipPolicy({ ...(policy.body as unknown as WipPolicy), id: policy.id }, { tenantId: policy.tenantId, providerId });
    case 'windows10CustomConfiguration':
      return compileCustomConfiguration(policy.body as unknown as Windows10CustomConfiguration);
    case 'windows81TrustedRootCertificate':
      return compileTrustedCertificate(policy.body as unknown as Windows81TrustedRootCertificate);
    case 'windowsPfxCertificate':
      return compilePfxCertificate({ ...(policy.body as unknown as WindowsPfxCertificate), id: policy.id });
    case 'windowsScepCertificate':
      return compileScepCertificate({ ...(policy.body as unknown as WindowsScepCertificate), id: policy.id });
  }
}

/** Graph assignments -> the configuration set's target. MDM WIP policies target no MAM device. */
export function targetOf(policy: PolicyRecord): ConfigurationTarget {
  if (policy.kind === 'mdmWindowsInformationProtectionPolicy') return { kind: 'groups', include: [], exclude: [], allUsers: false };
  const include: string[] = [];
  const exclude: string[] = [];
  let allUsers = false;
  for (const { target } of policy.assignments) {
    if (target['@odata.type'] === '#microsoft.graph.groupAssignmentTarget') include.push(target.groupId);
    else if (target['@odata.type'] === '#microsoft.graph.exclusionGroupAssignmentTarget') exclude.push(target.groupId);
    else allUsers = true;
  }
  return { kind: 'groups', include, exclude, allUsers };
}

/** `{ "assignments": [ { "target": { "@odata.type": ..., "groupId": ... } } ] }` as Graph's assign action takes it. */
function readAssignments(input: unknown, newId: () => string): PolicyAssignment[] {
  const body = input as { assignments?: unknown } | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.assignments)) {
    throw new OpenMamError('malformed_request', 'assignments: an array of assignments is required');
  }
  const unknown = Object.keys(body).filter((name) => name !== 'assignments');
  if (unknown.length > 0) throw new OpenMamError('malformed_request', `${unknown[0]}: unknown property`);
  return body.assignments.map((entry: unknown, i) => ({ id: newId(), target: readTarget(entry, `assignments[${i}]`) }));
}

function readTarget(entry: unknown, path: string): AssignmentTarget {
  const target = (entry as { target?: unknown } | null)?.target as Record<string, unknown> | undefined;
  if (typeof target !== 'object' || target === null) throw new OpenMamError('malformed_request', `${path}.target: required`);
  const type = target['@odata.type'];
  if (typeof type !== 'string' || !TARGET_TYPES.has(type)) {
    throw new OpenMamError('malformed_request', `${path}.target.@odata.type: must be one of ${[...TARGET_TYPES].join(', ')}`);
  }
  // A filter was answered 204 and forgotten here, so the policy reached the whole group: refused until supported.
  checkNoAssignmentFilter(target, `${path}.target`);
  if (type === '#microsoft.graph.allLicensedUsersAssignmentTarget') return { '@odata.type': type };
  const groupId = target['groupId'];
  if (typeof groupId !== 'string' || !isGuid(groupId)) throw new OpenMamError('malformed_request', `${path}.target.groupId: must be a group object id (GUID)`);
  return { '@odata.type': type as '#microsoft.graph.groupAssignmentTarget' | '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: groupId.toLowerCase() };
}
