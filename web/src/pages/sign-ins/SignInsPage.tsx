import { Badge, makeStyles, Spinner, Text, Title3, tokens } from '@fluentui/react-components';
import { odataString } from '../../api/graph.ts';
import { useGraph } from '../../api/hooks.ts';
import { ErrorBar } from '../../components/ErrorBar.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/PageHeader.tsx';
import { PagedTable, type Column, type TableFilter } from '../../components/PagedTable.tsx';
import { Link, matchPath, useRoute } from '../../router.tsx';
import { Facts, reasonLabel } from '../users/labels.tsx';
import { SimpleTable } from '../users/UsersPage.tsx';
import type { SignIn } from './types.ts';

/**
 * The sign-in log (Graph `auditLogs/signIns`): one entry per access decision, newest first, filtered by result, user,
 * app, resource or conditional access status; each with why it was decided (the reason codes), the conditional
 * access policies that applied and the device. "Why was this user denied" is a filter on the user and the result.
 */
const SIGN_INS = '/auditLogs/signIns';
/** Entra's code for a sign-in blocked by conditional access (AADSTS53003); 0 for a success. */
const DENIED = 53003;

const useStyles = makeStyles({
  section: { marginTop: tokens.spacingVerticalXXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
});

export default function SignInsPage() {
  const { path } = useRoute();
  const one = matchPath('/sign-ins/:id', path);
  return one ? <SignInDetail id={one['id']!} /> : <SignInList />;
}

export function reasonsOf(signIn: SignIn): string[] {
  return (signIn.status.additionalDetails ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '');
}

function Result({ signIn }: { signIn: SignIn }) {
  return signIn.status.errorCode === 0
    ? <Badge appearance="tint" color="success">Allowed</Badge>
    : <Badge appearance="tint" color="danger">Denied</Badge>;
}

const CA_STATUS: Readonly<Record<SignIn['conditionalAccessStatus'], string>> = { success: 'Success', failure: 'Failure', notApplied: 'Not applied' };

const COLUMNS: readonly Column<SignIn>[] = [
  { id: 'date', title: 'Date', render: (s) => <Link to={`/sign-ins/${s.id}`}>{formatDateTime(s.createdDateTime)}</Link>, sortBy: 'createdDateTime' },
  { id: 'user', title: 'User', render: (s) => (s.userId ? <Link to={`/users/${s.userId}`}>{s.userPrincipalName ?? s.userId}</Link> : (s.userPrincipalName ?? 'Unknown')), sortBy: 'userPrincipalName' },
  { id: 'app', title: 'App', render: (s) => s.appDisplayName ?? s.appId ?? 'Unknown', sortBy: 'appDisplayName' },
  { id: 'resource', title: 'Resource', render: (s) => s.resourceDisplayName ?? s.resourceId ?? '—', sortBy: 'resourceDisplayName' },
  { id: 'result', title: 'Result', render: (s) => <Result signIn={s} /> },
  { id: 'reason', title: 'Reason', render: (s) => reasonsOf(s).map(reasonLabel).join('; ') || '—' },
  { id: 'ca', title: 'Conditional access', render: (s) => CA_STATUS[s.conditionalAccessStatus] ?? s.conditionalAccessStatus, sortBy: 'conditionalAccessStatus' },
];

const FILTERS: readonly TableFilter[] = [
  { id: 'result', label: 'Result', options: [{ value: 'denied', label: 'Denied' }, { value: 'allowed', label: 'Allowed' }], toOData: (v) => `status/errorCode eq ${v === 'denied' ? DENIED : 0}` },
  { id: 'user', label: 'User principal name', placeholder: 'user@contoso.com, then Enter', toOData: (v) => `userPrincipalName eq ${odataString(v)}` },
  { id: 'app', label: 'App name starts with', toOData: (v) => `startswith(appDisplayName,${odataString(v)})` },
  { id: 'resource', label: 'Resource name starts with', toOData: (v) => `startswith(resourceDisplayName,${odataString(v)})` },
  { id: 'ca', label: 'Conditional access', options: [{ value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' }, { value: 'notApplied', label: 'Not applied' }], toOData: (v) => `conditionalAccessStatus eq ${odataString(v)}` },
];

function SignInList() {
  return (
    <>
      <PageHeader title="Sign-in log" description="Every access decision, newest first: filter by user and result to see why someone was denied." />
      <PagedTable<SignIn> label="Sign-ins" path={SIGN_INS} columns={COLUMNS} rowKey={(s) => s.id} filters={FILTERS}
        defaultSort={{ by: 'createdDateTime', direction: 'desc' }} empty="No sign-in matches." />
    </>
  );
}

function SignInDetail({ id }: { id: string }) {
  const styles = useStyles();
  const signIn = useGraph<SignIn>(`${SIGN_INS}/${encodeURIComponent(id)}`);
  if (signIn.isPending) return <Spinner label="Loading the sign-in" />;
  if (signIn.error) return (<><PageHeader title="Sign-in" /><ErrorBar error={signIn.error} /></>);
  const s = signIn.data;
  const reasons = reasonsOf(s);
  const device = s.deviceDetail;
  return (
    <>
      <PageHeader title={`${s.status.errorCode === 0 ? 'Allowed' : 'Denied'}: ${s.userPrincipalName ?? 'unknown user'} to ${s.resourceDisplayName ?? s.resourceId ?? 'a resource'}`}
        description={<Link to="/sign-ins">All sign-ins</Link>} />
      <Facts items={[
        ['Date', formatDateTime(s.createdDateTime)],
        ['Result', <Result key="r" signIn={s} />],
        ['Reason', reasons.length === 0 ? '—' : (
          <ul key="why">{reasons.map((r) => <li key={r}>{reasonLabel(r)} <Text size={200}>({r})</Text></li>)}</ul>
        )],
        ['Failure', s.status.errorCode === 0 ? '—' : `${s.status.errorCode}: ${s.status.failureReason ?? ''}`],
        ['User', s.userId ? <Link key="u" to={`/users/${s.userId}`}>{s.userPrincipalName ?? s.userId}</Link> : (s.userPrincipalName ?? 'Unknown (token did not verify)')],
        ['App', `${s.appDisplayName ?? 'Unknown'}${s.appId ? ` (${s.appId})` : ''}`],
        ['Resource', `${s.resourceDisplayName ?? '—'}${s.resourceId ? ` (${s.resourceId})` : ''}`],
        ['Conditional access', CA_STATUS[s.conditionalAccessStatus] ?? s.conditionalAccessStatus],
        ['Device', device.deviceId ? `${device.deviceId} (${device.deviceIdVerified ? 'from the user\'s token' : 'claimed, not in the token'})` : '—'],
        ['Device compliant', device.isCompliant === null ? 'Not judged' : device.isCompliant ? 'Yes' : 'No'],
        ['App registration', s.managedAppRegistrationId ? <Link key="reg" to={`/registrations/${s.managedAppRegistrationId}`}>{s.managedAppRegistrationId}</Link> : '—'],
        ['IP address', s.ipAddress ?? '—'],
        ['Correlation id', s.correlationId],
      ]} />
      <section className={styles.section} aria-labelledby="applied-policies">
        <Title3 as="h2" id="applied-policies">Conditional access policies</Title3>
        <SimpleTable label="Applied conditional access policies" rows={s.appliedConditionalAccessPolicies} rowKey={(p) => p.id} empty="No conditional access policy applied." columns={[
          { id: 'name', title: 'Policy', render: (p) => p.displayName },
          { id: 'grant', title: 'Grant controls', render: (p) => p.enforcedGrantControls.join(', ') || '—' },
          { id: 'result', title: 'Result', render: (p) => (p.result === 'success' ? <Badge appearance="tint" color="success">Satisfied</Badge> : <Badge appearance="tint" color="danger">Not satisfied</Badge>) },
        ]} />
      </section>
    </>
  );
}
