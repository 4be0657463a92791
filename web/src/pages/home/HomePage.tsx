import {
  Badge,
  Card,
  makeStyles,
  Skeleton,
  SkeletonItem,
  Tab,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  TabList,
  Text,
  Title3,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatCount, formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { TimeSeriesChart, type Series } from '../../components/TimeSeriesChart.tsx';
import { Link, setSearch, useRoute } from '../../router.tsx';
import { HOME_RANGES, homeRequests, HOUR_MS, rangeHours, type HomeRange } from './home-requests.ts';

/**
 * Home: the tenant at a glance, from the calls declared once in home-requests.ts (and measured by bench:console):
 * counts of devices and registrations, the summary report's breakdowns (compliance, threat states, pending wipes,
 * users holding each app protection policy), the newest policies with their deployment state, and the hourly
 * activity plots over 24 hours, 7 days or 30 days (the `range` query parameter, so a view can be shared).
 */

interface Summary {
  content: {
    complianceStates: { compliant: number; notCompliant: number; unknown: number };
    threatStates: { secured: number; low: number; medium: number; high: number };
    pendingWipes: number;
    policies: { id: string; deployedUserCount: number }[];
  };
}

interface Policy {
  id: string;
  '@odata.type'?: string;
  displayName?: string;
  lastModifiedDateTime?: string;
}

interface ActivityHour {
  hourStart: string;
  appCheckIns: number;
  omaDmSessions: number;
  accessAllowed: number;
  accessDenied: number;
  compliantCheckIns: number;
  noncompliantCheckIns: number;
}

/** Counts change as devices check in: read again every minute while the page is open. */
const REFRESH_MS = 60_000;

/** The policy types a Home row names, by Graph `@odata.type`. */
const POLICY_TYPES: Readonly<Record<string, string>> = {
  '#microsoft.graph.windowsManagedAppProtection': 'App protection',
  '#microsoft.graph.targetedManagedAppConfiguration': 'App configuration',
  '#microsoft.graph.windowsInformationProtectionPolicy': 'WIP (MAM)',
  '#microsoft.graph.mdmWindowsInformationProtectionPolicy': 'WIP (MDM)',
};
const APP_PROTECTION = '#microsoft.graph.windowsManagedAppProtection';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXL },
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  tiles: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(220px, 1fr))', gap: tokens.spacingHorizontalL },
  tile: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, minHeight: '120px' },
  number: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold },
  breakdown: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS, margin: 0, padding: 0, listStyleType: 'none' },
  breakdownRow: { display: 'flex', justifyContent: 'space-between', gap: tokens.spacingHorizontalM },
  charts: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(420px, 1fr))', gap: tokens.spacingHorizontalXL },
  sectionHeader: { display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: tokens.spacingHorizontalL, flexWrap: 'wrap' },
});

function isRange(value: string | null): value is HomeRange {
  return HOME_RANGES.some((r) => r.range === value);
}

