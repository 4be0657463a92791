import type { Kysely, Migration } from 'kysely';

const TABLES = ['access_policies', 'mtd_connectors', 'service_principals'] as const;

/**
 * The Graph properties of conditional access policies, threat defense connectors and service principals that OpenMAM
 * stores without acting on them (description, sessionControls, windowsEnabled, tags, ...), as one JSON object per row
 * in Graph's own nesting, so a GET answers what an admin POSTed. Existing rows have none.
 */
export const graphExtras: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const table of TABLES) {
      await db.schema.alterTable(table).addColumn('graph_extras', 'text', (column) => column.notNull().defaultTo('{}')).execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of TABLES) await db.schema.alterTable(table).dropColumn('graph_extras').execute();
  },
};
