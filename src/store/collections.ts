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
