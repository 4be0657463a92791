import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { presentAssignmentFilter, type AssignmentFilterService } from '../../core/assignment-filters.ts';
import { graphPropertyNames } from '../../core/graph-types.ts';
import { ASSIGNMENT_FILTERS } from '../../store/collections.ts';
import type { AssignmentFilterRecord } from '../../store/records.ts';
import { etagAnnotation } from '../graph/etag.ts';
import { entityOperations, resourceRoutes } from '../graph/resource-routes.ts';
import { EntityBody, ERROR_RESPONSES, NullableString, OpenObject } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';
import { ASSIGNMENT_FILTER_AUDIT } from '../../core/assignment-filters.ts';

/**
 * Assignment filters, beta only as in Graph (learn.microsoft.com/graph/api/resources/
 * intune-policyset-deviceandappmanagementassignmentfilter?view=graph-rest-beta): `deviceManagement/assignmentFilters`
 * list (OData query, keyset pages), create, get, PATCH (200 with the entity), delete (409 while an assignment uses the
 * filter), If-Match on every write; and the collection's `validateFilter` action, answered with
 * `assignmentFilterValidationResult` (`isValidRule`, and OpenMAM's `@openmam.reason` with the position when invalid).
 * Readers read; writes and validateFilter need OpenMAM.Admin (validateFilter reads nothing, but Graph lists it with
 * the write permission).
 */
export interface AssignmentFilterRoutesOptions {
  filters: AssignmentFilterService;
  baseUrl: string;
  skipTokens: SkipTokens;
}

const PATH = 'deviceManagement/assignmentFilters';

const AssignmentFilter = EntityBody({
  id: Type.String(),
  createdDateTime: Type.String(),
  lastModifiedDateTime: Type.String(),
  displayName: Type.String(),
  description: NullableString(),
  platform: Type.String(),
  rule: Type.String(),
  roleScopeTags: Type.Array(Type.String()),
  assignmentFilterManagementType: Type.String(),
});

const ValidationResult = Type.Object({
  '@odata.context': Type.String(),
  isValidRule: Type.Boolean(),
  '@openmam.reason': Type.Optional(Type.String()),
});

export async function assignmentFilterRoutes(app: FastifyInstance, options: AssignmentFilterRoutesOptions): Promise<void> {
  const filters = options.filters;
  const present = (filter: AssignmentFilterRecord): Record<string, unknown> => ({ ...etagAnnotation(filter.version), ...presentAssignmentFilter(filter) });
  // Before the entity routes: `validateFilter` is a segment, not an id.
  app.post(`/${PATH}/validateFilter`, { config: { audit: 'none' }, schema: { body: OpenObject, response: { 200: ValidationResult, ...ERROR_RESPONSES } } }, async (request) => {
    const result = filters.validate(request.body);
    return {
      '@odata.context': `${options.baseUrl}/$metadata#microsoft.graph.assignmentFilterValidationResult`,
      isValidRule: result.isValidRule,
      ...(result.reason === undefined ? {} : { '@openmam.reason': result.reason }),
    };
  });
  resourceRoutes<AssignmentFilterRecord>(
    app,
    {
      path: PATH,
      entity: AssignmentFilter,
      bodyLimit: 64 * 1024,
      collection: {
        entityType: 'deviceAndAppManagementAssignmentFilter',
        fields: ASSIGNMENT_FILTERS.fields,
        properties: [...new Set(['id', ...graphPropertyNames('deviceAndAppManagementAssignmentFilter')])],
        navigations: [],
        defaultOrder: [{ field: 'createdDateTime', descending: false }],
        pageSize: 100,
        maxPageSize: 1000,
        list: (tenantId, query) => filters.query(tenantId, query),
      },
      present: (list) => list.map(present),
      audit: ASSIGNMENT_FILTER_AUDIT,
      ...entityOperations(filters),
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
}
