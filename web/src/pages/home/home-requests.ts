/**
 * The Home page's calls to the admin API, declared once: the page issues exactly these, and `npm run bench:console`
 * measures exactly these against a store of 100,000 registrations and 10,000 devices (the issue's target: < 300 ms of
 * server time together). Pure TypeScript (no React, no DOM), so the benchmark imports it as the page does.
 *
 * Every call is a public Graph-shaped resource (docs/graph.md): counts are `$count=true&$top=1&$select=id` on the
 * collections (one indexed count and one row each); the breakdowns are one summary report,
 * `managedAppStatuses('openMamSummary')` (aggregates on indexes: compliance states, users per applied policy, threat
 * states, pending wipes); the plots are one page of `openMamActivityHours` (30 days are 720 hours, under the
 * 1,000-row page).
 */

export type HomeRange = '24h' | '7d' | '30d';

export const HOME_RANGES: readonly { range: HomeRange; label: string; hours: number }[] = [
  { range: '24h', label: '24 hours', hours: 24 },
  { range: '7d', label: '7 days', hours: 7 * 24 },
  { range: '30d', label: '30 days', hours: 30 * 24 },
];

export const HOUR_MS = 3_600_000;

/** How many policies the Home lists (the newest changed first); the Policies page lists them all. */
export const HOME_POLICY_COUNT = 25;

/** The hours a range plots, oldest first: the current (partial) hour last. */
export function rangeHours(range: HomeRange, now: number): number[] {
  const hours = HOME_RANGES.find((r) => r.range === range)!.hours;
  const current = Math.floor(now / HOUR_MS) * HOUR_MS;
  return Array.from({ length: hours }, (_, i) => current - (hours - 1 - i) * HOUR_MS);
}

/** Paths under the Graph beta root (`/graph/beta`), as the console's `graphGet` takes them. */
export interface HomeRequests {
  /** MAM-enrolled devices: `@odata.count`. */
  readonly devices: string;
  /** App registrations: `@odata.count`. */
  readonly registrations: string;
  /** Compliance breakdown, threat states, pending wipes and users per applied policy: the summary report. */
  readonly summary: string;
  /** The policies to list with their deployment state (from the summary). */
  readonly policies: string;
  /** The plots: the range's hours of activity, oldest first. */
  readonly activity: string;
}

function withQuery(path: string, options: Record<string, string | number>): string {
  return `${path}?${Object.entries(options)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join('&')}`;
}

export function homeRequests(range: HomeRange, now: number): HomeRequests {
  const from = new Date(rangeHours(range, now)[0]!).toISOString();
  return {
    devices: withQuery('/deviceManagement/managedDevices', { $count: 'true', $top: 1, $select: 'id' }),
    registrations: withQuery('/deviceAppManagement/managedAppRegistrations', { $count: 'true', $top: 1, $select: 'id' }),
    summary: '/deviceAppManagement/managedAppStatuses/openMamSummary',
    policies: withQuery('/deviceAppManagement/managedAppPolicies', { $top: HOME_POLICY_COUNT, $orderby: 'lastModifiedDateTime desc', $select: 'id,displayName,lastModifiedDateTime' }),
    activity: withQuery('/deviceManagement/openMamActivityHours', { $filter: `hourStart ge ${from}`, $top: 1000 }),
  };
}

/** Every Home call for a range, in one list (the benchmark sums their server times). */
export function allHomeRequests(range: HomeRange, now: number): string[] {
  return Object.values(homeRequests(range, now));
}
