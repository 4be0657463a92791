import { makeStyles, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, tokens } from '@fluentui/react-components';
import { odataString, type GraphCollection } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column, type TableFilter } from '../../components/PagedTable.tsx';
import { Link, matchPath, useRoute } from '../../router.tsx';
import type { ManagedDevice } from '../devices/types.ts';
import { BlockControls, WipeByDeviceTagButton, WipeByEntraDeviceButton } from './actions.tsx';
import { Facts } from './labels.tsx';
import { registrationColumns } from './RegistrationsPage.tsx';
import type { Group, ManagedAppRegistration, User } from './types.ts';

/**
 * Users (Graph `users`, the users OpenMAM has seen) and one user with what an admin acts on: their app
 * registrations (wipe by device tag), their MAM devices (wipe by Entra device), wipe and block or unblock, and the
 * groups they are in.
 */
const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
});

export default function UsersPage() {
  const { path } = useRoute();
  const one = matchPath('/users/:id', path);
  return one ? <UserDetail id={one['id']!} /> : <UserList />;
}

const COLUMNS: readonly Column<User>[] = [
  { id: 'upn', title: 'User principal name', render: (u) => <Link to={`/users/${encodeURIComponent(u.id)}`}>{u.userPrincipalName ?? u.id}</Link>, sortBy: 'userPrincipalName' },
  { id: 'name', title: 'Display name', render: (u) => u.displayName ?? '—', sortBy: 'displayName' },
  { id: 'id', title: 'Object id', render: (u) => u.id },
];

const FILTERS: readonly TableFilter[] = [
  { id: 'upn', label: 'User principal name starts with', toOData: (v) => `startswith(userPrincipalName,${odataString(v)})` },
  { id: 'name', label: 'Display name starts with', toOData: (v) => `startswith(displayName,${odataString(v)})` },
];

function UserList() {
  return (
    <>
      <PageHeader title="Users" description="The users OpenMAM has seen in verified tokens or in groups." />
      <PagedTable<User> label="Users" path="/users" columns={COLUMNS} rowKey={(u) => u.id} filters={FILTERS}
        defaultSort={{ by: 'userPrincipalName', direction: 'asc' }} empty="No user yet: users appear when they first sign in to a managed app." />
    </>
  );
}

const USER_REGISTRATION_COLUMNS: readonly Column<ManagedAppRegistration>[] = [
  ...registrationColumns({ user: false, operation: true, threat: false }).map((c) => ({ ...c, sortBy: undefined }) as Column<ManagedAppRegistration>),
  { id: 'actions', title: 'Actions', render: (r) => <WipeByDeviceTagButton userId={r.userId} deviceTag={r.deviceTag} deviceName={r.deviceName} /> },
];

function UserDetail({ id }: { id: string }) {
  const styles = useStyles();
  const base = `/users/${encodeURIComponent(id)}`;
  const user = useGraph<User>(base);
  const registrations = useGraph<GraphCollection<ManagedAppRegistration>>(`${base}/managedAppRegistrations`);
  const devices = useGraph<GraphCollection<ManagedDevice>>(`${base}/managedDevices`);
  const groups = useGraph<GraphCollection<Group>>(`${base}/memberOf`);
  if (user.isPending) return <Spinner label="Loading the user" />;
  if (user.error) return (<><PageHeader title="User" /><ErrorBar error={user.error} /></>);
  const u = user.data;
  return (
    <>
      <PageHeader title={u.userPrincipalName ?? u.displayName ?? u.id} description={<Link to="/users">All users</Link>}
        actions={<div className={styles.actions}><BlockControls userId={u.id} /></div>} />
      <Facts items={[['Display name', u.displayName ?? '—'], ['User principal name', u.userPrincipalName ?? '—'], ['Object id', u.id]]} />
      <section className={styles.section} aria-labelledby="user-registrations">
        <Title3 as="h2" id="user-registrations">App registrations</Title3>
        <ErrorBar error={registrations.error} />
        <SimpleTable label="User's app registrations" columns={USER_REGISTRATION_COLUMNS} rows={registrations.data?.value} rowKey={(r) => r.id} empty="No managed app registered." />
      </section>
      <section className={styles.section} aria-labelledby="user-devices">
        <Title3 as="h2" id="user-devices">MAM devices</Title3>
        <ErrorBar error={devices.error} />
        <SimpleTable label="User's MAM devices" rows={devices.data?.value} rowKey={(d) => d.id} empty="No MAM-enrolled device." columns={[
          { id: 'name', title: 'Device', render: (d) => <Link to={`/devices/${d.id}`}>{d.deviceName ?? d.id}</Link> },
          { id: 'os', title: 'Windows', render: (d) => d.osVersion ?? '—' },
          { id: 'entra', title: 'Entra device', render: (d) => d.azureADDeviceId ?? '—' },
          { id: 'checkin', title: 'Last check-in', render: (d) => <span title={formatDateTime(d.lastSyncDateTime)}>{formatRelative(d.lastSyncDateTime)}</span> },
          { id: 'actions', title: 'Actions', render: (d) => (d.azureADDeviceId ? <WipeByEntraDeviceButton userId={u.id} azureAdDeviceId={d.azureADDeviceId} /> : null) },
        ]} />
      </section>
      <section className={styles.section} aria-labelledby="user-groups">
        <Title3 as="h2" id="user-groups">Groups</Title3>
        <ErrorBar error={groups.error} />
        <SimpleTable label="User's groups" rows={groups.data?.value} rowKey={(g) => g.id} empty="In no group." columns={[
          { id: 'name', title: 'Group', render: (g) => g.displayName },
          { id: 'id', title: 'Object id', render: (g) => g.id },
        ]} />
      </section>
    </>
  );
}

/** A short list the API answers whole (a user's navigations): no paging, no sorting. */
export function SimpleTable<T>({ label, columns, rows, rowKey, empty }: { label: string; columns: readonly Column<T>[]; rows: readonly T[] | undefined; rowKey: (row: T) => string; empty: string }) {
  return (
    <>
      <Table aria-label={label} size="small">
        <TableHeader>
          <TableRow>
            {columns.map((c) => <TableHeaderCell key={c.id}>{c.title}</TableHeaderCell>)}
          </TableRow>
        </TableHeader>
        <TableBody>
          {(rows ?? []).map((row) => (
            <TableRow key={rowKey(row)}>
              {columns.map((c) => <TableCell key={c.id}>{c.render(row)}</TableCell>)}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {rows === undefined ? <Spinner size="small" label="Loading" /> : rows.length === 0 ? <Text>{empty}</Text> : null}
    </>
  );
}
