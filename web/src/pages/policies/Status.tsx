import { Badge, Button, makeStyles, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens, type BadgeProps } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import type { ReactNode } from 'react';
import type { PolicyCollectionInfo } from './kinds.ts';
import { CATALOGUE_PATH } from './TargetApps.tsx';
import type { ComplianceDeviceStatus, DeploymentSummary, DeviceStatus, ManagedApp, Policy } from './types.ts';

const useStyles = makeStyles({
  panel: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  bar: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center', flexWrap: 'wrap' },
});

/** How often the status views ask again while open: a device reports at its next OMA-DM session, an app at check-in. */
const REFRESH_MS = 10_000;

const STATE_COLOR: Record<DeviceStatus['@openmam.status'], BadgeProps['color']> = { applied: 'success', pending: 'informative', failed: 'danger', conflict: 'warning', notApplicable: 'subtle' };

/** One column of a status table: its header and each row's cell (with an optional tooltip). */
interface StatusColumn<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
  title?: (row: Row) => string | undefined;
}

/**
 * A policy's state on each device, as both kinds of policy report it (`{id}/deviceStatuses`): the count of devices per
 * state, a refresh, and one row per device in the columns given.
 */
function StatusTable<Row extends { id: string }>({ path, empty, stateOf, columns }: { path: string; empty: string; stateOf: (row: Row) => string; columns: readonly StatusColumn<Row>[] }) {
  const styles = useStyles();
  const statuses = useGraph<GraphCollection<Row>>(path, { refetchInterval: REFRESH_MS });
  const rows = statuses.data?.value ?? [];
  const counts = Object.entries(rows.reduce<Record<string, number>>((all, row) => ({ ...all, [stateOf(row)]: (all[stateOf(row)] ?? 0) + 1 }), {}));
  return (
    <section className={styles.panel} aria-label="Device status">
      <Text as="h2" size={500} weight="semibold">Device status</Text>
      <div className={styles.bar}>
        <Text role="status">{rows.length === 0 ? empty : counts.map(([state, n]) => `${n} ${state}`).join(', ')}</Text>
        <Button size="small" icon={<ArrowClockwiseRegular />} onClick={() => void statuses.refetch()} disabled={statuses.isFetching}>Refresh device status</Button>
      </div>
      <ErrorBar error={statuses.error} />
      <Table aria-label="Device status" size="small">
        <TableHeader>
          <TableRow>
            {columns.map((column) => (
              <TableHeaderCell key={column.header}>{column.header}</TableHeaderCell>
            ))}
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((row) => (
            <TableRow key={row.id}>
              {columns.map((column) => (
                <TableCell key={column.header} title={column.title?.(row)}>{column.cell(row)}</TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}

const DEVICE_STATUS_COLUMNS: readonly StatusColumn<DeviceStatus>[] = [
  { header: 'Device', cell: (row) => row.deviceDisplayName ?? row.deviceId },
  { header: 'User', cell: (row) => row.userPrincipalName ?? '—' },
  { header: 'State', cell: (row) => <Badge appearance="tint" color={STATE_COLOR[row['@openmam.status']] ?? 'informative'}>{row['@openmam.status']}</Badge> },
  { header: 'Status code', cell: (row) => row.statusCode ?? '—' },
  { header: 'Last reported', cell: (row) => formatRelative(row.lastReportedDateTime), title: (row) => formatDateTime(row.lastReportedDateTime) },
];

/** Per device: the state each targeted device reported for the policy's settings (`{id}/deviceStatuses`). */
export function DeviceStatusPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  return <StatusTable<DeviceStatus> path={`${collection.path}/${policy.id}/deviceStatuses`} empty="No device has this policy yet." stateOf={(row) => row['@openmam.status']} columns={DEVICE_STATUS_COLUMNS} />;
}

const COMPLIANCE_COLOR: Record<string, BadgeProps['color']> = { compliant: 'success', nonCompliant: 'danger', unknown: 'informative', notApplicable: 'subtle' };

const COMPLIANCE_STATUS_COLUMNS: readonly StatusColumn<ComplianceDeviceStatus>[] = [
  { header: 'Device', cell: (row) => row.deviceDisplayName ?? row.id },
  { header: 'User', cell: (row) => row.userPrincipalName ?? '—' },
  {
    header: 'State',
    cell: (row) => (
      <>
        <Badge appearance="tint" color={COMPLIANCE_COLOR[row.status] ?? 'informative'}>{row.status}</Badge>
        {row['@openmam.complianceState'] === 'inGracePeriod' ? <Text size={200}> in grace period until {formatDateTime(row.complianceGracePeriodExpirationDateTime)}</Text> : null}
      </>
    ),
  },
  { header: 'Why', cell: (row) => row['@openmam.settingStates'].map((s) => `${s.setting}: ${s.reason ?? s.state}`).join('; ') || '—' },
  { header: 'Last evaluated', cell: (row) => formatRelative(row.lastReportedDateTime), title: (row) => formatDateTime(row.lastReportedDateTime) },
];

/**
 * Per device: a compliance policy's state on each device it was judged on (`{id}/deviceStatuses`), the device's own
 * state (a grace period shows as inGracePeriod) and why: the settings that failed or lack evidence, with what the
 * device reported.
 */
export function ComplianceStatusPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  return (
    <StatusTable<ComplianceDeviceStatus>
      path={`${collection.path}/${policy.id}/deviceStatuses?$top=500`}
      empty="No device has been judged against this policy yet."
      stateOf={(row) => row.status}
      columns={COMPLIANCE_STATUS_COLUMNS}
    />
  );
}

/** Per user: how many users' apps confirmed the policy at their last check-in, overall and per app (`{id}/deploymentSummary`). */
export function DeploymentPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const summary = useGraph<DeploymentSummary>(`${collection.path}/${policy.id}/deploymentSummary`, { refetchInterval: REFRESH_MS });
  const catalogue = useGraph<GraphCollection<ManagedApp>>(CATALOGUE_PATH);
  const nameOf = (windowsAppId: string) => catalogue.data?.value.find((app) => app.windowsAppId === windowsAppId)?.displayName;
  const data = summary.data;
  return (
    <section className={styles.panel} aria-label="Deployment">
      <Text as="h2" size={500} weight="semibold">Deployment</Text>
      <ErrorBar error={summary.error} />
      {data ? (
        <>
          <div className={styles.bar}>
            <Text role="status">
              Applied for {data.configurationDeployedUserCount.toLocaleString()} user{data.configurationDeployedUserCount === 1 ? '' : 's'}
              {data['@openmam.truncated'] ? ' (counted over the 50,000 most recent registrations)' : ''}; counted {formatRelative(data.lastRefreshTime)}.
            </Text>
            <Button size="small" icon={<ArrowClockwiseRegular />} onClick={() => void summary.refetch()} disabled={summary.isFetching}>Refresh deployment</Button>
          </div>
          <Table aria-label="Deployment by app" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>App</TableHeaderCell>
                <TableHeaderCell>Users with the policy applied</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.configurationDeploymentSummaryPerApp.map((entry) => (
                <TableRow key={entry.mobileAppIdentifier.windowsAppId}>
                  <TableCell>{nameOf(entry.mobileAppIdentifier.windowsAppId) ? `${nameOf(entry.mobileAppIdentifier.windowsAppId)!} (${entry.mobileAppIdentifier.windowsAppId})` : entry.mobileAppIdentifier.windowsAppId}</TableCell>
                  <TableCell>{entry.configurationAppliedUserCount.toLocaleString()}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      ) : null}
    </section>
  );
}
