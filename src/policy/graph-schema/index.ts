import { APP_PROTECTION_SCHEMA } from './app-protection.ts';
import { ASSIGNMENT_FILTERS_SCHEMA } from './assignment-filters.ts';
import { AUDIT_SCHEMA } from './audit.ts';
import { ASSIGNMENTS_SCHEMA } from './assignments.ts';
import { COMMON_SCHEMA } from './common.ts';
import { CONDITIONAL_ACCESS_SCHEMA } from './conditional-access.ts';
import { DEVICE_COMPLIANCE_SCHEMA } from './device-compliance.ts';
import { DEVICE_CONFIGURATION_SCHEMA } from './device-configuration.ts';
import { DIRECTORY_SCHEMA } from './directory.ts';
import { MANAGED_DEVICE_SCHEMA } from './managed-device.ts';
import type { GraphEnumType, GraphProperty, GraphSchemaPart, GraphStructuredType } from './model.ts';
import { WIP_SCHEMA } from './wip.ts';

export type { GraphEnumType, GraphProperty, GraphStructuredType } from './model.ts';

/**
 * The Graph types OpenMAM serves, one registry over the per-family tables (each type is declared in exactly one
 * table: the generator gives a type shared by two families to the first).
 */
const PARTS: readonly GraphSchemaPart[] = [COMMON_SCHEMA, ASSIGNMENTS_SCHEMA, WIP_SCHEMA, DEVICE_CONFIGURATION_SCHEMA, DEVICE_COMPLIANCE_SCHEMA, APP_PROTECTION_SCHEMA, CONDITIONAL_ACCESS_SCHEMA, DIRECTORY_SCHEMA, MANAGED_DEVICE_SCHEMA, ASSIGNMENT_FILTERS_SCHEMA, AUDIT_SCHEMA];

const TYPES = new Map<string, GraphStructuredType>();
const ENUMS = new Map<string, GraphEnumType>();
for (const part of PARTS) {
  for (const [name, type] of Object.entries(part.types)) TYPES.set(name, type);
  for (const [name, type] of Object.entries(part.enums)) ENUMS.set(name, type);
}

export function graphType(name: string): GraphStructuredType | undefined {
  return TYPES.get(name);
}

export function graphEnum(name: string): GraphEnumType | undefined {
  return ENUMS.get(name);
}

/** Bounded by construction: only names of the type tables (TYPES) are ever kept. */
const propertiesCache = new Map<string, Readonly<Record<string, GraphProperty>>>();

/** Every property of a type, its base types' included (base first); undefined for a name that is not a Graph type. */
export function graphProperties(name: string): Readonly<Record<string, GraphProperty>> | undefined {
  const cached = propertiesCache.get(name);
  if (cached !== undefined) return cached;
  const chain: GraphStructuredType[] = [];
  for (let type = TYPES.get(name); type !== undefined; type = type.base === undefined ? undefined : TYPES.get(type.base)) chain.unshift(type);
  if (chain.length === 0) return undefined;
  const all: Record<string, GraphProperty> = Object.create(null) as Record<string, GraphProperty>;
  for (const type of chain) Object.assign(all, type.properties);
  propertiesCache.set(name, all);
  return all;
}

/** The type and the types derived from it (an `@odata.type` a value of this type may carry). */
export function graphTypeAndDerived(name: string): string[] {
  const derived = [...TYPES.entries()].filter(([, type]) => type.base === name).flatMap(([child]) => graphTypeAndDerived(child));
  return [name, ...derived];
}

export function isGraphTypeName(name: string): boolean {
  return TYPES.has(name);
}

/** Every type name of the tables (for documents that describe them all, such as `$metadata`). */
export function graphTypeNames(): string[] {
  return [...TYPES.keys()];
}
