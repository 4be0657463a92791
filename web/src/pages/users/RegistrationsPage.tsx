import { Button, Field, Input, makeStyles, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, tokens } from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { graphGet, GraphError, odataString, query, type GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column, type TableFilter } from '../../components/PagedTable.tsx';
import { Link, matchPath, useRoute } from '../../router.tsx';
import { LatestOperation, OperationsTable, WipeByDeviceTagButton, WipeByEntraDeviceButton } from './actions.tsx';
import { Breakable, Compliance, ComplianceBadge, DeviceCell, Facts, reasonsText, threatOf, UserLink } from './labels.tsx';
import type { ManagedAppRegistration, PolicyRef, StatusReport, User } from './types.ts';

/**
 * App registrations (Graph `managedAppRegistrations`): the list, one registration with its policies and wipe
 * operations and the wipe actions, and the app protection status report (`managedAppStatuses`).
 */
export const REGISTRATIONS = '/deviceAppManagement/managedAppRegistrations';
const REPORT = '/deviceAppManagement/managedAppStatuses/windowsProtectionReport';

const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
  userFilter: { maxWidth: '360px', marginBottom: tokens.spacingVerticalM },
  pager: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', marginTop: tokens.spacingVerticalM },
});

export default function RegistrationsPage() {
  const { path } = useRoute();
  if (path === '/registrations/report') return <StatusReportView />;
  const one = matchPath('/registrations/:id', path);
  if (one) return <RegistrationDetail id={one['id']!} />;
  return <RegistrationList />;
}

/** The columns every list of registrations shows (this page, a user's, a device's). */
export function registrationColumns(options: { user: boolean; operation?: boolean; threat?: boolean }): Column<ManagedAppRegistration>[] {
  const columns: (Column<ManagedAppRegistration> | false)[] = [
    { id: 'app', title: 'App', render: (r) => <Breakable><Link to={`/registrations/${r.id}`}>{r.appIdentifier.windowsAppId}</Link></Breakable>, sortBy: 'appIdentifier/windowsAppId' },
    options.user && { id: 'user', title: 'User', render: (r) => <Breakable><UserLink id={r.userId} /></Breakable>, sortBy: 'userId' },
    { id: 'device', title: 'Device and tag', render: (r) => <DeviceCell registration={r} />, sortBy: 'deviceName' },
    { id: 'compliance', title: 'Compliance', render: (r) => <Compliance registration={r} /> },
    options.threat !== false && { id: 'threat', title: 'Threat', render: threatOf },
    { id: 'state', title: 'Registration', render: (r) => (r['@openmam.registrationState'] === 'wiped' ? 'Wiped' : 'Active') },
    options.operation === true && { id: 'operation', title: 'Last wipe', render: (r) => <LatestOperation registrationId={r.id} /> },
    { id: 'checkin', title: 'Last check-in', render: (r) => <span title={formatDateTime(r.lastSyncDateTime)}>{formatRelative(r.lastSyncDateTime)}</span>, sortBy: 'lastSyncDateTime' },
  ];
  return columns.filter((c): c is Column<ManagedAppRegistration> => c !== false);
}

const FILTERS: readonly TableFilter[] = [
  { id: 'device', label: 'Device name starts with', toOData: (v) => `startswith(deviceName,${odataString(v)})` },
  { id: 'tag', label: 'Device tag', toOData: (v) => `deviceTag eq ${odataString(v)}` },
  { id: 'app', label: 'App id', toOData: (v) => `appIdentifier/windowsAppId eq ${odataString(v)}` },
];

