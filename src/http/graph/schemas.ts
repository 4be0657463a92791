import { Type, type TSchema, type TString } from 'typebox';

/**
 * Schema pieces every admin route shares (TypeBox: JSON Schema with static types; Fastify validates requests with
 * Ajv and writes responses with fast-json-stringify, so a response carries only what its schema lists).
 */

/**
 * A string with no NUL and no unpaired surrogate: neither survives a round trip through PostgreSQL's text or UTF-8.
 * Ajv compiles patterns with the `u` flag, where a valid surrogate pair is one code point outside the class.
 */
export function SafeString(options: { minLength?: number; maxLength: number; pattern?: never; format?: string }): TString {
  return Type.String({ ...options, pattern: '^[^\\u0000\\uD800-\\uDFFF]*$' });
}

/** Graph's ids here are GUIDs; anything else names nothing (a 404 is the store's answer, a 400 the schema's). */
export const GuidParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

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

/** Error answers every admin route may give. */
export const ERROR_RESPONSES = { '4xx': GraphErrorBody, '5xx': GraphErrorBody };
