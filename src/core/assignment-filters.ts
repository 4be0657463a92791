import { OpenMamError } from '../errors.ts';
import { checkFilter, readValidateFilterRequest, validateAssignmentFilter, type AssignmentFilterSettings } from '../policy/assignment-filters.ts';
import { RuleRefusal, parseFilterRule } from '../policy/assignment-filter-rule.ts';
import type { CollectionPage, CollectionQuery } from '../store/collection-query.ts';
import type { AssignmentFilterRecord } from '../store/records.ts';
import type { AssignmentFilterStore } from '../store/roles.ts';
import { ANY_VERSION, deleteVersioned, writeVersioned, type ExpectedVersion } from './versioned-write.ts';
import { recordChange, type AuditActivity, type AuditContext, type AuditTrail } from './audit/audit-trail.ts';

/**
 * Assignment filters (Graph beta `deviceManagement/assignmentFilters`): create, read, PATCH, delete, and Graph's
 * `validateFilter`. A filter narrows an include assignment of any policy (core/policies.ts `assign`): device filters
 * are judged by the OMA-DM planner against the device's facts (core/management/desired-state.ts appliesTo), app
 * filters by app protection targeting against the app registration (core/app-protection/targeting.ts).
 *
 * Changing a filter's rule changes what its assignments reach: the write bumps the tenant's configuration version
 * (device filters) or app configuration version (app filters) in its transaction, so every device or app is judged
 * again at its next check-in, O(1) at the write. A filter's platform and management type never change (its rule's
 * properties depend on them; Intune replaces the filter instead). A delete is refused with 409 while an assignment
 * names the filter, as Intune refuses it.
 */
export interface AssignmentFilterServiceOptions {
  store: AssignmentFilterStore;
  /** Every change is recorded in its own transaction (core/audit). */
  audit: AuditTrail;
  clock: () => number;
  newId: () => string;
  /** Told after a device filter's rule changed (device compliance judges its assignments again: core/compliance/). */
  deviceRuleChanged?: (tenantId: string, filterId: string) => void;
}

/** The audit trail's subject of its changes. */
export const ASSIGNMENT_FILTER_AUDIT: Omit<AuditActivity, 'verb'> = { area: 'assignmentFilters', entity: 'DeviceAndAppManagementAssignmentFilter' };

export class AssignmentFilterService {
  constructor(private readonly options: AssignmentFilterServiceOptions) {}

  query(tenantId: string, query: CollectionQuery): Promise<CollectionPage<AssignmentFilterRecord>> {
    return this.options.store.queryAssignmentFilters(tenantId, query);
  }

  /** `not_found` for an unknown id or another tenant's. */
  async get(tenantId: string, id: string): Promise<AssignmentFilterRecord> {
    const filter = await this.options.store.getAssignmentFilter(tenantId, id);
    if (filter === undefined) throw new OpenMamError('not_found', `no deviceAndAppManagementAssignmentFilter with id ${id}`);
    return filter;
  }

  async create(caller: AuditContext, input: unknown): Promise<AssignmentFilterRecord> {
    const { tenantId } = caller;
    const settings = validateAssignmentFilter(input, 'create');
    const now = this.options.clock();
    const filter: AssignmentFilterRecord = { tenantId, id: this.options.newId(), ...recordFields(settings), version: 1, createdAt: now, updatedAt: now };
    await this.options.audit.attach(caller, recordChange(ASSIGNMENT_FILTER_AUDIT, 'Create', undefined, filter, filter.displayName), () => this.options.store.createAssignmentFilter(filter));
    return filter;
  }