function RegistrationList() {
  const styles = useStyles();
  const [user, setUser] = useState<{ id?: string; error?: string }>({});
  const [text, setText] = useState('');
  // Registrations carry the user's object id only: a UPN (or id) is looked up once, then filtered on by id.
  const resolve = async () => {
    const key = text.trim();
    if (key === '') return setUser({});
    try {
      const found = await graphGet<User>(`/users/${encodeURIComponent(key)}?$select=id`);
      setUser({ id: found.id });
    } catch (failure) {
      setUser({ error: failure instanceof GraphError && failure.status === 404 ? `No user ${key} is known to OpenMAM.` : failure instanceof Error ? failure.message : String(failure) });
    }
  };
  return (
    <>
      <PageHeader title="App registrations" description="Managed apps registered with app protection: who, on which device, and whether they comply."
        actions={<Link to="/registrations/report">Status report</Link>} />
      <div className={styles.userFilter}>
        <Field label="User" hint="User principal name or object id, then Enter" validationMessage={user.error} validationState={user.error ? 'error' : 'none'}>
          <Input value={text} onChange={(_, data) => setText(data.value)} onKeyDown={(event) => { if (event.key === 'Enter') void resolve(); }} onBlur={() => void resolve()} />
        </Field>
      </div>
      <PagedTable<ManagedAppRegistration> label="App registrations" path={REGISTRATIONS} columns={registrationColumns({ user: true })} rowKey={(r) => r.id}
        filters={FILTERS} baseFilter={user.id ? `userId eq ${odataString(user.id)}` : undefined} defaultSort={{ by: 'lastSyncDateTime', direction: 'desc' }}
        empty={user.id ? 'This user has no app registration matching the filters.' : 'No app registration matches.'} />
    </>
  );
}

function RegistrationDetail({ id }: { id: string }) {
  const styles = useStyles();
  const base = `${REGISTRATIONS}/${encodeURIComponent(id)}`;
  const registration = useGraph<ManagedAppRegistration>(base);
  const applied = useGraph<GraphCollection<PolicyRef>>(`${base}/appliedPolicies`);
  const intended = useGraph<GraphCollection<PolicyRef>>(`${base}/intendedPolicies`);
  if (registration.isPending) return <Spinner label="Loading the registration" />;
  if (registration.error) return (<><PageHeader title="App registration" /><ErrorBar error={registration.error} /></>);
  const r = registration.data;
  return (
    <>
      <PageHeader title={`${r.appIdentifier.windowsAppId} on ${r.deviceName ?? r.deviceTag}`} description={<Link to="/registrations">All app registrations</Link>}
        actions={(
          <div className={styles.actions}>
            <WipeByDeviceTagButton userId={r.userId} deviceTag={r.deviceTag} deviceName={r.deviceName} />
            {r.azureADDeviceId ? <WipeByEntraDeviceButton userId={r.userId} azureAdDeviceId={r.azureADDeviceId} /> : null}
          </div>
        )} />
      <Facts items={[
        ['User', <UserLink key="u" id={r.userId} />],
        ['App', r.appIdentifier.windowsAppId],
        ['App version', r.applicationVersion],
        ['App protection SDK', r.managementSdkVersion],
        ['Windows', r.platformVersion],
        ['Device', r.deviceName ?? '—'],
        ['Device tag', r.deviceTag],
        ['Model', [r.deviceManufacturer, r.deviceModel].filter(Boolean).join(' ') || '—'],
        ['Entra device', r.azureADDeviceId ? <DeviceLink key="d" azureAdDeviceId={r.azureADDeviceId} /> : '—'],
        // The MAM device on the same Entra device, when the registration's token proved the device (managedDeviceId).
        ['Managed device', r.managedDeviceId ? <Link key="m" to={`/devices/${r.managedDeviceId}`}>MAM device</Link> : 'none proven'],
        ['Compliance', <ComplianceBadge key="c" state={r['@openmam.complianceState']} />],
        ['Reasons', reasonsText(r['@openmam.complianceReasons'])],
        ['Threat', threatOf(r)],
        ['Registration', r['@openmam.registrationState'] === 'wiped' ? 'Wiped' : 'Active'],
        ['Applied policy version', r.version || '—'],
        ['Registered', formatDateTime(r.createdDateTime)],
        ['Last check-in', formatDateTime(r.lastSyncDateTime)],
      ]} />
      <section className={styles.section} aria-labelledby="operations-heading">
        <Title3 as="h2" id="operations-heading">Wipe operations</Title3>
        <OperationsTable registrationId={r.id} />
      </section>
      <section className={styles.section} aria-labelledby="policies-heading">
        <Title3 as="h2" id="policies-heading">Policies</Title3>
        <PolicyList label="Applied policies" policies={applied} />
        <PolicyList label="Intended policies" policies={intended} />
      </section>
      {r.azureADDeviceId ? (
        <section className={styles.section} aria-labelledby="same-device-heading">
          <Title3 as="h2" id="same-device-heading">Apps on this device</Title3>
          <PagedTable<ManagedAppRegistration> label="App registrations on this device" path={REGISTRATIONS} columns={registrationColumns({ user: true })} rowKey={(x) => x.id}
            baseFilter={`azureADDeviceId eq ${odataString(r.azureADDeviceId)}`} pageSize={10} />
        </section>
      ) : null}
    </>
  );
}

