import { graphEnum, graphType, graphTypeNames, type GraphProperty } from '../policy/graph-schema/index.ts';

/**
 * The `$metadata` document of a Graph version root, as OData CSDL XML (OData CSDL XML v4.01; Graph serves the same
 * at graph.microsoft.com/{version}/$metadata): the types of the Graph tables (src/policy/graph-schema) and an entity
 * container listing exactly the collections the server serves. Pure: the caller says which collections it serves.
 */
export type GraphVersion = 'beta' | 'v1.0';

export interface ServedCollection {
  /** Under the version root, e.g. `groups` or `deviceManagement/deviceConfigurations`. */
  readonly path: string;
  /** The collection's entity type, without `microsoft.graph.`. */
  readonly entityType: string;
}

/** A type an action or function takes or answers: `Edm.*` or a Graph type name, one or a collection. */
export interface ServedTypeRef {
  readonly type: string;
  readonly collection?: true;
}

/**
 * A bound action (POST, e.g. `{id}/assign`) or function (GET, no side effects, e.g. `isManagedAppUserBlocked()`)
 * served on the members of a collection, or on the collection itself (`auditEvents/getAuditCategories()`) (CSDL XML
 * v4.01 §12 "Action and Function").
 */
export interface ServedOperation {
  readonly kind: 'action' | 'function';
  readonly name: string;
  /** The entity type it is bound to, without `microsoft.graph.`. */
  readonly bindingType: string;
  /** Bound to a collection of `bindingType` rather than to one entity: the binding parameter is `Collection(...)`. */
  readonly boundToCollection?: true;
  readonly parameters: readonly (ServedTypeRef & { readonly name: string })[];
  readonly returns?: ServedTypeRef;
}

const NAMESPACE = 'microsoft.graph';
const ALIAS = 'graph';
const EDMX = 'http://docs.oasis-open.org/odata/ns/edmx';
const EDM = 'http://docs.oasis-open.org/odata/ns/edm';

/**
 * The entity types of the first segments of contained paths: `deviceManagement/...` is a property of Graph's
 * `deviceManagement` singleton, `identity/conditionalAccess/policies` of its `identity` singleton (identityContainer)
 * through `conditionalAccess` (conditionalAccessRoot) (learn.microsoft.com/graph/api/resources/intune-graph-overview,
 * /graph/api/resources/conditionalaccessroot). The tables do not describe them: their navigations are what is served.
 */
const CONTAINER_TYPES: Readonly<Record<string, string>> = {
  deviceManagement: 'deviceManagement',
  deviceAppManagement: 'deviceAppManagement',
  identity: 'identityContainer',
  conditionalAccess: 'conditionalAccessRoot',
  auditLogs: 'auditLogRoot',
};

/**
 * Every name written is checked to be a CSDL SimpleIdentifier (CSDL XML v4.01 §17.2: a letter or underscore, then
 * letters, digits, underscores): such a name needs no XML escaping, and one that is not would make the document
 * invalid anyway, so it fails here. Composite values (`Collection(graph.x)`) are built from checked names.
 */
const SIMPLE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function id(name: string): string {
  if (!SIMPLE_IDENTIFIER.test(name)) throw new Error(`${JSON.stringify(name)} is not a CSDL identifier`);
  return name;
}

/** A type reference: `Edm.x` or `graph.x`, or a Collection of one. */
function typeRef(type: string): string {
  const [namespace, name, ...rest] = (/^Collection\((.+)\)$/.exec(type)?.[1] ?? type).split('.');
  if (name === undefined || rest.length > 0 || (namespace !== 'Edm' && namespace !== ALIAS)) throw new Error(`${JSON.stringify(type)} is not a type reference`);
  id(name);
  return type;
}

