import { Badge, Button, makeStyles, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens, type BadgeProps } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
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

/** Per device: the state each targeted device reported for the policy's settings (`{id}/deviceStatuses`). */
export function DeviceStatusPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const statuses = useGraph<GraphCollection<DeviceStatus>>(`${collection.path}/${policy.id}/deviceStatuses`, { refetchInterval: REFRESH_MS });
  const rows = statuses.data?.value ?? [];
  const counts = Object.entries(rows.reduce<Record<string, number>>((all, row) => ({ ...all, [row['@openmam.status']]: (all[row['@openmam.status']] ?? 0) + 1 }), {}));
  return (
    <section className={styles.panel} aria-label="Device status">
      <Text as="h2" size={500} weight="semibold">Device status</Text>
      <div className={styles.bar}>
        <Text role="status">{rows.length === 0 ? 'No device has this policy yet.' : counts.map(([state, n]) => `${n} ${state}`).join(', ')}</Text>
        <Button size="small" icon={<ArrowClockwiseRegular />} onClick={() => void statuses.refetch()} disabled={statuses.isFetching}>Refresh device status</Button>
      </div>
      <ErrorBar error={statuses.error} />
      <Table aria-label="Device status" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Device</TableHeaderCell>
            <TableHeaderCell>User</TableHeaderCell>
            <TableHeaderCell>State</TableHeaderCell>
            <TableHeaderCell>Status code</TableHeaderCell>
            <TableHeaderCell>Last reported</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((row) => (
            <TableRow key={row.id}>
              <TableCell>{row.deviceDisplayName ?? row.deviceId}</TableCell>
              <TableCell>{row.userPrincipalName ?? '—'}</TableCell>
              <TableCell><Badge appearance="tint" color={STATE_COLOR[row['@openmam.status']] ?? 'informative'}>{row['@openmam.status']}</Badge></TableCell>
              <TableCell>{row.statusCode ?? '—'}</TableCell>
              <TableCell title={formatDateTime(row.lastReportedDateTime)}>{formatRelative(row.lastReportedDateTime)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}

const COMPLIANCE_COLOR: Record<string, BadgeProps['color']> = { compliant: 'success', nonCompliant: 'danger', unknown: 'informative', notApplicable: 'subtle' };

/**
 * Per device: a compliance policy's state on each device it was judged on (`{id}/deviceStatuses`), the device's own
 * state (a grace period shows as inGracePeriod) and why: the settings that failed or lack evidence, with what the
 * device reported.
 */
export function ComplianceStatusPanel({ collection, policy }: { collection: PolicyCollectionInfo; policy: Policy }) {
  const styles = useStyles();
  const statuses = useGraph<GraphCollection<ComplianceDeviceStatus>>(`${collection.path}/${policy.id}/deviceStatuses?$top=500`, { refetchInterval: REFRESH_MS });
  const rows = statuses.data?.value ?? [];
  const counts = Object.entries(rows.reduce<Record<string, number>>((all, row) => ({ ...all, [row.status]: (all[row.status] ?? 0) + 1 }), {}));
  return (
    <section className={styles.panel} aria-label="Device status">
      <Text as="h2" size={500} weight="semibold">Device status</Text>
      <div className={styles.bar}>
        <Text role="status">{rows.length === 0 ? 'No device has been judged against this policy yet.' : counts.map(([state, n]) => `${n} ${state}`).join(', ')}</Text>
        <Button size="small" icon={<ArrowClockwiseRegular />} onClick={() => void statuses.refetch()} disabled={statuses.isFetching}>Refresh device status</Button>
      </div>
      <ErrorBar error={statuses.error} />
      <Table aria-label="Device status" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Device</TableHeaderCell>
            <TableHeaderCell>User</TableHeaderCell>
            <TableHeaderCell>State</TableHeaderCell>
            <TableHeaderCell>Why</TableHeaderCell>
            <TableHeaderCell>Last evaluated</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((row) => (
            <TableRow key={row.id}>
              <TableCell>{row.deviceDisplayName ?? row.id}</TableCell>
              <TableCell>{row.userPrincipalName ?? '—'}</TableCell>
              <TableCell>
                <Badge appearance="tint" color={COMPLIANCE_COLOR[row.status] ?? 'informative'}>{row.status}</Badge>
                {row['@openmam.complianceState'] === 'inGracePeriod' ? <Text size={200}> in grace period until {formatDateTime(row.complianceGracePeriodExpirationDateTime)}</Text> : null}
              </TableCell>
              <TableCell>{row['@openmam.settingStates'].map((s) => `${s.setting}: ${s.reason ?? s.state}`).join('; ') || '—'}</TableCell>
              <TableCell title={formatDateTime(row.lastReportedDateTime)}>{formatRelative(row.lastReportedDateTime)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
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
