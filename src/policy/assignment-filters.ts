import { OpenMamError } from '../errors.ts';
import { readResource } from './app-protection.ts';
import { FILTER_PLATFORM, parseFilterRule, RuleRefusal, MAX_RULE_LENGTH, type FilterManagementType, type FilterRule } from './assignment-filter-rule.ts';
import { arrayReader, enumReader, refuse, stringReader, type PropertySpecs } from './validate.ts';

/**
 * Graph beta `deviceAndAppManagementAssignmentFilter` (learn.microsoft.com/graph/api/resources/
 * intune-policyset-deviceandappmanagementassignmentfilter?view=graph-rest-beta) as an admin writes it. OpenMAM serves
 * Windows MAM: a device filter (`assignmentFilterManagementType` devices, the default) is for `windows10AndLater`,
 * an app filter (apps) for `windowsMobileApplicationManagement`; other platforms are refused. The rule is parsed for
 * the management type's properties (assignment-filter-rule.ts) and refused with the position of what is wrong.
 */
export const ASSIGNMENT_FILTER_TYPE = '#microsoft.graph.deviceAndAppManagementAssignmentFilter';

export interface AssignmentFilterSettings {
  displayName: string;
  description: string | null;
  platform: string;
  rule: string;
  roleScopeTags: string[];
  assignmentFilterManagementType: FilterManagementType;
}

const MANAGEMENT_TYPES = ['devices', 'apps'] as const;
const PLATFORMS = [FILTER_PLATFORM.devices, FILTER_PLATFORM.apps];

const SPECS: PropertySpecs<AssignmentFilterSettings> = {
  displayName: { read: stringReader({ nonEmpty: true, maxLength: 200 }), required: true },
  description: { read: stringReader({ maxLength: 1024 }), nullable: true },
  platform: {
    read: (value, path) => {
      if (typeof value === 'string' && !PLATFORMS.includes(value)) {
        refuse(path, `OpenMAM serves Windows MAM: ${FILTER_PLATFORM.devices} (device filters) or ${FILTER_PLATFORM.apps} (app filters), not ${JSON.stringify(value)}`);
      }
      return enumReader(PLATFORMS)(value, path);
    },
    required: true,
  },
  rule: { read: stringReader({ nonEmpty: true, maxLength: MAX_RULE_LENGTH }), required: true },
  roleScopeTags: { read: arrayReader(stringReader({ nonEmpty: true, maxLength: 64, singleLine: true }), { maxItems: 100 }), default: ['0'] },
  assignmentFilterManagementType: { read: enumReader(MANAGEMENT_TYPES), default: 'devices' },
};

/** `create`: a complete filter, checked whole. `update`: the given properties, to lay over the stored ones and check whole. */
export function validateAssignmentFilter(input: unknown, mode: 'create'): AssignmentFilterSettings;
export function validateAssignmentFilter(input: unknown, mode: 'update'): Partial<AssignmentFilterSettings>;
export function validateAssignmentFilter(input: unknown, mode: 'create' | 'update'): AssignmentFilterSettings | Partial<AssignmentFilterSettings> {
  const read = readResource<AssignmentFilterSettings>(
    input,
    { typeName: 'deviceAndAppManagementAssignmentFilter', odataType: ASSIGNMENT_FILTER_TYPE, readOnly: ['id', 'createdDateTime', 'lastModifiedDateTime', 'payloads'] },
    SPECS,
    mode,
  ) as Partial<AssignmentFilterSettings>;
  if (mode === 'update') return read;
  return checkFilter(read as AssignmentFilterSettings);
}

/** The whole filter's rules across properties: the platform is the management type's, and the rule parses for it. */
export function checkFilter(filter: AssignmentFilterSettings): AssignmentFilterSettings {
  const type = filter.assignmentFilterManagementType;
  if (filter.platform !== FILTER_PLATFORM[type]) {
    refuse('platform', `a filter of assignmentFilterManagementType ${type} is for ${FILTER_PLATFORM[type]}, not ${filter.platform}`);
  }
  readFilterRule(filter.rule, type);
  return filter;
}

/** The parsed rule, or 400 `rule: <why> at position N`. */
export function readFilterRule(rule: string, managementType: FilterManagementType, path = 'rule'): FilterRule {
  try {
    return parseFilterRule(rule, managementType);
  } catch (err) {
    if (err instanceof RuleRefusal) throw new OpenMamError('malformed_request', `${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Graph `validateFilter`'s body (learn.microsoft.com/graph/api/intune-policyset-deviceandappmanagementassignmentfilter-
 * validatefilter?view=graph-rest-beta): `{ "deviceAndAppManagementAssignmentFilter": { ... } }`, of which the rule and
 * the management type are read (the platform, when given, must be OpenMAM's; other filter properties are ignored).
 */
export function readValidateFilterRequest(input: unknown): { rule: string; managementType: FilterManagementType } {
  const body = expectObject(input, '');
  for (const key of Object.keys(body)) if (key !== 'deviceAndAppManagementAssignmentFilter') refuse(key, 'is not a parameter of validateFilter');
  const filter = expectObject(body['deviceAndAppManagementAssignmentFilter'], 'deviceAndAppManagementAssignmentFilter');
  const managementType = filter['assignmentFilterManagementType'] === undefined ? 'devices' : enumReader(MANAGEMENT_TYPES)(filter['assignmentFilterManagementType'], 'deviceAndAppManagementAssignmentFilter.assignmentFilterManagementType');
  const rule = stringReader({ nonEmpty: true, maxLength: MAX_RULE_LENGTH })(filter['rule'], 'deviceAndAppManagementAssignmentFilter.rule');
  return { rule, managementType };
}

function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(path, 'must be an object');
  return value as Record<string, unknown>;
}
