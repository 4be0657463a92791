import { evaluateFilterRule, memoizedRule, type FilterSubject } from '../../policy/assignment-filter-rule.ts';
import type { AssignmentFilterRecord, TargetFilter } from '../../store/records.ts';
import type { DeviceFacts } from './device-facts.ts';

/**
 * Device assignment filters judged against a MAM device's facts (device-facts.ts), for the OMA-DM planner: whether an
 * include assignment with a filter reaches the device (desired-state.ts appliesTo), and whether a setting's
 * `applicableWhen` rule holds for it. Pure.
 */

/** The `device.*` properties of filter rules (policy/assignment-filter-rule.ts DEVICE_PROPERTIES) from the facts. */
export function deviceFilterSubject(facts: DeviceFacts): FilterSubject {
  return {
    deviceName: facts.deviceName,
    manufacturer: facts.manufacturer,
    model: facts.model,
    osVersion: facts.osVersion,
    // Intune's operatingSystemVersion is the same version, compared as a version (-gt/-ge/-lt/-le).
    operatingSystemVersion: facts.osVersion,
    operatingSystemSKU: facts.operatingSystemSKU,
    deviceOwnership: facts.deviceOwnership,
  };
}

/** Whether a device matches a device filter rule; a rule that no longer parses matches nothing. */
export function deviceMatches(rule: string, subject: FilterSubject): boolean {
  const parsed = memoizedRule(rule, 'devices');
  return parsed !== null && evaluateFilterRule(parsed, subject);
}

/**
 * Whether an assignment's filter lets it reach the device: `include` when the device matches the rule, `exclude` when
 * it does not. A filter that is not the tenant's device filter (deleted meanwhile, or an app filter) lets nothing
 * through, and neither does a rule that no longer parses: a filter never widens an assignment.
 */
export function deviceFilterJudge(filters: readonly AssignmentFilterRecord[], subject: FilterSubject): (filter: TargetFilter) => boolean {
  const byId = new Map(filters.filter((f) => f.managementType === 'devices').map((f) => [f.id, f]));
  return (filter) => {
    const record = byId.get(filter.id);
    if (record === undefined) return false;
    const parsed = memoizedRule(record.rule, 'devices');
    if (parsed === null) return false;
    const matched = evaluateFilterRule(parsed, subject);
    return filter.type === 'include' ? matched : !matched;
  };
}