/** The MAM device with this Entra device id, if one is enrolled. */
function DeviceLink({ azureAdDeviceId }: { azureAdDeviceId: string }) {
  const devices = useGraph<GraphCollection<{ id: string; deviceName: string | null }>>(`/deviceManagement/managedDevices${query({ $filter: `azureADDeviceId eq ${odataString(azureAdDeviceId)}`, $top: 1, $select: 'id,deviceName' })}`);
  const device = devices.data?.value[0];
  return device ? <Link to={`/devices/${device.id}`}>{azureAdDeviceId}</Link> : <>{azureAdDeviceId}</>;
}

function PolicyList({ label, policies }: { label: string; policies: ReturnType<typeof useGraph<GraphCollection<PolicyRef>>> }) {
  return (
    <>
      <ErrorBar error={policies.error} />
      <Table aria-label={label} size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>{label}</TableHeaderCell>
            <TableHeaderCell>Type</TableHeaderCell>
            <TableHeaderCell>Version</TableHeaderCell>
            <TableHeaderCell>Last modified</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {(policies.data?.value ?? []).map((p) => (
            <TableRow key={p.id}>
              <TableCell>{p.displayName ?? p.id}</TableCell>
              <TableCell>{p['@odata.type'].replace('#microsoft.graph.', '')}</TableCell>
              <TableCell>{p.version}</TableCell>
              <TableCell>{formatDateTime(p.lastModifiedDateTime)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {policies.data?.value.length === 0 ? <Text>None.</Text> : null}
    </>
  );
}

/**
 * The app protection status report: Intune's report shape (a header of columns, rows of values, a skipToken for
 * the next rows), paged forward and back over the skip tokens it answered.
 */
function StatusReportView() {
  const styles = useStyles();
  const [skipTokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const current = skipTokens[skipTokens.length - 1];
  const path = `${REPORT}${query({ $top: 50, $skiptoken: current })}`;
  const report = useQuery({ queryKey: ['graph', path], queryFn: ({ signal }) => graphGet<StatusReport>(path, signal), placeholderData: (previous) => previous });
  const content = report.data?.content;
  return (
    <>
      <PageHeader title="App protection status report" description={<Link to="/registrations">All app registrations</Link>} />
      <ErrorBar error={report.error} />
      {content ? (
        <Table aria-label="App protection status" size="small">
          <TableHeader>
            <TableRow>
              {content.header.map((h) => <TableHeaderCell key={h.name}>{h.name}</TableHeaderCell>)}
            </TableRow>
          </TableHeader>
          <TableBody>
            {content.body.map((row, i) => (
              <TableRow key={i}>
                {row.values.map((value, j) => (
                  <TableCell key={j}>{cell(value, content.header[j]?.dataType)}</TableCell>
                ))}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : <Spinner label="Loading the report" />}
      {content && content.body.length === 0 ? <Text role="status">No registration to report.</Text> : null}
      <nav aria-label="Status report pages" className={styles.pager}>
        <Button size="small" disabled={skipTokens.length <= 1} onClick={() => setTokens((was) => was.slice(0, -1))}>Previous page</Button>
        <Text aria-live="polite">Page {skipTokens.length}</Text>
        <Button size="small" disabled={!content?.skipToken || report.isFetching} onClick={() => setTokens((was) => [...was, content!.skipToken!])}>Next page</Button>
      </nav>
    </>
  );
}

function cell(value: string | null | string[], dataType: string | undefined): string {
  if (value === null) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.join(', ');
  return dataType === 'dateTime' ? formatDateTime(value) : value;
}