/** The current time, moved on every minute: paths built from it change when the hour does. */
function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export default function HomePage() {
  const styles = useStyles();
  const { search } = useRoute();
  const given = search.get('range');
  const range: HomeRange = isRange(given) ? given : '24h';
  const now = useMinuteClock();
  // Built from the start of the current hour: the paths (the query keys) change when the hour or the range does.
  const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const requests = useMemo(() => homeRequests(range, hour), [range, hour]);
  const hours = useMemo(() => rangeHours(range, hour), [range, hour]);

  const devices = useGraph<GraphCollection<unknown>>(requests.devices, { refetchInterval: REFRESH_MS });
  const registrations = useGraph<GraphCollection<unknown>>(requests.registrations, { refetchInterval: REFRESH_MS });
  const summary = useGraph<Summary>(requests.summary, { refetchInterval: REFRESH_MS });
  const policies = useGraph<GraphCollection<Policy>>(requests.policies, { refetchInterval: REFRESH_MS });
  const activity = useGraph<GraphCollection<ActivityHour>>(requests.activity, { refetchInterval: REFRESH_MS });
  const content = summary.data?.content;

  return (
    <div className={styles.page}>
      <PageHeader title="Home" description="Your tenant at a glance: devices, app registrations, compliance, threats and activity." />
      <ErrorBar error={devices.error ?? registrations.error ?? summary.error ?? policies.error ?? activity.error} />

      <section className={styles.section} aria-labelledby="home-status">
        <Title3 as="h2" id="home-status">Status</Title3>
        <div className={styles.tiles}>
          <Tile title="Enrolled MAM devices" loading={devices.isPending} link={{ to: '/devices', text: 'View devices' }}>
            <Text className={styles.number}>{formatCount(devices.data?.['@odata.count'])}</Text>
          </Tile>
          <Tile title="App registrations" loading={registrations.isPending} link={{ to: '/registrations', text: 'View registrations' }}>
            <Text className={styles.number}>{formatCount(registrations.data?.['@odata.count'])}</Text>
          </Tile>
          <Tile title="Compliance" loading={summary.isPending}>
            <Breakdown
              label="Active registrations by compliance state"
              rows={[
                ['Compliant', content?.complianceStates.compliant, 'success'],
                ['Not compliant', content?.complianceStates.notCompliant, 'danger'],
                ['Unknown (no policy)', content?.complianceStates.unknown, 'informative'],
              ]}
            />
          </Tile>
          <Tile title="Threat states" loading={summary.isPending} link={{ to: '/connectors', text: 'Threat defense' }}>
            <Breakdown
              label="Devices by their latest threat level"
              rows={[
                ['Secured', content?.threatStates.secured, 'success'],
                ['Low', content?.threatStates.low, 'informative'],
                ['Medium', content?.threatStates.medium, 'warning'],
                ['High', content?.threatStates.high, 'danger'],
              ]}
            />
          </Tile>
          <Tile title="Pending wipes" loading={summary.isPending} link={{ to: '/registrations', text: 'View registrations' }}>
            <Text className={styles.number}>{formatCount(content?.pendingWipes)}</Text>
          </Tile>
        </div>
      </section>

      <section className={styles.section} aria-labelledby="home-policies">
        <div className={styles.sectionHeader}>
          <Title3 as="h2" id="home-policies">Policies</Title3>
          <Link to="/policies">All policies</Link>
        </div>
        <PolicyTable policies={policies.data?.value} deployed={content?.policies} loading={policies.isPending} />
      </section>

      <section className={styles.section} aria-labelledby="home-activity">
        <div className={styles.sectionHeader}>
          <Title3 as="h2" id="home-activity">Activity</Title3>
          <TabList selectedValue={range} onTabSelect={(_event, data) => setSearch({ range: String(data.value) === '24h' ? undefined : String(data.value) })} aria-label="Time range">
            {HOME_RANGES.map((r) => (
              <Tab key={r.range} value={r.range}>
                {r.label}
              </Tab>
            ))}
          </TabList>
        </div>
        {activity.isPending ? <Text>Loading activity…</Text> : <ActivityCharts hours={hours} activity={activity.data?.value ?? []} rangeLabel={HOME_RANGES.find((r) => r.range === range)!.label} />}
      </section>
    </div>
  );
}

