import type { CollectionSource } from './collection-query.ts';

/**
 * The collections the admin API pages through, as the store keeps them: each field a query may name, by its Graph
 * property path, with where it is stored. The admin API's OData reader takes its allow-list of `$filter` and
 * `$orderby` fields from here, so a field is declared once.
 */
export const GROUPS: CollectionSource = {
  table: 'groups',
  tenantColumn: 'tenant_id',
  idColumn: 'id',
  fields: {
    id: { type: 'string', source: { column: 'id' } },
    displayName: { type: 'string', source: { column: 'display_name' } },
    description: { type: 'string', source: { column: 'description' } },
    createdDateTime: { type: 'dateTime', source: { column: 'created_at' } },
  },
};

/**
 * Users (migration 012). The user principal name compares and sorts ignoring case, as Entra matches it
 * (learn.microsoft.com/graph/api/user-get: "{id | userPrincipalName}").
 */
export const USERS: CollectionSource = {
  table: 'users',
  tenantColumn: 'tenant_id',
  idColumn: 'id',
  fields: {
    id: { type: 'string', source: { column: 'id' } },
    userPrincipalName: { type: 'string', source: { column: 'user_principal_name' }, caseInsensitive: true },
    displayName: { type: 'string', source: { column: 'display_name' } },
  },
};