/** The document for a version and the collections served under it (the same inputs give the same text). */
export function graphMetadata(version: GraphVersion, served: readonly ServedCollection[], operations: readonly ServedOperation[] = []): string {
  // v1.0 leaves out what exists in beta only, and whatever refers to something left out (a base, a property's type).
  const kept = new Map<string, boolean>();
  const isKept = (name: string): boolean => {
    const known = kept.get(name);
    if (known !== undefined) return known;
    const type = graphType(name);
    const keep = type !== undefined && (version === 'beta' || type.betaOnly !== true) && (type.base === undefined || isKept(type.base));
    kept.set(name, keep);
    return keep;
  };
  const types = graphTypeNames().filter(isKept).sort();
  const entities = entityTypes(types);
  if (!entities.has('entity')) throw new Error('the Graph tables have no entity type');

  // A served type the tables do not describe (users, managed app registrations, ...) is declared open: its
  // properties are not listed, every one it has is dynamic (CSDL XML v4.01 §6.1.4 "Open Entity Type").
  // So is a type an operation takes or answers that the tables do not describe (an entity of its own in Graph).
  const operationTypes = operations.flatMap((operation) => [operation.bindingType, ...operation.parameters.map((p) => p.type), ...(operation.returns ? [operation.returns.type] : [])]);
  const referenced = operationTypes.filter((type) => !type.startsWith('Edm.') && graphEnum(type) === undefined);
  const servedTypes = [...new Set([...served.map((collection) => collection.entityType), ...referenced])];
  for (const name of servedTypes) if (isKept(name) && !entities.has(name)) throw new Error(`${name} is served as a collection but is not an entity type`);
  const open = servedTypes.filter((name) => !isKept(name)).sort();
  for (const name of open) entities.add(name);
  const declared = new Set([...types, ...open]);

  const propertyKept = (property: GraphProperty): boolean =>
    (version === 'beta' || property.betaOnly !== true) && (property.type.startsWith('Edm.') || graphEnum(property.type) !== undefined || declared.has(property.type));

  const lines: string[] = [];
  const enums = new Set<string>();
  for (const name of types) {
    const type = graphType(name)!;
    const entity = entities.has(name);
    const attributes = [`Name="${id(name)}"`];
    if (type.base !== undefined) attributes.push(`BaseType="${ALIAS}.${id(type.base)}"`);
    if (type.abstract === true) attributes.push('Abstract="true"');
    lines.push(`<${entity ? 'EntityType' : 'ComplexType'} ${attributes.join(' ')}>`);
    // Derived types inherit the key (CSDL XML v4.01 §6.5): it is declared where `id` is.
    if (ownsKey(name)) lines.push('<Key><PropertyRef Name="id"/></Key>');
    for (const [propertyName, property] of Object.entries(type.properties)) {
      if (!propertyKept(property)) continue;
      if (graphEnum(property.type) !== undefined) enums.add(property.type);
      lines.push(propertyElement(propertyName, property, entities.has(property.type)));
    }
    lines.push(entity ? '</EntityType>' : '</ComplexType>');
  }
  for (const name of open) lines.push(`<EntityType Name="${id(name)}" BaseType="${ALIAS}.entity" OpenType="true"/>`);

  for (const type of operationTypes) if (graphEnum(type) !== undefined) enums.add(type);
  // Only the enums a declared property or an operation uses: some of the tables' enums exist in beta only.
  for (const name of [...enums].sort()) lines.push(...enumElement(name));
  lines.push(...operationElements(operations));

  const { owners, containers, container } = entityContainer(served);
  for (const owner of owners) if (declared.has(owner)) throw new Error(`${owner} is both a table type and a singleton's type`);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    // CSDL XML v4.01 §3.1: Version names the OData version the service's payloads follow (Graph answers 4.0).
    `<edmx:Edmx xmlns:edmx="${EDMX}" Version="4.0">`,
    '<edmx:DataServices>',
    `<Schema xmlns="${EDM}" Namespace="${NAMESPACE}" Alias="${ALIAS}">`,
    ...lines,
    ...containers,
    ...container,
    '</Schema>',
    '</edmx:DataServices>',
    '</edmx:Edmx>',
    '',
  ].join('\n');
}

/** A reference to a Graph or Edm type, one or a collection. */
function refOf(ref: ServedTypeRef): string {
  const type = ref.type.startsWith('Edm.') ? ref.type : `${ALIAS}.${ref.type}`;
  return typeRef(ref.collection === true ? `Collection(${type})` : type);
}

/** Each operation once (by kind, name and binding type), in a stable order. */
function operationElements(operations: readonly ServedOperation[]): string[] {
  const unique = new Map(operations.map((operation) => [`${operation.kind} ${operation.name} ${operation.boundToCollection === true ? `Collection(${operation.bindingType})` : operation.bindingType}`, operation]));
  return [...unique.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([, operation]) => {
      const element = operation.kind === 'action' ? 'Action' : 'Function';
      return [
        `<${element} Name="${id(operation.name)}" IsBound="true">`,
        // A collection binding is written as Graph writes it (its $metadata's `getAuditCategories`): no Nullable,
        // which on a collection-valued parameter would speak of its members (CSDL XML v4.01, edm:Parameter).
        operation.boundToCollection === true
          ? `<Parameter Name="bindingParameter" Type="${refOf({ type: operation.bindingType, collection: true })}"/>`
          : `<Parameter Name="bindingParameter" Type="${refOf({ type: operation.bindingType })}" Nullable="false"/>`,
        ...operation.parameters.map((parameter) => `<Parameter Name="${id(parameter.name)}" Type="${refOf(parameter)}"/>`),
        ...(operation.returns === undefined ? [] : [`<ReturnType Type="${refOf(operation.returns)}"${operation.returns.collection === true ? '' : ' Nullable="false"'}/>`]),
        `</${element}>`,
      ];
    });
}

