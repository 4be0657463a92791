import { graphProperties } from '../policy/graph-schema/index.ts';
import type { GraphVersion } from './graph-metadata.ts';

/**
 * The properties an entity of a Graph type may carry in an answer (its navigations aside), from the Graph type
 * tables: response schemas list them (fast-json-stringify writes nothing else), and http may not import policy/.
 * With a version, v1.0 leaves out what the tables mark beta only, as its `$metadata` does (core/graph-metadata.ts).
 * Empty for a name that is not a Graph type.
 */
export function graphPropertyNames(typeName: string, version: GraphVersion = 'beta'): string[] {
  return Object.entries(graphProperties(typeName) ?? {})
    .filter(([, property]) => !property.navigation && (version === 'beta' || property.betaOnly !== true))
    .map(([name]) => name);
}
