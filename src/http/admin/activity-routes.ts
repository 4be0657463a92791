import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ACTIVITY_HOURS } from '../../store/collections.ts';
import { ACTIVITY_COUNTERS, type ActivityHourRecord } from '../../store/records.ts';
import type { ActivityStore } from '../../store/roles.ts';
import { collectionRoute } from '../graph/collection-routes.ts';
import { EntityBody } from '../graph/schemas.ts';
import type { SkipTokens } from '../graph/skip-token.ts';

/**
 * A tenant's activity per hour, OpenMAM's own collection (Graph has no such resource; Intune's admin center draws
 * its charts from reports that are not Graph collections): `deviceManagement/openMamActivityHours`, one
 * `openMamActivityHour` per hour that saw any activity, oldest first, filtered and ordered by `hourStart` on the Graph
 * layer, up to 1,000 a page (30 days are 720 hours: one page). Counts reach the store within a second or so of
 * happening (core/activity-rollups.ts). Admin or Reader. Beta only, as OpenMAM's other additions that Graph lacks.
 */
export interface ActivityRoutesOptions {
  activity: Pick<ActivityStore, 'queryActivityHours'>;
  baseUrl: string;
  skipTokens: SkipTokens;
}

const PROPERTIES = ['id', 'hourStart', ...ACTIVITY_COUNTERS] as const;

/** The response schema of an `openMamActivityHour`: the id and start of the hour (ISO 8601, UTC), and its counters. */
const ActivityHour = EntityBody({
  id: Type.String(),
  hourStart: Type.String(),
  ...(Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, Type.Integer({ minimum: 0 })])) as Record<(typeof ACTIVITY_COUNTERS)[number], ReturnType<typeof Type.Integer>>),
});

/** The id is the hour's start: a tenant has one entity per hour. */
export function presentActivityHour(record: ActivityHourRecord): Record<(typeof PROPERTIES)[number], unknown> {
  const hourStart = new Date(record.hourStart).toISOString();
  return { id: hourStart, hourStart, ...record.counts };
}

export async function activityRoutes(app: FastifyInstance, options: ActivityRoutesOptions): Promise<void> {
  collectionRoute<ActivityHourRecord>(
    app,
    {
      path: 'deviceManagement/openMamActivityHours',
      entityType: 'openMamActivityHour',
      entity: ActivityHour,
      fields: ACTIVITY_HOURS.fields,
      properties: PROPERTIES,
      navigations: [],
      // Oldest first: the order a plot draws in (the primary key serves it, and its reverse).
      defaultOrder: [{ field: 'hourStart', descending: false }],
      pageSize: 1000,
      maxPageSize: 1000,
      list: (tenantId, query) => options.activity.queryActivityHours(tenantId, query),
      present: (page) => page.map(presentActivityHour),
    },
    { baseUrl: options.baseUrl, skipTokens: options.skipTokens },
  );
}
