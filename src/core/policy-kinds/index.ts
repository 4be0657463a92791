import { openMamAdditions, storedOnly } from '../../policy/applicability.ts';
export { openMamAdditions } from '../../policy/applicability.ts';
import { graphType } from '../../policy/graph-schema/index.ts';
import { graphPropertyNames } from '../graph-types.ts';
import { appConfigurationKind } from './app-configuration.ts';
import { appProtectionKind } from './app-protection.ts';
import { customConfigurationKind } from './custom-configuration.ts';
import type { GraphVersion, PolicyCollection, PolicyKindDeclaration } from './kind.ts';
import { pfxCertificateKind } from './pfx-certificate.ts';
import { scepCertificateKind } from './scep-certificate.ts';
import { trustedRootCertificateKind } from './trusted-root-certificate.ts';
import { wipMamKind } from './wip-mam.ts';
import { wipMdmKind } from './wip-mdm.ts';
import { windows10ComplianceKind } from './windows10-compliance.ts';

export type { AppPolicyKindDeclaration, CompliancePolicyKind, Delivery, DevicePolicyKind, GraphVersion, PolicyCollection, PolicyKindDeclaration } from './kind.ts';

/**
 * Every policy kind OpenMAM serves. A kind is one file of this folder; listing it here gives it its collection's
 * routes (http/admin/policy-routes.ts), the service's create/read/PATCH/delete/assign (core/policies.ts), `$metadata`
 * and, for OMA-DM kinds, delivery. Within a collection the first kind is the one a POST without `@odata.type` creates.
 */
export const POLICY_KINDS: readonly PolicyKindDeclaration[] = [
  wipMamKind,
  wipMdmKind,
  customConfigurationKind,
  trustedRootCertificateKind,
  pfxCertificateKind,
  scepCertificateKind,
  appProtectionKind,
  appConfigurationKind,
  windows10ComplianceKind,
];

const BY_KIND = new Map(POLICY_KINDS.map((declaration) => [declaration.kind, declaration]));

/** The collections of the kinds, in the order of their first kind. */
export const POLICY_COLLECTIONS: readonly PolicyCollection[] = [...new Set(POLICY_KINDS.map((declaration) => declaration.collection))];

for (const collection of POLICY_COLLECTIONS) {
  const deliveries = new Set(kindsOf(collection).map((declaration) => declaration.collection.delivery));
  if (deliveries.size !== 1) throw new Error(`${collection.path}: its kinds must share one delivery`);
}

/** The declaration of a stored kind; throws for a name no declaration has (a store row of an unknown kind). */
export function policyKind(kind: string): PolicyKindDeclaration {
  const declaration = BY_KIND.get(kind as PolicyKindDeclaration['kind']);
  if (declaration === undefined) throw new Error(`no policy kind ${kind}`);
  return declaration;
}

/** The kinds a collection holds, in declaration order. */
export function kindsOf(collection: PolicyCollection): PolicyKindDeclaration[] {
  return POLICY_KINDS.filter((declaration) => declaration.collection === collection);
}

/** The collections a Graph version serves. */
export function policyCollections(version: GraphVersion): PolicyCollection[] {
  return POLICY_COLLECTIONS.filter((collection) => collection.versions.includes(version));
}

/** Whether Graph's type `name` is `base` or derives from it (the tables' BaseType chain). */
function derivesFrom(name: string, base: string): boolean {
  for (let type: string | undefined = name; type !== undefined; type = graphType(type)?.base) if (type === base) return true;
  return false;
}

/**
 * The collections a version serves whose entity type derives from a Graph base type: `managedAppPolicy` gives the
 * WIP, app protection and app configuration collections, whose union Graph serves as `managedAppPolicies`.
 */
export function collectionsDerivedFrom(base: string, version: GraphVersion): PolicyCollection[] {
  return policyCollections(version).filter((collection) => derivesFrom(collection.entityType, base));
}

/** Bounded by construction: one entry per declaration of POLICY_KINDS. */
const readableCache = new Map<PolicyKindDeclaration, ReadonlySet<string>>();

/**
 * The stored properties an answer may carry: the Graph type's (navigations aside) and OpenMAM's additions, never a
 * write-only one. An allow-list: a property not declared here is never read back, whatever the body holds.
 */
export function readableProperties(declaration: PolicyKindDeclaration): ReadonlySet<string> {
  let readable = readableCache.get(declaration);
  if (readable === undefined) {
    const graph = graphPropertyNames(declaration.typeName);
    const writeOnly = new Set(declaration.writeOnly ?? []);
    readable = new Set([...graph, ...openMamAdditions(declaration)].filter((name) => !writeOnly.has(name)));
    readableCache.set(declaration, readable);
  }
  return readable;
}

/**
 * The properties of a stored body that are set and that OpenMAM does not act on (shown as not applicable). An empty
 * collection (`roleScopeTagIds: []`, as Intune exports it) configures nothing and is not listed.
 */
export function notApplicableProperties(declaration: PolicyKindDeclaration, body: Readonly<Record<string, unknown>>): string[] {
  const stored = new Set(storedOnly(declaration));
  return Object.entries(body)
    .filter(([name, value]) => stored.has(name) && value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0))
    .filter(([name, value]) => declaration.configures?.(name, value) ?? true)
    .map(([name]) => name);
}

/** The bounds of the `assign` and `targetApps` bodies, for the routes' request schemas (http may not import policy/). */
export { MAX_ASSIGNMENTS, MAX_TARGET_APPS } from '../../policy/app-protection.ts';
export { appProtectionTemplate, type FrameworkLevel } from './app-protection.ts';
export { APP_CONFIGURATIONS, APP_PROTECTIONS, DEVICE_COMPLIANCE_POLICIES, DEVICE_CONFIGURATIONS, MDM_WIP_POLICIES, WIP_POLICIES } from './collections.ts';
