import { Type, type TProperties, type TSchema, type TString } from 'typebox';
import { GUID_PATTERN, SAFE_TEXT_PATTERN } from '../../../packages/contract/src/schemas.ts';
import { graphPropertyNames } from '../../core/graph-types.ts';

/**
 * Schema pieces every admin route shares (TypeBox: JSON Schema with static types; Fastify validates requests with
 * Ajv and writes responses with fast-json-stringify, so a response carries only what its schema lists).
 */

/**
 * A string with no NUL and no unpaired surrogate: neither survives a round trip through PostgreSQL's text or UTF-8.
 * Ajv compiles patterns with the `u` flag, where a valid surrogate pair is one code point outside the class.
 */
export function SafeString(options: { minLength?: number; maxLength: number; pattern?: never; format?: string }): TString {
  return Type.String({ ...options, pattern: SAFE_TEXT_PATTERN });
}

/** A GUID (RFC 9562 text form, either case), as Graph's object ids and Entra's device ids are; the contract's pattern. */
export function GuidString(): TString {
  return Type.String({ pattern: GUID_PATTERN });
}

/**
 * A path id: bounded, and safe to bind in a query (a NUL in a PostgreSQL text parameter is an error of the driver,
 * not a row that does not exist). Ids OpenMAM mints are GUIDs; others (built-in catalogue entries, the report) are
 * short names, so anything longer names nothing.
 */
export const IdString = (): TString => SafeString({ minLength: 1, maxLength: 64 });

/** Graph's ids here are GUIDs; anything else names nothing (a 404 is the store's answer, a 400 the schema's). */
export const GuidParams = Type.Object({ id: IdString() });

/** `{id}/...(/{assignmentId})`: an entity and one of its assignments. */
export const AssignmentParams = Type.Object({ id: IdString(), assignmentId: IdString() });

/** A user action on `users/{id}`: the id is the user's object id (Graph's wipe actions take no UPN). */
export const UserGuidParams = Type.Object({ id: GuidString() });

/**
 * Elements of an action's array whose members the policy models read (field-named refusals there): the route only
 * requires objects. Ajv does not descend into properties no schema names, so depth is the model's to bound.
 */
export const OpenObject = Type.Object({}, { additionalProperties: true });

/** A response property that is a string or null (fast-json-stringify writes only what the schema lists). */
export const NullableString = () => Type.Union([Type.String(), Type.Null()]);

/**
 * Response schemas list every property optional: `$select` (graph-api.ts, before serialization) may keep any
 * subset; what a property is, not whether it is present, is what the schema fixes.
 */
export function EntityBody<P extends TProperties>(properties: P) {
  return Type.Partial(Type.Object({ ...EntityAnnotations, ...properties }));
}

/** Graph's error body (learn.microsoft.com/graph/errors). */
export const GraphErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    innerError: Type.Optional(Type.Object({ 'request-id': Type.String(), date: Type.String() })),
  }),
});

/** The envelope of a collection page, around entities of `entity`. */
export function CollectionBody(entity: TSchema): TSchema {
  return Type.Object({
    '@odata.context': Type.String(),
    '@odata.count': Type.Optional(Type.Integer()),
    '@odata.nextLink': Type.Optional(Type.String()),
    value: Type.Array(entity),
  });
}

/** The annotations an entity may carry. */
export const EntityAnnotations = {
  '@odata.context': Type.Optional(Type.String()),
  '@odata.type': Type.Optional(Type.String()),
  '@odata.etag': Type.Optional(Type.String()),
};

/**
 * Every property of a Graph type, any value, for a response schema that must not drop the Graph properties OpenMAM
 * stores without acting on them; spread before the typed entries of what OpenMAM computes, which then win.
 */
export function GraphTypeProperties(typeName: string): Record<string, TSchema> {
  return Object.fromEntries(graphPropertyNames(typeName).map((name) => [name, Type.Unknown()]));
}

/** The paths of the stored properties OpenMAM does not act on (present only when there are any). */
export const NotApplicableProperties = { '@openmam.notApplicableProperties': Type.Array(Type.String()) };

/** Error answers every admin route may give. */
export const ERROR_RESPONSES = { '4xx': GraphErrorBody, '5xx': GraphErrorBody };

/** The answers of a route whose success has no body (DELETE, most actions): 204, or Graph's error. */
export const NO_CONTENT_RESPONSES = { 204: Type.Null({ description: 'No Content' }), ...ERROR_RESPONSES };

/**
 * The body of `assign` (deviceConfiguration and managedAppPolicy: `{"assignments": [...]}`); each assignment is
 * read by its policy model, which names the field it refuses.
 */
export function AssignBody(maxItems: number): TSchema {
  return Type.Object({ assignments: Type.Array(OpenObject, { maxItems }) }, { additionalProperties: false });
}