function Tile({ title, loading, link, children }: { title: string; loading: boolean; link?: { to: string; text: string }; children: ReactNode }) {
  const styles = useStyles();
  const id = `tile-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <Card className={styles.tile} role="group" aria-labelledby={id}>
      <Text as="h3" weight="semibold" id={id}>
        {title}
      </Text>
      {loading ? (
        <Skeleton aria-label={`Loading ${title}`}>
          <SkeletonItem size={32} />
        </Skeleton>
      ) : (
        children
      )}
      {link ? <Link to={link.to}>{link.text}</Link> : null}
    </Card>
  );
}

type BadgeColor = 'success' | 'danger' | 'warning' | 'informative';

function Breakdown({ label, rows }: { label: string; rows: readonly [string, number | undefined, BadgeColor][] }) {
  const styles = useStyles();
  return (
    <ul className={styles.breakdown} aria-label={label}>
      {rows.map(([name, value, color]) => (
        <li key={name} className={styles.breakdownRow}>
          <Text>{name}</Text>
          <Badge appearance="tint" color={color}>
            {formatCount(value)}
          </Badge>
        </li>
      ))}
    </ul>
  );
}

function PolicyTable({ policies, deployed, loading }: { policies: Policy[] | undefined; deployed: Summary['content']['policies'] | undefined; loading: boolean }) {
  const users = new Map((deployed ?? []).map((d) => [d.id, d.deployedUserCount]));
  if (loading) return <Text>Loading policies…</Text>;
  if (!policies || policies.length === 0) return <Text>No policies yet. Create one under Policies.</Text>;
  return (
    <Table aria-label="Policies, most recently changed first, with their deployment state" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Name</TableHeaderCell>
          <TableHeaderCell>Type</TableHeaderCell>
          <TableHeaderCell>Last modified</TableHeaderCell>
          <TableHeaderCell>Deployment</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {policies.map((policy) => {
          const type = policy['@odata.type'] ?? '';
          const count = users.get(policy.id) ?? 0;
          return (
            <TableRow key={policy.id}>
              <TableCell>{policy.displayName ?? policy.id}</TableCell>
              <TableCell>{POLICY_TYPES[type] ?? type.replace('#microsoft.graph.', '')}</TableCell>
              <TableCell>{formatDateTime(policy.lastModifiedDateTime)}</TableCell>
              <TableCell>
                {type === APP_PROTECTION ? (
                  <Badge appearance="tint" color={count > 0 ? 'success' : 'informative'}>
                    {count > 0 ? `Applied for ${count.toLocaleString()} ${count === 1 ? 'user' : 'users'}` : 'Not applied yet'}
                  </Badge>
                ) : (
                  <Text>Per device on the policy page</Text>
                )}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

/** The range's hours, each with its counts (0 for an hour without activity: the server keeps only hours with some). */
function ActivityCharts({ hours, activity, rangeLabel }: { hours: readonly number[]; activity: readonly ActivityHour[]; rangeLabel: string }) {
  const styles = useStyles();
  const charts = useMemo(() => {
    const byHour = new Map(activity.map((h) => [Date.parse(h.hourStart), h]));
    const times = hours.map((h) => h / 1000);
    const values = (pick: (h: ActivityHour) => number): number[] => hours.map((h) => {
      const hour = byHour.get(h);
      return hour === undefined ? 0 : pick(hour);
    });
    const series = (entries: readonly [string, (h: ActivityHour) => number, string][]): Series[] => entries.map(([label, pick, color]) => ({ label, values: values(pick), color }));
    return {
      times,
      checkIns: series([['App check-ins', (h) => h.appCheckIns, '#0f6cbd']]),
      sessions: series([['OMA-DM sessions', (h) => h.omaDmSessions, '#8764b8']]),
      decisions: series([
        ['Allowed', (h) => h.accessAllowed, '#107c10'],
        ['Denied', (h) => h.accessDenied, '#c50f1f'],
      ]),
      compliance: series([
        ['Compliant check-ins', (h) => h.compliantCheckIns, '#107c10'],
        ['Not compliant check-ins', (h) => h.noncompliantCheckIns, '#c50f1f'],
      ]),
    };
  }, [hours, activity]);
  return (
    <div className={styles.charts}>
      <TimeSeriesChart title={`App check-ins per hour, last ${rangeLabel}`} times={charts.times} series={charts.checkIns} />
      <TimeSeriesChart title={`OMA-DM sessions per hour, last ${rangeLabel}`} times={charts.times} series={charts.sessions} />
      <TimeSeriesChart title={`Access decisions per hour, last ${rangeLabel}`} times={charts.times} series={charts.decisions} />
      <TimeSeriesChart title={`Compliance of check-ins per hour, last ${rangeLabel}`} times={charts.times} series={charts.compliance} />
    </div>
  );
}
