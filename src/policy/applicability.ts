import { openMamAdditions as additionsOf, storedOnlyProperties } from './validate.ts';

/**
 * Which Graph properties of a policy OpenMAM acts on, derived from a validator's specs: a property with a spec is
 * acted on (compiled to CSP nodes or judged at check-in); a Graph property without one is stored and returned as given
 * (validate.ts readObject) but never reaches a device, so the presenter shows it as not applicable: an admin who
 * imported, say, WIP's protectionUnderLockConfigRequired does not believe it is enforced.
 */
export interface PolicyModel {
  /** The Graph type (graph-schema/). */
  readonly typeName: string;
  /** The specs of what OpenMAM reads. */
  readonly specs: Readonly<Record<string, unknown>>;
}

/** Names whose meaning is the object's own (they describe it, they configure nothing): never "not applicable". */
const DESCRIPTIVE: ReadonlySet<string> = new Set(['displayName', 'description']);

/** The Graph properties of a model OpenMAM stores without acting on them. */
export function storedOnly(model: PolicyModel): string[] {
  return storedOnlyProperties(model.typeName, model.specs).filter((name) => !DESCRIPTIVE.has(name));
}

/** OpenMAM's own properties of a model (not in the Graph type), such as a PFX profile's inline certificate and password. */
export function openMamAdditions(model: PolicyModel): string[] {
  return additionsOf(model.typeName, model.specs);
}