  /** PATCH: the given properties laid over the stored ones (null clears the description), then checked whole. */
  async update(caller: AuditContext, id: string, patch: unknown, expected: ExpectedVersion = ANY_VERSION): Promise<AssignmentFilterRecord> {
    const { tenantId } = caller;
    let current: AssignmentFilterRecord | undefined;
    const changes = validateAssignmentFilter(patch, 'update');
    let replan = false;
    return writeVersioned({
      what: `deviceAndAppManagementAssignmentFilter ${id}`,
      expected,
      read: async () => (current = await this.get(tenantId, id)),
      change: (current) => {
        const merged: AssignmentFilterSettings = { ...settingsOf(current), ...changes, description: changes.description === undefined ? current.description : changes.description };
        if (merged.assignmentFilterManagementType !== current.managementType) {
          throw new OpenMamError('malformed_request', `assignmentFilterManagementType: a filter's management type cannot change (${current.managementType}): create another filter`);
        }
        if (merged.platform !== current.platform) throw new OpenMamError('malformed_request', `platform: a filter's platform cannot change (${current.platform}): create another filter`);
        checkFilter(merged);
        replan = merged.rule !== current.rule;
        return { ...current, ...recordFields(merged), updatedAt: this.options.clock() };
      },
      write: (next) => this.options.audit.attach(caller, recordChange(ASSIGNMENT_FILTER_AUDIT, 'Patch', current, next, next.displayName), () => this.options.store.updateAssignmentFilter(next, replan)),
    }).then((written) => {
      if (replan && written.managementType === 'devices') this.options.deviceRuleChanged?.(tenantId, id);
      return written;
    });
  }

  async delete(caller: AuditContext, id: string, expected: ExpectedVersion = ANY_VERSION): Promise<void> {
    const { tenantId } = caller;
    let current: AssignmentFilterRecord | undefined;
    await deleteVersioned({
      what: `deviceAndAppManagementAssignmentFilter ${id}`,
      expected,
      // Read first: what it was goes to the trail.
      readFirst: true,
      read: async () => (current = await this.get(tenantId, id)),
      remove: (version) => this.options.audit.attach(caller, recordChange(ASSIGNMENT_FILTER_AUDIT, 'Delete', current, undefined, current === undefined ? null : current.displayName), () => this.options.store.deleteAssignmentFilter(tenantId, id, version)),
    });
  }

  /**
   * Graph `validateFilter`: whether the rule parses for the management type (`isValidRule`), and, when it does not,
   * OpenMAM's reason with the position (`@openmam.reason`), as a 400 of a create would word it.
   */
  validate(input: unknown): { isValidRule: boolean; reason?: string } {
    const { rule, managementType } = readValidateFilterRequest(input);
    try {
      parseFilterRule(rule, managementType);
      return { isValidRule: true };
    } catch (err) {
      if (err instanceof RuleRefusal) return { isValidRule: false, reason: `rule: ${err.message}` };
      throw err;
    }
  }

  /** The tenant's filters among `ids` (assign checks the ones it is given). */
  find(tenantId: string, ids: readonly string[]): Promise<AssignmentFilterRecord[]> {
    return this.options.store.getAssignmentFilters(tenantId, ids);
  }
}

function recordFields(settings: AssignmentFilterSettings): Pick<AssignmentFilterRecord, 'displayName' | 'description' | 'platform' | 'rule' | 'managementType' | 'roleScopeTags'> {
  return {
    displayName: settings.displayName,
    description: settings.description ?? null,
    platform: settings.platform,
    rule: settings.rule,
    managementType: settings.assignmentFilterManagementType,
    roleScopeTags: [...settings.roleScopeTags],
  };
}

function settingsOf(filter: AssignmentFilterRecord): AssignmentFilterSettings {
  return {
    displayName: filter.displayName,
    description: filter.description,
    platform: filter.platform,
    rule: filter.rule,
    roleScopeTags: [...filter.roleScopeTags],
    assignmentFilterManagementType: filter.managementType,
  };
}

/** The filter as Graph answers it (beta deviceAndAppManagementAssignmentFilter). */
export function presentAssignmentFilter(filter: AssignmentFilterRecord): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.deviceAndAppManagementAssignmentFilter',
    id: filter.id,
    createdDateTime: new Date(filter.createdAt).toISOString(),
    lastModifiedDateTime: new Date(filter.updatedAt).toISOString(),
    displayName: filter.displayName,
    description: filter.description,
    platform: filter.platform,
    rule: filter.rule,
    roleScopeTags: [...filter.roleScopeTags],
    assignmentFilterManagementType: filter.managementType,
  };
}