/**
 * The tables do not mark keys: an entity type is one keyed by a non-nullable string `id` declared by itself or a
 * base (Graph's `entity`, or `conditionalAccessPolicy` below the keyless `policyDeletableItem`), and the bases of
 * those (an entity type's base is an entity type, CSDL XML v4.01 §6.1.1). Complex types' ids are Guids.
 */
function entityTypes(names: readonly string[]): Set<string> {
  const entities = new Set<string>();
  for (const name of names) {
    const chain = ancestry(name);
    if (chain.some(ownsKey)) for (const type of chain) entities.add(type);
  }
  return entities;
}

/** The type and its bases, the type first. */
function ancestry(name: string): string[] {
  const chain: string[] = [];
  for (let current: string | undefined = name; current !== undefined; current = graphType(current)?.base) chain.push(current);
  return chain;
}

function ownsKey(name: string): boolean {
  const id = graphType(name)?.properties['id'];
  const inherited = ancestry(name)
    .slice(1)
    .some((base) => graphType(base)?.properties['id'] !== undefined);
  return id !== undefined && id.type === 'Edm.String' && !id.nullable && id.collection !== true && !inherited;
}

/** A Property, or a NavigationProperty when the type is an entity type (CSDL XML v4.01 §7, §8). */
function propertyElement(name: string, property: GraphProperty, navigation: boolean): string {
  const type = property.type.startsWith('Edm.') ? property.type : `${ALIAS}.${property.type}`;
  const attributes = [`Name="${id(name)}"`, `Type="${typeRef(property.collection === true ? `Collection(${type})` : type)}"`];
  // §8.2.1: a collection-valued navigation property has no Nullable (it is an empty collection, never null).
  if (!property.nullable && !(navigation && property.collection === true)) attributes.push('Nullable="false"');
  return `<${navigation ? 'NavigationProperty' : 'Property'} ${attributes.join(' ')}/>`;
}

/**
 * The tables keep enum members' names in order, not Graph's numeric values; JSON payloads carry the names (OData
 * JSON Format v4.01 §7.1), so the values only have to be valid: positions, or for flags distinct bits with `none`
 * as 0 (CSDL XML v4.01 §10.2.2, §10.3.2).
 */
function enumElement(name: string): string[] {
  const enumType = graphEnum(name)!;
  const lines = [`<EnumType Name="${id(name)}"${enumType.flags === true ? ' IsFlags="true"' : ''}>`];
  let bit = 0;
  enumType.members.forEach((member, position) => {
    const value = enumType.flags !== true ? position : member === 'none' ? 0 : 2 ** bit++;
    lines.push(`<Member Name="${id(member)}" Value="${value}"/>`);
  });
  lines.push('</EnumType>');
  return lines;
}

/**
 * `GraphService`, Graph's entity container: a top-level collection is an EntitySet; a collection under a singleton
 * (`deviceManagement/deviceConfigurations`) is a containment navigation property of the singleton's type, and so
 * on down the path (CSDL XML v4.01 §8.4 "Containment Navigation Property", §13.3 "Singleton").
 */
function entityContainer(served: readonly ServedCollection[]): { owners: string[]; containers: string[]; container: string[] } {
  const navigations = new Map<string, Map<string, string>>();
  const singletons = new Set<string>();
  const sets = new Map<string, string>();
  for (const { path, entityType } of [...served].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const segments = path.split('/');
    if (segments.length === 1) {
      sets.set(path, entityType);
      continue;
    }
    singletons.add(segments[0]!);
    segments.forEach((segment, i) => {
      if (i === segments.length - 1) return;
      const owner = containerType(segment);
      const last = i === segments.length - 2;
      const next = segments[i + 1]!;
      const target = last ? `Collection(${ALIAS}.${entityType})` : `${ALIAS}.${containerType(next)}`;
      const properties = navigations.get(owner) ?? new Map<string, string>();
      navigations.set(owner, properties.set(next, target));
    });
  }
  const containers = [...navigations.entries()].flatMap(([owner, properties]) => [
    `<EntityType Name="${id(owner)}" BaseType="${ALIAS}.entity">`,
    ...[...properties.entries()].map(([name, type]) => `<NavigationProperty Name="${id(name)}" Type="${typeRef(type)}"${type.startsWith('Collection(') ? '' : ' Nullable="false"'} ContainsTarget="true"/>`),
    '</EntityType>',
  ]);
  const container = [
    '<EntityContainer Name="GraphService">',
    ...[...sets.entries()].map(([name, type]) => `<EntitySet Name="${id(name)}" EntityType="${ALIAS}.${id(type)}"/>`),
    ...[...singletons].map((name) => `<Singleton Name="${id(name)}" Type="${ALIAS}.${id(containerType(name))}"/>`),
    '</EntityContainer>',
  ];
  return { owners: [...navigations.keys()], containers, container };
}

function containerType(segment: string): string {
  const type = CONTAINER_TYPES[segment];
  if (type === undefined) throw new Error(`no singleton type is declared for ${segment}`);
  return type;
}
