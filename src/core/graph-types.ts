import { graphProperties } from '../policy/graph-schema/index.ts';

/**
 * The properties an entity of a Graph type may carry in an answer (its navigations aside), from the Graph type
 * tables: response schemas list them (fast-json-stringify writes nothing else), and http may not import policy/.
 * Empty for a name that is not a Graph type.
 */
export function graphPropertyNames(typeName: string): string[] {
  return Object.entries(graphProperties(typeName) ?? {})
    .filter(([, property]) => !property.navigation)
    .map(([name]) => name);
}
